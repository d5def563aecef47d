"""Response models of the HTTP API (they also document it in OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Product(BaseModel):
    id: str
    name: str | None = None
    gender: str | None = None
    master_category: str | None = None
    sub_category: str | None = None
    article_type: str | None = None
    base_colour: str | None = None
    season: str | None = None
    year: int | None = None
    usage: str | None = None
    price: float | None = None
    group: str | None = None
    image_url: str = Field(description="URL of the product photo on this server")


class Reason(BaseModel):
    code: str = Field(
        description="Stable code: same_type, same_colour, similar_colour, other_colour, "
        "looks_similar",
        examples=["same_colour"],
    )
    text: str = Field(description="Shopper wording", examples=["same colour: navy blue"])


class ScoredProduct(Product):
    score: float = Field(description="Cosine similarity to the query, -1..1")
    reasons: list[Reason] = Field(
        default_factory=list,
        description="What this result shares with the query (type, colour, look)",
    )


class ProductPage(BaseModel):
    items: list[Product]
    total: int
    page: int
    per_page: int


class SimilarResponse(BaseModel):
    product: Product
    results: list[ScoredProduct]


class SearchResponse(BaseModel):
    results: list[ScoredProduct]
    filters: dict[str, Any] = Field(default_factory=dict)
    min_similarity: float | None = None
    predicted: dict[str, Any] = Field(
        default_factory=dict,
        description="What the photo looks like, per attribute: {'article_type': "
        "{'value': 'Jeans', 'confidence': 0.92}} (when the index has attribute heads)",
    )
    showing: list[str] = Field(
        default_factory=list,
        description="What the words given with the photo (q) added, e.g. ['Women', 'Red']",
    )
    looks_like: dict[str, Any] | None = Field(
        default=None,
        description="The type gate's reading of the photo: article_type, confidence, top "
        "alternatives, and whether the search was restricted to that type (applied)",
    )
    crop: list[float] | None = Field(
        default=None, description="The crop used, [x0, y0, x1, y1] as fractions, or null"
    )


class TextSearchResponse(BaseModel):
    results: list[ScoredProduct]
    showing: list[str] = Field(
        default_factory=list, description="How the words were understood, e.g. Shirts, Men"
    )
    understood: dict[str, list[str]] = Field(
        default_factory=dict, description="Filters the words implied, by attribute"
    )
    corrections: dict[str, str] = Field(default_factory=dict, description="Typos repaired")


class Facets(BaseModel):
    """Filterable values of each attribute, with product counts."""

    fields: dict[str, dict[str, int]]
    products: int


class Health(BaseModel):
    status: str
    products: int
    embedder: str


class SuggestResponse(BaseModel):
    query: str
    suggestions: list[str] = Field(
        default_factory=list, description="Phrases to offer, e.g. ['Navy Blue Shirts']"
    )
