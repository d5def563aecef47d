"""Resumable catalog embedding: decode in a thread pool while the model runs the previous batch.

Layout of ``work_dir``::

    plan.json            embedder, weights hash, preprocessing, shard size, hash of (paths, keys)
    shards/00000.npz     vectors, keys, failed_keys, failed_reasons (plain arrays, no pickle)

A re-run with the same plan reuses every finished shard, so Ctrl-C or a crash loses at most the
shard in progress. A different plan (other files, order, embedder or shard size) starts over.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fashionrec.embed.encoder import Embedder, ImageProgress
from fashionrec.embed.preprocess import preprocess_image
from fashionrec.errors import EmbedderError, ImageError

log = logging.getLogger(__name__)

#: Batches decoded ahead of the one the model is running.
LOOKAHEAD_BATCHES = 2


@dataclass
class EmbedResult:
    """Raw (not normalised) vectors of the images that decoded, in input order."""

    vectors: np.ndarray  # (n_ok, dim) float32
    keys: np.ndarray  # (n_ok,) int64
    failures: list[tuple[int, str]] = field(default_factory=list)  # (key, reason)
    #: Shards taken from an earlier run / embedded by this call (for logs and tests).
    reused_shards: int = 0
    embedded_shards: int = 0


def plan_for(embedder: Embedder, paths: Sequence[str], keys: np.ndarray, shard_size: int) -> dict:
    """The identity of a run: a saved shard is reusable only under the very same plan."""
    h = hashlib.sha256()
    for key, path in zip(keys.tolist(), paths, strict=True):
        h.update(f"{key}\t{os.fspath(path)}\n".encode())
    return {
        "embedder": embedder.name,
        "weights_sha256": embedder.weights_sha256,
        "preprocess": embedder.preprocess_cfg.to_dict(),
        "shard_size": shard_size,
        "n": len(keys),
        "inputs_sha256": h.hexdigest(),
    }


def _atomic_write_bytes(path: Path, write: Callable[[Any], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _prepare_work_dir(work_dir: Path, plan: dict) -> Path:
    shards = work_dir / "shards"
    plan_path = work_dir / "plan.json"
    old = None
    if plan_path.is_file():
        try:
            old = json.loads(plan_path.read_text())
        except (OSError, ValueError):
            old = None
    if old != plan:
        if old is not None or any(shards.glob("*.npz")):
            log.warning(
                "embedding plan in %s changed (inputs or embedder); starting over", work_dir
            )
        for f in shards.glob("*.npz"):
            f.unlink()
    shards.mkdir(parents=True, exist_ok=True)
    if old != plan:
        _atomic_write_bytes(plan_path, lambda f: f.write(json.dumps(plan, indent=2).encode()))
    return shards


def _load_shard(path: Path, expect_keys: np.ndarray) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in ("vectors", "keys", "failed_keys", "failed_reasons")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("shard %s is unreadable (%s); embedding it again", path, exc)
        return None
    got = np.sort(np.concatenate([data["keys"], data["failed_keys"]]))
    if not np.array_equal(got, np.sort(expect_keys)):
        log.warning("shard %s does not match the plan; embedding it again", path)
        return None
    return data


def _decode(embedder: Embedder, path: str) -> np.ndarray | str:
    try:
        return preprocess_image(embedder.load(path), embedder.preprocess_cfg)
    except (ImageError, OSError, ValueError) as exc:
        return str(exc) or type(exc).__name__


def _embed_shard(
    embedder: Embedder,
    paths: Sequence[str],
    keys: np.ndarray,
    pool: ThreadPoolExecutor,
    batch_size: int,
    advance: Callable[[int], None],
) -> dict[str, np.ndarray]:
    batches = [range(i, min(i + batch_size, len(paths))) for i in range(0, len(paths), batch_size)]
    queue: deque[tuple[range, list[Future]]] = deque()
    vec_parts, key_parts, failed_keys, failed_reasons = [], [], [], []

    def submit(b: int) -> None:
        queue.append((batches[b], [pool.submit(_decode, embedder, paths[i]) for i in batches[b]]))

    for b in range(min(LOOKAHEAD_BATCHES + 1, len(batches))):
        submit(b)
    next_b = len(queue)
    while queue:
        idx, futures = queue.popleft()
        if next_b < len(batches):  # keep the pool busy while the model runs this batch
            submit(next_b)
            next_b += 1
        arrays, ok = [], []
        for i, fut in zip(idx, futures, strict=True):
            res = fut.result()
            if isinstance(res, str):
                failed_keys.append(int(keys[i]))
                failed_reasons.append(res)
            else:
                arrays.append(res)
                ok.append(int(keys[i]))
        if arrays:
            vec_parts.append(embedder.encode_batch(np.stack(arrays)))
            key_parts.append(np.asarray(ok, np.int64))
        advance(len(idx))
    dim = embedder.dim
    return {
        "vectors": np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim), np.float32),
        "keys": np.concatenate(key_parts) if key_parts else np.zeros(0, np.int64),
        "failed_keys": np.asarray(failed_keys, np.int64),
        "failed_reasons": np.asarray(failed_reasons, dtype=np.str_),
    }


def assemble(result: EmbedResult, parts: list[dict[str, np.ndarray]]) -> None:
    """Fill `result` with the shards' vectors, keys and failures, in shard order."""
    result.vectors = np.ascontiguousarray(np.concatenate([p["vectors"] for p in parts]))
    result.keys = np.concatenate([p["keys"] for p in parts]).astype(np.int64)
    result.failures = [
        (int(k), str(r))
        for p in parts
        for k, r in zip(p["failed_keys"].tolist(), p["failed_reasons"].tolist(), strict=True)
    ]


