"""Build an index directory from a catalog, and update it incrementally."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.catalog import Catalog, load_catalog
from fashionrec.catalog.images import image_sha1
from fashionrec.errors import ConfigError, UnknownProductError, suggest
from fashionrec.pipeline.layout import ID, IMAGE_PATH, IMAGE_SHA1, KEY, IndexDir, Manifest

log = logging.getLogger(__name__)

#: Below this many products the exact index is fast enough (a few ms a query) and exact.
AUTO_EXACT_LIMIT = 200_000
#: Where catalog images are embedded: this process, or Ray actors (optional `ray` extra).
EXECUTORS = ("local", "ray")


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32, C-contiguous; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def finish_vectors(raw: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """Turn raw backbone features into index vectors: centre (optional), then L2-normalise."""
    raw = np.asarray(raw, dtype=np.float32)
    return l2_normalize(raw - mean if mean is not None else raw)


def choose_backend(backend: str, n: int) -> str:
    if backend != "auto":
        return backend
    return "exact" if n <= AUTO_EXACT_LIMIT else "hnsw"


def create_backend(
    backend: str, dim: int, idx_dir: IndexDir, params: Mapping[str, Any] | None = None
) -> Any:
    """A new, empty VectorIndex for an index directory. A vector engine without a `uri`
    gets a Milvus Lite data directory inside the index directory (beside the generations)."""
    from fashionrec.index import create_index

    params = dict(params or {})
    if (
        backend == "milvus"
        and not params.get("uri")
        and not os.environ.get("FASHIONREC_MILVUS_URI")
    ):
        params["uri"] = str(idx_dir.path.resolve() / "milvus.db")
    return create_index(backend, dim, **params)


def filter_metadata(products: pd.DataFrame, keys: np.ndarray) -> dict[str, list[Any]]:
    """The products' filter fields for `keys`, in that order (what engine backends store)."""
    from fashionrec.index.base import FILTER_NUMBER_FIELDS, FILTER_TEXT_FIELDS

    rows = products.set_index(KEY).reindex(np.asarray(keys, dtype=np.int64))
    names = [c for c in (*FILTER_TEXT_FIELDS, *FILTER_NUMBER_FIELDS) if c in rows]
    return {c: rows[c].astype(object).where(rows[c].notna(), None).tolist() for c in names}


def add_vectors(index: Any, vectors: np.ndarray, keys: np.ndarray, products: pd.DataFrame) -> None:
    """`index.add`, with the filter metadata when the backend filters inside its engine."""
    if getattr(index, "supports_filters", False):
        index.add(vectors, keys, metadata=filter_metadata(products, keys))
    else:
        index.add(vectors, keys)


