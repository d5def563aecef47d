"""P@10, nDCG@10 and latency of text search on tests/text/queries.csv, per method.

A result is relevant when it satisfies every rule of its query (field=value[|value];...).
Methods: BM25, semantic, fused (RRF) without query understanding, then BM25 and fused with
it. The first run embeds the catalog texts into INDEX/text/ (minutes on 2 cores); later runs
reuse that cache. Timings on a shared 2-core machine are noisy. Never asserts anything.

    python benchmarks/text_queries.py --index /tmp/idx44k [--queries tests/text/queries.csv]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fashionrec.pipeline import IndexDir
from fashionrec.text import TextSearcher

METHODS = [
    ("bm25", "bm25", False),
    ("semantic", "semantic", False),
    ("fused", "fused", False),
    ("bm25 + understanding", "bm25", True),
    ("fused + understanding", "fused", True),
]


def read_queries(path: Path) -> list[tuple[str, dict[str, list[str]]]]:
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rules = {}
            for part in row["rule"].split(";"):
                f, v = part.split("=", 1)
                rules[f.strip()] = [x.strip() for x in v.split("|")]
            out.append((row["query"], rules))
    return out


def relevant_mask(products: pd.DataFrame, rules: dict[str, list[str]]) -> pd.Series:
    mask = pd.Series(True, index=products.index)
    for f, values in rules.items():
        mask &= products[f].isin(values)
    return mask


def precision_ndcg(rel: np.ndarray, n_relevant: int, k: int = 10) -> tuple[float, float]:
    rel = np.asarray(rel[:k], dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((rel * discounts[: len(rel)]).sum())
    ideal = float(discounts[: min(k, n_relevant)].sum())
    return float(rel.sum()) / k, (dcg / ideal if ideal else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--queries", type=Path, default=Path("tests/text/queries.csv"))
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()

    d = IndexDir(args.index)
    m = d.read_manifest()
    products = d.read_products(m)
    t = time.perf_counter()
    searcher = TextSearcher(products, m.encodings, cache_dir=d.path / "text").build()
    print(f"{len(products)} products; searcher ready in {time.perf_counter() - t:.1f}s")
    queries = read_queries(args.queries)
    searcher.search("warm up", k=args.k)

    print(f"{len(queries)} queries, k={args.k}")
    print(f"{'method':24} {'P@10':>6} {'nDCG@10':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for label, mode, understand in METHODS:
        ps, ns, lat = [], [], []
        for text, rules in queries:
            t = time.perf_counter()
            r = searcher.search(text, k=args.k, mode=mode, understand=understand)
            lat.append((time.perf_counter() - t) * 1e3)
            rel_mask = relevant_mask(products, rules)
            rel = rel_mask.loc[r.ids].to_numpy() if r.ids else np.zeros(0)
            p, n = precision_ndcg(rel, int(rel_mask.sum()), args.k)
            ps.append(p)
            ns.append(n)
        print(
            f"{label:24} {np.mean(ps):6.3f} {np.mean(ns):8.3f} "
            f"{np.percentile(lat, 50):7.1f} {np.percentile(lat, 99):7.1f}"
        )


if __name__ == "__main__":
    main()
