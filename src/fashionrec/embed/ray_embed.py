"""Resumable catalog embedding spread over Ray actors; same shards as ``embed_files``.

Each actor holds one ONNX Runtime session of the embedder. The ONNX file is put in Ray's object
store once by the driver, so nodes need neither the cache directory nor the backbone's weights
package. The driver hands one shard (``shard_size`` images, the very plan of ``embed_files``) to
each idle actor, and writes every finished shard atomically to ``work_dir/shards`` itself: a run
can be resumed by either path, and ``build_index`` reads the result unchanged. Image paths must
be readable at the same path on every node (shared storage) on a cluster.

Install the optional dependency with ``pip install 'fashionrec[ray]'`` (or ``pip install ray``).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fashionrec.embed.batch import (
    EmbedResult,
    _atomic_write_bytes,
    _embed_shard,
    _load_shard,
    _prepare_work_dir,
    assemble,
    plan_for,
)
from fashionrec.embed.encoder import Embedder, ImageProgress
from fashionrec.errors import ConfigError, EmbedderError

log = logging.getLogger(__name__)

#: Runtimes whose model is the exported ONNX file, the one thing actors are sent.
SHIPPABLE_RUNTIMES = ("onnx",)


@dataclass
class RayEmbedResult(EmbedResult):
    """``EmbedResult`` plus where the time went (seconds), for logs and benchmarks."""

    timings: dict[str, float] = field(default_factory=dict)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise EmbedderError(
            "embedding with Ray needs Ray: pip install 'fashionrec[ray]' (or pip install ray), "
            "or leave out --ray-workers to embed in this process"
        ) from exc
    return ray


class ShardEmbedder:
    """One embedder inside a Ray actor: built once from the ONNX bytes, then one shard a call.

    Made remote by ``embed_files_ray`` (so this module imports without Ray installed).
    """

    def __init__(
        self,
        spec_name: str,
        onnx_model: bytes,
        weights_sha256: str,
        *,
        num_threads: int = 1,
        decode_workers: int = 1,
    ) -> None:
        from fashionrec.embed.registry import get_spec
        from fashionrec.embed.runtime import OnnxRunner

        started = time.perf_counter()
        # OnnxRunner loads from a path; ONNX Runtime reads the whole file when the session is
        # created, so a node-local temporary copy can go at once.
        fd, tmp = tempfile.mkstemp(prefix=f"fashionrec-{spec_name}-", suffix=".onnx")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(onnx_model)
            runner = OnnxRunner(Path(tmp), num_threads=num_threads)
        finally:
            os.unlink(tmp)
        self.embedder = Embedder(get_spec(spec_name), runner, weights_sha256=weights_sha256)
        self.pool = ThreadPoolExecutor(decode_workers, thread_name_prefix="fashionrec-decode")
        self.load_seconds = time.perf_counter() - started

    def describe(self) -> dict[str, Any]:
        """What the driver checks before trusting this actor's vectors, and its load time."""
        return {
            "name": self.embedder.name,
            "dim": self.embedder.dim,
            "preprocess": self.embedder.preprocess_cfg.to_dict(),
            "load_seconds": self.load_seconds,
        }

    def embed(
        self, index: int, paths: Sequence[str], keys: np.ndarray, batch_size: int
    ) -> tuple[int, dict[str, np.ndarray]]:
        """Embed one shard exactly as ``embed_files`` does; returns (shard index, arrays)."""
        data = _embed_shard(self.embedder, paths, keys, self.pool, batch_size, lambda _: None)
        return index, data


def _connect(ray: Any, address: str | None, num_cpus: int) -> bool:
    """Start a local Ray (address None) or join a cluster; True when we started it."""
    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if address is None:
        ray.init(num_cpus=num_cpus, **quiet)
        return True
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot connect to the Ray cluster at {address!r}: {exc}") from exc
    return True


