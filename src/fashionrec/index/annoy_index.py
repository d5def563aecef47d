"""``annoy``: optional Spotify Annoy backend (``pip install "fashionrec[annoy]"``).

Annoy cannot add to a built forest, so ``add`` and ``remove`` only update the row store and
mark the forest stale; the next ``search`` (or ``save``) rebuilds it from all live vectors.
Batch your writes: a rebuild costs roughly ``n_trees`` passes over the data. Annoy items are
positions among the live rows, so the saved forest matches the compacted ``vectors.npy``.
Scores are recomputed exactly from the stored vectors, so they equal the exact backend's.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fashionrec.errors import IndexStoreError
from fashionrec.index._storage import RowStore, StoredVectorIndex
from fashionrec.index.base import (
    IndexArgumentError,
    as_keys,
    atomic_directory,
    empty_result,
    read_manifest,
    write_manifest,
)

log = logging.getLogger(__name__)

FOREST_FILE = "annoy.ann"


class AnnoyUnavailableError(IndexStoreError, ImportError):
    """The optional ``annoy`` package is not installed."""


def _annoy() -> Any:
    try:
        import annoy
    except ImportError as exc:
        raise AnnoyUnavailableError(
            'the "annoy" backend needs the annoy package: pip install "fashionrec[annoy]"'
        ) from exc
    return annoy


class AnnoyIndex(StoredVectorIndex):
    """Random-projection forest index (Annoy), rebuilt lazily after writes.

    ``search_k`` defaults to ``n_trees * k * search_k_factor`` candidates per query.
    ``allowed`` sets below ``filter_exact_fraction`` of the index are searched exactly,
    larger ones over-fetch and post-filter.

    Example:
        >>> ix = AnnoyIndex(dim=2, n_trees=2)
        >>> ix.add(np.array([[1, 0], [0, 1]], np.float32), np.array([3, 4]))
        >>> ix.search(np.array([1.0, 0.0], np.float32), k=1)[1].tolist()
        [[3]]
    """

    backend: ClassVar[str] = "annoy"

    def __init__(
        self,
        dim: int,
        *,
        n_trees: int = 50,
        search_k_factor: int = 20,
        filter_exact_fraction: float = 0.1,
        seed: int = 42,
    ) -> None:
        _annoy()
        for name, value in (
            ("dim", dim),
            ("n_trees", n_trees),
            ("search_k_factor", search_k_factor),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise IndexArgumentError(f"{name} must be a positive integer, got {value!r}")
        self.dim = dim
        self.n_trees = n_trees
        self.search_k_factor = search_k_factor
        self.filter_exact_fraction = float(filter_exact_fraction)
        self.seed = seed
        self._store = RowStore(dim)
        self._forest: Any = None
        self._forest_rows = np.empty(0, np.int64)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "n_trees": self.n_trees,
            "search_k_factor": self.search_k_factor,
            "filter_exact_fraction": self.filter_exact_fraction,
            "seed": self.seed,
        }

    def add(self, vectors: np.ndarray, keys: np.ndarray) -> None:
        vectors, keys = self._check_add(vectors, keys)
        if keys.size:
            self._store.upsert(vectors, keys)
            self._forest = None

    def remove(self, keys: np.ndarray) -> int:
        removed = self._store.remove(as_keys(keys, unique=False)).size
        if removed:
            self._forest = None
        return int(removed)

    def _build(self) -> Any:
        if self._forest is None:
            forest = _annoy().AnnoyIndex(self.dim, "dot")
            forest.set_seed(self.seed)
            rows = self._store.live_rows()
            for item, row in enumerate(rows.tolist()):
                forest.add_item(item, self._store.vectors[row])
            forest.build(self.n_trees, n_jobs=1)
            log.debug("built an annoy forest of %d items", rows.size)
            self._forest, self._forest_rows = forest, rows
        return self._forest

    def _ann(self, queries: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``fetch`` per query as (scores, rows), rescored exactly, padded with -1."""
        forest = self._build()
        out_s, out_r = empty_result(queries.shape[0], fetch)
        search_k = self.n_trees * fetch * self.search_k_factor
        for i, q in enumerate(queries):
            items = forest.get_nns_by_vector(q, fetch, search_k=search_k)
            rows = self._forest_rows[np.asarray(items, dtype=np.int64)]
            scores = self._store.vectors[rows] @ q
            order = np.argsort(-scores, kind="stable")
            out_s[i, : rows.size], out_r[i, : rows.size] = scores[order], rows[order]
        return out_s, out_r

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        queries, k, rows = self._check_search(queries, k, allowed)
        n = len(self)
        if n == 0 or (rows is not None and rows.size == 0):
            return empty_result(queries.shape[0], k)
        if rows is not None and rows.size <= self.filter_exact_fraction * n:
            return self._exact(queries, k, rows)
        fetch = k if rows is None else min(n, int(np.ceil(2 * k * n / rows.size)))
        scores, found = self._ann(queries, min(fetch, n))
        if rows is not None:
            ok = np.isin(found, rows) & (found >= 0)
            scores = np.where(ok, scores, -np.inf).astype(np.float32)
            order = np.argsort(-scores, axis=1, kind="stable")
            scores = np.take_along_axis(scores, order, axis=1)
            found = np.where(np.isfinite(scores), np.take_along_axis(found, order, axis=1), -1)
            short = (found[:, :k] >= 0).sum(axis=1) < min(k, rows.size)
            if short.any():
                # too few survivors in the over-fetch: answer those queries exactly
                es, ek = self._exact(queries[short], k, rows)
                out_s, out_k = self._pad(scores, found, k)
                out_s[short], out_k[short] = es, ek
                return out_s, out_k
        return self._pad(scores, found, k)

    def _pad(self, scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        out_s, out_k = empty_result(scores.shape[0], k)
        m = min(k, scores.shape[1])
        out_s[:, :m] = scores[:, :m]
        found = rows[:, :m]
        hit = found >= 0
        out_k[:, :m][hit] = self._store.row_keys[found[hit]]
        return out_s, out_k

    def save(self, directory: str | Path) -> None:
        forest = self._build()
        with atomic_directory(directory) as tmp:
            self._store.save(tmp)
            forest.save(str(tmp / FOREST_FILE))
            write_manifest(tmp, self)
        # annoy's save() re-maps the written file; the rename keeps that mapping valid, and
        # _forest_rows still maps items to this store's (uncompacted) rows
        log.info("saved %s to %s", self, directory)

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> AnnoyIndex:
        directory = Path(directory)
        manifest = read_manifest(directory, backend=cls.backend)
        index = cls(int(manifest["dim"]), **manifest["params"])
        index._store = RowStore.load(directory, index.dim, mmap=mmap)
        forest = _annoy().AnnoyIndex(index.dim, "dot")
        path = directory / FOREST_FILE
        try:
            forest.load(str(path))  # annoy always memory-maps its forest
        except OSError as exc:
            raise IndexStoreError(f"cannot read {path}: {exc}") from exc
        if forest.get_n_items() != len(index._store):
            raise IndexStoreError(f"{path} does not match keys.npy; the index is corrupt")
        index._forest, index._forest_rows = forest, index._store.live_rows()
        return index
