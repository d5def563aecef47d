"""``milvus``: the vector engine backend (``pip install "fashionrec[milvus]"``).

Vectors and the product metadata that filters need live in a Milvus collection; this object
holds only the connection. ``save()`` writes ``index.json`` (URI, collection, index type: never
the token, which comes from ``$FASHIONREC_MILVUS_TOKEN``) and ``load()`` reconnects, so any
number of processes can serve the same collection. A URI ending in ``.db`` is Milvus Lite
(embedded, a local data directory, one process at a time); ``http://host:19530`` is a Milvus
server or cluster.

Filters are pushed down to the engine (``supports_filters``): ``search(..., where=Where(...))``
becomes a boolean expression evaluated inside Milvus, so a marketplace never ships a list of
millions of allowed keys. ``allowed=`` still works, as ``key in [...]`` chunks.

Unlike the local backends, changes are live in the engine as soon as ``add``/``remove``
return: generations of an index directory share one collection.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fashionrec.errors import ConfigError, IndexStoreError
from fashionrec.index.base import (
    FILTER_NUMBER_FIELDS,
    FILTER_TEXT_FIELDS,
    IndexArgumentError,
    UnknownKeyError,
    VectorIndex,
    Where,
    as_keys,
    as_matrix,
    atomic_directory,
    check_k,
    check_unit_norm,
    empty_result,
    read_manifest,
    write_manifest,
)

log = logging.getLogger(__name__)

TOKEN_ENV = "FASHIONREC_MILVUS_TOKEN"
URI_ENV = "FASHIONREC_MILVUS_URI"
#: Milvus refuses limit (top-k) above this.
MAX_TOPK = 16384
#: Keys per ``key in [...]`` expression and per get/upsert call: keeps gRPC messages small.
KEY_CHUNK = 4096
TEXT_MAX_LENGTH = 512
#: Index types Milvus Lite builds (faiss behind it); a server accepts more (DISKANN, SCANN...).
#: The default is FLAT (exact) on Milvus Lite and HNSW on a server: Lite's filtered HNSW loses
#: recall on selective filters (44k catalog, article_type=Tshirts: recall@10 0.78 at ef=256,
#: benchmarks/milvus_recall.py) and Lite's per-query cost is dominated by its own Python
#: bookkeeping, so exact search there costs little more.
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
#: ef of HNSW searches (raised to k when k is larger); nprobe of IVF searches.
DEFAULT_SEARCH = {"ef": 256, "nprobe": 32}
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def _client_module() -> Any:
    try:
        import pymilvus
    except ImportError as exc:  # optional dependency: say how to get it
        raise ConfigError(
            'the "milvus" backend needs pymilvus (and milvus-lite for local .db files): '
            'pip install "fashionrec[milvus]"'
        ) from exc
    return pymilvus


def is_local_uri(uri: str) -> bool:
    """True for a Milvus Lite data path, False for an ``http(s)://`` / ``tcp://`` server."""
    return "://" not in uri


