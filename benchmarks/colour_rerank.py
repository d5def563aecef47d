"""Colour re-ranking: choose the blend weight w of ``cnn_cos + w * colour_cos`` by measurement.

Stage 1 takes the top C candidates by CNN cosine; stage 2 re-ranks them by
``cnn_cos + w * colour_cos`` (colour_cos: dot product of the L2-normalised 77-d colour
descriptors). Prints P@10 by articleType, by articleType AND baseColour (strict) and by
articleType AND colour group, on the catalog (80/20 split by product, test->test leave-one-out;
then the full 44k leave-one-out for a few settings) and on the 320 colour-labelled shopper photos
(gated candidates from the Recommender, photo descriptor on the centre 80 % crop).
Colour descriptors are cached under --cache (the catalog cache of colour_names.py is reused).

    nice python benchmarks/colour_rerank.py [--full 100:0.2,200:0.3]
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from pathlib import Path

import numpy as np

from fashionrec.catalog.images import load_image
from fashionrec.colour import colour_descriptor, colour_groups
from fashionrec.colour.extract import DESCRIPTOR_DIM, DESCRIPTOR_VERSION
from fashionrec.config import shared_data_dir
from fashionrec.eval.retrieval import top_k
from fashionrec.heads import split_by_product
from fashionrec.index import load_index
from fashionrec.photo.crop import crop_photo
from fashionrec.pipeline import IndexDir

log = logging.getLogger("colour_rerank")

CS = (50, 100, 200)
WS = (0.0, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)
K = 10


def codes(values: np.ndarray) -> np.ndarray:
    """Integer code per value; missing/empty -> -1 (never a match)."""
    v = np.array(["" if x is None or x != x else str(x) for x in values], dtype=object)
    _, inv = np.unique(v.astype(str), return_inverse=True)
    inv = inv.astype(np.int64)
    inv[v == ""] = -1
    return inv


def catalog_descriptors(cache: Path, paths: list[str]) -> np.ndarray:
    """Catalog descriptors in `paths` order, from colour_names.py's cache (computed if absent)."""
    from fashionrec.catalog.loader import load_catalog

    cat = load_catalog(shared_data_dir() / "fashion-product-images-small").products
    cat_paths = cat.loc[cat["image_path"].notna(), "image_path"].astype(str).tolist()
    file = cache / f"catalog44k-{DESCRIPTOR_VERSION}.npz"
    x = None
    if file.exists():
        with np.load(file, allow_pickle=False) as z:
            if len(z["x"]) == len(cat_paths):
                x = z["x"]
    if x is None:
        log.info("computing %d catalog descriptors", len(cat_paths))
        x = np.zeros((len(cat_paths), DESCRIPTOR_DIM), np.float32)
        for i, p in enumerate(cat_paths):
            x[i] = colour_descriptor(load_image(p))
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(file, x=x)
    where = {p: i for i, p in enumerate(cat_paths)}
    rows = np.array([where[p] for p in paths])
    return l2(x[rows])


