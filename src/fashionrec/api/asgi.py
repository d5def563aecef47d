"""ASGI entry point for servers: the app over $FASHIONREC_INDEX (default ./fashionrec-index)."""

from __future__ import annotations

import os
from pathlib import Path

from fashionrec.api.app import create_app
from fashionrec.api.settings import ApiSettings

settings = ApiSettings(index_dir=Path(os.environ.get("FASHIONREC_INDEX", "fashionrec-index")))
if settings.blas_threads:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=settings.blas_threads)
app = create_app(settings)