def _embed(
    catalog: Catalog,
    keys: np.ndarray,
    *,
    embedder: Any,
    work_dir: Path,
    batch_size: int,
    show_progress: bool | None,
    executor: str = "local",
    ray_workers: int | None = None,
    ray_address: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Embed the catalog's images; failed images go into the catalog's report."""
    from fashionrec.embed import embed_files

    paths = catalog.products[IMAGE_PATH].tolist()
    common = {"work_dir": work_dir, "batch_size": batch_size, "show_progress": show_progress}
    if executor == "ray":  # same shards on disk, so either executor resumes the other's run
        from fashionrec.embed.ray_embed import embed_files_ray

        result = embed_files_ray(
            embedder, paths, keys.tolist(), workers=ray_workers, address=ray_address, **common
        )
    else:
        result = embed_files(embedder, paths, keys.tolist(), **common)
    ids_by_key = dict(zip(keys.tolist(), catalog.products.index, strict=True))
    for key, reason in result.failures:
        catalog.report.add_bad_image(ids_by_key[int(key)], reason)
    return result.vectors, result.keys


def _products_table(catalog: Catalog, keys: np.ndarray, embedded: np.ndarray) -> pd.DataFrame:
    df = catalog.products.copy()
    df.insert(0, KEY, keys.astype(np.int64))
    df.insert(1, ID, df.index.astype(str))
    df = df[df[KEY].isin(embedded)].reset_index(drop=True)
    df[IMAGE_SHA1] = [image_sha1(p) for p in df[IMAGE_PATH]]
    return df


def build_index(
    catalog_dir: str | Path,
    out: str | Path,
    *,
    mapping: Any = None,
    overrides: Mapping[str, str] | None = None,
    embedder: str | None = None,
    runtime: str = "auto",
    weights: str | Path | None = None,
    backend: str = "auto",
    center: bool = True,
    batch_size: int = 32,
    limit: int | None = None,
    show_progress: bool | None = None,
    backend_params: Mapping[str, Any] | None = None,
    executor: str = "local",
    ray_workers: int | None = None,
    ray_address: str | None = None,
) -> Manifest:
    """Load, clean and embed a catalog, and write a searchable index directory.

    Re-running after a crash or Ctrl-C resumes the embedding where it stopped.
    `backend_params` go to the index backend, e.g. ``{"uri": "http://milvus:19530"}``.
    ``executor="ray"`` embeds with `ray_workers` Ray actors (default: one per CPU) in a local
    Ray, or on the cluster at `ray_address` ("auto", "ray://head:10001"); see
    `fashionrec.embed.ray_embed`.

    Example:
        >>> build_index("shop/catalog", "fashionrec-index")   # doctest: +SKIP
    """
    from fashionrec.embed import DEFAULT_EMBEDDER, create_embedder

    if executor not in EXECUTORS:
        raise ConfigError(
            f"unknown executor {executor!r}; choose one of {list(EXECUTORS)}."
            f"{suggest(executor, EXECUTORS)}"
        )
    idx_dir = IndexDir(out)
    catalog = load_catalog(catalog_dir, mapping, overrides=overrides, show_progress=show_progress)
    if limit is not None:
        catalog.products = catalog.products.iloc[:limit]
    if catalog.products.empty:
        raise ConfigError(
            f"catalog {catalog_dir} has no usable products: {catalog.report.summary()}"
        )
    model = create_embedder(embedder or DEFAULT_EMBEDDER, runtime=runtime, weights=weights)
    keys = np.arange(len(catalog.products), dtype=np.int64)
    log.info("embedding %d images with %s (%s)", len(keys), model.name, model.runtime)
    raw, ok_keys = _embed(
        catalog,
        keys,
        embedder=model,
        work_dir=idx_dir.work_dir,
        batch_size=batch_size,
        show_progress=show_progress,
        executor=executor,
        ray_workers=ray_workers,
        ray_address=ray_address,
    )
    mean = raw.mean(axis=0) if center and len(raw) > 1 else None
    vectors = finish_vectors(raw, mean)
    products = _products_table(catalog, keys, ok_keys)
    chosen = choose_backend(backend, len(vectors))
    index = create_backend(chosen, model.dim, idx_dir, backend_params)
    add_vectors(index, vectors, ok_keys, products)
    if hasattr(index, "tune_ef"):  # an ANN graph: search deep enough for recall@10 >= 0.98
        index.tune_ef()
    from fashionrec.catalog import catalog_hash

    manifest = Manifest(
        embedder=model.manifest(),
        backend=index.backend,
        dim=model.dim,
        next_key=int(keys.max()) + 1,
        catalog={
            "root": str(Path(catalog_dir).resolve()),
            "mapping": catalog.mapping.to_dict(),
            "hash": catalog_hash(catalog),
        },
        encodings=catalog.encodings(),
    )
    manifest.calibration = _calibrate(vectors, products)
    replaced = None
    if idx_dir.exists():  # rebuilding over an old index: commit after its generation
        manifest.generation = idx_dir.read_manifest().generation
        replaced = _engine_index(idx_dir, manifest.generation)
    colours = colour_descriptors(products[IMAGE_PATH], show_progress=show_progress)
    manifest.colour = {"descriptor": colour_descriptor_version(), **DEFAULT_COLOUR}
    manifest = idx_dir.commit(manifest, products, index, mean, arrays={"colours": colours})
    if replaced is not None and replaced.params.get("collection") != index.params.get("collection"):
        replaced.drop()  # the engine's copy of the old build, now unreferenced
    catalog.report.write(idx_dir.report_path)
    shutil.rmtree(idx_dir.work_dir, ignore_errors=True)
    log.info("indexed %d products into %s", manifest.count, idx_dir.path)
    return manifest


#: Colour similarity's weight when re-ranking the best visual candidates, and how many are
#: re-ranked, for similar items and for photo searches. Chosen by benchmarks/colour_rerank.py:
#: for products, the largest weight that costs type P@10 under 0.01 (44k: 0.758 -> 0.752,
#: type+colour group 0.315 -> 0.374); photo searches are already type-gated, so colour can
#: weigh more there (320 labelled photos: type+colour group 0.20 -> 0.39).
DEFAULT_COLOUR = {"weight": 0.15, "candidates": 100, "photo_weight": 1.0, "photo_candidates": 200}


def colour_descriptor_version() -> str:
    from fashionrec.colour.extract import DESCRIPTOR_VERSION

    return DESCRIPTOR_VERSION


def colour_descriptors(paths: Iterable[str], *, show_progress: bool | None = None) -> np.ndarray:
    """Colour descriptors of product photos (about 1 ms each after decoding)."""
    from fashionrec.catalog.images import load_image
    from fashionrec.colour import colour_descriptor
    from fashionrec.colour.extract import DESCRIPTOR_DIM
    from fashionrec.errors import ImageError

    paths = list(paths)
    out = np.zeros((len(paths), DESCRIPTOR_DIM), np.float32)
    log.info("describing the colours of %d product photos", len(paths))
    for i, path in enumerate(paths):
        try:
            out[i] = colour_descriptor(load_image(path, draft=(64, 64)), background="studio")
        except ImageError as exc:  # embedded already, so this is rare: no colour, no crash
            log.warning("no colour descriptor for %s: %s", path, exc)
    return out


def _calibrate(vectors: np.ndarray, products: pd.DataFrame) -> dict:
    """Thresholds for `--min-similarity auto`, from same-article-type neighbours."""
    from fashionrec.eval.calibration import calibrate_thresholds

    if "article_type" not in products or len(products) < 20:
        return {}
    labels = products["article_type"].astype(object).where(products["article_type"].notna(), "")
    result = calibrate_thresholds(vectors, labels.to_numpy(dtype=object))
    return {"label": "article_type", **result}


def _engine_index(idx_dir: IndexDir, generation: int) -> Any:
    """The old build's index when it lives in a vector engine (to drop after a rebuild)."""
    from fashionrec.errors import FashionRecError
    from fashionrec.index import get_backend, load_index
    from fashionrec.index.base import read_manifest

    path = idx_dir.vectors_path(generation)
    try:  # read index.json first: loading a local backend (a 1M hnsw graph) would be wasted
        if not get_backend(read_manifest(path)["backend"]).supports_filters:
            return None
        return load_index(path)
    except FashionRecError:
        return None


def _open_for_update(index_dir: str | Path):
    from fashionrec.index import load_index

    idx_dir = IndexDir(index_dir)
    manifest = idx_dir.read_manifest()
    products = idx_dir.read_products(manifest)
    index = load_index(idx_dir.vectors_path(manifest.generation))
    return idx_dir, manifest, products, index


def add_products(
    index_dir: str | Path,
    catalog: str | Path | Catalog,
    *,
    mapping: Any = None,
    overrides: Mapping[str, str] | None = None,
    replace: bool = False,
    batch_size: int = 32,
    show_progress: bool | None = None,
) -> dict[str, int]:
    """Embed and add the products of `catalog` that the index lacks, without a rebuild.

    Products already indexed are skipped unless `replace` is true. Returns counts.
    """
    from fashionrec.embed import create_embedder

    idx_dir, manifest, products, index = _open_for_update(index_dir)
    if not isinstance(catalog, Catalog):
        from fashionrec.catalog import ColumnMapping

        if mapping is None and manifest.catalog.get("mapping"):
            mapping = ColumnMapping.from_dict(manifest.catalog["mapping"])
        catalog = load_catalog(catalog, mapping, overrides=overrides, show_progress=show_progress)
    present = catalog.products.index.isin(products.index)
    arrays = {k: np.asarray(v) for k, v in idx_dir.read_arrays(manifest).items()}
    if replace and present.any():
        _drop(products, index, catalog.products.index[present])
        keep = ~products.index.isin(catalog.products.index[present])
        products = products[keep]
        arrays = {k: v[keep] for k, v in arrays.items()}
    else:
        catalog.products = catalog.products[~present]
    skipped = int(present.sum()) if not replace else 0
    if catalog.products.empty:
        return {"added": 0, "skipped": skipped, "failed": 0}
    emb = manifest.embedder
    model = create_embedder(emb["name"], runtime=emb.get("runtime", "auto"))
    keys = np.arange(manifest.next_key, manifest.next_key + len(catalog.products), dtype=np.int64)
    raw, ok_keys = _embed(
        catalog,
        keys,
        embedder=model,
        work_dir=idx_dir.work_dir,
        batch_size=batch_size,
        show_progress=show_progress,
    )
    vectors = finish_vectors(raw, idx_dir.read_mean(manifest))
    head = load_projection(idx_dir, manifest)
    new_rows = _products_table(catalog, keys, ok_keys)
    if head is not None:
        add_vectors(index, head.transform(vectors), ok_keys, new_rows)
        arrays["features"] = np.concatenate([arrays["features"], vectors])
    else:
        add_vectors(index, vectors, ok_keys, new_rows)
    if "colours" in arrays:
        new_colours = colour_descriptors(new_rows[IMAGE_PATH], show_progress=show_progress)
        arrays["colours"] = np.concatenate([arrays["colours"], new_colours])
    merged = pd.concat([products.reset_index(drop=True), new_rows], ignore_index=True)
    manifest.next_key = int(keys.max()) + 1
    manifest.encodings = _merge_encodings(manifest.encodings, catalog.encodings())
    _commit_update(idx_dir, manifest, merged, index, arrays)
    shutil.rmtree(idx_dir.work_dir, ignore_errors=True)
    return {"added": len(ok_keys), "skipped": skipped, "failed": len(keys) - len(ok_keys)}


def _drop(products: pd.DataFrame, index: Any, ids: Iterable[str]) -> None:
    keys = products.loc[list(ids), KEY].to_numpy(np.int64)
    index.remove(keys)


def remove_products(index_dir: str | Path, ids: Iterable[str]) -> int:
    """Remove products by id from the index, without a rebuild. Returns how many went."""
    idx_dir, manifest, products, index = _open_for_update(index_dir)
    ids = [str(i) for i in ids]
    unknown = [i for i in ids if i not in products.index]
    if unknown:
        raise UnknownProductError(
            f"not in the index: {', '.join(unknown[:10])}"
            + (f" (+{len(unknown) - 10} more)" if len(unknown) > 10 else "")
            + suggest(unknown[0], products.index[:5000])
        )
    _drop(products, index, ids)
    keep = ~products.index.isin(ids)
    arrays = {k: np.asarray(v)[keep] for k, v in idx_dir.read_arrays(manifest).items()}
    _commit_update(idx_dir, manifest, products[keep].reset_index(drop=True), index, arrays)
    return len(ids)


def _commit_update(
    idx_dir: IndexDir,
    manifest: Manifest,
    products: pd.DataFrame,
    index: Any,
    arrays: dict[str, np.ndarray],
) -> None:
    """Commit a change, carrying the mean and the trained heads into the new generation."""
    heads = idx_dir.heads_path(manifest.generation)
    idx_dir.commit(
        manifest,
        products,
        index,
        idx_dir.read_mean(manifest),
        arrays=arrays,
        heads_from=heads if heads.is_dir() else None,
    )


def load_projection(idx_dir: IndexDir, manifest: Manifest) -> Any:
    """The index's retrieval projection head, or None when it has none."""
    if not manifest.heads.get("projection"):
        return None
    from fashionrec.heads import ProjectionHead

    return ProjectionHead.load(idx_dir.heads_path(manifest.generation) / "projection")


def _merge_encodings(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep existing codes stable; append values never seen before."""
    out = {k: list(v) for k, v in old.items()}
    for field_name, values in new.items():
        seen = out.setdefault(field_name, [])
        seen.extend(v for v in values if v not in seen)
    return out
