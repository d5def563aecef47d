"""Name a garment's colour in the catalog's own words (its baseColour values).

:class:`ColourNamer` is a multinomial logistic regression on :func:`colour_descriptor`
vectors: fitted with scikit-learn, run with numpy, saved as a folder holding ``weights.npz``
(plain arrays) and ``manifest.json`` (classes, descriptor version, training counts).
:func:`colour_groups` reads the near-colour groups shipped in ``fashionrec/data``, so "Navy
Blue" may count as a match for "Blue".

Example::

    namer = ColourNamer().fit(descriptors, base_colours)
    namer.predict(colour_descriptor(photo))   # [('Navy Blue', 0.62)]
    same_group("Navy Blue", "Blue")           # True
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from fashionrec.errors import ConfigError, IndexStoreError, suggest

from .extract import DESCRIPTOR_DIM, DESCRIPTOR_VERSION, colour_descriptor

log = logging.getLogger(__name__)

#: Labels that carry no colour and are never learned.
NO_COLOUR = frozenset({"", "NA", "N/A", "nan", "None"})
_MANIFEST = "manifest.json"
_WEIGHTS = "weights.npz"


def _read_groups(path: Path | None) -> dict[str, str]:
    if path is None:
        text = resources.files("fashionrec").joinpath("data/colour_groups.csv").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or not {"colour", "group"} <= set(rows[0]):
        raise ConfigError(f"colour groups file {path or 'colour_groups.csv'} needs colour,group")
    return {r["colour"].strip(): r["group"].strip() for r in rows if r["colour"].strip()}


@lru_cache(maxsize=8)
def _cached_groups(path: str | None) -> tuple[tuple[str, str], ...]:
    return tuple(_read_groups(Path(path) if path else None).items())


def colour_groups(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Catalog colour name -> near-colour group (the repo's ``data/colour_groups.csv``).

    Example:
        >>> colour_groups()["Navy Blue"]
        'Blue'
    """
    return dict(_cached_groups(os.fspath(path) if path is not None else None))


def same_group(a: str, b: str, groups: dict[str, str] | None = None) -> bool:
    """True when two colour names are equal or in the same near-colour group.

    Names not in the groups only match themselves.

    Example:
        >>> same_group("Maroon", "Burgundy"), same_group("Red", "Blue")
        (True, False)
    """
    if a == b:
        return True
    groups = colour_groups() if groups is None else groups
    ga, gb = groups.get(a), groups.get(b)
    return ga is not None and ga == gb


