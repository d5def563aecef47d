"""Stateless serving under load: 2 uvicorn workers over a Milvus Lite server + PostgreSQL.

Starts a Milvus Lite gRPC server (`milvus-lite server`, a fixed port so the pushed index
directory stays valid between runs) and a throw-away PostgreSQL, pushes INDEX (default
/tmp/idx44k, exact) into the engine once (FLAT, ~1 min for 44k; reused afterwards), then for
each setup starts `uvicorn fashionrec.api.asgi:app --workers 2` (one port, the kernel spreads
connections over the two processes) and drives it with the bounded client of bench_load.py:

- milvus: the index directory whose vectors live in the Milvus Lite server
- exact:  the same catalog's local exact index (the reference), same database

Prints one table; never asserts timings (server, engine and client share this machine).

    OMP_NUM_THREADS=1 python benchmarks/bench_stateless.py [--index /tmp/idx44k]
        [--milvus-index /tmp/idx44k-milvus] [--concurrency 8] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from bench_load import drive, photos_for

from fashionrec.config import shared_data_dir


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def milvus_lite(data_dir: Path, port: int):
    """A Milvus Lite gRPC server on 127.0.0.1:port; yields its URI."""
    from pymilvus import MilvusClient

    cmd = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    with open(data_dir.parent / f"{data_dir.name}.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # reopening a 44k collection replays its data
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"milvus-lite exited with {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                MilvusClient(uri=uri, timeout=10).list_collections()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise SystemExit("milvus-lite did not answer within 300 s") from None
                time.sleep(0.5)
        yield uri
    finally:
        stop(proc)


@contextmanager
def postgres():
    """A throw-away PostgreSQL cluster (as the `postgres` user when run as root)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (scripts/setup.sh)")
    bin_dir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="fashionrec-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port, data, run = free_port(), root / "data", {"check": True, "capture_output": True}
    subprocess.run(
        [*as_user, bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E",
         "UTF8", "--no-locale"],
        **run,
    )  # fmt: skip
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_user, bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-o", opts, "-w", "start"],
        **run,
    )
    try:
        subprocess.run(
            [*as_user, bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U",
             "postgres", "fashionrec"],
            **run,
        )  # fmt: skip
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/fashionrec"
    finally:
        subprocess.run(
            [*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def ensure_pushed(index: Path, out: Path, uri: str) -> Path:
    """`out`: INDEX pushed into the engine at `uri` (FLAT), reused when its collection is there."""
    from pymilvus import MilvusClient

    from fashionrec.index.base import read_manifest
    from fashionrec.pipeline.layout import IndexDir
    from fashionrec.pipeline.push import push_index

    if (out / "manifest.json").exists():
        idx = IndexDir(out)
        params = read_manifest(idx.vectors_path(idx.read_manifest().generation))["params"]
        if params["uri"] == uri and MilvusClient(uri=uri).has_collection(params["collection"]):
            return out
        shutil.rmtree(out)  # points at another server or a collection that is gone
    print(f"pushing {index} into {uri} (FLAT) ...", flush=True)
    t0 = time.perf_counter()
    push_index(index, out=out, backend_params={"uri": uri, "index_type": "FLAT"})
    print(f"pushed in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


@contextmanager
def workers(index: Path, database_url: str, port: int, n: int, log: Path):
    """`uvicorn fashionrec.api.asgi:app --workers n` over `index`; yields its base URL."""
    env = {
        **os.environ,
        "FASHIONREC_INDEX": str(index),
        "FASHIONREC_DATABASE_URL": database_url,
        "FASHIONREC_SECRET_KEY": "bench-stateless-shared-key",
    }
    cmd = [sys.executable, "-m", "uvicorn", "fashionrec.api.asgi:app", "--host", "127.0.0.1"]
    # info level, no access log: each worker logs its "startup complete" line once loaded
    cmd += ["--port", str(port), "--workers", str(n), "--log-level", "info", "--no-access-log"]
    log.unlink(missing_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while log.read_text(errors="replace").count("Application startup complete") < n:
            if proc.poll() is not None:
                raise SystemExit(f"uvicorn exited with {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{n} workers did not start within 300 s; see {log}")
            time.sleep(0.5)
        if not httpx.get(f"{base}/healthz", timeout=30).is_success:
            raise SystemExit(f"/healthz failed; see {log}")
        yield base
    finally:
        stop(proc)


async def measure(setup: str, base: str, args, ids: list[str], photos: list[bytes]) -> None:
    rng = random.Random(0)
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        def similar(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.get(f"/api/products/{rng.choice(ids)}/similar", params={"k": 12})

        def search(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            files = {"file": ("photo.jpg", rng.choice(photos), "image/jpeg")}
            return c.post("/api/search", params={"k": 12}, files=files)

        for name, call in (("similar", similar), ("search", search)):
            await drive(
                f"{setup} {name}",
                call,
                client,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=8,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/idx44k"))
    ap.add_argument("--milvus-index", type=Path, default=Path("/tmp/idx44k-milvus"))
    ap.add_argument("--milvus-data", type=Path, default=Path("/tmp/idx44k-milvus-data"))
    ap.add_argument("--milvus-port", type=int, default=19531)
    ap.add_argument(
        "--photos", type=Path, default=shared_data_dir() / "shopper-photos-dev" / "images"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    ap.add_argument("--setups", default="milvus,exact")
    args = ap.parse_args()

    from fashionrec.pipeline.layout import IndexDir

    idx = IndexDir(args.index)
    products = idx.read_products(idx.read_manifest())
    ids = products.index.astype(str).tolist()
    photos = photos_for([Path(p) for p in products["image_path"][:50]], args.photos, 50)
    with ExitStack() as stack:
        uri = stack.enter_context(milvus_lite(args.milvus_data, args.milvus_port))
        db = stack.enter_context(postgres())
        milvus_index = ensure_pushed(args.index, args.milvus_index, uri)
        print(
            f"products={len(ids)} workers={args.workers} concurrency={args.concurrency} "
            f"duration={args.duration:g}s/endpoint cores={os.cpu_count()} photos={len(photos)} "
            f"engine={uri} database=PostgreSQL (fresh)"
        )
        print(
            f"{'setup endpoint':<16} {'requests':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
            f"{'errors':>7}",
            flush=True,
        )
        chosen = {"milvus": milvus_index, "exact": args.index}
        for setup in args.setups.split(","):
            t0 = time.perf_counter()
            log = Path(tempfile.gettempdir()) / f"bench_stateless_{setup}.log"
            with workers(chosen[setup], db, free_port(), args.workers, log) as base:
                started = time.perf_counter() - t0
                asyncio.run(measure(setup, base, args, ids, photos))
            errors = log.read_text(errors="replace").count("Traceback")
            print(
                f"  ({setup}: {args.workers} workers up in {started:.0f} s; log {log}: "
                f"{errors} tracebacks)",
                flush=True,
            )


if __name__ == "__main__":
    main()
