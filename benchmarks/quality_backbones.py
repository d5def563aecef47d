"""Leave-one-out P@10 / P@1 of each backbone on demo-2000 (relevance = same articleType).

Exact cosine search; "centred" subtracts the catalog mean vector before L2-normalising.
Embeddings are cached (resumable) under cache_dir()/bench/quality/<backbone>.

    python benchmarks/quality_backbones.py [--backbones mobilenetv2,efficientnet-lite0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from fashionrec.config import cache_dir, shared_data_dir
from fashionrec.embed import create_embedder, embed_files
from fashionrec.embed.encoder import l2_normalize

BACKBONES = ["mobilenetv2", "efficientnet-lite0", "efficientnet-lite2"]


def loo_precision(vecs: np.ndarray, labels: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Leave-one-out P@k and P@1 with exact cosine (vecs already L2-normalised)."""
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    order = np.take_along_axis(sims, top, 1).argsort(1)[:, ::-1]
    top = np.take_along_axis(top, order, 1)
    hits = labels[top] == labels[:, None]
    return float(hits.mean()), float(hits[:, 0].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backbones", default=",".join(BACKBONES))
    ap.add_argument("--runtime", default="auto", help="auto, onnx, torch or openvino")
    ap.add_argument("--data", default=str(shared_data_dir() / "demo-2000"))
    args = ap.parse_args()
    styles = pd.read_csv(f"{args.data}/styles.csv")
    paths = [f"{args.data}/images/{i}.jpg" for i in styles["id"]]
    print(
        f"runtime {args.runtime}; demo-2000: {len(styles)} products, "
        f"{styles['articleType'].nunique()} articleTypes"
    )
    print(f"{'backbone':<20} {'P@10':>6} {'P@1':>6} {'P@10 c':>7} {'P@1 c':>6} {'img/s':>7}")
    for name in args.backbones.split(","):
        emb = create_embedder(name, runtime=args.runtime)
        work = cache_dir() / "bench" / "quality" / f"{name}-{emb.runtime}"
        t0 = time.perf_counter()
        res = embed_files(emb, paths, styles["id"].tolist(), work_dir=work, show_progress=False)
        dt = time.perf_counter() - t0
        rate = f"{len(paths) / dt:.0f}" if res.embedded_shards else "cached"
        labels = styles.set_index("id").loc[res.keys, "articleType"].to_numpy()
        p10, p1 = loo_precision(l2_normalize(res.vectors), labels)
        c10, c1 = loo_precision(l2_normalize(res.vectors - res.vectors.mean(0)), labels)
        print(
            f"{name:<20} {p10:6.3f} {p1:6.3f} {c10:7.3f} {c1:6.3f} {rate:>7}"
            f"  ({len(res.failures)} failed)"
        )


if __name__ == "__main__":
    main()
