"""ProjectionHead on seeded synthetic embeddings where the label signal hides under nuisance."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fashionrec.eval.retrieval import leave_one_out
from fashionrec.heads import HeadError, ProjectionHead

D = 48
_DIRS = np.random.default_rng(123).normal(size=(6 + 4 + 24, D))


def make_data(n: int, *, seed: int = 0, shift: float = 0.0):
    """Type (6) and colour (4) directions under strong shared nuisance (pose, light...).

    `shift` adds a constant offset: another photo domain (shopper photos) of the same labels.
    """
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 6, n)
    c = rng.integers(0, 4, n)
    nuisance = rng.normal(0, 1.3, (n, 24)) @ _DIRS[10:]
    X = _DIRS[t] + 0.7 * _DIRS[6 + c] + nuisance + rng.normal(0, 0.3, (n, D))
    X = X + shift * np.random.default_rng(5).normal(size=D) * (1 + t[:, None] % 2)
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    return X, {
        "article_type": np.array([f"type{i}" for i in t], dtype=object),
        "base_colour": np.array([f"colour{i}" for i in c], dtype=object),
    }


def p10(vectors, labels, relevance=None) -> float:
    return leave_one_out(vectors, labels, ks=(10,), relevance=relevance, per_label=False).overall[
        "p@10"
    ]


@pytest.fixture(scope="module")
def data():
    return make_data(1500, seed=0), make_data(600, seed=1)


@pytest.fixture(scope="module")
def type_head(data):
    (X, labels), _ = data
    return ProjectionHead(hidden=128, out_dim=32, epochs=10).fit(
        X, {"article_type": labels["article_type"]}, seed=0
    )


def test_head_beats_frozen_features(data, type_head):
    _, (Xt, lt) = data
    frozen = p10(Xt, lt["article_type"])
    head = p10(type_head.transform(Xt), lt["article_type"])
    assert head > frozen + 0.2, (frozen, head)
    assert head > 0.85


def test_transform_is_unit_float32_and_numpy_only(data, type_head):
    _, (Xt, _) = data
    Z = type_head.transform(Xt)
    assert Z.dtype == np.float32 and Z.shape == (600, 32)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(type_head.transform(Xt[3]), Z[3], atol=1e-6)
    np.testing.assert_allclose(type_head.transform(Xt, chunk=7), Z, atol=1e-6)
    info = type_head.info_
    assert info["epochs"] >= 10 and info["train_seconds"] > 0 and info["final_loss"] > 0
    assert info["loss_per_epoch"][-1] < info["loss_per_epoch"][0]


def test_two_tasks_make_neighbours_share_type_and_colour(data, type_head):
    (X, labels), (Xt, lt) = data
    both = ProjectionHead(hidden=128, out_dim=32, epochs=10).fit(
        X, labels, weights={"article_type": 1.0, "base_colour": 1.0}, seed=0
    )
    assert set(both.classes_) == {"article_type", "base_colour"}
    only_type = p10(type_head.transform(Xt), lt["article_type"], lt["base_colour"])
    with_colour = p10(both.transform(Xt), lt["article_type"], lt["base_colour"])
    assert with_colour > only_type + 0.15, (only_type, with_colour)


def test_missing_labels_are_skipped_per_task(data):
    (X, labels), (Xt, lt) = data
    colours = labels["base_colour"].copy()
    colours[::2] = None  # half the rows have no colour; they still train the type task
    head = ProjectionHead(hidden=64, out_dim=16, epochs=5).fit(
        X, {"article_type": labels["article_type"], "base_colour": colours}, seed=0
    )
    assert len(head.classes_["base_colour"]) == 4
    assert p10(head.transform(Xt), lt["article_type"]) > 0.8


def test_extra_rows_from_another_domain_help_that_domain(data):
    (X, labels), _ = data
    Xs, ls = make_data(300, seed=2, shift=1.2)  # "shopper photos": shifted, labelled
    Xq, lq = make_data(300, seed=3, shift=1.2)
    catalog_only = ProjectionHead(hidden=128, out_dim=32, epochs=8).fit(
        X, {"article_type": labels["article_type"]}, seed=0
    )
    mixed = ProjectionHead(hidden=128, out_dim=32, epochs=8, extra_weight=2.0).fit(
        X,
        {"article_type": labels["article_type"]},
        extra=(Xs, {"article_type": ls["article_type"]}),
        seed=0,
    )
    assert mixed.info_["n_extra"] == 300

    def cross(head):  # shopper photo -> catalog, top 10 same type
        q, base = head.transform(Xq), head.transform(X)
        top = np.argsort(-(q @ base.T), axis=1)[:, :10]
        return (labels["article_type"][top] == lq["article_type"][:, None]).mean()

    assert cross(mixed) > cross(catalog_only) + 0.05, (cross(catalog_only), cross(mixed))


def test_seeded_reproducible_and_save_load(tmp_path, data):
    (X, labels), (Xt, _) = data
    kw = {"hidden": 32, "out_dim": 8, "epochs": 2}
    a = ProjectionHead(**kw).fit(X[:300], {"article_type": labels["article_type"][:300]}, seed=1)
    b = ProjectionHead(**kw).fit(X[:300], {"article_type": labels["article_type"][:300]}, seed=1)
    np.testing.assert_array_equal(a.transform(Xt), b.transform(Xt))
    a.save(tmp_path / "head")
    loaded = ProjectionHead.load(tmp_path / "head")
    np.testing.assert_array_equal(loaded.transform(Xt), a.transform(Xt))
    assert loaded.info_["seed"] == 1 and loaded.classes_ == a.classes_
    protos, classes = loaded.prototypes("article_type")
    assert protos.shape == (6, 8) and len(classes) == 6
    code = (
        "import sys, numpy as np\n"
        "from fashionrec.heads import ProjectionHead\n"
        f"h = ProjectionHead.load({str(tmp_path / 'head')!r})\n"
        f"print(h.transform(np.ones((1, {D}), np.float32)).shape)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 8)"


def test_supcon_loss_also_learns(data):
    (X, labels), (Xt, lt) = data
    head = ProjectionHead(hidden=128, out_dim=32, epochs=5, loss="supcon", scale=10.0)
    head.fit(X, {"article_type": labels["article_type"]}, seed=0)
    assert p10(head.transform(Xt), lt["article_type"]) > p10(Xt, lt["article_type"]) + 0.2


def test_bad_options_raise(data):
    (X, labels), _ = data
    y = {"article_type": labels["article_type"]}
    with pytest.raises(HeadError, match="unknown loss"):
        ProjectionHead(loss="triplet").fit(X, y)
    with pytest.raises(HeadError, match="unknown tasks"):
        ProjectionHead().fit(X, y, weights={"colour": 1.0})
    with pytest.raises(HeadError, match="all missing"):
        ProjectionHead().fit(X, {"article_type": [None] * len(X)})
    with pytest.raises(HeadError, match="columns"):
        ProjectionHead(hidden=8, out_dim=4, epochs=1).fit(X[:50], {"t": ["a"] * 50}).transform(
            np.ones((2, 3), np.float32)
        )
    with pytest.raises(HeadError, match="not fitted"):
        ProjectionHead().transform(X)
