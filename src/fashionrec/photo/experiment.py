"""Shopper-photo experiments: cached features, out-of-fold gate training, gated retrieval.

Used by ``benchmarks/shopper_photos.py``; nothing here runs a search through the recommender,
it scores index-space vectors against the catalog matrix directly (exact cosine, as the index).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fashionrec._io import atomic_write_bytes
from fashionrec.embed.preprocess import load_source, preprocess_batch
from fashionrec.eval.photos import photo_paths, read_label_map, read_labels
from fashionrec.photo.crop import crop_photo

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path("/tmp/shopper_cache")


@dataclass
class DevPhotos:
    """The labelled shopper photos: paths, labels and the label -> article types map."""

    images: list[str]
    paths: list[Path]
    labels: np.ndarray  # object array of label strings
    label_map: dict[str, set[str]]

    @classmethod
    def load(cls, root: str | Path) -> DevPhotos:
        root = Path(root)
        labels = read_labels(root / "labels.csv")
        images = sorted(labels)
        return cls(
            images=images,
            paths=photo_paths(root / "images", images),
            labels=np.array([labels[i] for i in images], dtype=object),
            label_map=read_label_map(root / "label_map.csv"),
        )


def cached(name: str, compute: Callable[[], np.ndarray], *, cache: Path = DEFAULT_CACHE):
    """Load `cache/name.npz` or compute, save (atomically, no pickle) and return the array."""
    path = cache / f"{name}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return z["x"]
    x = np.asarray(compute())
    import io

    buf = io.BytesIO()
    np.savez(buf, x=x)
    atomic_write_bytes(path, buf.getvalue())
    return x


def encode_images(
    embedder: Any,
    images: Sequence[Any],
    *,
    transform: Callable[[Image.Image], Image.Image] | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Raw backbone features of images (paths or PIL), each optionally transformed first."""
    out = np.zeros((len(images), embedder.dim), np.float32)
    for start in range(0, len(images), batch_size):
        chunk = [load_source(s) for s in images[start : start + batch_size]]
        if transform is not None:
            chunk = [transform(im) for im in chunk]
        batch = preprocess_batch(chunk, embedder.preprocess_cfg)
        out[start : start + len(chunk)] = embedder.encode_batch(batch)
        if start // batch_size % 10 == 0:
            log.info("encoded %d/%d", start + len(chunk), len(images))
    return out


def dev_features(
    embedder: Any,
    dev: DevPhotos,
    *,
    crop: str = "none",
    fraction: float = 0.8,
    cache: Path = DEFAULT_CACHE,
) -> np.ndarray:
    """Raw features of the dev photos under one crop setting (cached per backbone and crop)."""
    tag = f"dev_{embedder.name}_{crop}{'' if crop != 'centre' else int(fraction * 100)}"

    def compute() -> np.ndarray:
        def tf(im: Image.Image) -> Image.Image:
            return crop_photo(im, mode=crop, fraction=fraction)

        return encode_images(embedder, dev.paths, transform=tf)

    return cached(tag, compute, cache=cache)


def folds_of(n: int, *, k: int = 5, seed: int = 0) -> np.ndarray:
    """Fold number of each of n items: a seeded permutation cut into k near-equal parts."""
    fold = np.empty(n, np.int64)
    fold[np.random.default_rng(seed).permutation(n)] = np.arange(n) % k
    return fold


