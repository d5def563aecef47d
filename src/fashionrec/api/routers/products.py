"""Catalog browsing, product pages, similar items and product images."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from fashionrec.api.deps import MinSimilarity, TopK, filters_dep, recommender
from fashionrec.api.errors import ApiError, errors_for
from fashionrec.api.schemas import Facets, Product, ProductPage, SimilarResponse
from fashionrec.recommend import Filters, Match, Recommender
from fashionrec.recommend.filters import CATEGORY_FIELDS
from fashionrec.recommend.reasons import reasons_for

router = APIRouter(prefix="/api", tags=["products"])

SORTS = ("id", "name", "price", "-price", "year", "-year")


def product_json(request: Request, product: dict[str, Any]) -> dict[str, Any]:
    """Public fields of a product, with the URL of its photo (never its server path)."""
    out = {k: v for k, v in product.items() if k in Product.model_fields and k != "image_url"}
    out["id"] = str(product["id"])
    out["image_url"] = str(request.url_for("product_image", product_id=out["id"]).path)
    return out


def match_json(request: Request, match: Match, query: Mapping[str, Any]) -> dict[str, Any]:
    """A scored product with the reasons it matches ``query`` (article_type, base_colour)."""
    return {
        **product_json(request, {"id": match.id, **match.product}),
        "score": round(match.score, 4),
        "reasons": reasons_for(query, match.product),
    }


@router.get("/products", response_model=ProductPage, responses=errors_for())
def list_products(
    request: Request,
    filters: Annotated[Filters, Depends(filters_dep)],
    rec: Annotated[Recommender, Depends(recommender)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 24,
    sort: Annotated[str, Query(description=f"One of {', '.join(SORTS)}")] = "id",
) -> dict[str, Any]:
    """Products matching the filters, one page at a time."""
    if sort not in SORTS:
        raise ApiError(422, "invalid", f"unknown sort {sort!r}; choose from {', '.join(SORTS)}")
    df = rec.products
    if not filters.is_empty():
        df = df[filters.resolved(rec.vocabulary).mask(df)]
    column = sort.lstrip("-")
    if column != "id" and column in df:
        df = df.sort_values(
            column, ascending=not sort.startswith("-"), na_position="last", kind="stable"
        )
    start = (page - 1) * per_page
    rows = df.iloc[start : start + per_page]
    items = [product_json(request, rec.product(pid)) for pid in rows.index]
    return {"items": items, "total": int(len(df)), "page": page, "per_page": per_page}


@router.get("/products/{product_id}", response_model=Product, responses=errors_for(404))
def get_product(
    product_id: str, request: Request, rec: Annotated[Recommender, Depends(recommender)]
) -> dict[str, Any]:
    """One product."""
    return product_json(request, rec.product(product_id))


@router.get(
    "/products/{product_id}/similar", response_model=SimilarResponse, responses=errors_for(404)
)
def similar_products(
    product_id: str,
    request: Request,
    filters: Annotated[Filters, Depends(filters_dep)],
    rec: Annotated[Recommender, Depends(recommender)],
    k: TopK = 12,
    min_similarity: MinSimilarity = None,
) -> dict[str, Any]:
    """The "Similar Items" row of a product page: never the product itself."""
    matches = rec.similar_to_product(product_id, k, filters=filters, min_similarity=min_similarity)
    product = rec.product(product_id)
    return {
        "product": product_json(request, product),
        "results": [match_json(request, m, product) for m in matches],
    }


@router.get(
    "/images/{product_id}",
    name="product_image",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, **errors_for(404)},
)
def product_image(
    product_id: str, rec: Annotated[Recommender, Depends(recommender)]
) -> FileResponse:
    """The product's photo, by product id (paths come from the index, never the client)."""
    path = Path(rec.product(product_id)["image_path"])
    if not path.is_file():
        raise ApiError(404, "not_found", f"the photo of product {product_id!r} is missing")
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/facets", response_model=Facets, responses=errors_for())
def facets(rec: Annotated[Recommender, Depends(recommender)]) -> dict[str, Any]:
    """Each filterable attribute's values with their product counts (for filter controls)."""
    out = {}
    for name in CATEGORY_FIELDS:
        if name in rec.products:
            counts = rec.products[name].value_counts()
            out[name] = {str(k): int(v) for k, v in counts.items()}
    return {"fields": out, "products": int(len(rec.products))}
