"""Experiment helpers: gated search against a naive reference, seeded folds, real-data cut-outs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionrec.photo.augment import product_mask, shopper_style
from fashionrec.photo.experiment import (
    cached,
    folds_of,
    gated_hits,
    sample_per_type,
    summarize_hits,
)


def _naive(q, X, types, allowed, wanted, k, exclude=None):
    out = np.zeros((len(q), k), bool)
    for i in range(len(q)):
        scored = [
            (float(q[i] @ X[j]), j)
            for j in range(len(X))
            if (allowed[i] is None or types[j] in allowed[i])
            and (exclude is None or j != exclude[i])
        ]
        scored.sort(key=lambda s: (-s[0], s[1]))
        for r, (_, j) in enumerate(scored[:k]):
            out[i, r] = types[j] in wanted[i]
    return out


def test_gated_hits_matches_a_naive_reference_with_odd_chunks():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(57, 8)).astype(np.float32)
    q = rng.normal(size=(13, 8)).astype(np.float32)
    types = np.array(rng.choice(["A", "B", "C", "D"], size=57), dtype=object)
    allowed = [None if i % 3 == 0 else {"A", "C"} if i % 3 == 1 else {"D"} for i in range(13)]
    wanted = [{"A"} if i % 2 else {"D", "B"} for i in range(13)]
    got = gated_hits(q, X, types, allowed, wanted, k=5, chunk=4)
    np.testing.assert_array_equal(got, _naive(q, X, types, allowed, wanted, 5))
    ex = rng.integers(0, 57, 13)
    got = gated_hits(q, X, types, allowed, wanted, k=5, chunk=7, exclude=ex)
    np.testing.assert_array_equal(got, _naive(q, X, types, allowed, wanted, 5, ex))


def test_gate_to_a_rare_type_pads_with_misses():
    X = np.eye(4, dtype=np.float32)
    types = np.array(["A", "A", "A", "B"], dtype=object)
    hits = gated_hits(X[:1], X, types, [{"B"}], [{"B"}], k=3)
    assert hits.tolist() == [[True, False, False]]


def test_folds_are_seeded_and_balanced():
    f = folds_of(103, k=5, seed=0)
    assert np.array_equal(f, folds_of(103, k=5, seed=0))
    assert not np.array_equal(f, folds_of(103, k=5, seed=1))
    assert sorted(np.bincount(f).tolist()) == [20, 20, 21, 21, 21]


def test_sample_per_type_caps_each_type():
    types = np.array(["A"] * 50 + ["B"] * 3)
    rows = sample_per_type(types, per_type=10, seed=0)
    assert (types[rows] == "A").sum() == 10 and (types[rows] == "B").sum() == 3


def test_summary_and_cache(tmp_path):
    hits = np.zeros((4, 10), bool)
    hits[:2] = True
    s = summarize_hits(hits, np.array(["x", "x", "y", "y"], dtype=object))
    assert s["p@10"] == 0.5 and s["per_label"] == {"x": 1.0, "y": 0.0}
    calls = []
    first = cached("t", lambda: calls.append(1) or np.arange(3), cache=tmp_path)
    again = cached("t", lambda: calls.append(1) or np.arange(9), cache=tmp_path)
    assert calls == [1] and np.array_equal(first, again)


@pytest.mark.shared_data
def test_real_catalog_shots_cut_out_and_augment(fixture300):
    paths = sorted((fixture300 / "images").glob("*.jpg"))[:40]
    fractions = [product_mask(Image.open(p)).mean() for p in paths]
    # a product fills part of its studio shot, never none or all of it
    assert np.median(fractions) > 0.15 and np.median(fractions) < 0.9
    out = shopper_style(Image.open(paths[0]), np.random.default_rng(0))
    arr = np.asarray(out)
    assert arr.ndim == 3 and (arr.min(axis=2) >= 245).mean() < 0.3
