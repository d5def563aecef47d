"""Vector indexes: one small contract (:class:`VectorIndex`) and interchangeable backends.

Example:
    >>> import numpy as np
    >>> from fashionrec.index import create_index, load_index
    >>> ix = create_index("exact", dim=2)
    >>> ix.add(np.array([[1.0, 0.0]], np.float32), np.array([42]))
    >>> ix.search(np.array([1.0, 0.0], np.float32), k=1)[1].tolist()
    [[42]]
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fashionrec.errors import ConfigError, IndexStoreError, suggest
from fashionrec.index.base import (
    IndexArgumentError,
    UnknownKeyError,
    VectorIndex,
    Where,
    normalize,
    read_manifest,
)

# backend name -> "module:class"; modules import lazily so optional libraries stay optional
_BACKENDS: dict[str, str] = {
    "exact": "fashionrec.index.exact:ExactIndex",
    "hnsw": "fashionrec.index.hnsw:HNSWIndex",
    "annoy": "fashionrec.index.annoy_index:AnnoyIndex",
    "milvus": "fashionrec.index.milvus:MilvusIndex",
}

__all__ = [
    "IndexArgumentError",
    "UnknownBackendError",
    "UnknownKeyError",
    "VectorIndex",
    "Where",
    "create_index",
    "get_backend",
    "list_backends",
    "load_index",
    "normalize",
]


class UnknownBackendError(ConfigError):
    """An index backend name is not registered."""


def list_backends() -> list[str]:
    """Names accepted by :func:`create_index` (optional ones may still need a package).

    Example:
        >>> "exact" in list_backends()
        True
    """
    return sorted(_BACKENDS)


def get_backend(backend: str) -> type[VectorIndex]:
    """The class implementing ``backend``; UnknownBackendError lists the valid names."""
    if backend not in _BACKENDS:
        raise UnknownBackendError(
            f"unknown index backend {backend!r}; choose one of {list_backends()}."
            + suggest(backend, _BACKENDS)
        )
    module, cls = _BACKENDS[backend].split(":")
    return getattr(importlib.import_module(module), cls)


def create_index(backend: str, dim: int, **params: Any) -> VectorIndex:
    """Create an empty index of ``backend`` for ``dim``-dimensional vectors.

    Example:
        >>> create_index("exact", dim=4)
        <ExactIndex backend='exact' dim=4 n=0>
    """
    cls = get_backend(backend)
    try:
        return cls(dim, **params)  # type: ignore[call-arg]
    except TypeError as exc:
        raise IndexArgumentError(f"bad parameters for the {backend!r} index: {exc}") from exc


def load_index(directory: str | Path, *, mmap: bool = True) -> VectorIndex:
    """Open the index saved in ``directory``, whatever its backend (read from index.json).

    Example:
        >>> load_index("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        fashionrec.errors.IndexStoreError: /nonexistent is not an index directory
    """
    manifest = read_manifest(directory)
    backend = manifest["backend"]
    if backend not in _BACKENDS:
        raise IndexStoreError(
            f"{directory} holds an index of unknown backend {backend!r}; "
            f"this fashionrec knows {list_backends()}"
        )
    try:
        return get_backend(backend).load(directory, mmap=mmap)
    except TypeError as exc:
        raise IndexStoreError(f"{directory}/index.json has bad params: {exc}") from exc