class ColourNamer:
    """Multinomial logistic regression from colour descriptors to catalog colour names.

    ``C`` is the inverse regularisation strength; classes with fewer than ``min_count``
    examples are left out (too few to learn, and a shopper rarely asks for them).
    """

    def __init__(self, *, C: float = 10.0, min_count: int = 5, max_iter: int = 500) -> None:
        self.C = C
        self.min_count = min_count
        self.max_iter = max_iter

    def fit(self, descriptors: np.ndarray, labels: Sequence[str]) -> ColourNamer:
        """Learn the weights from (n, d) descriptors and their n colour names; returns self."""
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(descriptors, dtype=np.float32)
        if x.ndim != 2 or len(x) != len(labels):
            raise ConfigError(f"need (n, d) descriptors and n labels, got {x.shape}/{len(labels)}")
        labels = [str(v).strip() for v in labels]
        counts = Counter(v for v in labels if v not in NO_COLOUR)
        keep_names = sorted(c for c, n in counts.items() if n >= self.min_count)
        if len(keep_names) < 2:
            raise ConfigError(f"need >= 2 colours with >= {self.min_count} examples: {counts}")
        keep = np.array([v in set(keep_names) for v in labels])
        dropped = {c: n for c, n in counts.items() if c not in keep_names}
        if dropped:
            log.info("colours left out (< %d examples): %s", self.min_count, dropped)
        y = np.array(labels, dtype=object)[keep]
        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.fit(x[keep], y)
        self.classes_ = [str(c) for c in model.classes_]
        self.coef_ = model.coef_.astype(np.float32)
        self.intercept_ = model.intercept_.astype(np.float32)
        self.counts_ = {c: int(counts[c]) for c in self.classes_}
        log.info("fitted colour namer: %d colours on %d photos", len(self.classes_), keep.sum())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ConfigError("ColourNamer is not fitted; call fit() or ColourNamer.load()")

    def predict_proba(self, descriptors: np.ndarray) -> np.ndarray:
        """(n, n_classes) probabilities (one descriptor -> (1, n_classes)); numpy only."""
        self._check_fitted()
        x = np.atleast_2d(np.asarray(descriptors, dtype=np.float32))
        if x.shape[1] != self.coef_.shape[1]:
            raise ConfigError(f"descriptors have {x.shape[1]} dims, expected {self.coef_.shape[1]}")
        z = x @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, descriptors: np.ndarray) -> list[tuple[str, float]]:
        """The most likely colour name and its probability, one pair per descriptor."""
        p = self.predict_proba(descriptors)
        best = p.argmax(axis=1)
        return [(self.classes_[j], float(p[i, j])) for i, j in enumerate(best)]

    def top(self, descriptor: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely colour names of one descriptor, most likely first."""
        p = self.predict_proba(descriptor)[0]
        return [(self.classes_[j], float(p[j])) for j in np.argsort(-p, kind="stable")[:k]]

    def name(self, img: Image.Image, *, background: str = "auto") -> tuple[str, float]:
        """Colour name and probability of the garment in one photo."""
        return self.predict(colour_descriptor(img, background=background))[0]

    def group_proba(
        self, descriptors: np.ndarray, groups: dict[str, str] | None = None
    ) -> dict[str, np.ndarray]:
        """Probabilities summed per near-colour group: {group: (n,) array}."""
        groups = colour_groups() if groups is None else groups
        p = self.predict_proba(descriptors)
        out: dict[str, np.ndarray] = {}
        for j, c in enumerate(self.classes_):
            g = groups.get(c, c)
            out[g] = out.get(g, 0) + p[:, j]
        return out

    def index_of(self, name: str) -> int:
        """Column of a colour name in :meth:`predict_proba`, with a hint when unknown."""
        self._check_fitted()
        if name not in self.classes_:
            raise ConfigError(
                f"unknown colour {name!r}{suggest(name, self.classes_)} known: {self.classes_}"
            )
        return self.classes_.index(name)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``weights.npz`` and ``manifest.json`` into the folder ``path``."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / _WEIGHTS, coef=self.coef_, intercept=self.intercept_)
        manifest = {
            "kind": "colour-namer",
            "descriptor": DESCRIPTOR_VERSION,
            "dim": int(self.coef_.shape[1]),
            "classes": self.classes_,
            "counts": self.counts_,
            "params": {"C": self.C, "min_count": self.min_count, "max_iter": self.max_iter},
        }
        (folder / _MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ColourNamer:
        """Read a folder written by :meth:`save`; refuses another descriptor layout."""
        folder = Path(path)
        try:
            manifest = json.loads((folder / _MANIFEST).read_text("utf-8"))
            with np.load(folder / _WEIGHTS, allow_pickle=False) as z:
                coef, intercept = z["coef"], z["intercept"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexStoreError(f"cannot read colour namer at {folder}: {exc}") from exc
        if manifest.get("descriptor") != DESCRIPTOR_VERSION or coef.shape[1] != DESCRIPTOR_DIM:
            raise IndexStoreError(
                f"colour namer at {folder} uses descriptor {manifest.get('descriptor')!r}, "
                f"this version reads {DESCRIPTOR_VERSION!r}"
            )
        classes = list(manifest["classes"])
        if coef.shape[0] != len(classes) or intercept.shape != (len(classes),):
            raise IndexStoreError(f"colour namer at {folder}: weights do not match its classes")
        namer = cls(**manifest.get("params", {}))
        namer.classes_, namer.coef_, namer.intercept_ = classes, coef, intercept
        namer.counts_ = dict(manifest.get("counts", {}))
        return namer


def group_accuracy(
    predicted: Iterable[str], truth: Iterable[str], groups: dict[str, str] | None = None
) -> float:
    """Share of predictions equal to, or in the same near-colour group as, the truth."""
    pairs = list(zip(predicted, truth, strict=True))
    if not pairs:
        return float("nan")
    groups = colour_groups() if groups is None else groups
    return sum(same_group(p, t, groups) for p, t in pairs) / len(pairs)