class MilvusIndex(VectorIndex):
    """A Milvus collection of (key, vector, product metadata), searched by inner product.

    Example:
        >>> ix = MilvusIndex(2, uri="/tmp/demo-milvus.db")               # doctest: +SKIP
        >>> ix.add(np.eye(2, dtype=np.float32), np.array([7, 9]),
        ...        metadata={"gender": ["Women", "Men"]})                  # doctest: +SKIP
        >>> ix.search(np.array([1, 0], np.float32), 2,
        ...           where=Where(any_of=(("gender", ("Men",)),)))[1]      # doctest: +SKIP
        array([[ 9, -1]])
    """

    backend: ClassVar[str] = "milvus"
    supports_filters: ClassVar[bool] = True

    def __init__(
        self,
        dim: int,
        *,
        uri: str | None = None,
        collection: str | None = None,
        index_type: str | None = None,
        index_params: Mapping[str, Any] | None = None,
        search_params: Mapping[str, Any] | None = None,
        db_name: str | None = None,
        _create: bool = True,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise IndexArgumentError(f"dim must be a positive integer, got {dim!r}")
        uri = uri or os.environ.get(URI_ENV)
        if not uri:
            raise ConfigError(
                "the milvus backend needs a uri: a Milvus Lite file such as ./index/milvus.db, "
                f"or http://HOST:19530 for a server (argument uri= or ${URI_ENV})"
            )
        if is_local_uri(str(uri)) and not str(uri).endswith(".db"):
            raise ConfigError(
                f"bad Milvus uri {uri!r}: a Milvus Lite path must end with .db "
                "(e.g. ./index/milvus.db); a server is http://HOST:19530"
            )
        collection = collection or f"fashionrec_{uuid.uuid4().hex[:12]}"
        if not _NAME_OK.match(collection):
            raise ConfigError(
                f"bad Milvus collection name {collection!r}: use letters, digits and _, "
                "starting with a letter or _"
            )
        self.dim = dim
        self.uri = str(Path(uri).resolve()) if is_local_uri(str(uri)) else str(uri)
        self.collection = collection
        default_type = "FLAT" if is_local_uri(self.uri) else "HNSW"
        self.index_type = str(index_type or default_type).upper()
        self.index_params = dict(
            index_params
            if index_params is not None
            else (HNSW_PARAMS if self.index_type == "HNSW" else {})
        )
        self.search_params = {**DEFAULT_SEARCH, **(search_params or {})}
        self.db_name = db_name
        self._client = self._connect()
        self._ensure_collection(create=_create)

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> Any:
        pymilvus = _client_module()
        kwargs: dict[str, Any] = {"uri": self.uri}
        if is_local_uri(self.uri):
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
        token = os.environ.get(TOKEN_ENV)
        if token and not is_local_uri(self.uri):
            kwargs["token"] = token
        if self.db_name:
            kwargs["db_name"] = self.db_name
        try:
            return pymilvus.MilvusClient(**kwargs)
        except Exception as exc:  # pymilvus raises many types; name the URI in one error
            raise IndexStoreError(f"cannot connect to Milvus at {self.uri}: {exc}") from exc

    def _ensure_collection(self, *, create: bool) -> None:
        client = self._client
        if not create and not client.has_collection(self.collection):
            raise IndexStoreError(
                f"Milvus collection {self.collection!r} is gone from {self.uri}: rebuild or "
                "push the index again"
            )
        if client.has_collection(self.collection):
            fields = client.describe_collection(self.collection).get("fields", [])
            dims = [f.get("params", {}).get("dim") for f in fields if f.get("name") == "vector"]
            if dims and int(dims[0]) != self.dim:
                raise IndexStoreError(
                    f"Milvus collection {self.collection!r} at {self.uri} holds "
                    f"{dims[0]}-d vectors, not {self.dim}-d"
                )
            self._load_if_released()
            return
        from pymilvus import DataType

        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for name in FILTER_TEXT_FIELDS:
            schema.add_field(name, DataType.VARCHAR, max_length=TEXT_MAX_LENGTH, nullable=True)
        for name in FILTER_NUMBER_FIELDS:
            schema.add_field(name, DataType.DOUBLE, nullable=True)
        index = client.prepare_index_params()
        index.add_index(
            "vector", index_type=self.index_type, metric_type="IP", params=self.index_params
        )
        try:
            client.create_collection(
                self.collection, schema=schema, index_params=index, consistency_level="Strong"
            )
        except Exception as exc:
            raise IndexStoreError(
                f"cannot create Milvus collection {self.collection!r} ({self.index_type}, "
                f"{self.index_params}) at {self.uri}: {exc}"
            ) from exc
        log.info(
            "created Milvus collection %s at %s (%s)", self.collection, self.uri, self.index_type
        )

    def _load_if_released(self) -> None:
        """A restarted engine keeps its collections on disk but released (seen on a Milvus
        Lite server): every search fails until someone loads them again."""
        state = self._client.get_load_state(self.collection).get("state")
        if getattr(state, "name", str(state)) == "NotLoad":
            log.info("loading released Milvus collection %s at %s", self.collection, self.uri)
            self._client.load_collection(self.collection)

    @property
    def params(self) -> dict[str, Any]:
        out = {
            "uri": self.uri,
            "collection": self.collection,
            "index_type": self.index_type,
            "index_params": self.index_params,
            "search_params": self.search_params,
        }
        if self.db_name:
            out["db_name"] = self.db_name
        return out

    # -- writes ----------------------------------------------------------------------------
    def add(
        self,
        vectors: np.ndarray,
        keys: np.ndarray,
        *,
        metadata: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        """Upsert vectors with their filter metadata (FILTER_*_FIELDS -> one value per key).

        A key upserted without metadata loses the metadata it had: pass it again.
        """
        vectors = as_matrix(vectors, self.dim)
        keys = as_keys(keys, n=vectors.shape[0])
        check_unit_norm(vectors)
        columns = _metadata_columns(metadata, len(keys))
        for start in range(0, len(keys), KEY_CHUNK // 4):
            stop = start + KEY_CHUNK // 4
            rows = [
                {"key": int(k), "vector": v, **{f: col[i] for f, col in columns.items()}}
                for i, (k, v) in enumerate(
                    zip(keys[start:stop].tolist(), vectors[start:stop].tolist(), strict=True),
                    start=start,
                )
            ]
            if rows:
                self._client.upsert(self.collection, rows)

    def remove(self, keys: np.ndarray) -> int:
        keys = np.unique(as_keys(keys, unique=False))
        present = self._present(keys)
        for chunk in _chunks(present):
            self._client.delete(self.collection, ids=chunk.tolist())
        return int(present.size)

    def flush(self) -> None:
        """Seal what was written into indexed segments. Until then recent rows sit in the
        engine's write buffer and are searched by brute force (Milvus Lite: slowly);
        ``save()`` flushes, so does a bulk load."""
        self._client.flush(self.collection)

    def drop(self) -> None:
        """Delete the whole collection from the engine (what ``delete index`` means here)."""
        if self._client.has_collection(self.collection):
            self._client.drop_collection(self.collection)
            log.info("dropped Milvus collection %s at %s", self.collection, self.uri)

    # -- reads -----------------------------------------------------------------------------
    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        allowed: np.ndarray | None = None,
        where: Where | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = as_matrix(queries, self.dim, name="queries")
        k = check_k(k)
        scores, found = empty_result(queries.shape[0], k)
        if where is not None and any(not values for _, values in where.any_of):
            return scores, found  # a field that must equal one of no values: nothing matches
        base = where_expression(where) if where is not None else ""
        if allowed is None:
            self._search_into(queries, k, base, scores, found)
            return scores, found
        allowed = np.unique(as_keys(allowed, unique=False))
        # one search per chunk of allowed keys, then keep the best k of all chunks
        for chunk in _chunks(allowed):
            expr = f"key in [{', '.join(map(str, chunk.tolist()))}]"
            part_s, part_k = empty_result(queries.shape[0], k)
            self._search_into(queries, k, _and(base, expr), part_s, part_k)
            scores, found = _merge(scores, found, part_s, part_k, k)
        return scores, found

    def _search_into(
        self, queries: np.ndarray, k: int, expr: str, scores: np.ndarray, found: np.ndarray
    ) -> None:
        limit = min(k, MAX_TOPK)
        params = dict(self.search_params)
        if "ef" in params:
            params["ef"] = max(int(params["ef"]), limit)
        hits = self._client.search(
            self.collection,
            data=queries.tolist(),
            limit=limit,
            filter=expr,
            output_fields=["key"],
            anns_field="vector",
            search_params={"metric_type": "IP", "params": params},
        )
        for i, row in enumerate(hits):
            n = len(row)
            found[i, :n] = [h["key"] if "key" in h else h["id"] for h in row]
            scores[i, :n] = [h["distance"] for h in row]

    def get_vectors(self, keys: np.ndarray) -> np.ndarray:
        keys = as_keys(keys, unique=False)
        out = np.empty((len(keys), self.dim), np.float32)
        found: dict[int, list[float]] = {}
        for chunk in _chunks(np.unique(keys)):
            for row in self._client.get(
                self.collection, ids=chunk.tolist(), output_fields=["vector"]
            ):
                found[int(row["key"])] = row["vector"]
        missing = [int(k) for k in keys if int(k) not in found]
        if missing:
            raise UnknownKeyError(f"keys not in the index: {missing[:10]}")
        for i, key in enumerate(keys.tolist()):
            out[i] = found[key]
        return out

    def get_metadata(self, keys: np.ndarray) -> dict[str, list[Any]]:
        """The stored filter metadata of ``keys`` (None where missing or unknown)."""
        keys = as_keys(keys, unique=False)
        names = [*FILTER_TEXT_FIELDS, *FILTER_NUMBER_FIELDS]
        rows: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(np.unique(keys)):
            for row in self._client.get(self.collection, ids=chunk.tolist(), output_fields=names):
                rows[int(row["key"])] = row
        return {n: [rows.get(int(k), {}).get(n) for k in keys] for n in names}

    def _present(self, keys: np.ndarray) -> np.ndarray:
        seen: list[int] = []
        for chunk in _chunks(keys):
            rows = self._client.get(self.collection, ids=chunk.tolist(), output_fields=["key"])
            seen.extend(int(r["key"]) for r in rows)
        return np.array(sorted(seen), dtype=np.int64)

    @property
    def keys(self) -> np.ndarray:
        if is_local_uri(self.uri):  # Milvus Lite answers an unbounded query (no iterator API)
            rows = self._client.query(self.collection, filter="", output_fields=["key"])
            return np.array([int(r["key"]) for r in rows], dtype=np.int64)
        it = self._client.query_iterator(
            self.collection, batch_size=10_000, filter="", output_fields=["key"]
        )
        out: list[int] = []
        try:
            while batch := it.next():
                out.extend(int(r["key"]) for r in batch)
        finally:
            it.close()
        return np.array(out, dtype=np.int64)

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def __contains__(self, key: object) -> bool:
        if isinstance(key, bool) or not isinstance(key, int | np.integer):
            return False
        return bool(self._client.get(self.collection, ids=[int(key)], output_fields=["key"]))

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Flush the engine and write index.json only: the data lives in the engine."""
        target = Path(directory).resolve()
        self.flush()
        with atomic_directory(target) as tmp:
            write_manifest(tmp, self)
            if is_local_uri(self.uri):  # keep a Milvus Lite path relative: the index can move
                manifest = json.loads((tmp / "index.json").read_text())
                manifest["params"]["uri"] = os.path.relpath(Path(self.uri).resolve(), target)
                (tmp / "index.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        log.info("saved %s (collection %s) to %s", self, self.collection, directory)

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> MilvusIndex:
        """Reconnect to the collection named in ``directory/index.json`` (``mmap`` is moot)."""
        manifest = read_manifest(directory, backend=cls.backend)
        params = dict(manifest["params"])
        uri = params.get("uri") or ""
        if uri and is_local_uri(uri) and not os.path.isabs(uri):
            params["uri"] = str((Path(directory).resolve() / uri).resolve())
        if is_local_uri(params.get("uri", "")) and not Path(params["uri"]).exists():
            raise IndexStoreError(
                f"{directory}: its Milvus Lite data {params['uri']} is missing; rebuild or "
                "push the index again"
            )
        return cls(int(manifest["dim"]), **params, _create=False)

    def close(self) -> None:
        """Close the connection (Milvus Lite releases its data directory at exit)."""
        self._client.close()


# -- helpers --------------------------------------------------------------------------------


def where_expression(where: Where) -> str:
    """The Milvus boolean expression of ``where`` ("" when it is empty).

    Example:
        >>> where_expression(Where(any_of=(("gender", ("Women",)),), ranges=(("price", 5, None),)))
        '(gender in ["Women"]) and (price >= 5.0)'
    """
    parts = []
    for name, values in where.any_of:
        parts.append(f"{name} in [{', '.join(json.dumps(str(v)) for v in values)}]")
    for name, lo, hi in where.ranges:
        if lo is not None:
            parts.append(f"{name} >= {float(lo)!r}")
        if hi is not None:
            parts.append(f"{name} <= {float(hi)!r}")
    if where.exclude_keys:
        parts.append(f"not (key in [{', '.join(str(int(k)) for k in where.exclude_keys)}])")
    return " and ".join(f"({p})" for p in parts)


def _and(a: str, b: str) -> str:
    return f"({a}) and ({b})" if a and b else a or b


def _chunks(keys: np.ndarray, size: int = KEY_CHUNK) -> list[np.ndarray]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _merge(
    s1: np.ndarray, k1: np.ndarray, s2: np.ndarray, k2: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    scores, keys = np.concatenate([s1, s2], axis=1), np.concatenate([k1, k2], axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), np.take_along_axis(keys, order, 1)


def _metadata_columns(metadata: Mapping[str, Sequence[Any]] | None, n: int) -> dict[str, list]:
    """Metadata as JSON-ready columns: str / float, None where missing (NaN, NA, "")."""
    import pandas as pd

    out: dict[str, list] = {}
    for name, values in (metadata or {}).items():
        if name not in FILTER_TEXT_FIELDS and name not in FILTER_NUMBER_FIELDS:
            raise IndexArgumentError(
                f"unknown metadata field {name!r}; known: "
                f"{[*FILTER_TEXT_FIELDS, *FILTER_NUMBER_FIELDS]}"
            )
        col = pd.Series(list(values), dtype=object)
        if len(col) != n:
            raise IndexArgumentError(f"metadata {name!r} has {len(col)} values for {n} keys")
        missing = col.isna() | (col.astype(str).str.strip() == "")
        if name in FILTER_NUMBER_FIELDS:
            num = pd.to_numeric(col.where(~missing), errors="coerce").astype(float)
            out[name] = [None if np.isnan(v) else float(v) for v in num.tolist()]
        else:
            out[name] = [
                None if m else str(v)[:TEXT_MAX_LENGTH] for v, m in zip(col, missing, strict=True)
            ]
    return out
