"""The FastAPI application: `create_app(settings)`."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from fashionrec.api.deps import recommender
from fashionrec.api.errors import install_error_handlers
from fashionrec.api.routers import products, search, text, users
from fashionrec.api.schemas import Health
from fashionrec.api.settings import ApiSettings
from fashionrec.recommend import Recommender
from fashionrec.store import Store, default_url

log = logging.getLogger(__name__)


def create_app(settings: ApiSettings) -> FastAPI:
    """Build the app over one index directory; the model loads once, at start.

    Example:
        >>> app = create_app(ApiSettings(index_dir=Path("fashionrec-index")))  # doctest: +SKIP
        >>> # uvicorn.run(app)
    """
    app = FastAPI(
        title="fashionrec",
        version="0.1.0",
        description="Visual search and recommendations for a fashion shop.",
    )
    app.state.settings = settings
    rec = Recommender.open(settings.index_dir, runtime=settings.runtime)
    app.state.recommender = rec
    app.state.store = open_store(settings, rec)
    install_error_handlers(app)
    app.include_router(products.router)
    app.include_router(search.router)
    app.include_router(text.router)
    app.include_router(users.router)

    @app.get("/healthz", response_model=Health, tags=["meta"])
    def health(rec: Annotated[Recommender, Depends(recommender)]) -> dict[str, Any]:
        return {"status": "ok", "products": len(rec), "embedder": rec.manifest.embedder_name}

    # imported here: the web pages import the API's dependencies
    from fashionrec.web import install_web
    from fashionrec.web.shop import install_shop

    install_web(app)
    install_shop(app)
    return app


def open_store(settings: ApiSettings, rec: Recommender) -> Store:
    """The shop's database, migrated, with the index's products mirrored into it."""
    from fashionrec.api.reload import sync_store

    store = Store.open(settings.database_url or default_url(settings.index_dir))
    sync_store(store, rec)  # workers started together race to mirror the same products
    return store