def embed_files(
    embedder: Embedder,
    paths: Sequence[str],
    keys: Sequence[int],
    *,
    work_dir: Path,
    batch_size: int = 32,
    shard_size: int = 2048,
    decode_workers: int | None = None,
    show_progress: bool | None = None,
    on_shard: Callable[[int, int], None] | None = None,
) -> EmbedResult:
    """Embed image files into raw vectors, resumably, decoding in parallel with inference.

    ``show_progress=None`` shows a rich bar (rate, ETA) when stderr is a terminal and the
    ``fashionrec`` logger is at INFO or lower. ``on_shard(done, total)`` is called after each
    shard is safely on disk. Images that cannot be decoded are reported in ``failures``.

    Example:
        >>> res = embed_files(create_embedder("tiny"), ["a.jpg", "b.jpg"], [1, 2],
        ...                   work_dir=Path("run"))  # doctest: +SKIP
        >>> res.vectors.shape, res.failures  # doctest: +SKIP
        ((2, 64), [])
    """
    keys_arr = np.asarray(list(keys), dtype=np.int64)
    paths = [os.fspath(p) for p in paths]
    if len(paths) != len(keys_arr):
        raise EmbedderError(f"got {len(paths)} paths but {len(keys_arr)} keys; they must pair up")
    if len(np.unique(keys_arr)) != len(keys_arr):
        raise EmbedderError("keys must be unique (they identify products in the index)")
    for label, value in (("batch_size", batch_size), ("shard_size", shard_size)):
        if value < 1:
            raise EmbedderError(f"{label} must be >= 1, got {value}")
    workers = decode_workers or max(1, os.cpu_count() or 1)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    shards_dir = _prepare_work_dir(work_dir, plan_for(embedder, paths, keys_arr, shard_size))

    n = len(paths)
    n_shards = (n + shard_size - 1) // shard_size
    parts: list[dict[str, np.ndarray]] = []
    result = EmbedResult(np.zeros((0, embedder.dim), np.float32), np.zeros(0, np.int64))
    bar = ImageProgress(f"embedding ({embedder.name})", n, show=show_progress)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fashionrec-decode")
    with bar:
        try:
            for s in range(n_shards):
                lo, hi = s * shard_size, min((s + 1) * shard_size, n)
                shard_path = shards_dir / f"{s:05d}.npz"
                data = _load_shard(shard_path, keys_arr[lo:hi]) if shard_path.is_file() else None
                if data is not None:
                    result.reused_shards += 1
                    bar.skip(hi - lo)
                else:
                    data = _embed_shard(
                        embedder, paths[lo:hi], keys_arr[lo:hi], pool, batch_size, bar.advance
                    )
                    _atomic_write_bytes(shard_path, lambda f, d=data: np.savez(f, **d))
                    result.embedded_shards += 1
                parts.append(data)
                if on_shard is not None:
                    on_shard(s + 1, n_shards)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    if parts:
        assemble(result, parts)
    if result.failures:
        log.warning("%d of %d images could not be decoded", len(result.failures), n)
    log.info(
        "embedded %d images (%d shards reused, %d embedded)",
        n,
        result.reused_shards,
        result.embedded_shards,
    )
    return result
