"""A shopper's history: what they did to which product, and when.

The same `History` feeds the live API (read from the store) and the offline evaluation (cut
from a transactions frame), so the evaluation measures the recommenders the shop runs.

Example:
    >>> h = History([Event("42", "like", dt.datetime(2024, 5, 1))], now=dt.datetime(2024, 5, 2))
    >>> h.size, sorted(h.net_weights())
    (1, ['42'])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.store.models import EVENT_WEIGHTS

#: Feedback a shopper gives on purpose: the latest one on a product replaces earlier ones.
EXPLICIT = frozenset({"like", "dislike", "more", "less"})
#: Default half-life of an event's weight in a taste profile.
HALF_LIFE_DAYS = 60.0


@dataclass(frozen=True)
class Event:
    """One interaction: `kind` is a key of EVENT_WEIGHTS (view, like, purchase, ...)."""

    product_id: str
    kind: str
    at: dt.datetime
    quantity: int = 1


@dataclass(frozen=True)
class History:
    """A shopper's events (any order), their gender if known, and the time "now" is."""

    events: tuple[Event, ...] | list[Event] = ()
    user_id: int | str | None = None
    gender: str | None = None
    now: dt.datetime | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        events = tuple(sorted(self.events, key=lambda e: e.at))
        object.__setattr__(self, "events", events)
        if self.now is None:
            latest = events[-1].at if events else dt.datetime.now(dt.UTC).replace(tzinfo=None)
            object.__setattr__(self, "now", latest + dt.timedelta(seconds=1))

    def __len__(self) -> int:
        return len(self.events)

    @property
    def purchased(self) -> frozenset[str]:
        """Products bought: never recommended again."""
        return frozenset(e.product_id for e in self.events if e.kind == "purchase")

    @property
    def rated(self) -> frozenset[str]:
        """Products with explicit feedback (like, dislike, more, less)."""
        return frozenset(e.product_id for e in self.events if e.kind in EXPLICIT)

    @property
    def size(self) -> int:
        """How much the history says: distinct products with positive weight."""
        return sum(1 for w in self.net_weights().values() if w > 0)

    @property
    def purchase_count(self) -> int:
        return len(self.purchased)

    def net_weights(self, half_life_days: float | None = None) -> dict[str, float]:
        """Product -> weight: implicit events (view, cart, purchase) add up; the latest
        explicit feedback is added, and a negative one (dislike, less) overrides the rest.
        With a half-life, each event counts 0.5 ** (age / half_life).

        Example:
            >>> t = dt.datetime(2024, 1, 1)
            >>> History([Event("1", "view", t), Event("1", "dislike", t)]).net_weights()
            {'1': -3.0}
        """
        key = ("w", half_life_days)
        if key in self._cache:
            return self._cache[key]
        implicit: dict[str, float] = {}
        explicit: dict[str, float] = {}
        for e in self.events:  # oldest first, so the latest explicit feedback wins
            w = EVENT_WEIGHTS.get(e.kind, 0.0) * self.decay(e.at, half_life_days)
            if e.kind in EXPLICIT:
                explicit[e.product_id] = w
            else:
                implicit[e.product_id] = implicit.get(e.product_id, 0.0) + w
        out = dict(implicit)
        for pid, w in explicit.items():
            out[pid] = w if w < 0 else out.get(pid, 0.0) + w
        self._cache[key] = out
        return out

    def decay(self, at: dt.datetime, half_life_days: float | None) -> float:
        if not half_life_days:
            return 1.0
        age = max((self.now - at).total_seconds(), 0.0) / 86400.0
        return float(0.5 ** (age / half_life_days))

    def last_seen(self) -> dict[str, tuple[str, dt.datetime]]:
        """Product -> (kind, time) of the strongest positive event on it, for explanations."""
        out: dict[str, tuple[str, dt.datetime]] = {}
        for e in self.events:
            w = EVENT_WEIGHTS.get(e.kind, 0.0)
            prev = out.get(e.product_id)
            if w > 0 and (prev is None or EVENT_WEIGHTS[prev[0]] <= w):
                out[e.product_id] = (e.kind, e.at)
        return out

    def before(self, when: dt.datetime) -> History:
        """The history as it was at `when` (events strictly earlier; now = when)."""
        kept = [e for e in self.events if e.at < when]
        return History(kept, user_id=self.user_id, gender=self.gender, now=when)

    def with_event(self, event: Event) -> History:
        return History(
            [*self.events, event], user_id=self.user_id, gender=self.gender, now=self.now
        )


def history_from_store(
    store: Any, user_id: int, *, limit: int = 2000, now: dt.datetime | None = None
) -> History:
    """A store user's latest `limit` events (their gender from the users table).

    Example:
        >>> history_from_store(store, 7).size                    # doctest: +SKIP
        12
    """
    from sqlalchemy import select

    from fashionrec.store.models import Interaction, User

    with store.session() as s:
        user = s.get(User, user_id)
        gender = user.gender if user is not None else None
        rows = s.execute(
            select(
                Interaction.product_id,
                Interaction.kind,
                Interaction.created_at,
                Interaction.quantity,
            )
            .where(Interaction.user_id == user_id)
            .order_by(Interaction.created_at.desc(), Interaction.id.desc())
            .limit(limit)
        ).all()
    events = [Event(str(p), k, t, int(q or 1)) for p, k, t, q in rows]
    return History(events, user_id=user_id, gender=gender, now=now)


def histories_from_frame(
    frame: pd.DataFrame,
    *,
    user: str = "user_id",
    product: str = "product_id",
    kind: str | None = "kind",
    time: str = "timestamp",
    genders: Mapping[str, str | None] | None = None,
    now: Mapping[str, dt.datetime] | None = None,
    users: Iterable[str] | None = None,
) -> dict[str, History]:
    """One History per user of an interactions frame (`kind` None: every row is a purchase).

    Example:
        >>> df = pd.DataFrame({"user_id": ["a"], "product_id": ["1"], "timestamp": ["2024-01-01"]})
        >>> histories_from_frame(df, kind=None)["a"].purchased
        frozenset({'1'})
    """
    times = pd.to_datetime(frame[time]).dt.tz_localize(None).to_numpy()
    kinds = frame[kind].astype(str).to_numpy() if kind else np.full(len(frame), "purchase")
    grouped: dict[str, list[Event]] = {}
    wanted = set(map(str, users)) if users is not None else None
    for u, p, k, t in zip(
        frame[user].astype(str), frame[product].astype(str), kinds, times, strict=True
    ):
        if wanted is not None and u not in wanted:
            continue
        grouped.setdefault(u, []).append(Event(p, k, pd.Timestamp(t).to_pydatetime()))
    if wanted is not None:
        for u in wanted:
            grouped.setdefault(u, [])
    genders, now = genders or {}, now or {}
    return {
        u: History(events, user_id=u, gender=genders.get(u), now=now.get(u))
        for u, events in grouped.items()
    }
