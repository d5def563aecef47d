"""Live personal recommendations over the shop's store and index (used by the API and pages).

Popularity and collaborative filtering are trained on the store's interactions before a
snapshot that moves every `refresh_seconds` on the UTC clock (again only when those changed),
so every API worker trains on the same events and ranks alike.
A shopper's own new events count at once: their history is read on every request (the
content profile and CF's `recalculate_user` take it as it is now).

Example:
    >>> live = LiveRecommendations(Recommender.open("idx"), Store.open(url))  # doctest: +SKIP
    >>> live.recommend(7, k=10).method                                        # doctest: +SKIP
    'content'
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from fashionrec.errors import FashionRecError, UnknownProductError, suggest
from fashionrec.recommend.personal.base import Recommendation
from fashionrec.recommend.personal.history import History, history_from_store
from fashionrec.recommend.personal.hybrid import HybridRecommender
from fashionrec.recommend.personal.models import build_models
from fashionrec.recommend.personal.space import FiltersLike, ProductSpace
from fashionrec.recommend.recommender import Recommender
from fashionrec.store.db import Store
from fashionrec.store.models import EVENT_KINDS, Interaction, User, utcnow

log = logging.getLogger(__name__)


class UnknownUserError(FashionRecError, KeyError):
    """A user id is not in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown user"


class EventKindError(FashionRecError, ValueError):
    """An event kind is not one of EVENT_KINDS."""


@dataclass(frozen=True)
class PersonalAnswer:
    user: User
    method: str
    results: list[Recommendation]
    history: History


class LiveRecommendations:
    """The hybrid over the store's interactions, refreshed when data changes."""

    def __init__(self, rec: Recommender, store: Store, *, refresh_seconds: float = 300) -> None:
        self.rec = rec
        self.store = store
        self.space = ProductSpace(rec)
        self.refresh_seconds = refresh_seconds
        self._hybrid: HybridRecommender | None = None
        self._state: tuple[int, int] | None = None  # (count, max id) the models were fit on
        self._cutoff: dt.datetime | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> dt.datetime | None:
        """The shared training cut-off: the last multiple of `refresh_seconds` on the UTC
        clock. Every worker trains on the events before it, so workers rank alike; a shopper's
        own newer events still count at once (their history is read on every request)."""
        if self.refresh_seconds <= 0:
            return None
        now = time.time()
        edge = now - now % self.refresh_seconds
        return dt.datetime.fromtimestamp(edge, dt.UTC).replace(tzinfo=None)

    def hybrid(self) -> HybridRecommender:
        """The hybrid, trained on the events before the current snapshot (first use, then
        again when the snapshot moved and its events changed)."""
        cutoff = self.snapshot()
        if self._hybrid is not None and cutoff == self._cutoff and cutoff is not None:
            return self._hybrid
        with self._lock:
            before = [] if cutoff is None else [Interaction.created_at < cutoff]
            with self.store.session() as s:
                query = select(func.count(), func.max(Interaction.id)).where(*before)
                state = tuple(s.execute(query).one())
            if self._hybrid is None or state != self._state:
                frame = self.interactions(cutoff)
                models = build_models(self.space, frame)
                self._hybrid, self._state = models["hybrid"], state
            self._cutoff = cutoff
        return self._hybrid

    def interactions(self, cutoff: dt.datetime | None = None) -> pd.DataFrame:
        query = select(
            Interaction.user_id,
            Interaction.product_id,
            Interaction.kind,
            Interaction.created_at.label("timestamp"),
        )
        if cutoff is not None:
            query = query.where(Interaction.created_at < cutoff)
        with self.store.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        return frame

    def user(self, user_id: int | str) -> User:
        """A store user by numeric id or by external id (e.g. an imported H&M customer)."""
        with self.store.session() as s:
            user = None
            if isinstance(user_id, int) or str(user_id).isdigit():
                user = s.get(User, int(user_id))
            if user is None:
                user = s.scalars(select(User).where(User.external_id == str(user_id))).first()
        if user is None:
            raise UnknownUserError(f"user {user_id!r} is not in the store")
        return user

    def recommend(
        self, user_id: int | str, k: int = 10, filters: FiltersLike = None
    ) -> PersonalAnswer:
        user = self.user(user_id)
        hybrid = self.hybrid()
        history = history_from_store(self.store, user.id, now=utcnow())
        return PersonalAnswer(
            user, hybrid.method(history), hybrid.recommend(history, k, filters), history
        )

    def record(
        self, user_id: int | str, product_id: str, kind: str, *, quantity: int = 1
    ) -> Interaction:
        """Store one event; it counts on the shopper's next request."""
        if kind not in EVENT_KINDS:
            raise EventKindError(
                f"unknown event kind {kind!r}; choose from {', '.join(EVENT_KINDS)}"
                + suggest(kind, EVENT_KINDS)
            )
        user = self.user(user_id)
        if self.space.rows([product_id])[0] < 0:
            raise UnknownProductError(f"product {product_id!r} is not in the index")
        event = Interaction(
            user_id=user.id, product_id=str(product_id), kind=kind, quantity=quantity
        )
        event.created_at = max(utcnow(), _last_time(self.store, user.id))
        with self.store.session() as s:
            s.add(event)
        return event


def _last_time(store: Store, user_id: int) -> dt.datetime:
    """Events of one shopper keep their order even when the clock has not moved on."""
    with store.session() as s:
        last = s.scalar(
            select(func.max(Interaction.created_at)).where(Interaction.user_id == user_id)
        )
    return last + dt.timedelta(microseconds=1) if last is not None else dt.datetime.min
