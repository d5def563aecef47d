"""Copy an index directory's vectors into another backend (a vector engine) without
re-embedding: the products table, mean, heads and colour descriptors carry over unchanged."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fashionrec.errors import ConfigError
from fashionrec.pipeline.build import add_vectors, create_backend
from fashionrec.pipeline.layout import KEY, IndexDir, Manifest

log = logging.getLogger(__name__)

#: Vectors read from the old index and written to the new one per step (1280-d: ~50 MB).
PUSH_BATCH = 10_000


def push_index(
    index_dir: str | Path,
    *,
    backend: str = "milvus",
    out: str | Path | None = None,
    backend_params: Mapping[str, Any] | None = None,
    batch_size: int = PUSH_BATCH,
) -> Manifest:
    """Copy the vectors (and the filter metadata) of `index_dir` into a new `backend` index.

    With `out`, a new index directory is written there and `index_dir` is left as it was;
    without it, `index_dir` switches to the new backend in one commit (the old local vectors go
    with the old generation). Returns the manifest of the resulting directory.

    Example:
        >>> push_index("fashionrec-index", uri="http://milvus:19530")   # doctest: +SKIP
    """
    from fashionrec.index import load_index

    if batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    src = IndexDir(index_dir)
    manifest = src.read_manifest()
    products = src.read_products(manifest)
    old = load_index(src.vectors_path(manifest.generation))
    target = IndexDir(out) if out is not None else src
    if out is not None and target.exists():
        raise ConfigError(f"{target.path} already holds an index; choose another --out")
    new = create_backend(backend, old.dim, target, backend_params)
    keys = products[KEY].to_numpy()
    log.info("pushing %d vectors from %s to %s", len(keys), src.path, new)
    try:
        for start in range(0, len(keys), batch_size):
            chunk = keys[start : start + batch_size]
            add_vectors(new, old.get_vectors(chunk), chunk, products)
    except BaseException:
        if hasattr(new, "drop"):  # never leave a half-filled collection behind
            new.drop()
        raise
    heads = src.heads_path(manifest.generation)
    arrays = {k: v for k, v in src.read_arrays(manifest).items()}
    mean = src.read_mean(manifest)
    manifest.backend = new.backend
    if out is not None:
        manifest.generation = 0
        if src.report_path.is_file():
            target.path.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src.report_path, target.report_path)
    return target.commit(
        manifest,
        products.reset_index(drop=True),
        new,
        mean,
        arrays=arrays,
        heads_from=heads if heads.is_dir() else None,
    )
