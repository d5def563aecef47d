"""Recall@10 of the Milvus backend against the exact one on a real index; prints, asserts nothing.

    OMP_NUM_THREADS=1 nice python benchmarks/milvus_recall.py /tmp/idx44k [--index-type HNSW]

Queries are 500 seeded catalog vectors (recall over all, searched in batches of 100; latency
over 50 single queries); each runs unfiltered and with filters pushed down to
the engine (gender, article type, base colour, a year range, a colour group) and is compared
with the exact backend given the same filters as allowed keys (Filters.mask). Milvus Lite runs
embedded in a temporary directory; --uri points the same run at a Milvus server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid

import numpy as np

from fashionrec.index import create_index, load_index
from fashionrec.pipeline import IndexDir
from fashionrec.pipeline.build import add_vectors
from fashionrec.recommend.filters import Filters
from fashionrec.recommend.recommender import filters_to_where

K = 10
FILTERS = {
    "none": {},
    "gender=Women": {"gender": "Women"},
    "article_type=Tshirts": {"article_type": "Tshirts"},
    "base_colour=Blue": {"base_colour": "Blue"},
    "Women+Tops+year>=2012": {"gender": "Women", "article_type": "Tops", "year_min": 2012},
    "colour_group=Blue": {"colour_group": "Blue"},
}


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(found, truth, strict=True))
    return hits / max(1, int((truth >= 0).sum()))


#: Single queries timed per filter (recall uses every query, in batches of BATCH).
N_TIMED, BATCH = 50, 100


def tie_recall(found_scores: np.ndarray, truth_scores: np.ndarray) -> float:
    """Recall that counts a result as right when it scores as high as the exact k-th: the
    catalog has duplicate photos, whose equal scores make the order among ties arbitrary."""
    valid = np.isfinite(truth_scores)
    kth = np.where(valid, truth_scores, np.inf).min(axis=1)
    good = (found_scores >= kth[:, None] - 1e-4) & np.isfinite(found_scores)
    return float(good.sum() / max(1, int(valid.sum())))


def timed(fn, queries: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], float, float]:
    """All queries' (scores, keys), batched, and p50/p99 ms of N_TIMED single queries."""
    parts = [fn(queries[i : i + BATCH]) for i in range(0, len(queries), BATCH)]
    found = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    times = []
    for q in queries[:N_TIMED]:
        t = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    return found, float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index_dir")
    ap.add_argument("--uri", help="Milvus URI (default: Milvus Lite in a temp directory)")
    ap.add_argument("--index-type", default=None, help="FLAT (Lite default), HNSW, IVF_FLAT...")
    ap.add_argument("--ef", type=int, default=None, help="HNSW search ef")
    ap.add_argument("--queries", type=int, default=500)
    args = ap.parse_args()

    d = IndexDir(args.index_dir)
    manifest = d.read_manifest()
    products = d.read_products(manifest)
    exact = load_index(d.vectors_path(manifest.generation), mmap=False)
    keys = products["key"].to_numpy()
    vectors = exact.get_vectors(keys)
    rng = np.random.default_rng(0)
    queries = vectors[rng.choice(len(keys), args.queries, replace=False)]

    tmp = tempfile.mkdtemp(prefix="milvus-recall-")
    params = {"uri": args.uri or os.path.join(tmp, "lite.db"), "index_type": args.index_type}
    params["collection"] = f"recall_{uuid.uuid4().hex[:8]}"
    if args.ef:
        params["search_params"] = {"ef": args.ef}
    t = time.perf_counter()
    engine = create_index("milvus", exact.dim, **params)
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        add_vectors(engine, vectors[start : start + 5000], chunk, products)
    engine.flush()  # seal the write buffer into indexed segments, as save() does
    engine.search(queries[:1], K)
    build = time.perf_counter() - t
    print(
        f"{len(keys)} x {exact.dim} vectors, {len(queries)} queries, k={K}, "
        f"milvus {engine.index_type} ({params['uri']}): loaded + indexed in {build:.1f} s"
    )
    print(
        f"{'filter':<24} {'allowed':>8} {'recall@10':>10} {'tie-aware':>10} "
        f"{'milvus p50/p99 ms':>18} "
        f"{'exact p50/p99 ms':>17}"
    )
    try:
        for name, raw in FILTERS.items():
            filters = Filters.from_mapping(raw).resolved(manifest.encodings)
            allowed = None if filters.is_empty() else keys[filters.mask(products)]
            where = None if filters.is_empty() else filters_to_where(filters, products)
            truth, e50, e99 = timed(lambda q, a=allowed: exact.search(q, K, allowed=a), queries)
            found, m50, m99 = timed(lambda q, w=where: engine.search(q, K, where=w), queries)
            n_allowed = len(keys) if allowed is None else len(allowed)
            print(
                f"{name:<24} {n_allowed:>8} {recall(found[1], truth[1]):>10.4f} "
                f"{tie_recall(found[0], truth[0]):>10.4f} "
                f"{m50:>8.2f} / {m99:<7.2f} {e50:>7.2f} / {e99:<7.2f}",
                flush=True,
            )
    finally:
        engine.drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
