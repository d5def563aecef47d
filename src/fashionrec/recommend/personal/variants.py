"""Other colours / variants of what a shopper bought or liked (same `group`, e.g. H&M's
product_code): on the H&M sample the strongest simple baseline (1.8x popularity).

Example:
    >>> VariantsRecommender(space, popularity=pop).recommend(history)    # doctest: +SKIP
"""

from __future__ import annotations

from fashionrec.recommend.personal import explain
from fashionrec.recommend.personal.base import Recommendation
from fashionrec.recommend.personal.history import HALF_LIFE_DAYS, History
from fashionrec.recommend.personal.popularity import PopularityRecommender
from fashionrec.recommend.personal.space import FiltersLike, ProductSpace


class VariantsRecommender:
    """Variants of the shopper's products, the most recent and strongest interest first; ties
    go to the more popular variant. With `fill`, popular products complete the list."""

    name = "variants"

    def __init__(
        self,
        space: ProductSpace,
        *,
        popularity: PopularityRecommender | None = None,
        fill: bool = False,
        half_life_days: float = HALF_LIFE_DAYS,
    ) -> None:
        self.space = space
        self.popularity = popularity
        self.fill = fill
        self.half_life_days = half_life_days

    def recommend(
        self, history: History, k: int = 10, filters: FiltersLike = None
    ) -> list[Recommendation]:
        space = self.space
        weights = history.net_weights(self.half_life_days)
        seen = history.last_seen()
        allowed = space.allowed(space.shopper_filters(history, filters))
        excluded = set(space.rows(set(weights) | history.purchased).tolist())
        pop = self.popularity.scores(history.now) if self.popularity is not None else None
        top = float(pop.max()) if pop is not None and len(pop) and pop.max() > 0 else 1.0
        best: dict[int, tuple[float, str]] = {}
        for pid, w in weights.items():
            group = space.group_of(pid) if w > 0 else None
            if group is None:
                continue
            for row in space.rows_of_group(group).tolist():
                if row in excluded or not allowed[row]:
                    continue
                # interest first; popularity (< 1) only orders the variants of one interest
                score = w + (0.0 if pop is None else 0.5 * pop[row] / top)
                if row not in best or best[row][0] < score:
                    best[row] = (score, pid)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:k]
        out = []
        for row, (score, pid) in ranked:
            name = space.name_of(pid) or space.names[row] if space.names is not None else None
            kind = seen.get(pid, ("purchase", None))[0]
            reasons = explain.other_colour_of(name, kind)
            out.append(Recommendation(space.ids[row], score, reasons, self.name))
        if self.fill and self.popularity is not None and len(out) < k:
            taken = {r.product_id for r in out}
            more = self.popularity.recommend(history, k + len(taken), filters)
            out += [r for r in more if r.product_id not in taken][: k - len(out)]
        return out
