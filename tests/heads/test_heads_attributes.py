"""AttributeClassifier on seeded synthetic embeddings with known labels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fashionrec.heads import (
    AttributeClassifier,
    HeadError,
    evaluate_classifier,
    expected_calibration_error,
    split_by_product,
)

TYPES = ["Jeans", "Shirts", "Tshirts", "Watches", "Heels"]
COLOURS = ["Black", "Blue", "Red", "White"]


def make_data(n: int, *, seed: int = 0, d: int = 32, flip: float = 0.0):
    """Unit vectors = type direction + colour direction + noise; `flip` relabels types at random."""
    rng = np.random.default_rng(seed)
    dirs = np.random.default_rng(99).normal(size=(len(TYPES) + len(COLOURS), d))
    t = rng.integers(0, len(TYPES), n)
    c = rng.integers(0, len(COLOURS), n)
    X = dirs[t] + 0.8 * dirs[len(TYPES) + c] + rng.normal(0, 0.6, (n, d))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    flipped = rng.random(n) < flip
    t = np.where(flipped, rng.integers(0, len(TYPES), n), t)
    types = np.array(TYPES, dtype=object)[t]
    colours = np.array(COLOURS, dtype=object)[c]
    colours[rng.random(n) < 0.2] = None  # missing labels are skipped, not a class
    return X, {"article_type": types, "base_colour": colours}


@pytest.fixture(scope="module")
def fitted():
    X, labels = make_data(1500)
    return AttributeClassifier(epochs=10).fit(X, labels, seed=0)


def test_learns_every_attribute_and_skips_missing(fitted):
    X, labels = make_data(400, seed=1)
    assert fitted.classes_ == {"article_type": TYPES and sorted(TYPES), "base_colour": COLOURS}
    pred = fitted.predict(X)
    for name in ("article_type", "base_colour"):
        got = np.array([label for label, _ in pred[name]], dtype=object)
        known = labels[name] != None  # noqa: E711 - element-wise on an object array
        assert (got[known] == labels[name][known]).mean() > 0.95
    label, p = pred["article_type"][0]
    assert isinstance(label, str) and 0.0 < p <= 1.0


def test_proba_rows_sum_to_one_and_match_predict(fitted):
    X, _ = make_data(50, seed=2)
    proba, classes = fitted.predict_proba(X, "base_colour")
    assert proba.shape == (50, 4) and classes == COLOURS
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    top = fitted.predict(X, ["base_colour"])["base_colour"]
    assert [c for c, _ in top] == [classes[j] for j in proba.argmax(axis=1)]
    single = fitted.predict(X[0])["base_colour"]
    assert len(single) == 1 and single[0] == top[0]


def test_unknown_attribute_names_a_close_match(fitted):
    with pytest.raises(HeadError, match="Did you mean 'base_colour'"):
        fitted.predict_proba(np.zeros((1, 32), np.float32), "base_color")
    with pytest.raises(HeadError, match="columns"):
        fitted.predict(np.zeros((1, 7), np.float32))


def test_seeded_training_is_reproducible():
    X, labels = make_data(300)
    a = AttributeClassifier(epochs=3).fit(X, labels, seed=5)
    b = AttributeClassifier(epochs=3).fit(X, labels, seed=5)
    np.testing.assert_array_equal(
        a.predict_proba(X, "article_type")[0], b.predict_proba(X, "article_type")[0]
    )
    assert a.temperatures_ == b.temperatures_


def test_save_load_round_trip_without_pickle(fitted, tmp_path):
    X, _ = make_data(20, seed=3)
    fitted.save(tmp_path / "clf")
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == [
        "attributes.json",
        "attributes.npz",
    ]
    with np.load(tmp_path / "clf" / "attributes.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    loaded = AttributeClassifier.load(tmp_path / "clf")
    assert loaded.classes_ == fitted.classes_ and loaded.temperatures_ == fitted.temperatures_
    np.testing.assert_array_equal(
        loaded.predict_proba(X, "article_type")[0], fitted.predict_proba(X, "article_type")[0]
    )
    with pytest.raises(HeadError, match="missing"):
        AttributeClassifier.load(tmp_path / "nothing")


def gaussian_classes(n: int, seed: int, d: int = 64):
    """Gaussian classes with a shared covariance: the true posterior is a softmax of X."""
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(7).normal(0, 0.35, (5, d))
    t = rng.integers(0, 5, n)
    X = (means[t] + rng.normal(0, 1, (n, d))).astype(np.float32) / 8
    return X, np.array(TYPES, dtype=object)[t]


def test_temperature_scaling_calibrates_probabilities():
    X, y = gaussian_classes(2000, seed=0)
    X_test, y_test = gaussian_classes(20000, seed=1)
    clf = AttributeClassifier(epochs=50, calibration=0.25).fit(X, {"article_type": y})
    ece = {}
    for calibrated in (False, True):
        proba, classes = clf.predict_proba(X_test, "article_type", calibrated=calibrated)
        correct = np.asarray(classes, dtype=object)[proba.argmax(axis=1)] == y_test
        ece[calibrated] = expected_calibration_error(proba.max(axis=1), correct)
    assert clf.temperatures_["article_type"] != 1.0
    assert ece[True] < 0.03 and ece[True] < ece[False] / 2


def test_evaluate_handles_rare_and_unseen_classes():
    X, labels = make_data(300)
    types = labels["article_type"].copy()
    types[0] = "Sarees"  # a class with a single row: on one side of the split only
    types[1:3] = "Kurtas"
    rep = evaluate_classifier(X, {"article_type": types}, test_size=0.2, seed=0, epochs=5)
    e = rep["attributes"]["article_type"]
    assert e["n_train"] + e["n_test"] == 300
    assert 0.0 <= e["macro_f1"] <= 1.0 and 0.0 <= e["ece"] <= 1.0
    train, test = split_by_product(300, test_size=0.2, seed=0)
    assert set(e["unseen_in_train"]) == set(types[test]) - set(types[train])
    assert set(e["classes"]) == set(types[train])


def test_bad_inputs_raise_clear_errors():
    X, labels = make_data(50)
    with pytest.raises(HeadError, match="all missing"):
        AttributeClassifier().fit(X, {"usage": [None] * 50})
    with pytest.raises(HeadError, match="49 values for 50 rows"):
        AttributeClassifier().fit(X, {"usage": ["a"] * 49})
    with pytest.raises(HeadError, match="NaN"):
        AttributeClassifier().fit(np.full((3, 2), np.nan), {"usage": ["a"] * 3})
    with pytest.raises(HeadError, match="not fitted"):
        AttributeClassifier().predict(X)


def test_inference_does_not_import_torch(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    code = (
        "import sys, numpy as np\n"
        "from fashionrec.heads import AttributeClassifier\n"
        f"clf = AttributeClassifier.load({str(tmp_path / 'clf')!r})\n"
        "print(clf.predict(np.ones((2, 32), np.float32) / 32 ** 0.5)['article_type'][0][0])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in TYPES
