"""``TypeGate``: which catalog article types a query photo can be, with calibrated probabilities.

The gate is a small classifier over the catalog's own article types (all of them), reading an
index-space vector (centred, L2-normalised backbone features). It is trained with torch and
runs in numpy. A training example carries a *set* of acceptable types: a catalog photo has one,
a shopper photo labelled "Pants" may be Trousers, Jeans, Track Pants, ...; the loss is the
negative log of the probability mass on that set, so the gate learns where the photo belongs
without being forced to pick one arbitrary member. A temperature, fitted on held-out data,
calibrates the probabilities.

Example:
    >>> import numpy as np
    >>> X = np.eye(4, dtype=np.float32)[[0, 1, 2, 3] * 10]
    >>> gate = TypeGate(["a", "b", "c", "d"], hidden=0).fit(X, [{i % 4} for i in range(40)])
    >>> gate.predict(X[:1], top=1)[0][0][0]
    'a'
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fashionrec._io import atomic_write_bytes, atomic_write_json
from fashionrec.errors import ConfigError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
WEIGHTS = "gate.npz"
FORMAT = "fashionrec-type-gate/1"

#: A target: the row numbers (into ``types``) that count as correct for one example.
TypeSet = set[int] | frozenset[int]


@dataclass(frozen=True)
class GateDecision:
    """What the search should do with one query photo.

    `types`: restrict the search to these article types (None: do not restrict);
    `confidence`: calibrated probability that the photo is one of `types`;
    `top`: the best (type, probability) pairs, for display and logs.
    """

    types: list[str] | None
    confidence: float
    top: list[tuple[str, float]]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def set_mask(targets: Sequence[TypeSet], n_types: int) -> np.ndarray:
    """(n, n_types) bool: True where a type counts as correct for an example."""
    mask = np.zeros((len(targets), n_types), bool)
    for i, t in enumerate(targets):
        if not t:
            raise ConfigError(f"training example {i} has an empty set of acceptable types")
        mask[i, list(t)] = True
    return mask


def set_nll(logits: np.ndarray, mask: np.ndarray, temperature: float = 1.0) -> float:
    """Mean of -log P(type in set) under softmax(logits / temperature)."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_all = np.log(np.exp(z).sum(axis=1))
    log_in = np.log(np.maximum(np.where(mask, np.exp(z), 0.0).sum(axis=1), 1e-300))
    return float(np.mean(log_all - log_in))


