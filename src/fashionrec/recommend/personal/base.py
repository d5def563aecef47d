"""The one interface of personal recommenders and what they return.

Example:
    >>> reasons = [{"code": "popular", "text": "popular right now"}]
    >>> r = Recommendation("42", 0.8, reasons, "popularity")
    >>> r.to_dict()["source"]
    'popularity'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from fashionrec.recommend.personal.history import History
from fashionrec.recommend.personal.space import FiltersLike


@dataclass(frozen=True)
class Recommendation:
    """A recommended product: its score (higher is better, comparable within one method),
    why it is shown, in shopper words, and the method that found it."""

    product_id: str
    score: float
    reasons: list[dict[str, str]] = field(default_factory=list)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.product_id,
            "score": round(float(self.score), 4),
            "reasons": list(self.reasons),
            "source": self.source,
        }


@runtime_checkable
class PersonalRecommender(Protocol):
    """Every personal method: popularity, content, cf, variants, hybrid."""

    name: str

    def recommend(
        self, history: History, k: int = 10, filters: FiltersLike = None
    ) -> list[Recommendation]: ...