def _model_bytes(embedder: Embedder) -> bytes:
    if embedder.runtime not in SHIPPABLE_RUNTIMES:
        raise EmbedderError(
            f"embedding with Ray runs ONNX Runtime in each actor; the embedder uses runtime "
            f"{embedder.runtime!r}: create it with runtime='onnx' (or 'auto')"
        )
    from fashionrec.embed.runtime import onnx_path

    path = onnx_path(embedder.name, embedder.weights_sha256)  # exported by create_embedder
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EmbedderError(
            f"the ONNX file of {embedder.name!r} is gone from {path}: {exc}"
        ) from exc


def _check_actor(embedder: Embedder, info: dict[str, Any]) -> None:
    mine = {
        "name": embedder.name,
        "dim": embedder.dim,
        "preprocess": embedder.preprocess_cfg.to_dict(),
    }
    theirs = {k: info[k] for k in mine}
    if theirs != mine:  # e.g. a cluster node with another fashionrec version
        raise EmbedderError(f"a Ray worker built {theirs}, but this process uses {mine}")


def _reusable(path: Path, keys: np.ndarray) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        return _load_shard(path, keys)
    except zipfile.BadZipFile as exc:  # a shard damaged after it was written (copy, disk)
        log.warning("shard %s is unreadable (%s); embedding it again", path, exc)
        return None


def embed_files_ray(
    embedder: Embedder,
    paths: Sequence[str],
    keys: Sequence[int],
    *,
    work_dir: Path,
    workers: int | None = None,
    address: str | None = None,
    cpus_per_worker: int = 1,
    decode_workers: int | None = None,
    batch_size: int = 32,
    shard_size: int = 2048,
    show_progress: bool | None = None,
    on_shard: Callable[[int, int], None] | None = None,
) -> RayEmbedResult:
    """``embed_files`` with the shards embedded by ``workers`` Ray actors.

    ``address=None`` starts a local Ray with ``workers * cpus_per_worker`` CPUs (or uses the one
    this process already started); ``"auto"`` or ``"ray://head:10001"`` joins a cluster, where
    ``workers=None`` means one actor per ``cpus_per_worker`` CPUs of the cluster. Each actor runs
    ONNX Runtime on ``cpus_per_worker`` threads and decodes on ``decode_workers`` threads
    (default: ``cpus_per_worker``). Finished shards already in ``work_dir`` are kept, whichever
    path wrote them; ``on_shard(done, total)`` is called after each shard is safely on disk.

    Example:
        >>> res = embed_files_ray(create_embedder("tiny"), ["a.jpg", "b.jpg"], [1, 2],
        ...                       work_dir=Path("run"), workers=2)  # doctest: +SKIP
        >>> res.embedded_shards, res.timings["ray_start"]  # doctest: +SKIP
        (1, 4.9)
    """
    keys_arr = np.asarray(list(keys), dtype=np.int64)
    paths = [os.fspath(p) for p in paths]
    if len(paths) != len(keys_arr):
        raise EmbedderError(f"got {len(paths)} paths but {len(keys_arr)} keys; they must pair up")
    if len(np.unique(keys_arr)) != len(keys_arr):
        raise EmbedderError("keys must be unique (they identify products in the index)")
    for label, value in (
        ("batch_size", batch_size),
        ("shard_size", shard_size),
        ("cpus_per_worker", cpus_per_worker),
        ("workers", 1 if workers is None else workers),
    ):
        if value < 1:
            raise EmbedderError(f"{label} must be >= 1, got {value}")
    model = _model_bytes(embedder)  # fail on a wrong runtime before starting Ray
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    shards_dir = _prepare_work_dir(work_dir, plan_for(embedder, paths, keys_arr, shard_size))

    n = len(paths)
    n_shards = (n + shard_size - 1) // shard_size
    bounds = [(s * shard_size, min((s + 1) * shard_size, n)) for s in range(n_shards)]
    parts: list[dict[str, np.ndarray] | None] = [None] * n_shards
    result = RayEmbedResult(np.zeros((0, embedder.dim), np.float32), np.zeros(0, np.int64))
    for s, (lo, hi) in enumerate(bounds):
        path = shards_dir / f"{s:05d}.npz"
        parts[s] = _reusable(path, keys_arr[lo:hi])
    todo = [s for s in range(n_shards) if parts[s] is None]
    result.reused_shards = n_shards - len(todo)
    done = result.reused_shards
    if on_shard is not None:
        for i in range(done):
            on_shard(i + 1, n_shards)

    bar = ImageProgress(f"embedding ({embedder.name}, Ray)", n, show=show_progress)
    bar.skip(sum(hi - lo for s, (lo, hi) in enumerate(bounds) if s not in todo))
    with bar:
        if todo:
            _run_actors(
                embedder,
                model,
                todo,
                bounds,
                paths,
                keys_arr,
                shards_dir=shards_dir,
                parts=parts,
                result=result,
                workers=workers,
                address=address,
                cpus_per_worker=cpus_per_worker,
                decode_workers=decode_workers or cpus_per_worker,
                batch_size=batch_size,
                on_done=bar.advance,
                on_shard=(lambda d: on_shard(d, n_shards)) if on_shard else None,
                done_before=done,
            )

    finished = [p for p in parts if p is not None]
    if finished:
        assemble(result, finished)
    if result.failures:
        log.warning("%d of %d images could not be decoded", len(result.failures), n)
    log.info(
        "embedded %d images with Ray (%d shards reused, %d embedded; %s)",
        n,
        result.reused_shards,
        result.embedded_shards,
        ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()),
    )
    return result


