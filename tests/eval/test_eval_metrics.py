"""Ranking metrics against hand-computed values and a naive per-query reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fashionrec.eval.metrics import (
    average_precision_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    summarize,
)

HITS = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=bool)
NREL = np.array([2, 3, 5])


def test_known_values():
    np.testing.assert_allclose(precision_at_k(HITS, 4), [0.5, 0.0, 0.75])
    np.testing.assert_allclose(recall_at_k(HITS, NREL, 4), [1.0, 0.0, 0.6])
    ap0 = (1 / 1 + 2 / 3) / 2
    ap2 = (1 / 2 + 2 / 3 + 3 / 4) / 4
    np.testing.assert_allclose(average_precision_at_k(HITS, NREL, 4), [ap0, 0.0, ap2])
    d = [1 / math.log2(i + 2) for i in range(4)]
    np.testing.assert_allclose(
        ndcg_at_k(HITS, NREL, 4),
        [(d[0] + d[2]) / (d[0] + d[1]), 0.0, (d[1] + d[2] + d[3]) / sum(d)],
    )


def naive_ap(row, nrel, k):
    score, found = 0.0, 0
    for i, r in enumerate(row[:k]):
        if r:
            found += 1
            score += found / (i + 1)
    return score / min(nrel, k) if nrel else float("nan")


def test_against_naive_reference_on_random_data():
    rng = np.random.default_rng(7)
    hits = rng.random((57, 13)) < 0.3
    nrel = hits.sum(1) + rng.integers(0, 4, 57)
    for k in (1, 5, 13):
        ref = [naive_ap(h, n, k) for h, n in zip(hits, nrel, strict=True)]
        np.testing.assert_allclose(average_precision_at_k(hits, nrel, k), ref)


def test_summary_skips_queries_without_relevant_items():
    s = summarize(HITS, np.array([2, 0, 5]), [1, 4])
    assert s["queries"] == 2
    assert s["p@4"] == pytest.approx((0.5 + 0.75) / 2)
    assert s["p@1"] == pytest.approx(0.5)


def test_bad_k_is_rejected():
    with pytest.raises(ValueError, match="between 1 and the result depth 4"):
        precision_at_k(HITS, 5)


def test_leave_one_out_on_separable_clusters():
    from fashionrec.eval.retrieval import leave_one_out, top_k

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    labels = np.repeat(["a", "b", "c"], 11)
    x = centres[np.repeat(np.arange(3), 11)] + 0.05 * rng.normal(size=(33, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    res = leave_one_out(x, labels, ks=(1, 10))
    assert res.overall["p@10"] == 1.0 and res.overall["r@10"] == 1.0
    assert res.per_label["b"]["count"] == 11
    # the query itself is never returned, at any chunk size
    _, rows = top_k(x, x, 5, exclude=np.arange(33), chunk=7)
    assert not (rows == np.arange(33)[:, None]).any()
    # with a second relevance label that splits each cluster, precision drops
    colour = np.tile(["red", "blue"], 17)[:33]
    both = leave_one_out(x, labels, ks=(10,), relevance=colour)
    assert both.overall["p@10"] < 0.7


def test_top_k_matches_full_sort_with_odd_chunks():
    from fashionrec.eval.retrieval import top_k

    rng = np.random.default_rng(3)
    q, b = rng.normal(size=(23, 8)), rng.normal(size=(101, 8))
    s, i = top_k(q, b, 9, chunk=5)
    ref = np.argsort(-(q @ b.T), axis=1)[:, :9]
    np.testing.assert_array_equal(i, ref)
    np.testing.assert_allclose(s, np.take_along_axis(q @ b.T, ref, 1), rtol=1e-5)


def test_calibrated_threshold_reaches_the_target_precision():
    from fashionrec.eval.calibration import calibrate_thresholds
    from fashionrec.eval.retrieval import top_k

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(6, 32))
    labels = np.repeat(list("abcdef"), 40)
    x = centres[np.repeat(np.arange(6), 40)] + 0.9 * rng.normal(size=(240, 32))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    cal = calibrate_thresholds(x, labels, depth=30, sample=240)
    t8, t95 = cal["thresholds"]["0.8"], cal["thresholds"]["0.95"]
    assert t8 is not None and t95 is not None and t95 >= t8
    # check the claim directly: pairs above t8 are >= 80 % relevant
    s, i = top_k(x, x, 30, exclude=np.arange(240))
    rel = labels[i] == labels[:, None]
    assert rel[s >= t8].mean() >= 0.8
    assert cal["relevant_quantiles"]["0.5"] > cal["irrelevant_quantiles"]["0.5"]
