"""Opening the store: engine, migrations, sessions and product sync.

SQLite (a file beside the index) is the default; any SQLAlchemy URL works, e.g.
``postgresql+psycopg://user@host/fashionrec``. The schema is kept by Alembic migrations, run on
open, so every process sees the same tables.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, create_engine, event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from fashionrec.errors import ConfigError
from fashionrec.store.models import Meta, Product

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
DATABASE_ENV = "FASHIONREC_DATABASE_URL"
#: PostgreSQL advisory lock held while migrating (an arbitrary constant of fashionrec).
MIGRATION_LOCK = 0x66726563
DB_FILENAME = "fashionrec.db"
_PRODUCT_FIELDS = (
    "name",
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "group",
)


def default_url(index_dir: str | Path) -> str:
    """$FASHIONREC_DATABASE_URL, else a SQLite file beside the index (INDEX_DIR/fashionrec.db)."""
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{Path(index_dir).resolve() / DB_FILENAME}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"database URL {url!r} is not valid: use e.g. sqlite:///path/fashionrec.db or "
            "postgresql+psycopg://user:password@host/dbname"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


class Store:
    """The shop's database: one engine, a session factory, migrations applied on open.

    Example:
        >>> store = Store.open("sqlite:///:memory:")
        >>> with store.session() as s:
        ...     s.add(User(email="a@example.com"))
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        store = cls(url)
        if migrate:
            store.upgrade()
        return store

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # workers started together (uvicorn --workers N) would all create the tables
                # of an empty database and all but one fail: one migrates, the others wait
                # for its commit and then find the schema at head
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()

    def sync_products(self, products: pd.DataFrame, catalog_hash: str) -> int:
        """Mirror the index's products (upsert; absent ones become inactive). Skipped when the
        catalog hash matches the last sync. Returns how many products were written."""
        with self.session() as s:
            meta = s.get(Meta, "catalog_hash")
            if meta is not None and meta.value == catalog_hash:
                return 0
            existing = {p.id: p for p in s.scalars(select(Product))}
            seen = set()
            for row in products.to_dict("records"):
                pid = str(row["id"])
                seen.add(pid)
                values = {f: _text(row.get(f)) for f in _PRODUCT_FIELDS}
                values["name"] = values["name"] or pid
                price = _price(row.get("price"))
                product = existing.get(pid)
                if product is None:
                    s.add(Product(id=pid, price=price, active=True, **values))
                    continue
                for field, value in values.items():
                    setattr(product, field, value)
                if price is not None:  # a price set in the shop survives a catalog without one
                    product.price = price
                    product.price_source = None
                product.active = True
            gone = [pid for pid in existing if pid not in seen]
            if gone:
                s.execute(update(Product).where(Product.id.in_(gone)).values(active=False))
            if meta is None:
                s.add(Meta(key="catalog_hash", value=catalog_hash))
            else:
                meta.value = catalog_hash
        log.info("store: %d products synced (%d inactive)", len(seen), len(gone))
        return len(seen)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _price(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        price = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return price if price >= 0 else None