def _run_actors(
    embedder: Embedder,
    model: bytes,
    todo: list[int],
    bounds: list[tuple[int, int]],
    paths: list[str],
    keys_arr: np.ndarray,
    *,
    shards_dir: Path,
    parts: list[dict[str, np.ndarray] | None],
    result: RayEmbedResult,
    workers: int | None,
    address: str | None,
    cpus_per_worker: int,
    decode_workers: int,
    batch_size: int,
    on_done: Callable[[int], None],
    on_shard: Callable[[int], None] | None,
    done_before: int,
) -> None:
    ray = _import_ray()
    from ray.util import ActorPool

    t0 = time.perf_counter()
    local_cpus = workers * cpus_per_worker if workers else os.cpu_count() or 1
    started_ray = _connect(ray, address, local_cpus)
    result.timings["ray_start"] = time.perf_counter() - t0
    actors: list[Any] = []
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if workers is None:
            workers = max(1, cpus // cpus_per_worker)
        elif workers * cpus_per_worker > cpus:  # fine on an autoscaling cluster, else a hang
            log.warning(
                "%d Ray workers x %d CPUs asked, but Ray has %d CPUs: the rest wait for more",
                workers,
                cpus_per_worker,
                cpus,
            )
        workers = min(workers, len(todo))  # an idle actor would only cost a model load
        t1 = time.perf_counter()
        model_ref = ray.put(model)  # one copy per node, however many actors read it
        remote_cls = ray.remote(num_cpus=cpus_per_worker)(ShardEmbedder)
        actors = [
            remote_cls.remote(
                embedder.name,
                model_ref,
                embedder.weights_sha256,
                num_threads=cpus_per_worker,
                decode_workers=decode_workers,
            )
            for _ in range(workers)
        ]
        infos = ray.get([a.describe.remote() for a in actors])
        for info in infos:
            _check_actor(embedder, info)
        result.timings["actors_ready"] = time.perf_counter() - t1
        result.timings["model_load_max"] = max(i["load_seconds"] for i in infos)
        log.info("%d Ray actors ready in %.1fs", workers, result.timings["actors_ready"])

        t2 = time.perf_counter()
        pool = ActorPool(actors)
        done = done_before
        jobs = pool.map_unordered(
            lambda actor, s: actor.embed.remote(
                s,
                paths[bounds[s][0] : bounds[s][1]],
                keys_arr[bounds[s][0] : bounds[s][1]],
                batch_size,
            ),
            todo,
        )
        for s, data in jobs:
            _atomic_write_bytes(shards_dir / f"{s:05d}.npz", lambda f, d=data: np.savez(f, **d))
            parts[s] = data
            result.embedded_shards += 1
            done += 1
            on_done(bounds[s][1] - bounds[s][0])
            if on_shard is not None:
                on_shard(done)
        result.timings["embed"] = time.perf_counter() - t2
    finally:
        for a in actors:
            ray.kill(a)
        if started_ray:
            ray.shutdown()
