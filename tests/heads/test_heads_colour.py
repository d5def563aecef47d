"""ColourHead on seeded synthetic embeddings where type and colour are known."""

from __future__ import annotations

import numpy as np
import pytest

from fashionrec.eval.retrieval import leave_one_out
from fashionrec.heads import ColourHead, HeadError

D = 48
_DIRS = np.random.default_rng(321).normal(size=(6 + 5 + 24, D))


def make_data(n: int, *, seed: int = 0):
    """Backbone-like vectors where type is strong and colour weak under nuisance, plus a
    noisy 12-d colour histogram (the descriptor) that knows the colour and nothing else."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 6, n)
    c = rng.integers(0, 5, n)
    nuisance = rng.normal(0, 1.3, (n, 24)) @ _DIRS[11:]
    X = 1.5 * _DIRS[t] + 0.7 * _DIRS[6 + c] + nuisance + rng.normal(0, 0.3, (n, D))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    hist = np.abs(rng.normal(0, 0.25, (n, 12)))
    hist[np.arange(n), 2 * c] += 1.0
    hist = (hist / np.linalg.norm(hist, axis=1, keepdims=True)).astype(np.float32)
    types = np.array([f"type{i}" for i in t], dtype=object)
    colours = np.array([f"colour{i}" for i in c], dtype=object)
    return X, hist, types, colours


def p10(vectors, types, colours=None) -> float:
    r = leave_one_out(vectors, types, ks=(10,), relevance=colours, per_label=False)
    return r.overall["p@10"]


SMALL = {"type_hidden": 128, "type_dim": 32, "colour_hidden": 64, "colour_dim": 8, "epochs": 10}


@pytest.fixture(scope="module")
def data():
    return make_data(1500, seed=0), make_data(600, seed=1)


@pytest.fixture(scope="module")
def heads(data):
    (X, H, t, c), _ = data
    with_desc = ColourHead(weight=1.0, descriptor=True, **SMALL).fit(X, t, c, H, seed=0)
    cnn_only = ColourHead(descriptor=False, joint=False, **SMALL).fit(X, t, c, seed=0)
    colour_only = ColourHead(descriptor=True, joint=False, **SMALL).fit(X, t, c, H, seed=0)
    return with_desc, cnn_only, colour_only


def test_ranks_same_type_and_colour_first(data, heads):
    _, (Xt, Ht, tt, ct) = data
    with_desc, cnn_only, colour_only = heads
    frozen = p10(Xt, tt, ct)
    type_only = p10(with_desc.type_head.transform(Xt), tt, ct)
    both = with_desc.transform(Xt, Ht)
    assert p10(both, tt, ct) > max(frozen, type_only) + 0.25, (frozen, type_only)
    assert p10(both, tt, ct) > 0.75
    # the type stays right: the colour part re-orders within the type
    assert p10(both, tt) >= p10(with_desc.type_head.transform(Xt), tt) - 0.08
    assert p10(both, tt) > 0.85
    # without the descriptor the colour comes from the backbone alone: weaker, still better
    assert p10(cnn_only.transform(Xt), tt, ct) > type_only + 0.1
    # a colour part that learned colour alone pulls other types of the same colour closer
    assert p10(colour_only.transform(Xt, Ht), tt) < p10(both, tt) - 0.01


def test_weight_blends_type_and_colour_cosines(data, heads):
    _, (Xt, Ht, _, _) = data
    head = heads[0]
    t = head.type_head.transform(Xt[:20])
    c = head.colour_head.transform(np.hstack([Xt[:20], Ht[:20]]))
    for w in (0.0, 0.5, 2.0):
        head.weight = w
        z = head.transform(Xt[:20], Ht[:20])
        np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
        expected = (t @ t.T + w**2 * (c @ c.T)) / (1 + w**2)
        np.testing.assert_allclose(z @ z.T, expected, atol=1e-5)
    head.weight = 1.0
    assert head.transform(Xt[0], Ht[0]).shape == (head.out_dim,)


def test_save_load_round_trip(tmp_path, data, heads):
    _, (Xt, Ht, _, _) = data
    head = heads[0]
    head.weight = 0.75
    head.save(tmp_path / "h")
    assert (tmp_path / "h" / "manifest.json").is_file()
    assert not list((tmp_path / "h").rglob("*.pkl"))
    back = ColourHead.load(tmp_path / "h")
    assert back.weight == 0.75 and back.needs_descriptor
    np.testing.assert_allclose(back.transform(Xt, Ht), head.transform(Xt, Ht), atol=1e-6)
    head.weight = 1.0


def test_training_is_seeded(data):
    (X, H, t, c), _ = data
    a = ColourHead(**{**SMALL, "epochs": 2}).fit(X[:300], t[:300], c[:300], H[:300], seed=3)
    b = ColourHead(**{**SMALL, "epochs": 2}).fit(X[:300], t[:300], c[:300], H[:300], seed=3)
    np.testing.assert_array_equal(a.transform(X[:50], H[:50]), b.transform(X[:50], H[:50]))


def test_refuses_missing_descriptors_and_unfitted_use(tmp_path, data, heads):
    _, (Xt, _, _, _) = data
    with pytest.raises(HeadError, match="descriptor"):
        heads[0].transform(Xt)
    with pytest.raises(HeadError, match="not fitted"):
        ColourHead().transform(Xt)
    with pytest.raises(HeadError, match="missing"):
        ColourHead.load(tmp_path / "nothing")
