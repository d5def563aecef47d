"""Every personal method, built over one index and one interactions frame.

Example:
    >>> models = build_models(Recommender.open("idx"), interactions)     # doctest: +SKIP
    >>> sorted(models)
    ['cf', 'content', 'hybrid', 'popularity', 'variants']
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from fashionrec.recommend.personal.base import PersonalRecommender
from fashionrec.recommend.personal.cf import CFRecommender
from fashionrec.recommend.personal.content import ContentRecommender
from fashionrec.recommend.personal.hybrid import HybridRecommender
from fashionrec.recommend.personal.popularity import PopularityRecommender
from fashionrec.recommend.personal.space import ProductSpace
from fashionrec.recommend.personal.variants import VariantsRecommender
from fashionrec.recommend.recommender import Recommender


def build_models(
    rec: Recommender | ProductSpace,
    interactions: pd.DataFrame,
    *,
    cf_options: dict[str, Any] | None = None,
) -> dict[str, PersonalRecommender]:
    """popularity, variants (then popularity), content, cf and hybrid, trained on
    `interactions` (columns user_id, product_id, kind, timestamp)."""
    space = rec if isinstance(rec, ProductSpace) else ProductSpace(rec)
    popularity = PopularityRecommender(space).fit(interactions)
    content = ContentRecommender(space)
    cf = CFRecommender(space, **(cf_options or {})).fit(interactions)
    variants = VariantsRecommender(space, popularity=popularity, fill=True)
    hybrid = HybridRecommender(
        space,
        popularity=popularity,
        content=content,
        cf=cf,
        variants=VariantsRecommender(space, popularity=popularity),
    )
    return {
        "popularity": popularity,
        "variants": variants,
        "content": content,
        "cf": cf,
        "hybrid": hybrid,
    }
