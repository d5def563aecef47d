"""Retrieval head: a 2-layer MLP over frozen embeddings, trained so neighbours share labels.

Loss: cosine softmax over learned class prototypes (normalised-softmax / proxy loss), one set of
prototypes per task, weighted across tasks; or supervised contrastive inside each batch.
Training uses torch (CPU); `transform` is pure numpy.
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
    clean_labels,
    encode_labels,
    l2_normalize,
    read_artifact,
    save_artifact,
    seed_torch,
    train_loop,
)

log = logging.getLogger(__name__)

#: Saved as <STEM>.npz (weights) + <STEM>.json (config, classes, info).
STEM = "head"
KIND = "fashionrec.heads.ProjectionHead"
LOSSES = ("proxy", "supcon")


class ProjectionHead:
    """d -> hidden -> out_dim MLP with L2-normalised output, trained on labelled embeddings.

    `labels` may hold several tasks (e.g. article_type and base_colour) mixed by `weights`;
    rows missing a task's label are skipped for that task. `extra` adds rows from another photo
    domain (e.g. shopper photos) that share the tasks' prototypes, weighted by `extra_weight`.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 16)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "Jeans", "Shirts")
    >>> head = ProjectionHead(hidden=32, out_dim=8, epochs=5).fit(X, {"article_type": y})
    >>> head.transform(X).shape
    (120, 8)
    """

    def __init__(
        self,
        *,
        hidden: int = 1024,
        out_dim: int = 256,
        loss: str = "proxy",
        scale: float = 16.0,
        epochs: int = 12,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.1,
        extra_weight: float = 1.0,
    ) -> None:
        self.hidden = hidden
        self.out_dim = out_dim
        self.loss = loss
        self.scale = scale
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.extra_weight = extra_weight
        self.classes_: dict[str, list[str]] = {}
        self.weights_: dict[str, float] = {}
        self.info_: dict[str, Any] = {}
        self.dim_: int = 0
        self._arrays: dict[str, np.ndarray] = {}

    def _config(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "hidden",
                "out_dim",
                "loss",
                "scale",
                "epochs",
                "batch_size",
                "lr",
                "weight_decay",
                "dropout",
                "extra_weight",
            )
        }

    def _check_config(self) -> None:
        if self.loss not in LOSSES:
            raise HeadError(f"unknown loss {self.loss!r}; valid: {', '.join(LOSSES)}")
        if self.hidden < 1 or self.out_dim < 1 or self.scale <= 0 or self.extra_weight < 0:
            raise HeadError(
                "hidden and out_dim must be >= 1, scale > 0, extra_weight >= 0; got "
                f"{self.hidden}, {self.out_dim}, {self.scale}, {self.extra_weight}"
            )

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: np.ndarray,
        labels: Mapping[str, Sequence[Any]],
        *,
        weights: Mapping[str, float] | None = None,
        extra: tuple[np.ndarray, Mapping[str, Sequence[Any]]] | None = None,
        seed: int = 0,
        time_limit: float | None = None,
    ) -> Self:
        """Train the head; returns self. `weights` defaults to 1.0 for every task.

        >>> X = np.eye(4, dtype=np.float32).repeat(5, axis=0)
        >>> head = ProjectionHead(hidden=8, out_dim=4, epochs=2).fit(
        ...     X, {"t": ["a"] * 10 + ["b"] * 10, "c": ["x", None] * 10}, weights={"c": 0.5})
        >>> head.weights_
        {'t': 1.0, 'c': 0.5}
        """
        import torch

        self._check_config()
        X = check_matrix(X)
        n, d = X.shape
        if not labels:
            raise HeadError("labels must name at least one task, e.g. {'article_type': [...]}")
        tasks = {str(k): clean_labels(v, n, name=str(k)) for k, v in labels.items()}
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(tasks))
        if unknown:
            raise HeadError(f"weights name unknown tasks {unknown}; tasks: {sorted(tasks)}")
        self.weights_ = {k: float(weights.get(k, 1.0)) for k in tasks}
        row_w = np.ones(n, np.float32)
        n_extra = 0
        if extra is not None:
            X_extra, extra_labels = extra
            X_extra = check_matrix(X_extra, dim=d, name="extra X")
            n_extra = len(X_extra)
            bad = sorted(set(map(str, extra_labels)) - set(tasks))
            if bad:
                raise HeadError(f"extra labels name unknown tasks {bad}; tasks: {sorted(tasks)}")
            for k in tasks:
                more = extra_labels.get(k)
                more = [None] * n_extra if more is None else more
                tasks[k] = np.concatenate([tasks[k], clean_labels(more, n_extra, name=k)])
            X = np.concatenate([X, X_extra])
            row_w = np.concatenate([row_w, np.full(n_extra, self.extra_weight, np.float32)])
        codes: dict[str, np.ndarray] = {}
        for k, values in tasks.items():
            codes[k], self.classes_[k] = encode_labels(values)
            if not self.classes_[k]:
                raise HeadError(f"labels {k!r} are all missing")

        seed_torch(seed)
        scale_in = float(np.sqrt(d))  # unit-length inputs -> ~unit features; folded on export
        net = torch.nn.Sequential(
            torch.nn.Linear(d, self.hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(self.dropout),
            torch.nn.Linear(self.hidden, self.out_dim),
        )
        protos = torch.nn.ParameterDict(
            {
                f"t{i}": torch.nn.Parameter(torch.randn(len(self.classes_[k]), self.out_dim))
                for i, k in enumerate(tasks)
            }
        )
        names = list(tasks)
        xt = torch.from_numpy(X)
        wt = torch.from_numpy(row_w)
        yt = {k: torch.from_numpy(v) for k, v in codes.items()}
        params = list(net.parameters()) + (
            list(protos.parameters()) if self.loss == "proxy" else []
        )

        def batch_loss(rows: np.ndarray) -> torch.Tensor:
            net.train()
            z = torch.nn.functional.normalize(net(xt[rows] * scale_in), dim=1)
            w = wt[rows]
            total = torch.zeros(())
            for i, name in enumerate(names):
                y = yt[name][rows]
                keep = (y >= 0) & (w > 0)
                if int(keep.sum()) < 2:
                    continue
                if self.loss == "proxy":
                    p = torch.nn.functional.normalize(protos[f"t{i}"], dim=1)
                    ce = torch.nn.functional.cross_entropy(
                        self.scale * z[keep] @ p.T, y[keep], reduction="none"
                    )
                else:
                    ce = _supcon(z[keep], y[keep], self.scale)
                wk = w[keep]
                total = total + self.weights_[name] * (ce * wk).sum() / wk.sum().clamp_min(1e-8)
            return total

        info = train_loop(
            params,
            batch_loss,
            n=len(X),
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            seed=seed,
            time_limit=time_limit,
            label="projection",
        )
        first, second = net[0], net[3]
        self._arrays = {
            "W1": (first.weight.detach().numpy().T * scale_in).astype(np.float32),
            "b1": first.bias.detach().numpy().astype(np.float32),
            "W2": second.weight.detach().numpy().T.astype(np.float32),
            "b2": second.bias.detach().numpy().astype(np.float32),
        }
        if self.loss == "proxy":
            for i, name in enumerate(names):
                p = protos[f"t{i}"].detach().numpy().astype(np.float32)
                self._arrays[f"prototypes.{name}"] = l2_normalize(p)
        self.dim_ = d
        self.info_ = {
            **info,
            "seed": seed,
            "n_rows": int(n),
            "n_extra": int(n_extra),
            "tasks": {k: len(v) for k, v in self.classes_.items()},
            "weights": self.weights_,
            "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        log.info("projection head trained in %.1f s", info["train_seconds"])
        return self

    # ------------------------------------------------------------------ inference (numpy)

    def transform(self, X: np.ndarray, *, chunk: int = 8192) -> np.ndarray:
        """Project embeddings to (n, out_dim) float32 unit vectors; a 1-D vector gives 1-D."""
        if not self._arrays:
            raise HeadError("this ProjectionHead is not fitted; call fit() or load() first")
        single = np.ndim(X) == 1
        X = check_matrix(np.atleast_2d(X), dim=self.dim_)
        a = self._arrays
        out = np.empty((len(X), a["W2"].shape[1]), np.float32)
        for start in range(0, len(X), chunk):
            h = np.maximum(X[start : start + chunk] @ a["W1"] + a["b1"], 0.0)
            out[start : start + chunk] = l2_normalize(h @ a["W2"] + a["b2"])
        return out[0] if single else out

    def prototypes(self, task: str) -> tuple[np.ndarray, list[str]]:
        """Unit prototypes (C, out_dim) of one task and their class names (proxy loss only)."""
        key = f"prototypes.{task}"
        if key not in self._arrays:
            raise HeadError(
                f"no prototypes for {task!r}; tasks with prototypes: "
                + ", ".join(k.split(".", 1)[1] for k in self._arrays if k.startswith("prototypes."))
            )
        return self._arrays[key], list(self.classes_[task])

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        """Write head.npz (weights, prototypes) and head.json (config, classes, training info)."""
        if not self._arrays:
            raise HeadError("this ProjectionHead is not fitted; nothing to save")
        return save_artifact(
            directory,
            STEM,
            kind=KIND,
            version=FORMAT_VERSION,
            arrays=self._arrays,
            meta={
                "dim": self.dim_,
                "config": self._config(),
                "classes": self.classes_,
                "weights": self.weights_,
                "info": self.info_,
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> ProjectionHead:
        """Read a head written by save(); never unpickles anything."""
        meta, arrays = read_artifact(
            directory, STEM, kind=KIND, version=FORMAT_VERSION, what="ProjectionHead"
        )
        head = cls(**meta["config"])
        head.classes_ = {k: list(v) for k, v in meta["classes"].items()}
        head.weights_ = {k: float(v) for k, v in meta["weights"].items()}
        head.info_ = meta.get("info", {})
        head.dim_ = int(meta["dim"])
        head._arrays = arrays
        if head._arrays.get("W1", np.empty((0, 0))).shape[0] != head.dim_:
            raise HeadError(f"{directory}: weights do not match dim {head.dim_}")
        return head


def _supcon(z: Any, y: Any, scale: float) -> Any:
    """Supervised contrastive loss per anchor (Khosla et al.); anchors without positives: 0."""
    import torch

    sim = scale * z @ z.T
    eye = torch.eye(len(y), dtype=torch.bool)
    sim = sim.masked_fill(eye, -1e9)
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (y[:, None] == y[None, :]) & ~eye
    n_pos = pos.sum(dim=1)
    loss = -(log_prob * pos).sum(dim=1) / n_pos.clamp_min(1)
    return torch.where(n_pos > 0, loss, torch.zeros_like(loss))
