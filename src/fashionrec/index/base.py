"""The VectorIndex contract every backend honours, plus the input checks they share.

Vectors are float32, C-contiguous and L2-normalised, and the metric is the inner product, so
scores are cosine similarities. ``add`` *rejects* vectors whose norm is off 1 by more than
``NORM_TOLERANCE`` instead of normalising them: an un-normalised batch almost always means the
embedder was called with ``normalize=False`` by mistake, and silently fixing it would hide that.
Call :func:`normalize` first when raw vectors are intended. Queries need not be unit length
(their norm scales every score equally and leaves the ranking unchanged).
"""

from __future__ import annotations

import abc
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fashionrec.catalog.schema import CATEGORICAL_FIELDS
from fashionrec.errors import FashionRecError, IndexStoreError, UnknownProductError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "index.json"
#: Largest accepted | ||v|| - 1 | for vectors given to ``add``.
NORM_TOLERANCE = 1e-2


class IndexArgumentError(FashionRecError, ValueError):
    """A vector, key or search argument given to an index is malformed."""


class UnknownKeyError(UnknownProductError):
    """A key asked of an index is not in it."""


#: Product metadata a filtering backend (``supports_filters``) stores beside each vector: text
#: fields are matched exactly (equals one of the wanted values), number fields by inclusive
#: ranges; a missing value never matches, as in :meth:`fashionrec.recommend.Filters.mask`.
FILTER_TEXT_FIELDS = CATEGORICAL_FIELDS
FILTER_NUMBER_FIELDS = ("year", "price")


@dataclass(frozen=True)
class Where:
    """Metadata conditions a search result must meet, all of them: the neutral form of a
    shopper's filters that a ``supports_filters`` backend pushes down to its engine.

    ``any_of`` holds (field, values) pairs: the field equals one of the values. ``ranges`` holds
    (field, low, high) with inclusive bounds (None = open). ``exclude_keys`` are never returned.

    Example:
        >>> Where(any_of=(("gender", ("Women",)),), ranges=(("price", None, 40.0),))
        Where(any_of=(('gender', ('Women',)),), ranges=(('price', None, 40.0),), exclude_keys=())
    """

    any_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ranges: tuple[tuple[str, float | None, float | None], ...] = ()
    exclude_keys: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        known_text, known_number = set(FILTER_TEXT_FIELDS), set(FILTER_NUMBER_FIELDS)
        for name, _ in self.any_of:
            if name not in known_text:
                raise IndexArgumentError(
                    f"cannot filter on {name!r}; text fields: {sorted(known_text)}"
                )
        for name, _, _ in self.ranges:
            if name not in known_number:
                raise IndexArgumentError(
                    f"cannot range-filter on {name!r}; number fields: {sorted(known_number)}"
                )

    def is_empty(self) -> bool:
        return not (self.any_of or self.ranges or self.exclude_keys)


