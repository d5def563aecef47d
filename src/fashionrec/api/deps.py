"""Shared request parameters: metadata filters and k."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from fashionrec.api.reload import maybe_reload
from fashionrec.recommend import Filters, Recommender
from fashionrec.store import Store

Multi = Annotated[list[str] | None, Query()]


def filters_dep(
    gender: Multi = None,
    master_category: Multi = None,
    sub_category: Multi = None,
    article_type: Multi = None,
    colour: Annotated[list[str] | None, Query(description="Base colour, e.g. Navy Blue")] = None,
    colour_group: Annotated[
        list[str] | None, Query(description="Near-colour group, e.g. Blue (Navy Blue, Teal...)")
    ] = None,
    season: Multi = None,
    usage: Multi = None,
    year_min: float | None = None,
    year_max: float | None = None,
    price_min: float | None = None,
    price_max: float | None = None,
) -> Filters:
    """Metadata filters from the query string; repeat a parameter for "any of"."""
    return Filters.from_mapping(
        {
            "gender": gender,
            "master_category": master_category,
            "sub_category": sub_category,
            "article_type": article_type,
            "base_colour": colour,
            "colour_group": colour_group,
            "season": season,
            "usage": usage,
            "year_min": year_min,
            "year_max": year_max,
            "price_min": price_min,
            "price_max": price_max,
        }
    )


def recommender(request: Request) -> Recommender:
    """The app's recommender; reopened when another process changed the index."""
    maybe_reload(request.app)
    return request.app.state.recommender


def store(request: Request) -> Store:
    return request.app.state.store


#: `min_similarity` query parameter: a number, or "auto" for the measured threshold.
MinSimilarity = Annotated[
    str | None, Query(description="A cosine similarity, or 'auto' for the measured threshold")
]
#: `k` query parameter.
TopK = Annotated[int, Query(ge=1, le=100, description="How many results")]
