"""Recent popularity, for the shopper's gender, visually diverse (MMR on the embeddings).

Popularity is taken "as of" the history's `now`: only events before it count, each weighing
0.5 ** (age / half_life). Offline this avoids peeking at the future; live, now is the
request's time.

Example:
    >>> pop = PopularityRecommender(space).fit(interactions)           # doctest: +SKIP
    >>> pop.recommend(History(gender="Women"), k=10)                     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from fashionrec.recommend.personal import explain
from fashionrec.recommend.personal.base import FiltersLike, Recommendation
from fashionrec.recommend.personal.history import History
from fashionrec.recommend.personal.space import ProductSpace, mmr
from fashionrec.store.models import EVENT_WEIGHTS

log = logging.getLogger(__name__)


def _seconds(times: pd.Series | np.ndarray) -> np.ndarray:
    values = pd.to_datetime(pd.Series(times)).dt.tz_localize(None)
    return values.to_numpy("datetime64[s]").astype(np.int64)


class PopularityRecommender:
    """Most bought / liked products lately among the allowed ones, diversified by look."""

    name = "popularity"

    def __init__(
        self,
        space: ProductSpace,
        *,
        half_life_days: float = 7.0,
        relevance: float = 0.8,
        pool: int = 60,
    ) -> None:
        self.space = space
        self.half_life_days = half_life_days
        self.relevance = relevance
        self.pool = pool
        self._rows = np.zeros(0, np.int64)
        self._times = np.zeros(0, np.int64)
        self._weights = np.zeros(0, np.float64)
        self._cache: dict[int, np.ndarray] = {}

    def fit(self, interactions: pd.DataFrame) -> PopularityRecommender:
        """Learn from a frame with product_id, kind (optional: purchases) and timestamp."""
        rows = self.space.rows(interactions["product_id"].astype(str))
        kinds = (
            interactions["kind"].astype(str)
            if "kind" in interactions
            else pd.Series("purchase", index=interactions.index)
        )
        weights = kinds.map(EVENT_WEIGHTS).fillna(0.0).to_numpy(np.float64)
        keep = (rows >= 0) & (weights > 0)  # only catalog products; dislikes do not count
        order = np.argsort(_seconds(interactions["timestamp"])[keep], kind="stable")
        self._rows = rows[keep][order]
        self._times = _seconds(interactions["timestamp"])[keep][order]
        self._weights = weights[keep][order]
        self._cache.clear()
        log.info("popularity: %d events over %d products", len(self._rows), len(self.space))
        return self

    def scores(self, now: dt.datetime | None = None) -> np.ndarray:
        """Decayed popularity of every row as of `now` (cached per hour)."""
        t = int(pd.Timestamp(now).timestamp()) if now is not None else None
        t = int(self._times[-1]) + 1 if t is None and len(self._times) else (t or 0)
        hour = t // 3600
        cached = self._cache.get(hour)
        if cached is not None:
            return cached
        n = int(np.searchsorted(self._times, t, side="left"))  # strictly before now
        age_days = (t - self._times[:n]) / 86400.0
        w = self._weights[:n] * 0.5 ** (age_days / self.half_life_days)
        out = np.bincount(self._rows[:n], weights=w, minlength=len(self.space)).astype(np.float64)
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[hour] = out
        return out

    def ranked(
        self, history: History, allowed: np.ndarray, exclude: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The n most popular allowed rows (not excluded) and their scores, best first.
        Products never bought rank after all bought ones, in index order (a fresh shop)."""
        scores = self.scores(history.now)
        ok = allowed.copy()
        ok[exclude[exclude >= 0]] = False
        rows = np.flatnonzero(ok)
        if len(rows) == 0:
            return rows, np.zeros(0)
        top = rows[np.argsort(-scores[rows], kind="stable")[:n]]
        return top, scores[top]

    def recommend(
        self, history: History, k: int = 10, filters: FiltersLike = None
    ) -> list[Recommendation]:
        """Top-k popular products for the shopper's gender, diversified by look."""
        space = self.space
        filt = space.shopper_filters(history, filters)
        exclude = space.rows(history.purchased | history.rated)
        rows, scores = self.ranked(history, space.allowed(filt), exclude, max(self.pool, k))
        order = mmr(scores, space.vectors(rows), k, relevance=self.relevance)
        reasons = explain.popular(space.main_gender(history))
        return [
            Recommendation(space.ids[rows[i]], float(scores[i]), list(reasons), self.name)
            for i in order
        ]
