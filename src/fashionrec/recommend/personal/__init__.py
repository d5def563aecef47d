"""Personal recommendations: popularity, content profile, collaborative filtering, variants
and their hybrid, all behind one interface, `recommend(history, k, filters)`.

Example:
    >>> models = build_models(Recommender.open("idx"), interactions)     # doctest: +SKIP
    >>> models["hybrid"].recommend(history, k=10)                         # doctest: +SKIP
"""

from fashionrec.recommend.personal.base import PersonalRecommender, Recommendation
from fashionrec.recommend.personal.cf import CFRecommender
from fashionrec.recommend.personal.content import ContentRecommender
from fashionrec.recommend.personal.history import (
    Event,
    History,
    histories_from_frame,
    history_from_store,
)
from fashionrec.recommend.personal.hybrid import HybridRecommender
from fashionrec.recommend.personal.models import build_models
from fashionrec.recommend.personal.popularity import PopularityRecommender
from fashionrec.recommend.personal.space import ProductSpace
from fashionrec.recommend.personal.variants import VariantsRecommender

__all__ = [
    "CFRecommender",
    "ContentRecommender",
    "Event",
    "History",
    "HybridRecommender",
    "PersonalRecommender",
    "PopularityRecommender",
    "ProductSpace",
    "Recommendation",
    "VariantsRecommender",
    "build_models",
    "histories_from_frame",
    "history_from_store",
]
