"""Ranking metrics, pure numpy, vectorised over queries.

Every function takes `hits`, a boolean array (n_queries, depth) telling whether the result at
each rank is relevant, and where needed `n_relevant` (n_queries,), how many relevant items exist
for each query in the searched collection.
"""

from __future__ import annotations

import numpy as np


def _check(hits: np.ndarray, k: int) -> np.ndarray:
    hits = np.asarray(hits, dtype=bool)
    if hits.ndim != 2:
        raise ValueError(f"hits must be 2-D (queries, ranks), got shape {hits.shape}")
    if not 1 <= k <= hits.shape[1]:
        raise ValueError(f"k must be between 1 and the result depth {hits.shape[1]}, got {k}")
    return hits[:, :k]


def precision_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Share of the top k that is relevant, per query."""
    return _check(hits, k).mean(axis=1)


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Share of all relevant items found in the top k, per query (NaN when none exist)."""
    found = _check(hits, k).sum(axis=1).astype(float)
    n = np.asarray(n_relevant, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, found / n, np.nan)


def average_precision_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """AP@k: mean of precision at each relevant rank, over min(n_relevant, k) (NaN when none)."""
    h = _check(hits, k).astype(float)
    precision_at_rank = np.cumsum(h, axis=1) / np.arange(1, k + 1)
    denom = np.minimum(np.asarray(n_relevant, dtype=float), k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (precision_at_rank * h).sum(axis=1) / denom, np.nan)


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """nDCG@k with binary gains (NaN when no relevant item exists)."""
    h = _check(hits, k).astype(float)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = h @ discount
    ideal_len = np.minimum(np.asarray(n_relevant, dtype=int), k)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[ideal_len]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, dcg / ideal, np.nan)


def hit_rate_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """1 when any of the top k is relevant, per query."""
    return _check(hits, k).any(axis=1).astype(float)


def summarize(
    hits: np.ndarray, n_relevant: np.ndarray, ks: list[int] | tuple[int, ...]
) -> dict[str, float]:
    """Mean p@k, r@k, map@k, ndcg@k for every k, over queries with any relevant item."""
    n_relevant = np.asarray(n_relevant)
    valid = n_relevant > 0
    out: dict[str, float] = {"queries": int(valid.sum())}
    if not valid.any():
        return out
    h, n = np.asarray(hits)[valid], n_relevant[valid]
    for k in ks:
        out[f"p@{k}"] = float(precision_at_k(h, k).mean())
        out[f"r@{k}"] = float(np.nanmean(recall_at_k(h, n, k)))
        out[f"map@{k}"] = float(np.nanmean(average_precision_at_k(h, n, k)))
        out[f"ndcg@{k}"] = float(np.nanmean(ndcg_at_k(h, n, k)))
    return out


def bootstrap_interval(
    values: np.ndarray, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (seeded)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    return (float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))
