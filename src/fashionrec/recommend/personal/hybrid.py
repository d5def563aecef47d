"""The hybrid: switches by history size, blends, never re-sells, diversifies.

- cold start (nothing known): popular products for the shopper's gender, visually diverse;
- little history: other colours of what they bought, then look-alikes (content), then
  popular products;
- rich history (>= `rich` products): the same plus collaborative filtering.

Lists are blended by weighted reciprocal rank fusion (scores of different methods are not
comparable, ranks are) and the blend is diversified with MMR on the image vectors. Purchased
and explicitly rated products are never recommended.

Example:
    >>> hybrid = HybridRecommender(space, popularity=pop, content=content, cf=cf)  # doctest: +SKIP
    >>> hybrid.recommend(history, k=10)                                            # doctest: +SKIP
"""

from __future__ import annotations

import logging

import numpy as np

from fashionrec.recommend.personal.base import Recommendation
from fashionrec.recommend.personal.cf import CFRecommender
from fashionrec.recommend.personal.content import ContentRecommender
from fashionrec.recommend.personal.history import History
from fashionrec.recommend.personal.popularity import PopularityRecommender
from fashionrec.recommend.personal.space import FiltersLike, ProductSpace, mmr
from fashionrec.recommend.personal.variants import VariantsRecommender

log = logging.getLogger(__name__)

#: Weight of each method's list in the blend. Variants first: on the H&M sample, other colours
#: of a bought product are the strongest known signal.
WEIGHTS = {"variants": 3.0, "cf": 1.0, "content": 1.0, "popularity": 1.5}
RRF_K = 20


class HybridRecommender:
    """Popularity, variants, content and CF blended by history size."""

    name = "hybrid"

    def __init__(
        self,
        space: ProductSpace,
        *,
        popularity: PopularityRecommender,
        content: ContentRecommender,
        cf: CFRecommender | None = None,
        variants: VariantsRecommender | None = None,
        rich: int = 5,
        relevance: float = 0.85,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.space = space
        self.popularity = popularity
        self.content = content
        self.cf = cf
        self.variants = variants or VariantsRecommender(space, popularity=popularity)
        self.rich = rich
        self.relevance = relevance
        self.weights = {**WEIGHTS, **(weights or {})}

    def method(self, history: History) -> str:
        """Which regime answers this history: cold-start, content or cf+content."""
        size = history.size
        if size == 0:
            return "cold-start"
        return "cf+content" if self.cf is not None and size >= self.rich else "content"

    def recommend(
        self, history: History, k: int = 10, filters: FiltersLike = None
    ) -> list[Recommendation]:
        regime = self.method(history)
        if regime == "cold-start":
            return self.popularity.recommend(history, k, filters)
        pool = max(3 * k, 30)
        lists = [
            self.variants.recommend(history, pool, filters),
            self.content.recommend(history, pool, filters),
        ]
        if self.popularity.scores(history.now).max(initial=0.0) > 0:  # a new shop has none
            lists.append(self.popularity.recommend(history, pool, filters))
        if regime == "cf+content":
            lists.append(self.cf.recommend(history, pool, filters))
        return self.blend(lists, k, history)

    def blend(
        self, lists: list[list[Recommendation]], k: int, history: History
    ) -> list[Recommendation]:
        """Weighted reciprocal rank fusion, then MMR; reasons of every method that found it."""
        fused: dict[str, float] = {}
        best: dict[str, tuple[float, Recommendation]] = {}
        reasons: dict[str, list[dict[str, str]]] = {}
        banned = history.purchased | history.rated
        for recs in lists:
            for rank, rec in enumerate(recs):
                if rec.product_id in banned:
                    continue
                share = self.weights.get(rec.source, 1.0) / (RRF_K + rank)
                fused[rec.product_id] = fused.get(rec.product_id, 0.0) + share
                if rec.product_id not in best or best[rec.product_id][0] < share:
                    best[rec.product_id] = (share, rec)
                reasons.setdefault(rec.product_id, []).append(rec.reasons)
        if not fused:
            return []
        ids = sorted(fused, key=lambda p: -fused[p])[: 3 * k]
        scores = np.array([fused[p] for p in ids])
        order = mmr(scores, self.space.vectors(self.space.rows(ids)), k, relevance=self.relevance)
        out = []
        for i in order:
            pid = ids[i]
            main = best[pid][1]
            merged = _merge(main.reasons, reasons[pid])
            out.append(Recommendation(pid, float(scores[i]), merged, main.source))
        return out


def _merge(
    first: list[dict[str, str]], others: list[list[dict[str, str]]], limit: int = 3
) -> list[dict[str, str]]:
    """The main method's reasons, then the first reason of each other method, no repeats."""
    out = list(first)
    codes = {r["code"] for r in out}
    for reasons in others:
        if reasons and reasons[0]["code"] not in codes:
            out.append(reasons[0])
            codes.add(reasons[0]["code"])
    return out[: max(limit, len(first))]
