"""Settings of the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fashionrec.catalog.images import DEFAULT_MAX_PIXELS
from fashionrec.shop.settings import ShopSettings


@dataclass(frozen=True)
class ApiSettings:
    """What the API serves and its limits.

    Example:
        >>> ApiSettings(index_dir=Path("fashionrec-index"), max_upload_bytes=5_000_000)
        ApiSettings(index_dir=PosixPath('fashionrec-index'), ...)
    """

    index_dir: Path
    #: SQLAlchemy URL of the shop's database; None: $FASHIONREC_DATABASE_URL, else a SQLite
    #: file beside the index (INDEX_DIR/fashionrec.db).
    database_url: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_upload_pixels: int = DEFAULT_MAX_PIXELS
    default_k: int = 12
    max_k: int = 100
    runtime: str = "auto"
    #: BLAS/OpenMP threads of a server process (set by the ASGI entry point). Requests already
    #: run in parallel; with 8 in flight on 2 cores, one BLAS thread served 94 similar-items
    #: req/s against 21 with two (benchmarks/bench_load.py, 44k index).
    blas_threads: int = 1
    #: The shop: currency, delivery estimate, SMTP, payment provider, session key.
    shop: ShopSettings = field(default_factory=ShopSettings)
    #: Bearer token the personal API (/api/users, /api/events) asks of callers without a
    #: browser session; None: open, for local use.
    api_token: str | None = None
