"""Train the heads of an index (attribute classifiers, retrieval projection) and commit them.

Each head is first measured on a seeded 80/20 split by product (train on 80 %, evaluate on the
held-out 20 %), then refitted on every product for serving. The figures go into the manifest.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.catalog.schema import CATEGORICAL_FIELDS
from fashionrec.heads._train import HeadError
from fashionrec.pipeline.build import _calibrate
from fashionrec.pipeline.layout import KEY, IndexDir

log = logging.getLogger(__name__)

#: Attributes the classifiers learn, when the catalog has them.
ATTRIBUTES = CATEGORICAL_FIELDS

#: Projection tasks of the colour-aware head (`train-heads --colour`): article type plus the
#: composite "articleType|baseColour" classes at weight 0.5. Chosen by benchmarks/colour_head.py
#: (docs/evaluation.md, "Colour"): on the 80/20 split it keeps type P@10 at the type-only
#: head's 0.813 and lifts type + colour P@10 from 0.212 to 0.361; weight 1.0 and a base_colour
#: task cost type precision, a colour part reading the descriptor needs it at query time.
COLOUR_TASKS = {"article_type": 1.0, "type|colour": 0.5}


def _labels(products: pd.DataFrame, column: str) -> np.ndarray:
    col = products[column].astype(object)
    return col.where(col.notna(), "").astype(str).to_numpy(dtype=object)


def _task_labels(types: np.ndarray, colours: np.ndarray | None) -> dict[str, np.ndarray | None]:
    """The label columns a projection task may name: article_type, base_colour and the
    composite "type|colour" ("articleType|baseColour" classes)."""
    from fashionrec.heads.colour import composite

    both = None if colours is None else composite(types, colours)
    return {"article_type": types, "base_colour": colours, "type|colour": both}


def backbone_vectors(idx_dir: IndexDir, manifest: Any, products: pd.DataFrame) -> np.ndarray:
    """Backbone vectors in products order (stored apart when a projection head is active)."""
    features = idx_dir.read_features(manifest)
    if features is not None:
        return np.asarray(features, dtype=np.float32)
    from fashionrec.index import load_index

    index = load_index(idx_dir.vectors_path(manifest.generation))
    return np.asarray(index.get_vectors(products[KEY].to_numpy()), dtype=np.float32)


def _evaluate_projection(
    X: np.ndarray,
    types: np.ndarray,
    colours: np.ndarray | None,
    *,
    tasks: dict[str, float],
    seed: int,
    test_size: float,
) -> dict[str, Any]:
    from fashionrec.eval.calibration import calibrate_thresholds
    from fashionrec.heads import ProjectionHead, split_by_product

    train, test = split_by_product(len(X), test_size=test_size, seed=seed)
    labels = _task_labels(types, colours)
    head = ProjectionHead().fit(
        X[train], {t: labels[t][train] for t in tasks}, weights=tasks, seed=seed
    )
    out: dict[str, Any] = {
        "train_seconds": head.info_.get("train_seconds"),
        "n_train": len(train),
        "n_test": len(test),
    }
    held_out = head.transform(X[test])
    # Thresholds must come from products the head never saw: on its training products the
    # neighbours are purer than a shopper will ever see.
    out["calibration"] = {
        "label": "article_type",
        "measured_on": "held-out products",
        **calibrate_thresholds(held_out, types[test]),
    }
    for name, vecs in (("frozen", X[test]), ("head", held_out)):
        out[name] = _retrieval(vecs, types[test], None if colours is None else colours[test])
    return out


def _retrieval(vecs: np.ndarray, types: np.ndarray, colours: np.ndarray | None) -> dict[str, Any]:
    """Leave-one-out P@1/P@10 by type, and by type AND colour (strict and near-colour group)."""
    from fashionrec.colour import colour_groups
    from fashionrec.eval.retrieval import leave_one_out

    r = leave_one_out(vecs, types, ks=(1, 10), per_label=False).overall
    out = {"p@1": r["p@1"], "p@10": r["p@10"]}
    if colours is not None:
        groups = colour_groups()
        near = np.array([groups.get(c, c) for c in colours], dtype=object)
        for name, rel in (("type+colour", colours), ("type+colour group", near)):
            rc = leave_one_out(vecs, types, ks=(1, 10), relevance=rel, per_label=False).overall
            out.update({f"{name} p@1": rc["p@1"], f"{name} p@10": rc["p@10"]})
    return out


def _keep_gate(idx_dir: IndexDir, manifest: Any, out_dir: Path, heads: dict[str, Any]) -> None:
    """Carry the photo type gate over: it reads backbone vectors, whatever the search space."""
    old = idx_dir.heads_path(manifest.generation) / "gate"
    if manifest.heads.get("gate") and old.is_dir():
        shutil.copytree(old, out_dir / "gate")
        heads["gate"] = manifest.heads["gate"]


def train_heads(
    index_dir: str | Path,
    *,
    attributes: bool = True,
    projection: bool = False,
    projection_tasks: dict[str, float] | None = None,
    colour: bool = False,
    colour_weight: float | None = None,
    seed: int = 0,
    test_size: float = 0.2,
) -> dict[str, Any]:
    """Measure, fit and commit heads into the index; returns the measured figures.

    With `projection`, searches run in the head's space from then on (queries pass through it
    too) and the backbone vectors are kept beside it for retraining. `colour` trains that
    projection on COLOUR_TASKS (article type and "articleType|baseColour" classes, the latter
    at `colour_weight` if given), so neighbours share article type AND colour. A photo type
    gate already in the index is kept.

    Example:
        >>> figures = train_heads("fashionrec-index", projection=True)  # doctest: +SKIP
        >>> figures["projection"]["head"]["p@10"]  # doctest: +SKIP
    """
    from fashionrec.heads import AttributeClassifier, ProjectionHead, evaluate_classifier
    from fashionrec.index import create_index

    idx_dir = IndexDir(index_dir)
    manifest = idx_dir.read_manifest()
    products = idx_dir.read_products(manifest)
    X = backbone_vectors(idx_dir, manifest, products)
    present = [a for a in ATTRIBUTES if a in products and products[a].notna().sum() > 1]
    report: dict[str, Any] = {"seed": seed, "test_size": test_size}
    heads: dict[str, Any] = {}
    idx_dir.work_dir.mkdir(parents=True, exist_ok=True)  # same disk, so the copy is cheap
    with tempfile.TemporaryDirectory(dir=idx_dir.work_dir) as tmp:
        out_dir = Path(tmp) / "heads"
        if attributes and present:
            labels = {a: _labels(products, a) for a in present}
            log.info(
                "evaluating attribute classifiers on a %d/%d split",
                100 - 100 * test_size,
                100 * test_size,
            )
            report["attributes"] = evaluate_classifier(X, labels, test_size=test_size, seed=seed)
            t0 = time.perf_counter()
            AttributeClassifier().fit(X, labels, seed=seed).save(out_dir / "attributes")
            heads["attributes"] = {
                "attributes": present,
                "train_seconds": round(time.perf_counter() - t0, 1),
            }
        vectors, features = X, None
        if colour:
            if "base_colour" not in products or "article_type" not in products:
                raise HeadError("--colour needs article_type and base_colour in the catalog")
            projection = True
            projection_tasks = dict(COLOUR_TASKS)
            if colour_weight is not None:
                projection_tasks["type|colour"] = float(colour_weight)
        if projection:
            tasks = projection_tasks or {"article_type": 1.0}
            types = _labels(products, "article_type")
            colours = _labels(products, "base_colour") if "base_colour" in products else None
            known = {k for k, v in _task_labels(types, colours).items() if v is not None}
            if set(tasks) - known:
                raise HeadError(
                    f"unknown projection tasks {sorted(set(tasks) - known)}; "
                    f"this catalog has: {', '.join(sorted(known))}"
                )
            log.info("evaluating the projection head (tasks %s)", tasks)
            report["projection"] = _evaluate_projection(
                X, types, colours, tasks=tasks, seed=seed, test_size=test_size
            )
            labels = _task_labels(types, colours)
            head = ProjectionHead().fit(X, {t: labels[t] for t in tasks}, weights=tasks, seed=seed)
            head.save(out_dir / "projection")
            report["projection"]["final_train_seconds"] = head.info_["train_seconds"]
            heads["projection"] = {
                "tasks": tasks,
                "dim": head.out_dim,
                "evaluation": report["projection"],
            }
            vectors, features = head.transform(X), X
        _keep_gate(idx_dir, manifest, out_dir, heads)
        index = create_index(manifest.backend, vectors.shape[1])
        index.add(vectors, products[KEY].to_numpy(np.int64))
        manifest.heads = heads
        manifest.dim = int(vectors.shape[1])
        if projection:
            manifest.calibration = report["projection"].pop("calibration")
        else:
            manifest.calibration = _calibrate(vectors, products)
        idx_dir.commit(
            manifest,
            products.reset_index(drop=True),
            index,
            idx_dir.read_mean(manifest),
            arrays={**idx_dir.read_arrays(manifest), "features": features},
            heads_from=out_dir if out_dir.exists() else None,
        )
    shutil.rmtree(idx_dir.work_dir, ignore_errors=True)
    return report
