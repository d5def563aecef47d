"""Search by photo."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from PIL import Image

from fashionrec.api.deps import filters_dep, recommender
from fashionrec.api.errors import ApiError, errors_for
from fashionrec.api.routers.products import match_json
from fashionrec.api.schemas import SearchResponse
from fashionrec.api.uploads import read_upload
from fashionrec.recommend import Filters, Recommender

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


def apply_crop(image: Image.Image, crop: Crop | None) -> Image.Image:
    """Cut the fractional box out of the image (at least one pixel each way)."""
    if crop is None:
        return image
    w, h = image.size
    left, top = min(int(crop[0] * w), w - 1), min(int(crop[1] * h), h - 1)
    right = max(left + 1, min(w, math.ceil(crop[2] * w)))
    bottom = max(top + 1, min(h, math.ceil(crop[3] * h)))
    return image.crop((left, top, right, bottom))


@router.post("/search", response_model=SearchResponse, responses=errors_for(413, 415))
async def search_by_photo(
    request: Request,
    file: Annotated[UploadFile, File(description="A photo of a garment (JPEG, PNG, WebP...)")],
    filters: Annotated[Filters, Depends(filters_dep)],
    rec: Annotated[Recommender, Depends(recommender)],
    k: Annotated[int, Query(ge=1, le=100)] = 12,
    min_similarity: Annotated[
        str | None, Query(description="A cosine similarity, or 'auto' for the measured threshold")
    ] = None,
    crop: Annotated[
        str | None,
        Query(
            description="Search one region: x0,y0,x1,y1 as fractions of the photo (0..1)",
            examples=["0.1,0.2,0.6,0.9"],
        ),
    ] = None,
) -> dict[str, Any]:
    """Products that look like the uploaded photo (or a region of it), best first."""
    box = parse_crop(crop)  # before reading the upload: a bad crop fails fast
    settings = request.app.state.settings
    image = await read_upload(
        file, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upload_pixels
    )

    def run() -> tuple[list, dict]:
        backbone = rec.backbone_vectors([apply_crop(image, box)])
        predicted = rec.predict_attributes(backbone)[0]
        vector = rec.search_space(backbone)[0]
        threshold = rec.min_similarity(min_similarity)
        return rec.search_vector(vector, k, filters=filters, min_similarity=threshold), predicted

    matches, predicted = await run_in_threadpool(run)
    return {
        "results": [match_json(request, m) for m in matches],
        "filters": filters.to_dict(),
        "min_similarity": rec.min_similarity(min_similarity),
        "predicted": {
            a: {"value": v, "confidence": round(p, 4)} for a, (v, p) in predicted.items()
        },
        "crop": list(box) if box else None,
    }