def l2(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def rerank(s: np.ndarray, rows: np.ndarray, col: np.ndarray, qcol: np.ndarray, w: float):
    """Top-K rows of each query after re-ranking its candidates by s + w * colour_cos."""
    if w == 0:
        return rows[:, :K]
    out = np.empty((len(rows), min(K, rows.shape[1])), np.int64)
    for a in range(0, len(rows), 2048):
        r = rows[a : a + 2048]
        cc = np.einsum("qcd,qd->qc", col[r], qcol[a : a + 2048])
        order = np.argsort(-(s[a : a + 2048] + w * cc), axis=1, kind="stable")[:, :K]
        out[a : a + 2048] = np.take_along_axis(r, order, axis=1)
    return out


def precision(top: np.ndarray, q: np.ndarray, labels: list[np.ndarray]) -> float:
    """Mean P@10: fraction of the top-10 agreeing with the query on every label (codes >= 0)."""
    hit = np.ones(top.shape, bool)
    for lab in labels:
        hit &= (lab[top] == lab[q][:, None]) & (lab[q][:, None] >= 0)
    return float(hit.mean())


def catalog_table(title, s, rows, queries, col, qcol, t, c, g, settings) -> None:
    """Print one catalog table: a row per (C, w)."""
    print(f"\n{title}")
    print(f"{'C':>4} {'w':>5}  {'type':>6} {'type+colour':>11} {'type+group':>10}")
    for C, w in settings:
        top = rerank(s[:, :C], rows[:, :C], col, qcol, w)
        print(
            f"{C:>4} {w:>5.2f}  {precision(top, queries, [t]):6.4f} "
            f"{precision(top, queries, [t, c]):11.4f} {precision(top, queries, [t, g]):10.4f}"
        )


def photos(args, col_by_id: dict[str, np.ndarray]) -> None:
    """Shopper photos: gated candidates from the Recommender, re-ranked with the photo colour."""
    from fashionrec.recommend import Recommender

    dev = shared_data_dir() / "shopper-photos-dev"
    with open(dev / "colours.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(dev / "colour_groups.csv", newline="") as f:
        groups = {r["colour"]: set(r["catalog_colours"].split("|")) for r in csv.DictReader(f)}
    with open(dev / "label_map.csv", newline="") as f:
        types = {r["label"]: set(r["articleTypes"].split("|")) for r in csv.DictReader(f)}
    paths = [str(dev / "images" / f"{r['image']}.jpg") for r in rows]

    file = args.cache / f"shopper320-centre80-{DESCRIPTOR_VERSION}.npz"
    if file.exists():
        with np.load(file, allow_pickle=False) as z:
            qcol = z["x"]
    else:
        qcol = np.stack(
            [
                colour_descriptor(crop_photo(load_image(p), mode="centre", fraction=0.8))
                for p in paths
            ]
        )
        np.savez(file, x=qcol)
    qcol = l2(qcol)

    t0 = time.perf_counter()
    rec = Recommender.open(args.gated)
    found = rec.search_photos(paths, max(CS))
    log.info("photo search: %.0f s", time.perf_counter() - t0)
    print(f"\nshopper photos (n={len(rows)}, gated candidates from {args.gated}, P@10)")
    print(f"{'C':>4} {'w':>5}  {'type':>6} {'group':>6} {'type+group':>10}")
    for C in CS:
        for w in WS:
            pt = pg = pb = 0.0
            for r, fd, qc in zip(rows, found, qcol, strict=True):
                m = fd.matches[:C]
                score = np.array([x.score for x in m], np.float32)
                cc = np.array([col_by_id[str(x.id)] @ qc for x in m], np.float32)
                top = [m[i] for i in np.argsort(-(score + w * cc), kind="stable")[:K]]
                ok_t = np.array([x.product["article_type"] in types[r["label"]] for x in top])
                ok_g = np.array(
                    [
                        x.product["base_colour"] in groups.get(r["colour"], {r["colour"]})
                        for x in top
                    ]
                )
                pt += ok_t.sum() / K
                pg += ok_g.sum() / K
                pb += (ok_t & ok_g).sum() / K
            n = len(rows)
            print(f"{C:>4} {w:>5.2f}  {pt / n:6.4f} {pg / n:6.4f} {pb / n:10.4f}")


def main() -> None:
    """Run the benchmark and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="/tmp/idx44k")
    ap.add_argument("--gated", default="/tmp/idx44kg")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/colour_cache"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--full", default="50:0.1,50:0.15,50:0.2,100:0.15,100:0.2", help="C:w settings for 44k LOO"
    )
    ap.add_argument("--skip-photos", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t_start = time.perf_counter()

    d = IndexDir(args.index)
    m = d.read_manifest()
    P = d.read_products(m)
    X = load_index(d.vectors_path(m.generation)).get_vectors(P["key"].to_numpy())
    col = catalog_descriptors(args.cache, P["image_path"].astype(str).tolist())
    t = codes(P["article_type"].to_numpy())
    c = codes(P["base_colour"].to_numpy())
    grp = colour_groups()
    g = codes(np.array([grp.get(x, x) if isinstance(x, str) else None for x in P["base_colour"]]))
    log.info("loaded %d products, %.0f s", len(P), time.perf_counter() - t_start)

    _, test = split_by_product(len(P), test_size=0.2, seed=args.seed)
    s, r = top_k(X[test], X[test], max(CS), exclude=np.arange(len(test)))
    settings = [(C, w) for C in CS for w in WS]
    catalog_table(
        f"catalog 20% test->test LOO (n={len(test)}, P@10)",
        s,
        test[r],
        test,
        col,
        col[test],
        t,
        c,
        g,
        settings,
    )

    full = [(int(a), float(b)) for a, b in (x.split(":") for x in args.full.split(",") if x)]
    if full:
        t0 = time.perf_counter()
        s, r = top_k(X, X, max(C for C, _ in full), exclude=np.arange(len(X)))
        log.info("full top-k: %.0f s", time.perf_counter() - t0)
        catalog_table(
            f"catalog full 44k LOO (n={len(X)}, P@10)",
            s,
            r,
            np.arange(len(X)),
            col,
            col,
            t,
            c,
            g,
            [(50, 0.0)] + full,
        )
        del s, r

    if not args.skip_photos:
        photos(args, dict(zip(P["id"].astype(str), col, strict=True)))
    print(f"\nruntime {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
