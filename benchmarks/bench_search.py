"""Benchmark the index backends on seeded clustered vectors; prints a table, asserts nothing.

    nice python benchmarks/bench_search.py --sizes 10000,100000 --backends exact,hnsw,annoy
    OMP_NUM_THREADS=1 nice python benchmarks/bench_search.py --sizes 100000 --backends milvus

Per size and backend: build time, RSS growth while building, p50/p99 single-query latency,
batch-of-32 throughput, recall@10 against the exact backend, and the same recall and latency
with an ``allowed`` filter of 10% of the keys. Backends are built one at a time and freed, so
1M x 1280 (5 GB of vectors) fits in ~16 GB.

``milvus`` runs Milvus Lite embedded (in this process, so its memory counts) in a temporary
directory, or a server with ``--milvus-uri``; its filter is pushed down to the engine as a
metadata condition that selects the same 10% of the keys, instead of an ``allowed`` key list.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
import time
import uuid

import numpy as np

from fashionrec.index import Where, create_index
from fashionrec.index.synthetic import split_queries

N_QUERIES = 200
K = 10


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(found, truth, strict=True)]))


def single_latency(index, queries: np.ndarray, **kwargs) -> tuple[float, float]:
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, K, **kwargs)
        times.append(time.perf_counter() - t)
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def batch_qps(index, queries: np.ndarray) -> float:
    t = time.perf_counter()
    for start in range(0, len(queries), 32):
        index.search(queries[start : start + 32], K)
    return len(queries) / (time.perf_counter() - t)


def run(size: int, dim: int, backends: list[str], params: dict[str, dict]) -> list[dict]:
    db, queries = split_queries(size, dim, n_queries=N_QUERIES, seed=0)
    keys = np.arange(size, dtype=np.int64)
    allowed = np.random.default_rng(1).choice(keys, size // 10, replace=False)
    truth = np.argsort(-(queries @ db.T), axis=1)[:, :K]  # keys == rows here
    masked = db[np.sort(allowed)]
    truth_allowed = np.sort(allowed)[np.argsort(-(queries @ masked.T), axis=1)[:, :K]]
    del masked
    rows = []
    for backend in backends:
        gc.collect()
        rss0 = rss_bytes()
        t = time.perf_counter()
        extra = params.get(backend, {})
        if backend == "milvus":
            extra = {"collection": f"bench_{uuid.uuid4().hex[:8]}", **extra}
            extra.setdefault(
                "uri", os.path.join(tempfile.mkdtemp(prefix="bench-milvus-"), "lite.db")
            )
        index = create_index(backend, dim, **extra)
        filt: dict = {"allowed": allowed}
        if getattr(index, "supports_filters", False):
            # the same 10% as metadata, so the engine filters itself (the pushed-down path)
            tag = np.where(np.isin(keys, allowed), "in", "out").astype(object)
            index.add(db, keys, metadata={"usage": tag})
            filt = {"where": Where(any_of=(("usage", ("in",)),))}
            index.flush()  # seal the write buffer into indexed segments, as save() does
        else:
            index.add(db, keys)
        index.search(queries[:1], K)  # annoy builds lazily; count that in the build
        build = time.perf_counter() - t
        mem = rss_bytes() - rss0
        p50, p99 = single_latency(index, queries)
        qps = batch_qps(index, queries)
        _, found = index.search(queries, K)
        f50, f99 = single_latency(index, queries[:50], **filt)
        _, found_allowed = index.search(queries, K, **filt)
        rows.append(
            dict(
                size=size,
                backend=backend,
                build_s=build,
                mem_mb=mem / 2**20,
                p50_ms=p50,
                p99_ms=p99,
                batch32_qps=qps,
                recall10=recall(found, truth),
                filt_p50_ms=f50,
                filt_p99_ms=f99,
                filt_recall10=recall(found_allowed, truth_allowed),
            )
        )
        print(fmt(rows[-1]), flush=True)
        if hasattr(index, "drop"):
            index.drop()
            if extra.get("uri", "").startswith(tempfile.gettempdir()):
                shutil.rmtree(os.path.dirname(extra["uri"]), ignore_errors=True)
        del index
    return rows


COLUMNS = [
    "size",
    "backend",
    "build_s",
    "mem_mb",
    "p50_ms",
    "p99_ms",
    "batch32_qps",
    "recall10",
    "filt_p50_ms",
    "filt_p99_ms",
    "filt_recall10",
]


def fmt(row: dict) -> str:
    cells = []
    for c in COLUMNS:
        v = row[c]
        cells.append(f"{v:>12.3f}" if isinstance(v, float) else f"{v!s:>12}")
    return " ".join(cells)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated index sizes")
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--backends", default="exact,hnsw,annoy")
    ap.add_argument("--hnsw-ef", type=int, default=None, help="override the hnsw search ef")
    ap.add_argument("--annoy-trees", type=int, default=None)
    ap.add_argument("--milvus-uri", help="Milvus server URI (default: Milvus Lite, temp dir)")
    ap.add_argument("--milvus-index", default=None, help="Milvus index type: HNSW, FLAT...")
    args = ap.parse_args()
    params: dict[str, dict] = {}
    if args.hnsw_ef:
        params["hnsw"] = {"ef": args.hnsw_ef}
    if args.annoy_trees:
        params["annoy"] = {"n_trees": args.annoy_trees}
    if args.milvus_uri or args.milvus_index:
        given = {"uri": args.milvus_uri, "index_type": args.milvus_index}
        params["milvus"] = {k: v for k, v in given.items() if v}
    print(f"dim={args.dim} queries={N_QUERIES} k={K} allowed=10% cores={os.cpu_count()}")
    print(" ".join(f"{c:>12}" for c in COLUMNS))
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.dim, args.backends.split(","), params)


if __name__ == "__main__":
    main()
