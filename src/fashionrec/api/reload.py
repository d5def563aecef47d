"""Serving a changed index: every worker notices a new manifest.json and reloads.

An index change (admin adds or removes products, `fashionrec add`) commits by replacing
manifest.json. Each worker compares the file's identity at most once a second, which costs one
stat() call, and opens the new generation when it changed. Workers sharing one database all
mirror the new generation into it; `sync_store` lets the first one win.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0
_lock = threading.Lock()  # one reload at a time per process


def _stamp(app: FastAPI) -> tuple[int, int, int] | None:
    try:
        st = app.state.recommender.index_dir.manifest_path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def remember_manifest(app: FastAPI) -> None:
    """Note the manifest the app's recommender was opened from."""
    app.state.manifest_stamp = _stamp(app)
    app.state.manifest_checked = time.monotonic()


def sync_store(store: Any, rec: Any) -> int:
    """Mirror the recommender's products into the store (skipped when already mirrored).

    Workers sharing a database reload a new generation at about the same moment: the second
    one's inserts then collide with the first one's (unique key) or deadlock with them. Once
    the first commits, its catalog hash is in the store, so one retry finds nothing to do.
    """
    m = rec.manifest
    products, stamp = rec.products.reset_index(), f"{m.generation}:{m.updated_at}"
    try:
        return store.sync_products(products, stamp)
    except (IntegrityError, OperationalError):
        log.info("another worker mirrored generation %d at the same time; retrying", m.generation)
        return store.sync_products(products, stamp)


def reload_recommender(app: FastAPI) -> Any:
    """Open the index again, mirror its products into the store, serve it from now on."""
    from fashionrec.recommend import Recommender

    settings = app.state.settings
    with _lock:
        rec = Recommender.open(settings.index_dir, runtime=settings.runtime)
        m = rec.manifest
        sync_store(app.state.store, rec)
        app.state.recommender = rec
        remember_manifest(app)
    log.info("serving index generation %d (%d products)", m.generation, len(rec))
    return rec


def maybe_reload(app: FastAPI) -> None:
    """Reload when manifest.json changed since the last look (looks at most once a second)."""
    now = time.monotonic()
    if now - getattr(app.state, "manifest_checked", now) < CHECK_EVERY:
        return
    app.state.manifest_checked = now
    stamp = _stamp(app)
    if stamp is not None and stamp != getattr(app.state, "manifest_stamp", stamp):
        try:
            reload_recommender(app)
        except Exception:  # a half-written index must not take the shop down: keep serving
            app.state.manifest_stamp = stamp  # and do not retry (and log) every second
            log.exception("could not reload the changed index; still serving the previous one")
