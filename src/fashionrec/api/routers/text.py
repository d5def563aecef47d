"""Search by words: `GET /api/search?q=...`."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from fashionrec.api.deps import TopK, filters_dep, recommender
from fashionrec.api.errors import errors_for
from fashionrec.api.routers.products import product_json
from fashionrec.api.schemas import SuggestResponse, TextSearchResponse
from fashionrec.recommend import Filters, Recommender

router = APIRouter(prefix="/api", tags=["search"])
_lock = threading.Lock()


def text_searcher(request: Request, rec: Recommender) -> Any:
    """One searcher per served index generation, built on first use. The sentence model joins
    in when the index has its product-text embeddings cached (`INDEX_DIR/text/`); BM25 + query
    understanding alone measured P@10 0.976 against 0.978 fused, so serving never waits for
    embeddings."""
    found = getattr(request.app.state, "text_searcher", None)
    # keyed by the recommender: after a reload (a product added through another process) the
    # old searcher would never find the new products
    if found is None or found[0] is not rec:
        with _lock:
            found = getattr(request.app.state, "text_searcher", None)
            if found is None or found[0] is not rec:
                from fashionrec.text import TextSearcher

                cache = rec.index_dir.path / "text"
                semantic = (cache / "embeddings.npy").is_file()
                searcher = TextSearcher(
                    rec.products, rec.vocabulary, cache_dir=cache, semantic=semantic
                ).build()
                found = (rec, searcher)
                request.app.state.text_searcher = found
    return found[1]


@router.get("/search", response_model=TextSearchResponse, responses=errors_for())
async def search_by_text(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What the shopper typed")],
    filters: Annotated[Filters, Depends(filters_dep)],
    rec: Annotated[Recommender, Depends(recommender)],
    k: TopK = 12,
) -> dict[str, Any]:
    """Products matching the words; words that name attributes become filters, shown back."""

    def run() -> Any:
        searcher = text_searcher(request, rec)
        explicit = filters.resolved(rec.vocabulary).to_dict()
        chosen = {f: v for f, v in explicit.items() if isinstance(v, list)}
        mode = "fused" if searcher.semantic else "bm25"
        return searcher.search(q, k, filters=chosen, mode=mode)

    found = await run_in_threadpool(run)
    parsed = found.parsed
    return {
        "results": [
            {**product_json(request, rec.product(pid)), "score": round(s, 4)}
            for pid, s in zip(found.ids, found.scores, strict=True)
        ],
        "showing": parsed.shown if parsed else [],
        "understood": parsed.filters if parsed else {},
        "corrections": parsed.corrections if parsed else {},
    }


def suggester(request: Request, rec: Recommender) -> Any:
    """The app's Suggester, built on first use (0.3 s on the 44k catalog)."""
    found = getattr(request.app.state, "suggester", None)
    if found is None or found[0] is not rec:  # rebuilt when the index was reloaded
        from fashionrec.text.suggest import Suggester

        found = (rec, Suggester(rec.products))
        request.app.state.suggester = found
    return found[1]


@router.get("/suggest", response_model=SuggestResponse, responses=errors_for())
def suggest(
    request: Request,
    q: Annotated[str, Query(max_length=200, description="What the shopper has typed so far")],
    rec: Annotated[Recommender, Depends(recommender)],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> dict[str, Any]:
    """Catalog phrases completing the words typed so far, most products first."""
    return {"query": q, "suggestions": suggester(request, rec).suggest(q, limit)}
