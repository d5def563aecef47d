"""Search by photo."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from fashionrec.api.deps import MinSimilarity, TopK, filters_dep, recommender
from fashionrec.api.errors import ApiError, errors_for
from fashionrec.api.routers.products import match_json
from fashionrec.api.schemas import SearchResponse
from fashionrec.api.uploads import read_upload
from fashionrec.recommend import Filters, Recommender
from fashionrec.recommend.reasons import photo_query

router = APIRouter(prefix="/api", tags=["search"])

Crop = tuple[float, float, float, float]


def parse_crop(text: str | None) -> Crop | None:
    """Parse "x0,y0,x1,y1" (fractions of the image, 0..1, x0<x1, y0<y1); None when absent.

    Example:
        >>> parse_crop("0.1,0.2,0.6,0.9")
        (0.1, 0.2, 0.6, 0.9)
    """
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ApiError(
            422, "invalid", f"crop must be four numbers x0,y0,x1,y1 (fractions 0..1), got {text!r}"
        )
    x0, y0, x1, y1 = values
    if not all(0.0 <= v <= 1.0 for v in values):
        raise ApiError(422, "invalid", f"crop values must lie within 0..1, got {text!r}")
    if not (x0 < x1 and y0 < y1):
        raise ApiError(422, "invalid", f"crop needs x0 < x1 and y0 < y1, got {text!r}")
    return (x0, y0, x1, y1)


@router.post("/search", response_model=SearchResponse, responses=errors_for(413, 415))
async def search_by_photo(
    request: Request,
    file: Annotated[UploadFile, File(description="A photo of a garment (JPEG, PNG, WebP...)")],
    filters: Annotated[Filters, Depends(filters_dep)],
    rec: Annotated[Recommender, Depends(recommender)],
    k: TopK = 12,
    min_similarity: MinSimilarity = None,
    crop: Annotated[
        str | None,
        Query(
            description="Search one region: x0,y0,x1,y1 as fractions of the photo (0..1)",
            examples=["0.1,0.2,0.6,0.9"],
        ),
    ] = None,
    type_gate: Annotated[
        bool,
        Query(
            description="Search among products of the type the photo looks like (when the index "
            "has a type gate and no article_type is given); false searches every type"
        ),
    ] = True,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Words to go with the photo, e.g. 'but in red' or 'for men under 40': "
            "they become filters for the fields not set, and a colour named replaces the photo's",
        ),
    ] = None,
) -> dict[str, Any]:
    """Products that look like the uploaded photo (or a region of it), best first."""
    box = parse_crop(crop)  # before reading the upload: a bad crop fails fast
    settings = request.app.state.settings
    image = await read_upload(
        file, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upload_pixels
    )

    def run() -> Any:
        return rec.search_photos(
            [image],
            k,
            filters=filters,
            min_similarity=min_similarity,
            crops=[box],
            use_gate=type_gate,
            words=q,
        )[0]

    found = await run_in_threadpool(run)
    query = photo_query(found.looks_like, found.predicted)
    predicted = {
        a: {"value": v, "confidence": round(p, 4)} for a, (v, p) in (found.predicted or {}).items()
    }
    looks_like = found.looks_like
    if looks_like is not None:  # the gate learned shoppers' photos: it speaks for the type
        predicted["article_type"] = {
            "value": looks_like["article_type"],
            "confidence": round(looks_like["confidence"], 4),
        }
        looks_like = {
            **looks_like,
            "confidence": round(looks_like["confidence"], 4),
            "top": [{"value": t, "confidence": round(p, 4)} for t, p in looks_like["top"]],
        }
    return {
        "results": [match_json(request, m, query) for m in found.matches],
        "filters": filters.to_dict(),
        "showing": found.words.shown if found.words else [],
        "min_similarity": rec.min_similarity(min_similarity),
        "predicted": predicted,
        "looks_like": looks_like,
        "crop": list(box) if box else None,
    }
