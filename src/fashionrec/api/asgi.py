"""ASGI entry point for servers: the app over $FASHIONREC_INDEX (default ./fashionrec-index)."""

from __future__ import annotations

import os
from pathlib import Path

from fashionrec.api.app import create_app
from fashionrec.api.settings import ApiSettings
from fashionrec.shop.settings import ShopSettings

settings = ApiSettings(
    index_dir=Path(os.environ.get("FASHIONREC_INDEX", "fashionrec-index")),
    shop=ShopSettings.from_env(),  # FASHIONREC_SMTP_HOST, FASHIONREC_SECRET_KEY, ...
    # protects /api/users and /api/events (and turns off naming shoppers in the shop front)
    api_token=os.environ.get("FASHIONREC_API_TOKEN") or None,
)
if settings.blas_threads:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=settings.blas_threads)
app = create_app(settings)
