"""Shared plumbing of the trained heads: input checks, label encoding, splits, numpy maths,
saving plain arrays, and the seeded torch training loop (torch is imported only to train)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionrec._io import atomic_write_bytes, atomic_write_json
from fashionrec.errors import FashionRecError, suggest

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class HeadError(FashionRecError, ValueError):
    """A head got bad inputs or options, or its saved directory cannot be read."""


# ---------------------------------------------------------------------------- inputs


def check_matrix(X: Any, *, dim: int | None = None, name: str = "X") -> np.ndarray:
    """Return `X` as a C-contiguous float32 (n, d) array, or raise HeadError.

    >>> check_matrix([[1, 0]]).dtype
    dtype('float32')
    """
    arr = np.ascontiguousarray(X, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise HeadError(f"{name} must be a non-empty 2-D array (rows, dim), got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise HeadError(f"{name} has {arr.shape[1]} columns; this head was trained on {dim}")
    if not np.isfinite(arr).all():
        raise HeadError(f"{name} holds NaN or infinite values")
    return arr


def clean_labels(values: Sequence[Any], n: int, *, name: str) -> np.ndarray:
    """Labels as an object array of str, "" where missing (None, NaN, "").

    >>> clean_labels(["a", None, float("nan")], 3, name="t").tolist()
    ['a', '', '']
    """
    arr = np.asarray(values, dtype=object).reshape(-1)
    if len(arr) != n:
        raise HeadError(f"labels {name!r} have {len(arr)} values for {n} rows")
    return np.array(["" if v is None or v != v else str(v) for v in arr], dtype=object)


def encode_labels(
    labels: np.ndarray, classes: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 = missing or unknown class) and the sorted class list.

    >>> encode_labels(np.array(["b", "", "a"], dtype=object))
    (array([ 1, -1,  0]), ['a', 'b'])
    """
    if classes is None:
        classes = sorted({v for v in labels if v != ""})
    lookup = {c: i for i, c in enumerate(classes)}
    codes = np.array([lookup.get(v, -1) for v in labels], dtype=np.int64)
    return codes, list(classes)


def check_tasks(labels: Mapping[str, Sequence[Any]], n: int) -> dict[str, np.ndarray]:
    """Clean every label column; refuse an empty mapping or a column without any label."""
    if not labels:
        raise HeadError("labels must name at least one attribute, e.g. {'article_type': [...]}")
    out = {}
    for name, values in labels.items():
        out[str(name)] = clean_labels(values, n, name=str(name))
        if not (out[str(name)] != "").any():
            raise HeadError(f"labels {name!r} are all missing")
    return out


def unknown_name(kind: str, value: str, choices: Sequence[str]) -> HeadError:
    """A HeadError naming the bad value, a close match and the valid choices."""
    return HeadError(
        f"unknown {kind} {value!r}.{suggest(value, choices)} Valid: {', '.join(choices)}"
    )


# ---------------------------------------------------------------------------- splits


