"""Retrieval evaluation protocols over embedding matrices: leave-one-out and split-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fashionrec.eval.metrics import summarize


def top_k(
    queries: np.ndarray,
    base: np.ndarray,
    k: int,
    *,
    exclude: np.ndarray | None = None,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k inner-product neighbours of each query row among `base` rows.

    `exclude[i]` (optional) is a base row never returned for query i (leave-one-out: itself).
    Returns (scores, rows), each (n_queries, k), best first. Memory is bounded by `chunk`.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    base = np.ascontiguousarray(base, dtype=np.float32)
    k = min(k, base.shape[0] - (exclude is not None))
    out_s = np.empty((len(queries), k), np.float32)
    out_i = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), chunk):
        sims = queries[start : start + chunk] @ base.T
        if exclude is not None:
            ex = np.asarray(exclude[start : start + chunk])
            sims[np.arange(len(sims)), ex] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_s = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_s, axis=1, kind="stable")
        out_i[start : start + chunk] = np.take_along_axis(part, order, axis=1)
        out_s[start : start + chunk] = np.take_along_axis(part_s, order, axis=1)
    return out_s, out_i


@dataclass
class RetrievalResult:
    """Metrics of one run, overall and per label."""

    overall: dict[str, float]
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**self.overall, "per_label": self.per_label}


def _evaluate(
    hits: np.ndarray, n_rel: np.ndarray, labels: np.ndarray, ks: Sequence[int], per_label: bool
) -> RetrievalResult:
    if hits.shape[1] < max(ks):  # a collection smaller than k: missing results count as misses
        hits = np.pad(hits, ((0, 0), (0, max(ks) - hits.shape[1])))
    result = RetrievalResult(overall=summarize(hits, n_rel, ks))
    if per_label:
        for value in np.unique(labels):
            rows = labels == value
            result.per_label[str(value)] = {
                "count": int(rows.sum()),
                **summarize(hits[rows], n_rel[rows], ks),
            }
    return result


def _label_array(labels: Sequence) -> np.ndarray:
    arr = np.asarray(labels, dtype=object)
    return np.array(["" if v is None or v != v else str(v) for v in arr], dtype=object)


def leave_one_out(
    vectors: np.ndarray,
    labels: Sequence,
    *,
    ks: Sequence[int] = (1, 5, 10, 20),
    relevance: Sequence | None = None,
    per_label: bool = True,
    chunk: int = 1024,
) -> RetrievalResult:
    """Each item queries all the others; relevant = same label.

    `relevance` (optional) is a second label array: an item is relevant only when both agree
    (e.g. articleType AND baseColour). Items with a missing label are neither queries nor
    relevant.
    """
    lab = _label_array(labels)
    if relevance is not None:
        other = _label_array(relevance)
        lab = np.where((lab == "") | (other == ""), "", lab + "\x1f" + other)
    scores, rows = top_k(vectors, vectors, max(ks), exclude=np.arange(len(vectors)), chunk=chunk)
    hits = (lab[rows] == lab[:, None]) & (lab[:, None] != "")
    values, inverse, counts = np.unique(lab, return_inverse=True, return_counts=True)
    n_rel = counts[inverse] - 1
    n_rel[lab == ""] = 0
    shown = np.array([v.split("\x1f")[0] for v in lab], dtype=object)
    return _evaluate(hits, n_rel, shown, ks, per_label)


def query_to_base(
    queries: np.ndarray,
    query_labels: Sequence,
    base: np.ndarray,
    base_labels: Sequence,
    *,
    ks: Sequence[int] = (1, 5, 10, 20),
    per_label: bool = True,
    chunk: int = 1024,
) -> RetrievalResult:
    """Held-out queries search a base collection; relevant = same label."""
    ql, bl = _label_array(query_labels), _label_array(base_labels)
    _, rows = top_k(queries, base, max(ks), chunk=chunk)
    hits = (bl[rows] == ql[:, None]) & (ql[:, None] != "")
    values, counts = np.unique(bl, return_counts=True)
    count_of = dict(zip(values, counts, strict=True))
    n_rel = np.array([count_of.get(v, 0) if v else 0 for v in ql])
    return _evaluate(hits, n_rel, ql, ks, per_label)
