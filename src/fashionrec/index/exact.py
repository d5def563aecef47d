"""``exact``: the numpy reference backend (brute-force inner product, blocked GEMMs).

Stored as ``vectors.npy`` + ``keys.npy`` and opened memory-mapped, so loading a 1M x 1280
index is instant and pages come from the OS cache. Every search is exact; ``allowed`` gathers
only those rows, one chunk at a time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fashionrec.index._storage import DEFAULT_CHUNK, RowStore, StoredVectorIndex
from fashionrec.index.base import (
    IndexArgumentError,
    as_keys,
    atomic_directory,
    empty_result,
    read_manifest,
    write_manifest,
)

log = logging.getLogger(__name__)


class ExactIndex(StoredVectorIndex):
    """Brute-force inner-product index; the reference every ANN backend is measured against.

    Example:
        >>> ix = ExactIndex(dim=2)
        >>> ix.add(np.array([[1, 0], [0.6, 0.8]], np.float32), np.array([1, 2]))
        >>> ix.search(np.array([0.6, 0.8], np.float32), k=1)[1].tolist()
        [[2]]
    """

    backend: ClassVar[str] = "exact"

    def __init__(self, dim: int, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise IndexArgumentError(f"dim must be a positive integer, got {dim!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise IndexArgumentError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.dim = dim
        self.chunk_size = chunk_size
        self._store = RowStore(dim)

    @property
    def params(self) -> dict[str, Any]:
        return {"chunk_size": self.chunk_size}

    def add(self, vectors: np.ndarray, keys: np.ndarray) -> None:
        vectors, keys = self._check_add(vectors, keys)
        if keys.size:
            self._store.upsert(vectors, keys)

    def remove(self, keys: np.ndarray) -> int:
        return int(self._store.remove(as_keys(keys, unique=False)).size)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        queries, k, rows = self._check_search(queries, k, allowed)
        if rows is not None and rows.size == 0:
            return empty_result(queries.shape[0], k)
        return self._exact(queries, k, rows)

    def save(self, directory: str | Path) -> None:
        with atomic_directory(directory) as tmp:
            self._store.save(tmp, chunk=self.chunk_size)
            write_manifest(tmp, self)
        log.info("saved %s to %s", self, directory)

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> ExactIndex:
        manifest = read_manifest(directory, backend=cls.backend)
        index = cls(int(manifest["dim"]), **manifest["params"])
        index._store = RowStore.load(Path(directory), index.dim, mmap=mmap)
        return index
