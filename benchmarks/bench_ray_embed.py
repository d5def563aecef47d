"""Catalog embedding: one process (embed_files) vs Ray actors (embed_files_ray), end to end.

Embeds the first N photos of fashion-product-images-small (sorted by file name; N=0: all
44,441) with the default backbone into a fresh work directory per run, so nothing is reused.
Each Ray run starts its own local Ray, so its start-up and the actors' model load are in the
figures. "WxC" is W actors of C CPUs each (ONNX Runtime threads = decode threads = C). The
single-process run uses ONNX Runtime and decode threads on every core. The machine is shared
with other jobs: figures are lower bounds on speed; run it alone and repeat. Never asserts.

    nice python benchmarks/bench_ray_embed.py [--n 8192] [--ray 1x1,2x1,1x2] [--shard-size 2048]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from fashionrec.config import shared_data_dir
from fashionrec.embed import DEFAULT_EMBEDDER, create_embedder, embed_files
from fashionrec.embed.ray_embed import embed_files_ray


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=8192, help="photos (0: the whole catalog)")
    ap.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    ap.add_argument("--ray", default="1x1,2x1,1x2", help="Ray layouts WORKERSxCPUS, or ''")
    ap.add_argument("--shard-size", type=int, default=2048)
    ap.add_argument("--no-single", action="store_true", help="skip the single-process run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    images = sorted((shared_data_dir() / "fashion-product-images-small" / "images").glob("*.jpg"))
    paths = [str(p) for p in (images[: args.n] if args.n else images)]
    keys = list(range(len(paths)))
    emb = create_embedder(args.embedder, runtime="onnx")  # exports / checks the ONNX file once
    print(
        f"{len(paths)} photos of fashion-product-images-small, {args.embedder} (ONNX), "
        f"shards of {args.shard_size}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    head = f"{'run':<18} {'img/s':>7} {'img/s embed':>12} {'total s':>8}"
    print(f"{head} {'ray start s':>12} {'actors s':>9} {'model load s':>13}")

    if not args.no_single:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            embed_files(emb, paths, keys, work_dir=Path(tmp), shard_size=args.shard_size)
            total = time.perf_counter() - t0
        rate = len(paths) / total
        print(f"{'single process':<18} {rate:7.1f} {rate:12.1f} {total:8.1f}")

    for layout in filter(None, args.ray.split(",")):
        workers, cpus = (int(x) for x in layout.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = embed_files_ray(
                emb,
                paths,
                keys,
                work_dir=Path(tmp),
                workers=workers,
                cpus_per_worker=cpus,
                shard_size=args.shard_size,
                show_progress=False,
            )
            total = time.perf_counter() - t0
        t = res.timings
        print(
            f"{f'Ray {workers}x{cpus} CPU':<18} {len(paths) / total:7.1f} "
            f"{len(paths) / t['embed']:12.1f} {total:8.1f} {t['ray_start']:12.1f} "
            f"{t['actors_ready']:9.1f} {t['model_load_max']:13.1f}"
        )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