def gated_hits(
    queries: np.ndarray,
    catalog: np.ndarray,
    catalog_types: np.ndarray,
    allowed: Sequence[set[str] | None],
    wanted: Sequence[set[str]],
    *,
    k: int = 10,
    chunk: int = 256,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """(n, k) bool: is the i-th gated neighbour of each query of a wanted type?

    `allowed[i]` restricts query i to catalog rows of those types (None: no gate); ranking
    inside the allowed rows stays cosine similarity. `exclude[i]`: a catalog row never
    returned for query i (leave-one-out).
    """
    types, inverse = np.unique(catalog_types.astype(str), return_inverse=True)
    pos = {t: j for j, t in enumerate(types)}
    hits = np.zeros((len(queries), k), bool)
    for start in range(0, len(queries), chunk):
        sims = queries[start : start + chunk] @ catalog.T
        for r in range(len(sims)):
            i = start + r
            row = sims[r]
            if exclude is not None:
                row[exclude[i]] = -np.inf
            if allowed[i] is not None:
                ok = np.zeros(len(types), bool)
                ok[[pos[t] for t in allowed[i] if t in pos]] = True
                row = np.where(ok[inverse], row, -np.inf)
            top = np.argpartition(-row, k - 1)[:k]
            top = top[np.argsort(-row[top], kind="stable")]
            top = top[np.isfinite(row[top])]
            want = np.zeros(len(types), bool)
            want[[pos[t] for t in wanted[i] if t in pos]] = True
            hits[i, : len(top)] = want[inverse[top]]
    return hits


def summarize_hits(hits: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """P@1, P@10, macro P@10 over labels and P@10 per label."""
    per = {str(v): float(hits[labels == v, :10].mean()) for v in sorted(set(labels))}
    return {
        "p@1": float(hits[:, 0].mean()),
        "p@10": float(hits[:, :10].mean()),
        "macro_p@10": float(np.mean(list(per.values()))),
        "per_label": per,
    }


def sample_per_type(types: np.ndarray, *, per_type: int, seed: int = 0) -> np.ndarray:
    """Sorted row numbers: up to `per_type` seeded random rows of each type."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in np.unique(types.astype(str)):
        members = np.flatnonzero(types.astype(str) == t)
        take = min(per_type, len(members))
        rows.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(rows))


def augmented_features(
    embedder: Any,
    image_paths: Sequence[str],
    rows: np.ndarray,
    *,
    seed: int = 0,
    cache: Path = DEFAULT_CACHE,
    tag: str = "aug",
) -> np.ndarray:
    """Raw features of one shopper-style version of each catalog image in `rows` (cached)."""
    from fashionrec.photo.augment import shopper_style

    def compute() -> np.ndarray:
        parts = []
        for start in range(0, len(rows), 256):  # stream: never hold all images at once
            images = [
                shopper_style(
                    load_source(image_paths[int(r)]), np.random.default_rng([seed, int(r)])
                )
                for r in rows[start : start + 256]
            ]
            parts.append(encode_images(embedder, images))
            log.info("augmented + encoded %d/%d", start + len(images), len(rows))
        return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)

    return cached(f"{tag}_{embedder.name}_s{seed}_n{len(rows)}", compute, cache=cache)


def train_gate(
    types: Sequence[str],
    parts: Sequence[tuple[np.ndarray, Sequence[frozenset[int]], float]],
    *,
    hidden: int = 0,
    epochs: int = 20,
    seed: int = 0,
) -> Any:
    """A TypeGate trained on (vectors, target sets, weight per row) parts, concatenated."""
    from fashionrec.photo.gate import TypeGate

    X = np.concatenate([p[0] for p in parts])
    targets = [t for p in parts for t in p[1]]
    weights = np.concatenate([np.full(len(p[0]), p[2], np.float32) for p in parts])
    return TypeGate(list(types), hidden=hidden, epochs=epochs, seed=seed).fit(
        X, targets, weights=weights
    )


def oof_probs(
    types: Sequence[str],
    base: Sequence[tuple[np.ndarray, Sequence[frozenset[int]], float]],
    dev_X: np.ndarray,
    dev_targets: Sequence[frozenset[int]],
    *,
    dev_weight: float,
    folds: int = 5,
    seed: int = 0,
    hidden: int = 0,
    epochs: int = 20,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Out-of-fold calibrated probabilities of the dev photos, fold numbers, temperatures.

    Each fold's gate trains on `base` plus the other folds' photos (none when dev_weight is
    0). The temperature of fold f is fitted on the out-of-fold logits of the other folds
    (cross-fitting), so no photo's probability has seen its own label.
    """
    from fashionrec.photo.gate import _softmax, fit_temperature, set_mask

    fold = folds_of(len(dev_X), k=folds, seed=seed)
    logits = np.zeros((len(dev_X), len(types)), np.float32)
    for f in range(folds if dev_weight > 0 else 1):
        train = np.flatnonzero(fold != f) if dev_weight > 0 else np.array([], np.int64)
        extra = [(dev_X[train], [dev_targets[i] for i in train], dev_weight)] if len(train) else []
        gate = train_gate(types, [*base, *extra], hidden=hidden, epochs=epochs, seed=seed)
        test = fold == f if dev_weight > 0 else np.ones(len(dev_X), bool)
        logits[test] = gate.logits(dev_X[test])
        log.info("fold %d/%d trained", f + 1, folds)
    mask = set_mask(dev_targets, len(types))
    probs = np.zeros_like(logits)
    temps = []
    for f in range(folds):
        test = fold == f
        temps.append(fit_temperature(logits[~test], mask[~test]))
        probs[test] = _softmax(logits[test] / temps[-1])
    return probs, fold, temps
