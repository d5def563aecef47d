"""Latency of one photo query end to end: decode, preprocess, embed, search (and filters).

Times `Recommender.similar_to_image` (the path the CLI, API and eval-photos use) on shopper
photos against an index, one query at a time, and reports p50/p99 per stage and in total.
Never asserts timings; run it on a quiet machine.

    python benchmarks/bench_query.py --index /tmp/idx44k [--n 200] [--photos DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from fashionrec.catalog.images import load_image
from fashionrec.config import shared_data_dir
from fashionrec.pipeline.build import finish_vectors
from fashionrec.recommend import Recommender


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--photos", default=str(shared_data_dir() / "shopper-photos-dev" / "images"))
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()

    photos = sorted(Path(args.photos).glob("*.jpg"))[: args.n]
    t0 = time.perf_counter()
    rec = Recommender.open(args.index)
    rec.embedder  # noqa: B018  (load the model now, not in the first query)
    print(
        f"open index + load model: {time.perf_counter() - t0:.2f} s "
        f"({len(rec)} products, {rec.manifest.embedder_name}, {rec.index.backend})"
    )
    rec.similar_to_image(photos[0], k=10)  # warm-up
    stages: dict[str, list[float]] = {
        "decode+preprocess": [],
        "model": [],
        "search": [],
        "search+filter": [],
        "total (similar_to_image)": [],
    }
    emb = rec.embedder
    from fashionrec.embed.preprocess import preprocess_batch

    for p in photos:
        t = time.perf_counter()
        batch = preprocess_batch([load_image(p)], emb.preprocess_cfg)
        t1 = time.perf_counter()
        vec = finish_vectors(emb.encode_batch(batch), rec.mean)[0]
        t2 = time.perf_counter()
        rec.search_vector(vec, 10)
        t3 = time.perf_counter()
        rec.search_vector(vec, 10, filters={"gender": "Women"})
        t4 = time.perf_counter()
        rec.similar_to_image(p, k=10)
        t5 = time.perf_counter()
        for name, dt in zip(stages, (t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            stages[name].append(dt)
    print(f"{len(photos)} queries, ms:")
    print(f"{'stage':28} {'p50':>8} {'p99':>8} {'mean':>8}")
    for name, values in stages.items():
        print(
            f"{name:28} {pct(values, 50):8.1f} {pct(values, 99):8.1f} "
            f"{statistics.mean(values) * 1000:8.1f}"
        )


if __name__ == "__main__":
    main()