def fit_temperature(logits: np.ndarray, mask: np.ndarray) -> float:
    """The temperature minimising the set NLL on held-out logits (log-spaced grid, refined)."""
    grid = np.exp(np.linspace(np.log(0.2), np.log(10.0), 61))
    losses = [set_nll(logits, mask, t) for t in grid]
    best = int(np.argmin(losses))
    lo, hi = grid[max(0, best - 1)], grid[min(len(grid) - 1, best + 1)]
    fine = np.linspace(lo, hi, 41)
    return float(fine[int(np.argmin([set_nll(logits, mask, t) for t in fine]))])


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, *, bins: int = 10) -> float:
    """ECE: bin-weighted mean |accuracy - confidence| over equal-width confidence bins.

    Example:
        >>> expected_calibration_error(np.array([0.9, 0.9]), np.array([True, False]))
        0.4
    """
    conf, correct = np.asarray(conf, float), np.asarray(correct, float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return round(float(ece), 10)


class TypeGate:
    """Article-type classifier over index vectors, with calibrated probabilities.

    `hidden=0` is multinomial logistic regression; `hidden>0` adds one ReLU layer.
    """

    def __init__(
        self,
        types: Sequence[str],
        *,
        hidden: int = 0,
        epochs: int = 30,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 512,
        seed: int = 0,
        mass: float = 0.0,
        threads: int = 1,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if len(set(types)) != len(types) or len(types) < 2:
            raise ConfigError("a TypeGate needs at least 2 distinct types")
        self.types = list(types)
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.seed = seed
        self.mass = mass
        self.threads = threads
        self.meta = dict(meta or {})
        self.params_: dict[str, np.ndarray] = {}
        self.temperature_ = 1.0
        self._pos = {t: i for i, t in enumerate(self.types)}

    # --- training -----------------------------------------------------------------------
    def type_set(self, names: Sequence[str] | set[str]) -> frozenset[int]:
        """Row numbers of type names (unknown names are ignored; none known is an error)."""
        rows = frozenset(self._pos[n] for n in names if n in self._pos)
        if not rows:
            raise ConfigError(f"none of {sorted(names)} is a type of this gate")
        return rows

    def fit(
        self,
        X: np.ndarray,
        targets: Sequence[TypeSet],
        *,
        weights: np.ndarray | None = None,
    ) -> TypeGate:
        """Train on vectors X with, per row, the set of acceptable type rows; returns self."""
        import torch

        X = np.ascontiguousarray(X, dtype=np.float32)
        if len(X) != len(targets):
            raise ConfigError(f"{len(X)} vectors but {len(targets)} targets")
        mask = set_mask(targets, len(self.types))
        w = np.ones(len(X), np.float32) if weights is None else np.asarray(weights, np.float32)
        # small matrices: one thread is many times faster than two fighting a busy CPU
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            self._train(torch, X, mask, w)
        finally:
            torch.set_num_threads(previous)
        return self

    def _train(self, torch: Any, X: np.ndarray, mask: np.ndarray, w: np.ndarray) -> None:
        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        d, c = X.shape[1], len(self.types)
        if self.hidden:
            model = torch.nn.Sequential(
                torch.nn.Linear(d, self.hidden), torch.nn.ReLU(), torch.nn.Linear(self.hidden, c)
            )
        else:
            model = torch.nn.Sequential(torch.nn.Linear(d, c))
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        steps = self.epochs * int(np.ceil(len(X) / self.batch_size))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=steps)
        # inputs are unit vectors: scale so that initial logits are not all ~0
        xt, mt, wt = torch.from_numpy(X * 8.0), torch.from_numpy(mask), torch.from_numpy(w)
        model.train()
        for epoch in range(self.epochs):
            order = torch.randperm(len(X), generator=gen)
            total = 0.0
            for start in range(0, len(X), self.batch_size):
                idx = order[start : start + self.batch_size]
                logits = model(xt[idx])
                log_all = torch.logsumexp(logits, dim=1)
                log_in = torch.logsumexp(logits.masked_fill(~mt[idx], -1e9), dim=1)
                loss = ((log_all - log_in) * wt[idx]).sum() / wt[idx].sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            log.debug("gate epoch %d loss %.4f", epoch, total / len(X))
        layers = [m for m in model if isinstance(m, torch.nn.Linear)]
        self.params_ = {}
        for j, layer in enumerate(layers):
            self.params_[f"w{j}"] = layer.weight.detach().numpy().T.copy()
            self.params_[f"b{j}"] = layer.bias.detach().numpy().copy()
        self.params_["w0"] *= 8.0  # fold the input scale into the first layer

    def calibrate(self, X: np.ndarray, targets: Sequence[TypeSet]) -> TypeGate:
        """Fit the temperature on held-out vectors; returns self."""
        self.temperature_ = fit_temperature(self.logits(X), set_mask(targets, len(self.types)))
        return self

    # --- inference (numpy) ---------------------------------------------------------------
    def logits(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated logits, (n, n_types)."""
        if not self.params_:
            raise ConfigError("this TypeGate is not trained: call fit() or TypeGate.load()")
        h = np.atleast_2d(np.asarray(X, np.float32))
        n_layers = len(self.params_) // 2
        for j in range(n_layers):
            h = h @ self.params_[f"w{j}"] + self.params_[f"b{j}"]
            if j < n_layers - 1:
                h = np.maximum(h, 0.0)
        return h

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities over ``types``, (n, n_types)."""
        return _softmax(self.logits(X) / self.temperature_)

    def predict(self, X: np.ndarray, *, top: int = 5) -> list[list[tuple[str, float]]]:
        """Per row, the `top` most likely types with their calibrated probabilities."""
        probs = self.predict_proba(X)
        order = np.argsort(-probs, axis=1, kind="stable")[:, :top]
        return [
            [(self.types[j], float(p[j])) for j in row] for p, row in zip(probs, order, strict=True)
        ]

    def allowed_types(
        self, probs: np.ndarray, *, mass: float | None = None, max_types: int = 8
    ) -> list[str]:
        """Types to restrict one query to: the most likely ones until their probability mass
        reaches `mass` (0 keeps the top-1 only), at most `max_types`."""
        mass = self.mass if mass is None else mass
        if not 0.0 <= mass < 1.0:
            raise ConfigError(f"mass must be in [0, 1), got {mass!r}")
        probs = np.asarray(probs, float).ravel()
        order = np.argsort(-probs, kind="stable")
        cum = np.cumsum(probs[order])
        n = int(np.searchsorted(cum, mass, side="left")) + 1
        return [self.types[j] for j in order[: max(1, min(n, max_types))]]

    def decide(
        self, vector: np.ndarray, *, mass: float | None = None, min_confidence: float = 0.0
    ) -> GateDecision:
        """The gate's decision for one index-space vector (the recommender's entry point).

        When the calibrated mass of the allowed types is below `min_confidence`, `types` is
        None: search the whole catalog rather than trust a doubtful gate.
        """
        probs = self.predict_proba(np.asarray(vector, np.float32).reshape(1, -1))[0]
        types = self.allowed_types(probs, mass=mass)
        confidence = float(sum(probs[self._pos[t]] for t in types))
        order = np.argsort(-probs, kind="stable")[:5]
        top = [(self.types[j], float(probs[j])) for j in order]
        return GateDecision(types if confidence >= min_confidence else None, confidence, top)

    # --- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``gate.npz`` (plain arrays) and ``manifest.json`` into `directory`."""
        if not self.params_:
            raise ConfigError("cannot save an untrained TypeGate")
        directory = Path(directory)
        buf = io.BytesIO()
        np.savez(buf, **{k: v.astype(np.float32) for k, v in self.params_.items()})
        atomic_write_bytes(directory / WEIGHTS, buf.getvalue())
        dim = int(self.params_["w0"].shape[0])
        atomic_write_json(
            directory / MANIFEST,
            {
                "format": FORMAT,
                "types": self.types,
                "dim": dim,
                "hidden": self.hidden,
                "temperature": self.temperature_,
                "mass": self.mass,
                "seed": self.seed,
                "meta": self.meta,
            },
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> TypeGate:
        """Read a gate saved by ``save`` (no pickle)."""
        directory = Path(directory)
        path = directory / MANIFEST
        if not path.is_file():
            raise ConfigError(f"no type gate at {directory} (missing {MANIFEST})")
        manifest = json.loads(path.read_text())
        if manifest.get("format") != FORMAT:
            raise ConfigError(f"{path} has format {manifest.get('format')!r}, expected {FORMAT}")
        gate = cls(
            manifest["types"],
            hidden=manifest["hidden"],
            seed=manifest.get("seed", 0),
            mass=manifest.get("mass", 0.0),
            meta=manifest.get("meta"),
        )
        with np.load(directory / WEIGHTS, allow_pickle=False) as z:
            gate.params_ = {k: z[k] for k in z.files}
        gate.temperature_ = float(manifest["temperature"])
        if gate.params_["w0"].shape[0] != manifest["dim"]:
            raise ConfigError(f"{directory}: weights do not match dim {manifest['dim']}")
        return gate

    @property
    def dim(self) -> int:
        """Input dimension the gate expects."""
        return int(self.params_["w0"].shape[0])