def split_by_product(
    n: int, *, test_size: float = 0.2, seed: int = 0, group: Sequence[Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of row indices into (train, test), both sorted.

    With `group` (one value per row, e.g. a product code), all rows of a group land on the same
    side, and about `test_size` of the rows go to test.

    >>> train, test = split_by_product(10, test_size=0.2, seed=0)
    >>> len(train), len(test)
    (8, 2)
    """
    if not 0.0 < test_size < 1.0:
        raise HeadError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    rng = np.random.default_rng(seed)
    if group is None:
        n_test = int(round(n * test_size))
        if n_test < 1 or n_test >= n:
            raise HeadError(f"cannot split {n} rows with test_size={test_size}")
        order = rng.permutation(n)
        test = np.sort(order[:n_test])
    else:
        keys = np.asarray(group, dtype=object).reshape(-1)
        if len(keys) != n:
            raise HeadError(f"group has {len(keys)} values for {n} rows")
        _, inverse, counts = np.unique(keys.astype(str), return_inverse=True, return_counts=True)
        perm = rng.permutation(len(counts))
        # Take whole groups in random order until the test side holds test_size of the rows.
        cum = np.cumsum(counts[perm])
        n_groups = int(np.searchsorted(cum, n * test_size)) + 1
        if n_groups >= len(counts):
            raise HeadError(f"cannot split {len(counts)} groups with test_size={test_size}")
        test = np.flatnonzero(np.isin(inverse, perm[:n_groups]))
    train = np.setdiff1d(np.arange(n), test)
    return train, test


# ---------------------------------------------------------------------------- numpy maths


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable.

    >>> softmax(np.zeros((1, 4))).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def fit_temperature(logits: np.ndarray, codes: np.ndarray) -> float:
    """Temperature T minimising the NLL of softmax(logits / T) (golden-section on log T).

    >>> rng = np.random.default_rng(0); y = rng.integers(0, 3, 500)
    >>> logits = np.eye(3)[y] * 10.0  # always right but far too confident on flips below
    >>> y[:100] = (y[:100] + 1) % 3
    >>> 2.0 < fit_temperature(logits, y) < 20.0
    True
    """
    keep = codes >= 0
    logits, codes = logits[keep].astype(np.float64), codes[keep]
    if len(codes) == 0 or logits.shape[1] < 2:
        return 1.0

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float((lse - z[np.arange(len(codes)), codes]).mean())

    lo, hi = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15
) -> float:
    """ECE: mean |accuracy - confidence| over equal-width confidence bins, weighted by size.

    >>> expected_calibration_error(np.array([0.9, 0.9]), np.array([True, False]))
    0.4
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if len(confidence) == 0:
        return float("nan")
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        rows = bins == b
        total += rows.sum() * abs(correct[rows].mean() - confidence[rows].mean())
    return round(float(total / len(confidence)), 12)


# ---------------------------------------------------------------------------- saving


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write plain arrays atomically as .npz (no pickled objects)."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(path, buf.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an .npz written by save_npz, refusing pickled content."""
    if not path.exists():
        raise HeadError(f"{path} is missing: not a saved head directory")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def save_artifact(
    directory: str | Path,
    name: str,
    *,
    kind: str,
    version: int,
    arrays: Mapping[str, np.ndarray],
    meta: Mapping[str, Any],
) -> Path:
    """Write `name`.npz (arrays) and `name`.json ({"kind", "format_version", **meta})."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_npz(directory / f"{name}.npz", arrays)
    atomic_write_json(directory / f"{name}.json", {"kind": kind, "format_version": version, **meta})
    return directory


def read_artifact(
    directory: str | Path, name: str, *, kind: str, version: int, what: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read what save_artifact wrote, checking kind and version; never unpickles anything."""
    meta_path = Path(directory) / f"{name}.json"
    if not meta_path.exists():
        raise HeadError(f"{meta_path} is missing: not a saved {what} directory")
    meta = json.loads(meta_path.read_text())
    if meta.get("kind") != kind or meta.get("format_version", 0) > version:
        raise HeadError(f"{meta_path} is not a readable {what} (kind/version)")
    return meta, load_npz(Path(directory) / f"{name}.npz")


# ---------------------------------------------------------------------------- torch training


def seed_torch(seed: int) -> None:
    """Seed torch's CPU generator so initialisation and dropout repeat exactly."""
    import torch

    torch.manual_seed(seed)


def iterate_batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Row indices of one epoch in seeded random order, in batches."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train_loop(
    params: Sequence[torch.nn.Parameter],
    batch_loss: Callable[[np.ndarray], torch.Tensor],
    *,
    n: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    time_limit: float | None = None,
    min_steps: int = 500,
    threads: int | None = None,
    label: str = "head",
) -> dict[str, Any]:
    """Mini-batch AdamW with a cosine learning-rate decay; returns training info.

    `batch_loss(rows)` computes the loss on those rows (and sets train mode itself). Small
    sets get more epochs, up to `min_steps` optimiser steps, so they are not under-trained.
    `threads` defaults to 1: these mini-batch GEMMs gain little from a second core, and on a
    machine busy with other work torch's spinning threads made training 10x slower (measured:
    30 epochs on 44k rows took 13 min on 2 contended threads, under a minute on 1).
    """
    import torch

    if epochs < 1 or batch_size < 1:
        raise HeadError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads or 1)
    try:
        return _run(
            params,
            batch_loss,
            n,
            epochs,
            batch_size,
            lr,
            weight_decay,
            seed,
            time_limit,
            min_steps,
            label,
        )
    finally:
        torch.set_num_threads(previous_threads)


def _run(
    params: Sequence[torch.nn.Parameter],
    batch_loss: Callable[[np.ndarray], torch.Tensor],
    n: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    time_limit: float | None,
    min_steps: int,
    label: str,
) -> dict[str, Any]:
    import torch

    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    per_epoch = -(-n // batch_size)
    epochs = max(epochs, -(-min_steps // per_epoch))
    steps = epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1.0 + np.cos(np.pi * min(s, steps) / steps))
    )
    start = time.perf_counter()
    losses: list[float] = []
    done = 0
    for epoch in range(epochs):
        total, count = 0.0, 0
        for rows in iterate_batches(n, batch_size, rng):
            loss = batch_loss(rows)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(rows)
            count += len(rows)
        losses.append(total / count)
        done = epoch + 1
        log.debug("%s epoch %d/%d loss %.4f", label, done, epochs, losses[-1])
        if time_limit is not None and time.perf_counter() - start > time_limit:
            log.warning("%s: stopped after %d epochs (time limit %.0f s)", label, done, time_limit)
            break
    log.info(
        "%s: %d epochs in %.1f s, final loss %.4f",
        label,
        done,
        time.perf_counter() - start,
        losses[-1],
    )
    return {
        "epochs": done,
        "train_seconds": round(time.perf_counter() - start, 2),
        "final_loss": round(losses[-1], 6),
        "loss_per_epoch": [round(v, 6) for v in losses],
    }
