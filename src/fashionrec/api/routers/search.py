"""Search by photo."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from fashionrec.api.deps import filters_dep, recommender
from fashionrec.api.errors import errors_for
from fashionrec.api.routers.products import match_json
from fashionrec.api.schemas import SearchResponse
from fashionrec.api.uploads import read_upload
from fashionrec.recommend import Filters, Recommender

router = APIRouter(prefix="/api", tags=["search"])


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
) -> dict[str, Any]:
    """Products that look like the uploaded photo, best first, with similarity scores."""
    settings = request.app.state.settings
    image = await read_upload(
        file, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upload_pixels
    )

    def run() -> tuple[list, dict]:
        backbone = rec.backbone_vectors([image])
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
    }
