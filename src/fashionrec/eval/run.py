"""Evaluate an index directory: retrieval quality by label, leave-one-out or on a split."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.errors import ConfigError, suggest
from fashionrec.eval.retrieval import leave_one_out
from fashionrec.pipeline.layout import KEY, IndexDir, Manifest

log = logging.getLogger(__name__)


def resolve_label(name: str, manifest: Manifest, columns: Sequence[str]) -> str:
    """Map a label name as users write it (articleType, article_type, colour, product_code)
    to a products-table column."""
    from fashionrec.recommend.filters import ALIASES

    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("-", "_")
    candidates = [name, snake, ALIASES.get(snake, snake), ALIASES.get(snake.replace("_", ""), "")]
    csv_to_field = {
        v: k for k, v in (manifest.catalog.get("mapping", {}).get("columns") or {}).items()
    }
    candidates.append(csv_to_field.get(name, ""))
    for c in candidates:
        if c and c in columns:
            return c
    raise ConfigError(
        f"unknown label {name!r}; choose from {', '.join(columns)}" + suggest(snake, columns)
    )


def load_vectors(index_dir: str | Path) -> tuple[Manifest, pd.DataFrame, np.ndarray]:
    """The manifest, products table and index vectors (rows in products order)."""
    from fashionrec.index import load_index

    d = IndexDir(index_dir)
    manifest = d.read_manifest()
    products = d.read_products(manifest)
    index = load_index(d.vectors_path(manifest.generation))
    vectors = np.asarray(index.get_vectors(products[KEY].to_numpy()), dtype=np.float32)
    return manifest, products, vectors


def _labels(products: pd.DataFrame, column: str) -> np.ndarray:
    col = products[column].astype(object)
    return col.where(col.notna(), "").astype(str).to_numpy(dtype=object)


def _grouped(colours: np.ndarray) -> np.ndarray:
    from fashionrec.colour import colour_groups

    groups = colour_groups()
    return np.array([groups.get(c, c) if c else "" for c in colours], dtype=object)


def evaluate_index(
    index_dir: str | Path,
    *,
    label: str = "article_type",
    also: str | None = None,
    ks: Sequence[int] = (1, 5, 10, 20),
    per_label: bool = True,
    colour_groups: bool = False,
) -> dict[str, Any]:
    """Leave-one-out retrieval metrics of an index: each product queries all the others.

    Relevant means the same `label` value (and the same `also` value when given, e.g.
    article_type AND base_colour). With `colour_groups`, colours count as the same when they
    are in one near-colour group (data/colour_groups.csv). Returns {"p@10": ..., ...}.

    Example:
        >>> evaluate_index("fashionrec-index", label="articleType")["p@10"]  # doctest: +SKIP
        0.74
    """
    manifest, products, vectors = load_vectors(index_dir)
    column = resolve_label(label, manifest, list(products.columns))
    relevance = None
    if also:
        also_column = resolve_label(also, manifest, list(products.columns))
        relevance = _labels(products, also_column)
        if colour_groups and also_column == "base_colour":
            relevance = _grouped(relevance)
    result = leave_one_out(
        vectors,
        _labels(products, column),
        ks=tuple(sorted(set(ks))),
        relevance=relevance,
        per_label=per_label,
    )
    out = {
        "colour_groups": bool(colour_groups and also),
        "index": str(index_dir),
        "embedder": manifest.embedder_name,
        "label": column,
        "also": also,
        "protocol": "leave-one-out",
        **result.overall,
    }
    if per_label:
        out["per_label"] = result.per_label
    return out
