"""Similar items, search by photo, and filters."""

from fashionrec.recommend.filters import Filters
from fashionrec.recommend.recommender import Match, PhotoSearch, Recommender

__all__ = ["Filters", "Match", "PhotoSearch", "Recommender"]
