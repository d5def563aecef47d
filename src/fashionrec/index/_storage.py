"""Row storage shared by the local backends, and the blocked exact top-k kernel.

``RowStore`` keeps vectors in rows of a (capacity, dim) array plus a parallel key array and a
liveness mask. Removal only clears the mask; rows are compacted when saved. A store loaded
memory-mapped is read-only until the first write, which copies it into RAM with spare capacity
(one copy, then amortised appends).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from fashionrec.index.base import (
    UnknownKeyError,
    VectorIndex,
    as_keys,
    as_matrix,
    check_k,
    check_unit_norm,
    empty_result,
    load_array,
)

log = logging.getLogger(__name__)

#: Rows scored per GEMM; 32k x 1280 float32 is 160 MB of vectors touched per block.
DEFAULT_CHUNK = 32_768
#: Queries scored together; bounds the (queries x chunk) score block to ~128 MB.
QUERY_BLOCK = 1024


#: Share of rows above which a filter is applied as a mask over a full scan, not a gather.
DENSE_FILTER = 0.2


def topk_inner_product(
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    *,
    rows: np.ndarray | None = None,
    dead: np.ndarray | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of ``queries @ vectors[rows].T``: ``(scores, row_ids)``, (n, k), best first.

    ``rows`` limits the search to those row numbers (gathered one chunk at a time, so memory
    stays bounded); ``dead`` is a boolean mask of rows to skip. Missing results are padded with
    -inf / -1. One GEMM per (query block, chunk).
    """
    nq = queries.shape[0]
    if rows is not None and rows.size > DENSE_FILTER * vectors.shape[0]:
        # A filter keeping much of the index: scoring every row and masking the others beats
        # gathering the kept rows (a copy of most of the matrix) by a wide margin.
        skip = np.ones(vectors.shape[0], bool)
        skip[rows] = False
        dead = skip if dead is None else (dead | skip)
        rows = None
    total = vectors.shape[0] if rows is None else rows.shape[0]
    out_s, out_r = empty_result(nq, k)
    if total == 0 or nq == 0:
        return out_s, out_r
    for q0 in range(0, nq, QUERY_BLOCK):
        q = queries[q0 : q0 + QUERY_BLOCK]
        best_s = np.full((q.shape[0], 0), -np.inf, np.float32)
        best_r = np.empty((q.shape[0], 0), np.int64)
        for start in range(0, total, chunk):
            stop = min(total, start + chunk)
            if rows is None:
                ids = np.arange(start, stop, dtype=np.int64)
                block = vectors[start:stop]
            else:
                ids = rows[start:stop]
                block = vectors[ids]
            scores = q @ block.T
            if dead is not None:
                scores[:, dead[ids]] = -np.inf
            kk = min(k, scores.shape[1])
            if kk < scores.shape[1]:
                part = np.argpartition(scores, -kk, axis=1)[:, -kk:]
                scores = np.take_along_axis(scores, part, axis=1)
                cand = ids[part]
            else:
                cand = np.broadcast_to(ids, scores.shape)
            best_s = np.concatenate([best_s, scores], axis=1)
            best_r = np.concatenate([best_r, cand], axis=1)
            if best_s.shape[1] > k:
                part = np.argpartition(best_s, -k, axis=1)[:, -k:]
                best_s = np.take_along_axis(best_s, part, axis=1)
                best_r = np.take_along_axis(best_r, part, axis=1)
        order = np.argsort(-best_s, axis=1, kind="stable")
        best_s = np.take_along_axis(best_s, order, axis=1)
        best_r = np.take_along_axis(best_r, order, axis=1)
        best_r[~np.isfinite(best_s)] = -1
        n_found = best_s.shape[1]
        out_s[q0 : q0 + q.shape[0], :n_found] = best_s
        out_r[q0 : q0 + q.shape[0], :n_found] = best_r
    return out_s, out_r


