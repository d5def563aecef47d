"""The on-disk layout of an index directory, and its atomic commits.

An index directory holds one *generation* of files at a time::

    manifest.json           what is in it (backbone, preprocessing, dim, counts, catalog hash...)
    products-<g>.csv        product metadata, one row per indexed product, with its vector key
    vectors-<g>/            the vector index (written by a fashionrec.index backend)
    mean-<g>.npy            catalog mean feature, subtracted before normalising (optional)
    heads-<g>/              trained heads: attribute classifiers, retrieval projection (optional)
    features-<g>.npy        backbone vectors in products order, kept when a projection head
                            makes the searched vectors differ from them (optional)
    colours-<g>.npy         colour descriptors of the products' garments, in products order
    report.json             the cleaning report of the last build or update
    work/                   resumable embedding shards while a build runs

A change writes generation g+1 beside g, then replaces manifest.json (the commit point), then
deletes generation g: a crash at any moment leaves a readable index, old or new.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionrec._io import atomic_write_bytes, atomic_write_json
from fashionrec.errors import IndexStoreError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
#: Columns of the products table besides the canonical metadata fields.
KEY, ID, IMAGE_PATH, IMAGE_SHA1 = "key", "id", "image_path", "image_sha1"
#: Per-product arrays kept in products order (rows follow every add and remove).
PRODUCT_ARRAYS = ("features", "colours")


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("fashionrec", "numpy", "torch", "onnxruntime", "hnswlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Manifest:
    """What an index directory holds. Saved as manifest.json; never pickled."""

    embedder: dict[str, Any]
    backend: str
    dim: int
    count: int = 0
    next_key: int = 0
    generation: int = 0
    metric: str = "cosine"
    centered: bool = False
    catalog: dict[str, Any] = field(default_factory=dict)
    encodings: dict[str, list[str]] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    heads: dict[str, Any] = field(default_factory=dict)
    colour: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    versions: dict[str, str] = field(default_factory=_versions)
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def embedder_name(self) -> str:
        return str(self.embedder.get("name", "?"))


class IndexDir:
    """One index directory on disk.

    Example:
        >>> d = IndexDir("fashionrec-index")
        >>> m = d.read_manifest()          # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"IndexDir({str(self.path)!r})"

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    @property
    def work_dir(self) -> Path:
        return self.path / "work"

    @property
    def report_path(self) -> Path:
        return self.path / "report.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def products_path(self, generation: int) -> Path:
        return self.path / f"products-{generation}.csv"

    def vectors_path(self, generation: int) -> Path:
        return self.path / f"vectors-{generation}"

    def mean_path(self, generation: int) -> Path:
        return self.path / f"mean-{generation}.npy"

    def heads_path(self, generation: int) -> Path:
        return self.path / f"heads-{generation}"

    def array_path(self, name: str, generation: int) -> Path:
        return self.path / f"{name}-{generation}.npy"

    def features_path(self, generation: int) -> Path:
        return self.array_path("features", generation)

    def read_array(self, manifest: Manifest, name: str) -> np.ndarray | None:
        """A per-product array (see PRODUCT_ARRAYS) in products order, memory-mapped; None
        when the index has none."""
        path = self.array_path(name, manifest.generation)
        return np.load(path, mmap_mode="r", allow_pickle=False) if path.is_file() else None

    def read_arrays(self, manifest: Manifest) -> dict[str, np.ndarray]:
        """Every per-product array the index has."""
        found = {name: self.read_array(manifest, name) for name in PRODUCT_ARRAYS}
        return {k: v for k, v in found.items() if v is not None}

    def read_features(self, manifest: Manifest) -> np.ndarray | None:
        """Backbone vectors in products order, when stored apart from the searched vectors."""
        return self.read_array(manifest, "features")

    def read_manifest(self) -> Manifest:
        import json

        if not self.manifest_path.is_file():
            hint = (
                "it is not a directory"
                if self.path.exists() and not self.path.is_dir()
                else ("no manifest.json there")
            )
            raise IndexStoreError(
                f"no fashionrec index at {self.path} ({hint}); build one with "
                f"`fashionrec index CATALOG_DIR --out {self.path}`"
            )
        try:
            data = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise IndexStoreError(f"cannot read {self.manifest_path}: {exc}") from exc
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexStoreError(
                f"{self.manifest_path} has format version {data.get('format_version')!r}; this "
                f"fashionrec reads version {FORMAT_VERSION}: rebuild the index"
            )
        return Manifest.from_dict(data)

    def read_products(self, manifest: Manifest) -> pd.DataFrame:
        """The products table, indexed by product id (str), with an int64 `key` column."""
        path = self.products_path(manifest.generation)
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except (OSError, ValueError) as exc:
            raise IndexStoreError(f"cannot read {path}: {exc}") from exc
        df[KEY] = df[KEY].astype("int64")
        for col, dtype in (("year", "Int64"), ("price", "Float64")):
            if col in df:
                df[col] = pd.to_numeric(df[col], errors="coerce").astype(dtype)
        return df.set_index(ID, drop=False).rename_axis(None)

    def read_mean(self, manifest: Manifest) -> np.ndarray | None:
        if not manifest.centered:
            return None
        return np.load(self.mean_path(manifest.generation), allow_pickle=False)

    def commit(
        self,
        manifest: Manifest,
        products: pd.DataFrame,
        vectors: Any,
        mean: np.ndarray | None,
        *,
        arrays: dict[str, np.ndarray] | None = None,
        heads_from: Path | None = None,
    ) -> Manifest:
        """Write a new generation and switch the manifest to it; returns the new manifest.

        `vectors` is a fashionrec.index VectorIndex; it saves itself into vectors-<g>/.
        `arrays` (per-product arrays in products order, see PRODUCT_ARRAYS) and the heads
        directory `heads_from` go into the new generation when given.
        """
        arrays = {k: v for k, v in (arrays or {}).items() if v is not None}
        unknown = set(arrays) - set(PRODUCT_ARRAYS)
        if unknown:
            raise ValueError(f"unknown product arrays {sorted(unknown)}; known: {PRODUCT_ARRAYS}")
        for name, values in arrays.items():
            if len(values) != len(products):
                raise IndexStoreError(f"{name}: {len(values)} rows for {len(products)} products")
        self.path.mkdir(parents=True, exist_ok=True)
        old = manifest.generation if self.exists() else None
        gen = (old or 0) + 1
        while any(
            p.exists()
            for p in (
                self.products_path(gen),
                self.vectors_path(gen),
                self.heads_path(gen),
                *(self.array_path(name, gen) for name in PRODUCT_ARRAYS),
            )
        ):
            gen += 1  # leftovers of a crashed commit: never overwrite, skip past them
        vectors.save(self.vectors_path(gen))
        atomic_write_bytes(self.products_path(gen), products.to_csv(index=False).encode())
        if mean is not None:
            self._save_npy(self.mean_path(gen), mean)
        for name, values in arrays.items():
            self._save_npy(self.array_path(name, gen), values)
        if heads_from is not None:
            shutil.copytree(heads_from, self.heads_path(gen))
        manifest.generation = gen
        manifest.count = int(len(products))
        manifest.centered = mean is not None
        manifest.updated_at = _now()
        manifest.versions = _versions()
        atomic_write_json(self.manifest_path, manifest.to_dict())
        self._remove_other_generations(gen)
        return manifest

    def _save_npy(self, path: Path, array: np.ndarray) -> None:
        tmp = path.with_name(f".{path.stem}.tmp.npy")
        np.save(tmp, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        tmp.replace(path)

    def _remove_other_generations(self, keep: int) -> None:
        for p in self.path.iterdir():
            stem = p.name.split(".")[0]
            prefix, _, gen = stem.rpartition("-")
            if (
                prefix in {"products", "vectors", "mean", "heads", *PRODUCT_ARRAYS}
                and gen.isdigit()
                and int(gen) != keep
            ):
                log.debug("removing old generation file %s", p)
                shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
