"""TypeGate: learns set targets, calibrates, gates by mass, round-trips without pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fashionrec.errors import ConfigError
from fashionrec.photo.gate import (
    TypeGate,
    expected_calibration_error,
    fit_temperature,
    set_mask,
    set_nll,
)

TYPES = ["Tshirts", "Shirts", "Jeans", "Trousers", "Watches"]


def _blobs(n_per: int = 60, *, noise: float = 0.35, seed: int = 0):
    """Unit vectors around one random centre per type, and each row's type row."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(TYPES), 32))
    y = np.repeat(np.arange(len(TYPES)), n_per)
    X = centres[y] + noise * rng.normal(size=(len(y), 32)) * np.sqrt(32) / 4
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), y


def test_gate_learns_separable_types_and_round_trips(tmp_path):
    X, y = _blobs()
    gate = TypeGate(TYPES, hidden=0, epochs=15, batch_size=32).fit(X, [{int(t)} for t in y])
    pred = gate.predict_proba(X).argmax(1)
    assert (pred == y).mean() > 0.95
    top = gate.predict(X[:3], top=2)
    assert len(top) == 3 and len(top[0]) == 2 and top[0][0][1] >= top[0][1][1]

    gate.save(tmp_path / "gate")
    manifest = json.loads((tmp_path / "gate" / "manifest.json").read_text())
    assert manifest["types"] == TYPES
    with np.load(tmp_path / "gate" / "gate.npz", allow_pickle=False) as z:
        assert set(z.files) == {"w0", "b0"}
    again = TypeGate.load(tmp_path / "gate")
    np.testing.assert_allclose(again.predict_proba(X), gate.predict_proba(X), atol=1e-6)


def test_hidden_layer_gate_round_trips(tmp_path):
    X, y = _blobs(n_per=20)
    gate = TypeGate(TYPES, hidden=16, epochs=5, batch_size=32).fit(X, [{int(t)} for t in y])
    again = TypeGate.load(gate.save(tmp_path / "g"))
    np.testing.assert_allclose(again.logits(X), gate.logits(X), atol=1e-5)


def test_training_is_seeded():
    X, y = _blobs(n_per=20)
    a = TypeGate(TYPES, epochs=3, seed=1).fit(X, [{int(t)} for t in y])
    b = TypeGate(TYPES, epochs=3, seed=1).fit(X, [{int(t)} for t in y])
    np.testing.assert_array_equal(a.params_["w0"], b.params_["w0"])


def test_set_targets_put_mass_on_the_set_not_one_member():
    # "Pants" photos: any of Jeans / Trousers is right; the gate must not prefer Tshirts
    X, y = _blobs(n_per=40)
    pants = np.isin(y, [2, 3])
    targets = [{2, 3} if p else {int(t)} for p, t in zip(pants, y, strict=True)]
    gate = TypeGate(TYPES, epochs=30, batch_size=32).fit(X, targets)
    probs = gate.predict_proba(X[pants])
    assert (probs[:, 2] + probs[:, 3]).mean() > 0.9


def test_allowed_types_by_mass():
    gate = TypeGate(TYPES)
    probs = np.array([0.5, 0.3, 0.1, 0.06, 0.04])
    assert gate.allowed_types(probs, mass=0) == ["Tshirts"]
    assert gate.allowed_types(probs, mass=0.5) == ["Tshirts"]
    assert gate.allowed_types(probs, mass=0.75) == ["Tshirts", "Shirts"]
    assert gate.allowed_types(probs, mass=0.95) == ["Tshirts", "Shirts", "Jeans", "Trousers"]
    assert gate.allowed_types(probs, mass=0.95, max_types=2) == ["Tshirts", "Shirts"]
    with pytest.raises(ConfigError, match="mass"):
        gate.allowed_types(probs, mass=1.0)


def test_decide_falls_back_to_whole_catalog_when_unsure():
    X, y = _blobs(n_per=30)
    gate = TypeGate(TYPES, epochs=30, batch_size=32).fit(X, [{int(t)} for t in y])
    sure = gate.decide(X[0], mass=0)
    assert sure.types == [TYPES[y[0]]] and sure.confidence > 0.5
    assert sure.top[0][0] == TYPES[y[0]]
    assert gate.decide(X[0], min_confidence=1.01).types is None


def test_temperature_fixes_an_overconfident_model():
    rng = np.random.default_rng(0)
    n, c = 4000, 5
    true = rng.integers(0, c, n)
    # logits whose softmax is right ~60 % of the time but claims ~99 %
    noisy = np.where(rng.random(n) < 0.6, true, rng.integers(0, c, n))
    logits = np.eye(c)[noisy] * 8.0 + rng.normal(0, 0.5, (n, c))
    mask = set_mask([{int(t)} for t in true], c)
    temp = fit_temperature(logits, mask)
    assert temp > 2
    assert set_nll(logits, mask, temp) < set_nll(logits, mask, 1.0)

    def ece(t):
        p = np.exp(logits / t)
        p /= p.sum(1, keepdims=True)
        return expected_calibration_error(p.max(1), p.argmax(1) == true)

    assert ece(temp) < 0.05 < ece(1.0)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="not trained"):
        TypeGate(TYPES).logits(np.zeros((1, 4)))
    with pytest.raises(ConfigError, match="none of"):
        TypeGate(TYPES).type_set(["Sarees"])
    with pytest.raises(ConfigError, match="missing manifest"):
        TypeGate.load(tmp_path)
    with pytest.raises(ConfigError, match="empty set"):
        set_mask([set()], 3)
