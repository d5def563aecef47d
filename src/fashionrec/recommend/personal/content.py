"""Content profile: what a shopper's history looks like, searched in the index.

The profile is the time-decayed, weighted mean of the vectors of what they viewed, liked,
carted and bought, minus a share of the mean of what they disliked. Candidates come from the
index (`Recommender.search_vector`, with the shopper's gender rule and filters) for the
profile and for their strongest recent products, so a shopper of dresses and of shoes gets
both; each candidate is then scored against the profile and its closest history product, and
pushed down by its similarity to disliked ones.

Example:
    >>> ContentRecommender(space).recommend(history, k=10)            # doctest: +SKIP
"""

from __future__ import annotations

import logging

import numpy as np

from fashionrec.recommend.personal import explain
from fashionrec.recommend.personal.base import Recommendation
from fashionrec.recommend.personal.history import HALF_LIFE_DAYS, History
from fashionrec.recommend.personal.space import FiltersLike, ProductSpace, _normalise

log = logging.getLogger(__name__)


class ContentRecommender:
    """Products that look like what the shopper liked and unlike what they disliked."""

    name = "content"

    def __init__(
        self,
        space: ProductSpace,
        *,
        half_life_days: float = HALF_LIFE_DAYS,
        negative: float = 0.6,
        anchors: int = 3,
        pool: int = 60,
    ) -> None:
        self.space = space
        self.half_life_days = half_life_days
        self.negative = negative
        self.anchors = anchors
        self.pool = pool

    def profile(self, history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(profile vector or empty, positive rows, their relative weights, negative rows)."""
        weights = history.net_weights(self.half_life_days)
        ids = list(weights)
        rows = self.space.rows(ids)
        w = np.array([weights[i] for i in ids], dtype=np.float64)
        known = rows >= 0
        rows, w = rows[known], w[known]
        pos, neg = rows[w > 0], rows[w < 0]
        wp, wn = w[w > 0], -w[w < 0]
        if len(pos) == 0:
            return np.zeros(0, np.float32), pos, wp, neg
        vp = self.space.vectors(pos)
        profile = (wp[:, None] * vp).sum(0) / wp.sum()
        if len(neg):
            vn = self.space.vectors(neg)
            profile = profile - self.negative * (wn[:, None] * vn).sum(0) / wn.sum()
        return _normalise(profile.astype(np.float32)), pos, wp / wp.max(), neg

    def candidates(
        self, history: History, n: int, filters: FiltersLike = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, scores, anchor index into the positive rows) of up to n candidates."""
        profile, pos, wp, neg = self.profile(history)
        empty = np.zeros(0, np.int64)
        if len(profile) == 0:
            return empty, np.zeros(0), empty
        space = self.space
        filt = space.shopper_filters(history, filters)
        seen = set(history.net_weights()) | history.purchased
        vp = space.vectors(pos)
        queries = [profile, *vp[np.argsort(-wp, kind="stable")[: self.anchors]]]
        found: dict[str, None] = {}
        for q in queries:
            for m in space.rec.search_vector(q, self.pool + len(seen), filters=filt):
                if m.id not in seen:
                    found.setdefault(m.id, None)
        rows = space.rows(list(found))
        if len(rows) == 0:
            return empty, np.zeros(0), empty
        vc = space.vectors(rows)
        per_anchor = (vc @ vp.T) * wp[None, :]
        anchor = per_anchor.argmax(1)
        scores = 0.5 * (vc @ profile) + 0.5 * per_anchor.max(1)
        if len(neg):
            scores = scores - self.negative * (vc @ space.vectors(neg).T).max(1).clip(0)
        top = np.argsort(-scores, kind="stable")[:n]
        return rows[top], scores[top], anchor[top]

    def recommend(
        self, history: History, k: int = 10, filters: FiltersLike = None
    ) -> list[Recommendation]:
        """Top-k products by look; each names the history product it resembles."""
        rows, scores, anchors = self.candidates(history, k, filters)
        return self.explain(history, rows, scores, anchors)

    def explain(
        self, history: History, rows: np.ndarray, scores: np.ndarray, anchors: np.ndarray
    ) -> list[Recommendation]:
        _, pos, _, _ = self.profile(history)
        seen = history.last_seen()
        out = []
        for row, score, a in zip(rows.tolist(), scores.tolist(), anchors.tolist(), strict=True):
            anchor_id = self.space.ids[pos[a]]
            kind = seen.get(anchor_id, ("like", None))[0]
            anchor = self.space.product(pos[a])
            reasons = explain.similar_to(anchor.get("name"), kind, anchor, self.space.product(row))
            out.append(Recommendation(self.space.ids[row], score, reasons, self.name))
        return out
