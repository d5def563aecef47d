"""Attribute classifiers on frozen embeddings: one temperature-scaled softmax per attribute.

Training uses torch (CPU); prediction is pure numpy, so a serving process needs no torch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from fashionrec.heads._train import (
    FORMAT_VERSION,
    HeadError,
    check_matrix,
    check_tasks,
    encode_labels,
    expected_calibration_error,
    fit_temperature,
    read_artifact,
    save_artifact,
    seed_torch,
    softmax,
    split_by_product,
    train_loop,
    unknown_name,
)

log = logging.getLogger(__name__)

#: Saved as <STEM>.npz (weights) + <STEM>.json (config, classes, info).
STEM = "attributes"
KIND = "fashionrec.heads.AttributeClassifier"


class AttributeClassifier:
    """Multinomial logistic regression (or a one-hidden-layer MLP) per attribute.

    All attributes train together (a shared hidden layer when `hidden` > 0); each attribute's
    logits are then divided by a temperature fitted on a held-out `calibration` share of the
    training rows, so the shown probabilities mean what they say.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "Jeans", "Shirts")
    >>> clf = AttributeClassifier(epochs=20).fit(X, {"article_type": y})
    >>> clf.predict(X[:1])["article_type"][0][0] == y[0]
    True
    """

    def __init__(
        self,
        *,
        hidden: int = 0,
        epochs: int = 30,
        batch_size: int = 512,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.0,
        calibration: float = 0.1,
        min_count: int = 1,
    ) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.calibration = calibration
        self.min_count = min_count
        self.classes_: dict[str, list[str]] = {}
        self.temperatures_: dict[str, float] = {}
        self.info_: dict[str, Any] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self.dim_: int = 0

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: np.ndarray,
        labels: Mapping[str, Sequence[str | None]],
        *,
        seed: int = 0,
        time_limit: float | None = None,
    ) -> Self:
        """Train one softmax per attribute in `labels`; missing labels ("" / None) are skipped.

        >>> X = np.eye(4, dtype=np.float32).repeat(10, axis=0)
        >>> y = [c for c in "abc" for _ in range(10)] + [None] * 10
        >>> AttributeClassifier(calibration=0).fit(X, {"c": y}).classes_["c"]
        ['a', 'b', 'c']
        """
        import torch

        X = check_matrix(X)
        n, d = X.shape
        tasks = check_tasks(labels, n)
        if self.hidden < 0 or not 0.0 <= self.calibration < 1.0 or self.min_count < 1:
            raise HeadError(
                "hidden must be >= 0, calibration in [0, 1) and min_count >= 1; got "
                f"{self.hidden}, {self.calibration}, {self.min_count}"
            )
        codes: dict[str, np.ndarray] = {}
        for name, values in tasks.items():
            kept, counts = np.unique(values[values != ""], return_counts=True)
            c, classes = encode_labels(values, sorted(kept[counts >= self.min_count].tolist()))
            if not classes:
                raise HeadError(f"attribute {name!r} has no class with >= {self.min_count} rows")
            codes[name], self.classes_[name] = c, classes

        if self.calibration > 0 and n >= 20:
            fit_rows, cal_rows = split_by_product(n, test_size=self.calibration, seed=seed)
        else:
            fit_rows, cal_rows = np.arange(n), np.array([], dtype=np.int64)

        seed_torch(seed)
        # Embeddings are unit-length, so each feature is ~1/sqrt(d); scaling them to ~1 lets
        # Adam reach useful weights in few steps. The scale is folded into the saved weights.
        scale = float(np.sqrt(d))
        xt = torch.from_numpy(X[fit_rows])
        yt = {k: torch.from_numpy(v[fit_rows]) for k, v in codes.items()}
        trunk = (
            torch.nn.Sequential(
                torch.nn.Linear(d, self.hidden), torch.nn.ReLU(), torch.nn.Dropout(self.dropout)
            )
            if self.hidden
            else torch.nn.Dropout(self.dropout)
        )
        width = self.hidden or d
        outs = torch.nn.ModuleDict(
            {f"t{i}": torch.nn.Linear(width, len(self.classes_[k])) for i, k in enumerate(codes)}
        )
        names = list(codes)
        model = torch.nn.ModuleDict({"trunk": trunk, "outs": outs})

        def batch_loss(rows: np.ndarray) -> torch.Tensor:
            model.train()
            h = trunk(xt[rows] * scale)
            loss = torch.zeros(())
            for i, name in enumerate(names):
                y = yt[name][rows]
                keep = y >= 0
                if bool(keep.any()):
                    loss = loss + torch.nn.functional.cross_entropy(outs[f"t{i}"](h[keep]), y[keep])
            return loss

        info = train_loop(
            list(model.parameters()),
            batch_loss,
            n=len(fit_rows),
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            seed=seed,
            time_limit=time_limit,
            label="attributes",
        )
        self._arrays = self._export(trunk, outs, names, scale)
        self.dim_ = d
        self.temperatures_ = {}
        for name in names:
            t = 1.0
            if len(cal_rows):
                t = fit_temperature(self._logits(X[cal_rows], name), codes[name][cal_rows])
            self.temperatures_[name] = round(t, 6)
        self.info_ = {
            **info,
            "seed": seed,
            "n_fit": int(len(fit_rows)),
            "n_calibration": int(len(cal_rows)),
            "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        log.info("attributes trained in %.1f s: %s", info["train_seconds"], self.temperatures_)
        return self

    def _export(self, trunk: Any, outs: Any, names: list[str], scale: float) -> dict:
        arrays: dict[str, np.ndarray] = {}
        first_scale = scale
        if self.hidden:
            lin = trunk[0]
            arrays["hidden.W"] = (lin.weight.detach().numpy().T * scale).astype(np.float32)
            arrays["hidden.b"] = lin.bias.detach().numpy().astype(np.float32)
            first_scale = 1.0
        for i, name in enumerate(names):
            lin = outs[f"t{i}"]
            arrays[f"{name}.W"] = (lin.weight.detach().numpy().T * first_scale).astype(np.float32)
            arrays[f"{name}.b"] = lin.bias.detach().numpy().astype(np.float32)
        return arrays

    # ------------------------------------------------------------------ inference (numpy)

    def _check_fitted(self) -> None:
        if not self.classes_:
            raise HeadError("this AttributeClassifier is not fitted; call fit() or load() first")

    def _attribute(self, attribute: str) -> str:
        self._check_fitted()
        if attribute not in self.classes_:
            raise unknown_name("attribute", attribute, list(self.classes_))
        return attribute

    def _logits(self, X: np.ndarray, attribute: str) -> np.ndarray:
        h = X
        if "hidden.W" in self._arrays:
            h = np.maximum(X @ self._arrays["hidden.W"] + self._arrays["hidden.b"], 0.0)
        return h @ self._arrays[f"{attribute}.W"] + self._arrays[f"{attribute}.b"]

    def predict_proba(
        self, X: np.ndarray, attribute: str, *, calibrated: bool = True
    ) -> tuple[np.ndarray, list[str]]:
        """Class probabilities (n, C) of one attribute, and the class names of the columns.

        >>> X = np.eye(2, dtype=np.float32).repeat(10, axis=0)
        >>> clf = AttributeClassifier(calibration=0).fit(X, {"g": ["Men"] * 10 + ["Women"] * 10})
        >>> proba, classes = clf.predict_proba(X[:1], "g"); classes
        ['Men', 'Women']
        """
        attribute = self._attribute(attribute)
        X = check_matrix(X, dim=self.dim_)
        logits = self._logits(X, attribute)
        if calibrated:
            logits = logits / self.temperatures_.get(attribute, 1.0)
        return softmax(logits.astype(np.float64)).astype(np.float32), list(self.classes_[attribute])

    def predict(
        self, X: np.ndarray, attributes: Sequence[str] | None = None
    ) -> dict[str, list[tuple[str, float]]]:
        """Top class and its calibrated probability per row, for each attribute.

        Returns e.g. ``{"article_type": [("Jeans", 0.92), ...], ...}``; a single 1-D vector
        is treated as one row.
        """
        self._check_fitted()
        X = np.atleast_2d(np.asarray(X, dtype=np.float32))
        out: dict[str, list[tuple[str, float]]] = {}
        for name in attributes if attributes is not None else list(self.classes_):
            proba, classes = self.predict_proba(X, name)
            top = proba.argmax(axis=1)
            conf = proba[np.arange(len(X)), top]
            out[name] = [(classes[j], float(p)) for j, p in zip(top, conf, strict=True)]
        return out

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        """Write attributes.npz (weights) and attributes.json (classes, temperatures, config)."""
        self._check_fitted()
        return save_artifact(
            directory,
            STEM,
            kind=KIND,
            version=FORMAT_VERSION,
            arrays=self._arrays,
            meta={
                "dim": self.dim_,
                "config": {
                    "hidden": self.hidden,
                    "epochs": self.epochs,
                    "batch_size": self.batch_size,
                    "lr": self.lr,
                    "weight_decay": self.weight_decay,
                    "dropout": self.dropout,
                    "calibration": self.calibration,
                    "min_count": self.min_count,
                },
                "classes": self.classes_,
                "temperatures": self.temperatures_,
                "info": self.info_,
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> AttributeClassifier:
        """Read a classifier written by save(); never unpickles anything."""
        meta, arrays = read_artifact(
            directory, STEM, kind=KIND, version=FORMAT_VERSION, what="AttributeClassifier"
        )
        clf = cls(**meta["config"])
        clf.classes_ = {k: list(v) for k, v in meta["classes"].items()}
        clf.temperatures_ = {k: float(v) for k, v in meta["temperatures"].items()}
        clf.info_ = meta.get("info", {})
        clf.dim_ = int(meta["dim"])
        clf._arrays = arrays
        for name, classes in clf.classes_.items():
            w = clf._arrays.get(f"{name}.W")
            if w is None or w.shape[1] != len(classes):
                raise HeadError(f"{directory}: weights of {name!r} do not match its classes")
        return clf


def evaluate_classifier(
    X: np.ndarray,
    labels: Mapping[str, Sequence[str | None]],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    group: Sequence[Any] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Split rows (by product / `group`), fit on train, score every attribute on test.

    Per attribute: accuracy, macro precision/recall/F1 (sklearn, over classes seen in test or
    predicted), ECE before and after temperature scaling, n_train, n_test, classes. `params` go
    to AttributeClassifier.

    >>> rng = np.random.default_rng(0); X = rng.normal(size=(300, 8)).astype(np.float32)
    >>> rep = evaluate_classifier(X, {"a": np.where(X[:, 1] > 0, "x", "y")}, epochs=20)
    >>> rep["attributes"]["a"]["accuracy"] > 0.9
    True
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    X = check_matrix(X)
    tasks = check_tasks(labels, len(X))
    train, test = split_by_product(len(X), test_size=test_size, seed=seed, group=group)
    clf = AttributeClassifier(**params).fit(X[train], {k: v[train] for k, v in tasks.items()})
    report: dict[str, Any] = {
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "train_seconds": clf.info_["train_seconds"],
        "temperatures": dict(clf.temperatures_),
        "attributes": {},
    }
    for name, values in tasks.items():
        rows = test[values[test] != ""]
        y_true = values[rows].astype(str)
        entry: dict[str, Any] = {
            "n_train": int((values[train] != "").sum()),
            "n_test": int(len(rows)),
            "classes": clf.classes_[name],
            "unseen_in_train": sorted(set(y_true) - set(clf.classes_[name])),
        }
        if len(rows):
            proba, classes = clf.predict_proba(X[rows], name)
            raw, _ = clf.predict_proba(X[rows], name, calibrated=False)
            y_pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
            correct = y_pred == y_true
            p, r, f, _ = precision_recall_fscore_support(
                y_true, y_pred, average="macro", zero_division=0
            )
            entry.update(
                accuracy=float(accuracy_score(y_true, y_pred)),
                macro_precision=float(p),
                macro_recall=float(r),
                macro_f1=float(f),
                ece=expected_calibration_error(proba.max(axis=1), correct),
                ece_uncalibrated=expected_calibration_error(raw.max(axis=1), correct),
                temperature=clf.temperatures_[name],
            )
        report["attributes"][name] = entry
    return report
