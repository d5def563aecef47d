"""Load on the HTTP API: requests/s, p50/p99 latency and errors per endpoint.

Starts `uvicorn fashionrec.api.asgi:app` on localhost over an index (default: /tmp/idx2000,
built from the demo-2000 catalog when absent), then drives it with a bounded async httpx
client: N requests in flight, for a fixed duration per endpoint:

- GET /api/products/{id}/similar?k=12 over random catalog ids
- POST /api/search?k=12 with shopper photos (or catalog photos when those are absent)
- POST /api/search?k=12&crop=... (the same photos, a centred crop)

Never asserts timings; the server and the client share this machine's cores.

    python benchmarks/bench_load.py [--index /tmp/idx2000] [--concurrency 8] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np

from fashionrec.config import shared_data_dir

DEFAULT_INDEX = Path("/tmp/idx2000")


def ensure_index(index: Path, catalog: Path) -> Path:
    """Reuse `index` when it holds a manifest, else build it from `catalog` (about a minute)."""
    if (index / "manifest.json").exists():
        return index
    from fashionrec.pipeline import build_index

    print(f"building {index} from {catalog} ...", flush=True)
    build_index(catalog, index, show_progress=False)
    return index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "FASHIONREC_INDEX": str(index)}
    cmd = [sys.executable, "-m", "uvicorn", "fashionrec.api.asgi:app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).is_success:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.terminate()
    raise SystemExit("the server did not start within 120 s")


async def drive(
    name: str,
    call: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    client: httpx.AsyncClient,
    *,
    concurrency: int,
    duration: float,
    warmup: int = 4,
) -> None:
    """Run `call` from `concurrency` workers for `duration` seconds; print one line."""
    for _ in range(warmup):
        await call(client)
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            try:
                response = await call(client)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    ms = np.array(latencies) * 1000
    print(
        f"{name:<16} {len(ms):>7} {len(ms) / elapsed:>9.1f} {np.percentile(ms, 50):>9.1f} "
        f"{np.percentile(ms, 99):>9.1f} {errors:>7}",
        flush=True,
    )


def photos_for(index_catalog: list[Path], photos_dir: Path, n: int) -> list[bytes]:
    paths = sorted(photos_dir.glob("*.jpg"))[:n] if photos_dir.is_dir() else []
    return [p.read_bytes() for p in (paths or index_catalog[:n])]


async def run(base: str, args: argparse.Namespace, ids: list[str], photos: list[bytes]) -> None:
    rng = random.Random(0)
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        def similar(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.get(f"/api/products/{rng.choice(ids)}/similar", params={"k": 12})

        def search(c: httpx.AsyncClient, crop: str | None = None) -> Awaitable[httpx.Response]:
            params = {"k": 12, **({"crop": crop} if crop else {})}
            files = {"file": ("photo.jpg", rng.choice(photos), "image/jpeg")}
            return c.post("/api/search", params=params, files=files)

        print(
            f"{'endpoint':<16} {'requests':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
            f"{'errors':>7}"
        )
        await drive(
            "similar", similar, client, concurrency=args.concurrency, duration=args.duration
        )
        await drive("search", search, client, concurrency=args.concurrency, duration=args.duration)
        await drive(
            "search+crop",
            lambda c: search(c, "0.15,0.1,0.85,0.9"),
            client,
            concurrency=args.concurrency,
            duration=args.duration,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    ap.add_argument("--catalog", type=Path, default=shared_data_dir() / "demo-2000")
    ap.add_argument(
        "--photos", type=Path, default=shared_data_dir() / "shopper-photos-dev" / "images"
    )
    ap.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    args = ap.parse_args()

    index = ensure_index(args.index, args.catalog)
    port = args.port or free_port()
    server = start_server(index, port)
    try:
        base = f"http://127.0.0.1:{port}"
        ids = [
            p["id"]
            for p in httpx.get(f"{base}/api/products", params={"per_page": 100}).json()["items"]
        ]
        images = sorted((args.catalog / "images").glob("*.jpg"))
        photos = photos_for(images, args.photos, 50)
        print(
            f"index={index} products={httpx.get(base + '/healthz').json()['products']} "
            f"concurrency={args.concurrency} duration={args.duration:g}s/endpoint "
            f"cores={os.cpu_count()} photos={len(photos)}"
        )
        asyncio.run(run(base, args, ids, photos))
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