class VectorIndex(abc.ABC):
    """A mutable set of (int64 key, unit vector) pairs searchable by inner product.

    Example:
        >>> from fashionrec.index import create_index
        >>> ix = create_index("exact", dim=2)
        >>> ix.add(np.array([[1, 0], [0, 1]], np.float32), np.array([7, 9]))
        >>> scores, keys = ix.search(np.array([1, 0], np.float32), k=3)
        >>> keys.tolist(), float(scores[0, 2])
        ([[7, 9, -1]], -inf)
    """

    backend: ClassVar[str]
    metric: ClassVar[str] = "ip"
    #: True for backends that store product metadata and filter inside their engine. They
    #: accept ``add(vectors, keys, *, metadata={field: values})`` (fields of
    #: FILTER_TEXT_FIELDS / FILTER_NUMBER_FIELDS, one value per key, None = missing) and
    #: ``search(queries, k, *, allowed=None, where=Where(...))``. Local backends leave it False
    #: and callers turn filters into ``allowed`` keys instead.
    supports_filters: ClassVar[bool] = False
    dim: int

    @abc.abstractmethod
    def add(self, vectors: np.ndarray, keys: np.ndarray) -> None:
        """Insert or replace (upsert) ``vectors`` (n, dim) under unique int64 ``keys`` (n,)."""

    @abc.abstractmethod
    def remove(self, keys: np.ndarray) -> int:
        """Remove ``keys``; return how many were present (absent keys are ignored)."""

    @abc.abstractmethod
    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, keys)``, both (n, k), best first, padded with -inf / -1.

        ``allowed`` restricts the results to those int64 keys (unknown ones are ignored).
        """

    @abc.abstractmethod
    def get_vectors(self, keys: np.ndarray) -> np.ndarray:
        """Return the stored vectors of ``keys`` as (n, dim) float32; raise on unknown keys."""

    @property
    @abc.abstractmethod
    def keys(self) -> np.ndarray:
        """All live keys, int64."""

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __contains__(self, key: object) -> bool: ...

    @abc.abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the index to ``directory`` atomically (temp sibling, then swap)."""

    @classmethod
    @abc.abstractmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> VectorIndex:
        """Open an index written by :meth:`save`."""

    @property
    def params(self) -> dict[str, Any]:
        """Construction parameters, as stored in ``index.json``."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend!r} dim={self.dim} n={len(self)}>"


# -- input checks ---------------------------------------------------------------------------


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Return float32 copies of ``vectors`` scaled to unit L2 norm (zero rows stay zero).

    Example:
        >>> normalize(np.array([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    x = np.array(vectors, dtype=np.float32, ndmin=2)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def as_matrix(x: np.ndarray, dim: int, *, name: str = "vectors") -> np.ndarray:
    """Validate ``x`` as (n, dim) finite floats; return float32 C-contiguous (1-D -> (1, dim))."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise IndexArgumentError(f"{name} must be a float32 array, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise IndexArgumentError(
            f"{name} must have shape (n, {dim}) or ({dim},) for this index, got {arr.shape}"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise IndexArgumentError(
            f"{name} contain NaN or infinite values in rows {bad[:5].tolist()}"
        )
    return arr


def check_unit_norm(vectors: np.ndarray, *, tol: float = NORM_TOLERANCE) -> None:
    """Raise when any row's L2 norm differs from 1 by more than ``tol``."""
    if not len(vectors):
        return
    norms = np.linalg.norm(vectors, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > tol)
    if bad.size:
        raise IndexArgumentError(
            f"vectors must be L2-normalised (metric is inner product = cosine); rows "
            f"{bad[:5].tolist()} have norms {np.round(norms[bad[:5]], 4).tolist()}. "
            "Use fashionrec.index.normalize(vectors) or encode(..., normalize=True)."
        )


def as_keys(keys: np.ndarray, *, n: int | None = None, unique: bool = True) -> np.ndarray:
    """Validate ``keys`` as a 1-D integer array (length ``n`` if given); return int64."""
    arr = np.asarray(keys)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.size == 0:
        arr = np.empty(0, dtype=np.int64)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise IndexArgumentError(
            f"keys must be a 1-D integer (int64) array, got dtype {arr.dtype}, shape {arr.shape}"
        )
    if arr.dtype == np.uint64 and arr.max() > np.iinfo(np.int64).max:
        raise IndexArgumentError("keys must fit in int64")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if n is not None and arr.shape[0] != n:
        raise IndexArgumentError(f"got {n} vectors but {arr.shape[0]} keys")
    if unique:
        uniq, counts = np.unique(arr, return_counts=True)
        if uniq.size != arr.size:
            raise IndexArgumentError(
                f"keys must be unique within one call; repeated: {uniq[counts > 1][:5].tolist()}"
            )
    return arr


def check_k(k: int) -> int:
    """Return ``k`` as int when it is a positive integer, else raise."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise IndexArgumentError(f"k must be a positive integer, got {k!r}")
    return int(k)


def empty_result(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores -inf and keys -1, shape (n, k): the padding of every search."""
    return np.full((n, k), -np.inf, np.float32), np.full((n, k), -1, np.int64)


# -- persistence ----------------------------------------------------------------------------


@contextmanager
def atomic_directory(directory: str | Path) -> Iterator[Path]:
    """Yield a temp sibling of ``directory``; on success swap it in place of ``directory``.

    Readers never see a half-written index: the old directory stays whole until the final
    renames, and a failure leaves it untouched and removes the temp directory.
    """
    target = Path(directory).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise IndexStoreError(f"cannot save an index to {target}: it is a file, not a directory")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rename(target, old / "index")
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_manifest(directory: Path, index: VectorIndex, **extra: Any) -> None:
    """Write ``index.json`` describing ``index`` into ``directory``."""
    manifest = {
        "backend": index.backend,
        "dim": index.dim,
        "metric": index.metric,
        "count": len(index),
        "params": index.params,
        "format_version": FORMAT_VERSION,
        **extra,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(directory: str | Path, *, backend: str | None = None) -> dict[str, Any]:
    """Read and check ``directory/index.json``; raise IndexStoreError when unusable."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise IndexStoreError(f"{directory} is not an index directory: {MANIFEST} is missing")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise IndexStoreError(f"{path} is not valid JSON: {exc}") from exc
    missing = {"backend", "dim", "count", "params", "format_version"} - set(manifest)
    if not isinstance(manifest, dict) or missing:
        raise IndexStoreError(f"{path} lacks fields {sorted(missing)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexStoreError(
            f"{path} has format_version {manifest['format_version']!r}; this fashionrec reads "
            f"{FORMAT_VERSION}. Rebuild the index."
        )
    if backend is not None and manifest["backend"] != backend:
        raise IndexStoreError(
            f"{directory} holds a {manifest['backend']!r} index, not {backend!r}; "
            "use fashionrec.index.load_index()"
        )
    return manifest


def load_array(directory: Path, name: str, *, mmap: bool) -> np.ndarray:
    """np.load ``directory/name`` without pickle, as IndexStoreError on any failure."""
    path = directory / name
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexStoreError(f"cannot read {path}: {exc}") from exc
