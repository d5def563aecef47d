"""Similarity thresholds measured, not guessed: the score above which results are relevant
with a chosen precision.

The source designs keep results above a fixed "80 % similarity". Cosine scales differ between
backbones (and with centring), so a fixed number means something different for each. Here the
threshold comes from the score distributions of relevant and non-relevant neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fashionrec.eval.retrieval import _label_array, top_k

DEFAULT_TARGETS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
#: The precision `--min-similarity auto` aims for.
AUTO_TARGET = 0.8


def calibrate_thresholds(
    vectors: np.ndarray,
    labels: Sequence,
    *,
    depth: int = 50,
    sample: int = 2000,
    targets: Sequence[float] = DEFAULT_TARGETS,
    seed: int = 0,
) -> dict:
    """Thresholds t such that neighbours scoring >= t are relevant with precision >= target.

    A seeded sample of items queries all others (leave-one-out); every (score, relevant) pair of
    their top `depth` neighbours enters the estimate. A target that no threshold reaches maps
    to None. Also returns the score quantiles of relevant and non-relevant pairs.
    """
    lab = _label_array(labels)
    rng = np.random.default_rng(seed)
    usable = np.flatnonzero(lab != "")
    rows = np.sort(rng.choice(usable, size=min(sample, usable.size), replace=False))
    scores, idx = top_k(vectors[rows], vectors, depth, exclude=rows)
    rel = (lab[idx] == lab[rows][:, None]).ravel()
    s = scores.ravel()
    order = np.argsort(-s, kind="stable")
    s, rel = s[order], rel[order]
    precision = np.cumsum(rel) / np.arange(1, rel.size + 1)
    thresholds: dict[str, float | None] = {}
    for target in targets:
        ok = np.flatnonzero(precision >= target)
        # the deepest cut that still keeps the running precision at the target
        thresholds[f"{target:g}"] = float(s[ok[-1]]) if ok.size else None
    quantiles = (0.1, 0.5, 0.9)
    return {
        "label_pairs": int(rel.size),
        "queries": int(rows.size),
        "depth": depth,
        "thresholds": thresholds,
        "relevant_quantiles": _quantiles(s[rel], quantiles),
        "irrelevant_quantiles": _quantiles(s[~rel], quantiles),
    }


def _quantiles(values: np.ndarray, qs: Sequence[float]) -> dict[str, float | None]:
    if values.size == 0:
        return {f"{q:g}": None for q in qs}
    return {f"{q:g}": float(np.quantile(values, q)) for q in qs}


def auto_threshold(calibration: dict, target: float = AUTO_TARGET) -> float | None:
    """The stored threshold for `target` precision (None when uncalibrated or unreachable)."""
    return (calibration.get("thresholds") or {}).get(f"{target:g}")
