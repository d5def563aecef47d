"""Splits, label cleaning and calibration maths of the heads, against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from fashionrec.heads import (
    HeadError,
    expected_calibration_error,
    fit_temperature,
    split_by_product,
)
from fashionrec.heads._train import clean_labels, encode_labels, softmax


def test_split_sizes_disjoint_and_seeded():
    train, test = split_by_product(1000, test_size=0.2, seed=3)
    assert len(test) == 200 and len(train) == 800
    assert not set(train) & set(test)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1000))
    again = split_by_product(1000, test_size=0.2, seed=3)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(split_by_product(1000, test_size=0.2, seed=4)[1], test)


def test_split_keeps_groups_on_one_side():
    rng = np.random.default_rng(0)
    group = rng.integers(0, 150, 1000)
    train, test = split_by_product(1000, test_size=0.25, seed=0, group=group)
    assert not set(group[train]) & set(group[test])
    assert 0.18 < len(test) / 1000 < 0.32


@pytest.mark.parametrize("size", [0.0, 1.0, -0.1])
def test_split_rejects_bad_sizes(size):
    with pytest.raises(HeadError, match="test_size"):
        split_by_product(10, test_size=size)


def test_labels_missing_values_become_empty():
    labels = clean_labels(["Jeans", None, float("nan"), "", 3], 5, name="t")
    assert labels.tolist() == ["Jeans", "", "", "", "3"]
    codes, classes = encode_labels(labels)
    assert classes == ["3", "Jeans"] and codes.tolist() == [1, -1, -1, -1, 0]
    with pytest.raises(HeadError, match="4 values for 5 rows"):
        clean_labels(["a"] * 4, 5, name="t")


def test_ece_known_values():
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False])
    # bin 0.95: acc 1.0 vs 0.95 -> 0.05; bin 0.55: acc 0.5 vs 0.55 -> 0.05
    assert expected_calibration_error(conf, correct) == pytest.approx(0.05)
    assert expected_calibration_error(np.ones(3), np.ones(3, bool)) == 0.0


def test_temperature_recovers_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0.0, 2.0, (6000, 5))
    p = softmax(true_logits)
    y = (p.cumsum(axis=1) > rng.random((6000, 1))).argmax(axis=1)
    assert fit_temperature(true_logits * 3.0, y) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(true_logits * 0.5, y) == pytest.approx(0.5, rel=0.1)
    calibrated = softmax(true_logits * 3.0 / fit_temperature(true_logits * 3.0, y))
    raw = softmax(true_logits * 3.0)
    correct = raw.argmax(axis=1) == y
    ece_raw = expected_calibration_error(raw.max(axis=1), correct)
    ece_cal = expected_calibration_error(calibrated.max(axis=1), correct)
    assert ece_cal < 0.03 < ece_raw