class RowStore:
    """Keyed float32 rows with upsert, tombstones and chunked compaction on save."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.vectors: np.ndarray = np.empty((0, dim), np.float32)
        self.row_keys: np.ndarray = np.empty(0, np.int64)
        self.alive: np.ndarray = np.empty(0, bool)
        self.n_rows = 0
        self._pos: dict[int, int] | None = {}
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None  # (keys, rows) by key

    # -- lookups ----------------------------------------------------------------------------
    @property
    def pos(self) -> dict[int, int]:
        """key -> row of live keys, built lazily so that loading stays O(1)."""
        if self._pos is None:
            live = np.flatnonzero(self.alive[: self.n_rows])
            self._pos = dict(zip(self.row_keys[live].tolist(), live.tolist(), strict=True))
        return self._pos

    def __len__(self) -> int:
        return len(self.pos) if self._pos is not None else int(self.alive[: self.n_rows].sum())

    @property
    def n_dead(self) -> int:
        return self.n_rows - len(self)

    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive[: self.n_rows])

    def live_keys(self) -> np.ndarray:
        return self.row_keys[: self.n_rows][self.alive[: self.n_rows]].copy()

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key, -1 where absent (vectorised: filters pass thousands of keys)."""
        keys = np.asarray(keys, dtype=np.int64)
        if keys.size < 64:
            pos = self.pos
            return np.fromiter((pos.get(k, -1) for k in keys.tolist()), np.int64, count=len(keys))
        if self._sorted is None:
            live = np.flatnonzero(self.alive[: self.n_rows])
            order = np.argsort(self.row_keys[live], kind="stable")
            self._sorted = (self.row_keys[live][order], live[order])
        sorted_keys, sorted_rows = self._sorted
        if sorted_keys.size == 0:
            return np.full(keys.shape, -1, np.int64)
        at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
        return np.where(sorted_keys[at] == keys, sorted_rows[at], -1)

    def get(self, keys: np.ndarray) -> np.ndarray:
        rows = self.rows_of(keys)
        if (rows < 0).any():
            missing = keys[rows < 0]
            raise UnknownKeyError(
                f"{missing.size} key(s) not in the index, e.g. {missing[:5].tolist()}"
            )
        return np.array(self.vectors[rows], dtype=np.float32)

    # -- mutation ---------------------------------------------------------------------------
    def _reserve(self, extra: int) -> None:
        need = self.n_rows + extra
        cap = self.vectors.shape[0]
        if need <= cap and self.vectors.flags.writeable:
            return
        new_cap = max(need, int(cap * 1.5), 1024) if need > cap else cap
        if not self.vectors.flags.writeable:
            log.debug("copying a memory-mapped index of %d rows into memory", self.n_rows)
        for name, dtype, shape in (
            ("vectors", np.float32, (new_cap, self.dim)),
            ("row_keys", np.int64, (new_cap,)),
            ("alive", bool, (new_cap,)),
        ):
            grown = np.zeros(shape, dtype)
            grown[: self.n_rows] = getattr(self, name)[: self.n_rows]
            setattr(self, name, grown)

    def upsert(self, vectors: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write rows; return (rows written, mask of keys that were already present)."""
        rows = self.rows_of(keys)
        existed = rows >= 0
        n_new = int((~existed).sum())
        self._reserve(n_new)
        rows[~existed] = np.arange(self.n_rows, self.n_rows + n_new)
        self.vectors[rows] = vectors
        self.row_keys[rows] = keys
        self.alive[rows] = True
        self.n_rows += n_new
        self._sorted = None
        pos = self.pos
        pos.update(zip(keys[~existed].tolist(), rows[~existed].tolist(), strict=True))
        return rows, existed

    def remove(self, keys: np.ndarray) -> np.ndarray:
        """Tombstone present keys; return their keys."""
        rows = self.rows_of(keys)
        rows = rows[rows >= 0]
        if rows.size:
            self.alive[rows] = False
            self._sorted = None
            pos = self.pos
            for key in self.row_keys[rows].tolist():
                del pos[key]
        return self.row_keys[rows].copy()

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: Path, *, chunk: int = DEFAULT_CHUNK) -> None:
        """Write live rows (compacted, in row order) as vectors.npy / keys.npy."""
        live = self.live_rows()
        out = np.lib.format.open_memmap(
            directory / "vectors.npy", mode="w+", dtype=np.float32, shape=(live.size, self.dim)
        )
        for start in range(0, live.size, chunk):
            sel = live[start : start + chunk]
            # contiguous runs of live rows are read as slices, not gathers
            if sel.size and sel[-1] - sel[0] == sel.size - 1:
                out[start : start + sel.size] = self.vectors[sel[0] : sel[-1] + 1]
            else:
                out[start : start + sel.size] = self.vectors[sel]
        out.flush()
        del out
        np.save(directory / "keys.npy", self.row_keys[live])

    @classmethod
    def load(cls, directory: Path, dim: int, *, mmap: bool) -> RowStore:
        from fashionrec.errors import IndexStoreError

        vectors = load_array(directory, "vectors.npy", mmap=mmap)
        keys = np.asarray(load_array(directory, "keys.npy", mmap=False))
        if vectors.ndim != 2 or vectors.shape[1] != dim or vectors.dtype != np.float32:
            raise IndexStoreError(
                f"{directory}/vectors.npy has shape {vectors.shape} {vectors.dtype}, "
                f"expected (n, {dim}) float32"
            )
        if keys.shape != (vectors.shape[0],) or keys.dtype != np.int64:
            raise IndexStoreError(
                f"{directory}/keys.npy has shape {keys.shape} {keys.dtype}, "
                f"expected ({vectors.shape[0]},) int64 to match vectors.npy"
            )
        store = cls(dim)
        store.vectors = vectors
        store.row_keys = keys
        store.alive = np.ones(keys.shape[0], bool)
        store.n_rows = keys.shape[0]
        store._pos = None
        return store


class StoredVectorIndex(VectorIndex):
    """Shared plumbing of backends that keep their own :class:`RowStore` copy of the vectors."""

    _store: RowStore

    def _check_add(self, vectors: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = as_matrix(vectors, self.dim)
        keys = as_keys(keys, n=vectors.shape[0])
        check_unit_norm(vectors)
        return vectors, keys

    def _check_search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, int, np.ndarray | None]:
        """Validate; return (queries 2-D, k, live rows of ``allowed`` or None)."""
        queries = as_matrix(queries, self.dim, name="queries")
        k = check_k(k)
        rows = None
        if allowed is not None:
            rows = self._store.rows_of(np.unique(as_keys(allowed, unique=False)))
            rows = np.sort(rows[rows >= 0])
        return queries, k, rows

    def _exact(
        self, queries: np.ndarray, k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        s = self._store
        dead = None
        if rows is None and s.n_dead:
            dead = ~s.alive[: s.n_rows]
        scores, found = topk_inner_product(
            s.vectors[: s.n_rows], queries, k, rows=rows, dead=dead, chunk=self.chunk_size
        )
        keys = np.full_like(found, -1)
        hit = found >= 0
        keys[hit] = s.row_keys[found[hit]]
        return scores, keys

    chunk_size: int = DEFAULT_CHUNK

    def get_vectors(self, keys: np.ndarray) -> np.ndarray:
        """Stored vectors of ``keys`` (n, dim); UnknownKeyError names missing keys.

        Example:
            >>> from fashionrec.index import create_index
            >>> ix = create_index("exact", dim=2)
            >>> ix.add(np.array([[0.6, 0.8]], np.float32), np.array([5]))
            >>> ix.get_vectors(np.array([5])).shape
            (1, 2)
        """
        return self._store.get(as_keys(keys, unique=False))

    @property
    def keys(self) -> np.ndarray:
        return self._store.live_keys()

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, key: object) -> bool:
        try:
            return int(key) in self._store.pos  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False
