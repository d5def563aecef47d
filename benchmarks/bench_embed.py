"""Images/s per backbone and runtime, end to end (decode + preprocess + model), batch 32.

Also times plain per-image eager PyTorch (what the source designs did: decode, preprocess and
run one image at a time) in the same run, and prints the ratio. Timings on a shared 2-core
machine are noisy; run it alone and repeat. Never asserts anything.

    python benchmarks/bench_embed.py [--backbones efficientnet-lite0]
        [--runtimes onnx,openvino,openvino-bf16,torch]
                                     [--n 512] [--eager-n 64]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fashionrec.config import shared_data_dir
from fashionrec.embed import create_embedder, embed_files
from fashionrec.embed.preprocess import preprocess_image
from fashionrec.embed.registry import build_module, get_spec


def end_to_end(name: str, runtime: str, paths: list[str], workers: int | None) -> float:
    emb = create_embedder(name, runtime=runtime)
    emb.encode_batch(
        np.zeros((2, 3, emb.preprocess_cfg.size, emb.preprocess_cfg.size), np.float32)
    )  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        embed_files(
            emb,
            paths,
            list(range(len(paths))),
            work_dir=Path(tmp),
            batch_size=32,
            decode_workers=workers,
            show_progress=False,
        )
        return len(paths) / (time.perf_counter() - t0)


def eager_per_image(name: str, paths: list[str]) -> float:
    module, cfg = build_module(name), get_spec(name).preprocess
    from fashionrec.embed.preprocess import load_source

    with torch.inference_mode():
        module(torch.zeros(1, 3, cfg.size, cfg.size))
        t0 = time.perf_counter()
        for p in paths:
            x = preprocess_image(load_source(p), cfg)
            module(torch.from_numpy(x[None]))
    return len(paths) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backbones", default="tiny,mobilenetv2,efficientnet-lite0,efficientnet-lite2")
    ap.add_argument("--runtimes", default="onnx,openvino,openvino-bf16,torch")
    ap.add_argument("--n", type=int, default=512, help="images per end-to-end run")
    ap.add_argument("--eager-n", type=int, default=64, help="images for per-image eager torch")
    ap.add_argument("--workers", type=int, default=None, help="decode threads (default: cores)")
    args = ap.parse_args()
    images = sorted((shared_data_dir() / "demo-2000" / "images").glob("*.jpg"))
    paths = [str(p) for p in images[: args.n]]
    print(f"torch threads {torch.get_num_threads()}; {len(paths)} images of demo-2000; batch 32")
    print(f"{'backbone':<20} {'runtime':<9} {'img/s':>7} {'eager 1-by-1':>13} {'ratio':>6}")
    for name in args.backbones.split(","):
        eager = eager_per_image(name, paths[: args.eager_n])
        for runtime in args.runtimes.split(","):
            try:
                rate = end_to_end(name, runtime, paths, args.workers)
            except Exception as exc:  # e.g. OpenVINO not installed: report and go on
                print(f"{name:<20} {runtime:<9} unavailable: {exc}")
                continue
            print(f"{name:<20} {runtime:<9} {rate:7.1f} {eager:13.1f} {rate / eager:5.1f}x")


if __name__ == "__main__":
    main()
