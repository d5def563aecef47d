"""Two-part retrieval head: [type part ; w * colour part], so neighbours share type AND colour.

The type part is the article-type ProjectionHead (#3); the colour part is a small
ProjectionHead trained on base colour, from the backbone vector and (optionally) the 77-d
colour descriptor of the garment. Both parts are unit vectors, so the cosine of two outputs is
(type cosine + w^2 * colour cosine) / (1 + w^2): w is the blend, chosen by measurement
(benchmarks/colour_head.py), and can be changed after training without retraining.

Measured, not served yet: with the descriptor it ranks colour best (80/20 split, type+colour
P@10 0.399 at w = 0.75, shopper photos colour group 0.424 vs 0.387), but it needs each query's
descriptor, which the index update and photo paths do not pass to a projection today.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from fashionrec._io import atomic_write_json
from fashionrec.heads._train import HeadError, check_matrix, clean_labels
from fashionrec.heads.projection import ProjectionHead

log = logging.getLogger(__name__)

KIND = "fashionrec.heads.ColourHead"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class ColourHead:
    """Embeds backbone vectors (and colour descriptors) as [type ; w * colour], unit length.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 16)).astype(np.float32)
    >>> D = np.abs(rng.normal(size=(200, 8))).astype(np.float32)
    >>> types = np.where(X[:, 0] > 0, "Jeans", "Shirts")
    >>> colours = np.where(D[:, 0] > D[:, 1], "Red", "Blue")
    >>> head = ColourHead(type_hidden=32, type_dim=8, colour_hidden=16, colour_dim=4,
    ...                   epochs=3).fit(X, types, colours, D)
    >>> head.transform(X, D).shape
    (200, 12)
    """

    def __init__(
        self,
        *,
        weight: float = 1.0,
        descriptor: bool = True,
        joint: bool = True,
        type_joint: float = 0.0,
        descriptor_scale: float = 1.0,
        type_hidden: int = 1024,
        type_dim: int = 256,
        colour_hidden: int = 256,
        colour_dim: int = 32,
        epochs: int = 12,
    ) -> None:
        self.weight = weight
        self.descriptor = descriptor
        self.joint = joint
        self.type_joint = type_joint
        self.descriptor_scale = descriptor_scale
        self.type_hidden = type_hidden
        self.type_dim = type_dim
        self.colour_hidden = colour_hidden
        self.colour_dim = colour_dim
        self.epochs = epochs
        self.type_head: ProjectionHead | None = None
        self.colour_head: ProjectionHead | None = None
        self.info_: dict[str, Any] = {}

    def _config(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "weight",
                "descriptor",
                "joint",
                "type_joint",
                "descriptor_scale",
                "type_hidden",
                "type_dim",
                "colour_hidden",
                "colour_dim",
                "epochs",
            )
        }

    @property
    def out_dim(self) -> int:
        return self.type_dim + self.colour_dim

    @property
    def needs_descriptor(self) -> bool:
        """True when transform() needs the colour descriptor of each row."""
        return bool(self.descriptor)

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: np.ndarray,
        types: Sequence[Any],
        colours: Sequence[Any],
        descriptors: np.ndarray | None = None,
        *,
        seed: int = 0,
    ) -> Self:
        """Train both parts (type on `types`, colour on `colours`); returns self."""
        t0 = time.perf_counter()
        X = check_matrix(X)
        typ = clean_labels(types, len(X), name="article_type")
        labels, weights = {"article_type": typ}, {"article_type": 1.0}
        if self.type_joint > 0:
            col = clean_labels(colours, len(X), name="base_colour")
            labels["type|colour"] = composite(typ, col)
            weights["type|colour"] = float(self.type_joint)
        self.type_head = ProjectionHead(
            hidden=self.type_hidden, out_dim=self.type_dim, epochs=self.epochs
        ).fit(X, labels, weights=weights, seed=seed)
        self.fit_colour(X, colours, descriptors, types=types, seed=seed)
        self.info_["train_seconds"] = round(time.perf_counter() - t0, 2)
        log.info("colour head (both parts) trained in %.1f s", self.info_["train_seconds"])
        return self

    def fit_colour(
        self,
        X: np.ndarray,
        colours: Sequence[Any],
        descriptors: np.ndarray | None = None,
        *,
        types: Sequence[Any] | None = None,
        seed: int = 0,
    ) -> Self:
        """Train the colour part only (the type part may be set from an existing head).

        With `joint`, the colour part learns "articleType|baseColour" classes (plus base colour
        at half weight): two garments then look alike in it only when type AND colour agree,
        so a red bag does not pull towards a red dress.
        """
        X = check_matrix(X)
        inputs = self._colour_input(X, descriptors)
        col = clean_labels(colours, len(X), name="base_colour")
        labels, weights = {"base_colour": col}, {"base_colour": 1.0}
        if self.joint:
            if types is None:
                raise HeadError("a joint colour part needs the article types too")
            typ = clean_labels(types, len(X), name="article_type")
            labels = {"type|colour": composite(typ, col), "base_colour": col}
            weights = {"type|colour": 1.0, "base_colour": 0.5}
        self.colour_head = ProjectionHead(
            hidden=self.colour_hidden, out_dim=self.colour_dim, epochs=self.epochs
        ).fit(inputs, labels, weights=weights, seed=seed)
        self.info_ = {
            "seed": seed,
            "n_rows": len(X),
            "colour_train_seconds": self.colour_head.info_.get("train_seconds"),
            "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        return self

    def _colour_input(self, X: np.ndarray, descriptors: np.ndarray | None) -> np.ndarray:
        if not self.descriptor:
            return X
        if descriptors is None:
            raise HeadError(
                "this ColourHead reads colour descriptors: pass one 77-d descriptor per row "
                "(fashionrec.colour.colour_descriptor)"
            )
        D = check_matrix(descriptors, name="descriptors")
        if len(D) != len(X):
            raise HeadError(f"{len(D)} descriptors for {len(X)} vectors")
        return np.hstack([X, np.float32(self.descriptor_scale) * D])

    # ------------------------------------------------------------------ inference (numpy)

    def transform(self, X: np.ndarray, descriptors: np.ndarray | None = None) -> np.ndarray:
        """(n, type_dim + colour_dim) unit vectors; a 1-D vector (and descriptor) gives 1-D."""
        if self.type_head is None or self.colour_head is None:
            raise HeadError("this ColourHead is not fitted; call fit() or load() first")
        single = np.ndim(X) == 1
        X = check_matrix(np.atleast_2d(X), dim=self.type_head.dim_)
        if descriptors is not None:
            descriptors = np.atleast_2d(descriptors)
        t = self.type_head.transform(X)
        c = self.colour_head.transform(self._colour_input(X, descriptors))
        # both parts are unit vectors: the joint norm is sqrt(1 + w^2)
        out = np.hstack([t, np.float32(self.weight) * c]) / np.float32(np.hypot(1.0, self.weight))
        out = out.astype(np.float32)
        return out[0] if single else out

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        """Write manifest.json plus type/ and colour/ (plain arrays, as ProjectionHead)."""
        if self.type_head is None or self.colour_head is None:
            raise HeadError("this ColourHead is not fitted; nothing to save")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.type_head.save(directory / "type")
        self.colour_head.save(directory / "colour")
        atomic_write_json(
            directory / MANIFEST,
            {
                "kind": KIND,
                "format_version": FORMAT_VERSION,
                "dim": self.type_head.dim_,
                "out_dim": self.out_dim,
                "config": self._config(),
                "info": self.info_,
            },
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ColourHead:
        """Read a head written by save(); never unpickles anything."""
        path = Path(directory) / MANIFEST
        if not path.exists():
            raise HeadError(f"{path} is missing: not a saved ColourHead directory")
        meta = json.loads(path.read_text())
        if meta.get("kind") != KIND or meta.get("format_version", 0) > FORMAT_VERSION:
            raise HeadError(f"{path} is not a readable ColourHead (kind/version)")
        head = cls(**meta["config"])
        head.info_ = meta.get("info", {})
        head.type_head = ProjectionHead.load(Path(directory) / "type")
        head.colour_head = ProjectionHead.load(Path(directory) / "colour")
        return head


def composite(types: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """ "articleType|baseColour" class per row, "" where either is missing.

    >>> composite(np.array(["Jeans", ""], object), np.array(["Blue", "Red"], object)).tolist()
    ['Jeans|Blue', '']
    """
    both = (types != "") & (colours != "")
    return np.where(both, types.astype(object) + "|" + colours.astype(object), "").astype(object)
