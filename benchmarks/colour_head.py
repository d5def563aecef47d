"""Learned colour: heads that rank the right article type AND colour first, chosen by measurement.

    nice python benchmarks/colour_head.py [--only a,c,g] [--winner c:0.5] [--skip-photos]

Catalog: 80/20 split by product (seed 0), heads trained on the 80 %, test->test leave-one-out
inside the 20 %. Candidates (all on the frozen 1280-d EfficientNet-Lite0 backbone vectors):

  frozen                 the backbone vectors themselves
  type head              ProjectionHead on article_type (the #3 head)
  (a) type+colour w      ProjectionHead on article_type and base_colour, colour weight w
  (b) ... + descriptor   the same with the 77-d colour descriptor (x s) appended to the input
  (c) type|colour        article_type plus composite "articleType|baseColour" classes
  (d) two-part w         [type head ; w * colour part], the colour part a small head on
                         base_colour, or on "type|colour" classes ("joint"), reading the CNN
                         vector (cnn) or the CNN vector + descriptor (desc)
  (e) + re-rank          the best of these, then the existing descriptor re-rank (top C, w)
  (f) type top C         candidates from the type head only, re-ranked by the two-part blend
  (g) around (c)         (c) + re-rank; [(c) ; w * joint colour part]; (c) with the descriptor

Prints P@1/P@10 by type, by type + base colour (strict) and by type + near-colour group
(fashionrec.colour.colour_groups()), and train seconds. Then, for the chosen setting trained on
all 44k products: the 320 colour-labelled shopper photos (gated candidates, as photo search runs
them; the gate saw these photos, so their type figures are in-sample) and the 44k leave-one-out
(in-sample for the head). Seeded, one torch thread.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fashionrec.colour import colour_groups  # noqa: E402
from fashionrec.config import shared_data_dir  # noqa: E402
from fashionrec.eval.retrieval import top_k  # noqa: E402
from fashionrec.heads import ColourHead, ProjectionHead, split_by_product  # noqa: E402
from fashionrec.heads.colour import composite  # noqa: E402
from fashionrec.pipeline import IndexDir  # noqa: E402

log = logging.getLogger("colour_head")
K = 10


# ---------------------------------------------------------------------------- data


def codes(values: np.ndarray) -> np.ndarray:
    """Integer code per value; missing/empty -> -1 (never a query, never relevant)."""
    v = np.array(["" if x is None or x != x else str(x) for x in values], dtype=object)
    _, inv = np.unique(v.astype(str), return_inverse=True)
    inv = inv.astype(np.int64)
    inv[v == ""] = -1
    return inv


def load(features_index: str, colours_index: str):
    """Backbone vectors, colour descriptors and label columns, in one products order."""
    d = IndexDir(features_index)
    m = d.read_manifest()
    products = d.read_products(m)
    X = np.array(d.read_features(m), dtype=np.float32)  # a writable copy, not the memmap
    dc = IndexDir(colours_index)
    mc = dc.read_manifest()
    if not (dc.read_products(mc).index == products.index).all():
        raise SystemExit(f"{colours_index} and {features_index} list products in another order")
    D = np.ascontiguousarray(dc.read_array(mc, "colours"), dtype=np.float32)
    types = products["article_type"].astype(object).fillna("").to_numpy(dtype=object)
    colours = products["base_colour"].astype(object).fillna("").to_numpy(dtype=object)
    return products, X, D, types, colours


# ---------------------------------------------------------------------------- metrics


def precision(top: np.ndarray, queries: np.ndarray, labels: list[np.ndarray]) -> dict[str, float]:
    """P@1/P@10 where relevant = every label agrees; like eval.retrieval.leave_one_out, only
    queries with at least one other relevant item in the pool count."""
    key = np.zeros(len(labels[0]), np.int64)
    ok = np.ones(len(labels[0]), bool)
    for lab in labels:
        key = key * (lab.max() + 2) + lab + 1
        ok &= lab >= 0
    key[~ok] = -1
    pool_key = key[queries]
    _, inv, cnt = np.unique(pool_key, return_inverse=True, return_counts=True)
    valid = (pool_key >= 0) & (cnt[inv] > 1)
    hit = key[top] == pool_key[:, None]
    return {
        "p@1": float(hit[valid, 0].mean()),
        "p@10": float(hit[valid, :K].mean()),
    }


def rerank(s, rows, col, qcol, w: float, C: int) -> np.ndarray:
    """Top-K of each query after re-ranking its top C by (s + w * colour_cos)."""
    s, rows = s[:, :C], rows[:, :C]
    if w == 0:
        return rows[:, :K]
    cc = np.einsum("qcd,qd->qc", col[rows], qcol)
    order = np.argsort(-(s + w * cc), axis=1, kind="stable")[:, :K]
    return np.take_along_axis(rows, order, axis=1)


def table_row(name, secs, top, pool, t, c, g) -> dict:
    """One line of the catalog table."""
    r = {"name": name, "train_s": secs}
    for tag, labs in (("type", [t]), ("type+colour", [t, c]), ("type+group", [t, g])):
        m = precision(top, pool, labs)
        r[f"{tag} p@1"], r[f"{tag} p@10"] = m["p@1"], m["p@10"]
    print(
        f"{name:<44}{r['type p@1']:>7.3f}{r['type p@10']:>7.3f}{r['type+colour p@1']:>9.3f}"
        f"{r['type+colour p@10']:>7.3f}{r['type+group p@1']:>9.3f}{r['type+group p@10']:>7.3f}"
        f"{secs:>9.1f}",
        flush=True,
    )
    return r


def header(title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'':<44}{'type':>7}{'':>7}{'type+colour':>16}{'type+group':>16}\n"
        f"{'setting':<44}{'P@1':>7}{'P@10':>7}{'P@1':>9}{'P@10':>7}{'P@1':>9}{'P@10':>7}"
        f"{'train s':>9}"
    )


# ---------------------------------------------------------------------------- photos


def photo_inputs(args, gate_index: str):
    """Backbone vectors (auto-cropped like photo search), gate type sets and colour descriptors
    of the 320 colour-labelled dev photos; cached under --cache."""
    from fashionrec.catalog.images import load_image
    from fashionrec.colour import colour_descriptor
    from fashionrec.photo.crop import crop_photo
    from fashionrec.recommend import Recommender

    dev = shared_data_dir() / "shopper-photos-dev"
    with open(dev / "colours.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    paths = [str(dev / "images" / f"{r['image']}.jpg") for r in rows]
    rec = Recommender.open(gate_index)
    crop = rec.gate.meta["query_crop"]
    args.cache.mkdir(parents=True, exist_ok=True)
    file = args.cache / f"shopper320-backbone-{rec.manifest.embedder['name']}.npz"
    if file.exists():
        with np.load(file, allow_pickle=False) as z:
            B, Dq = z["backbone"], z["colour"]
    else:
        pics = [
            crop_photo(load_image(p), mode=crop["mode"], fraction=crop["fraction"]) for p in paths
        ]
        B = rec.backbone_vectors(pics)
        Dq = np.stack([colour_descriptor(p) for p in pics]).astype(np.float32)
        np.savez(file, backbone=B, colour=Dq)
    gated = [rec.gate.decide(b, mass=0.0).types for b in B]
    return rows, B, Dq, gated


def photo_table(args, name, space_q, space_c, Dq, D, types, colours, rows, gated, ws, C) -> None:
    """Gated search like Recommender.search_photos, re-ranked by the photo's colour descriptor."""
    dev = shared_data_dir() / "shopper-photos-dev"
    with open(dev / "colour_groups.csv", newline="") as f:
        groups = {r["colour"]: set(r["catalog_colours"].split("|")) for r in csv.DictReader(f)}
    with open(dev / "label_map.csv", newline="") as f:
        label_types = {r["label"]: set(r["articleTypes"].split("|")) for r in csv.DictReader(f)}
    by_type: dict[str, np.ndarray] = {}
    for t in np.unique(types):
        by_type[t] = np.flatnonzero(types == t)
    res = {w: np.zeros(3) for w in ws}
    for i, r in enumerate(rows):
        allowed = (
            np.concatenate([by_type[t] for t in gated[i] if t in by_type])
            if gated[i]
            else np.arange(len(types))
        )
        s = space_c[allowed] @ space_q[i]
        top = np.argsort(-s, kind="stable")[:C]
        cand, sc = allowed[top], s[top]
        cc = D[cand] @ Dq[i]
        want_t = label_types[r["label"]]
        want_c = groups.get(r["colour"], {r["colour"]})
        for w in ws:
            best = cand[np.argsort(-(sc + w * cc), kind="stable")[:K]]
            ok_t = np.isin(types[best], list(want_t))
            ok_c = np.isin(colours[best], list(want_c))
            res[w] += [ok_t.mean(), ok_c.mean(), (ok_t & ok_c).mean()]
    for w in ws:
        pt, pg, pb = res[w] / len(rows)
        print(f"{name:<44}{C:>5}{w:>6.2f}{pt:>8.3f}{pg:>8.3f}{pb:>12.3f}", flush=True)


class _InputDescriptor:
    """A head trained on [backbone ; s * descriptor], with ColourHead's transform(X, D)."""

    def __init__(self, head: ProjectionHead, scale: float) -> None:
        self.head, self.scale = head, float(scale)

    def transform(self, X: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
        return self.head.transform(np.hstack([X, self.scale * descriptors]))


# ---------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", default="/tmp/idx44kh", help="index with features-*.npy")
    ap.add_argument("--colours", default="/tmp/idx44kc", help="index with colours-*.npy")
    ap.add_argument("--gated", default="/tmp/idx44kg", help="index with the photo type gate")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/colour_cache"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--only", default="", help="comma list of candidate groups: base,a,b,c,d")
    ap.add_argument(
        "--winner",
        default="c:0.5",
        help="comma list of heads for the photo and 44k runs: c:W (the wired --colour head, "
        "type|colour weight W), c-desc:S (the same reading S x descriptor), d-joint-desc:W, "
        "d-joint-cnn:W, c+d-joint-desc:W (two-part, colour part weight W)",
    )
    ap.add_argument("--skip-photos", action="store_true")
    ap.add_argument("--skip-full", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(1)
    t_start = time.perf_counter()
    only = set(args.only.split(",")) if args.only else {"base", "a", "b", "c", "d", "g"}  # "none"

    products, X, D, types, colours = load(args.features, args.colours)
    grp = colour_groups()
    groups = np.array([grp.get(c, c) if c else "" for c in colours], dtype=object)
    t, c, g = codes(types), codes(colours), codes(groups)
    train, test = split_by_product(len(X), test_size=0.2, seed=args.seed)
    print(f"{len(X)} products; train {len(train)}, test {len(test)}; seed {args.seed}")
    lab = {"article_type": types[train], "base_colour": colours[train]}
    ep = args.epochs

    def evaluate(name, secs, vecs, *, keep=False):
        s, r = top_k(vecs, vecs, 200, exclude=np.arange(len(vecs)))
        row = table_row(name, secs, test[r[:, :K]], test, t, c, g)
        return (row, s, r) if keep else row

    def fit(X_in, labels, weights, **kw):
        t0 = time.perf_counter()
        head = ProjectionHead(epochs=ep, **kw).fit(X_in, labels, weights=weights, seed=args.seed)
        return head, time.perf_counter() - t0

    comp = composite(types, colours)

    def c_head(rows: np.ndarray, tag: str, w: float = 0.5, desc: float = 0.0):
        """The (c) head, cached: training is seeded, so the cache holds what a run would train."""
        cached = args.cache / f"c-head-{tag}-w{w}-seed{args.seed}-ep{ep}"
        if cached.is_dir():
            head = ProjectionHead.load(cached)
            return head, head.info_["train_seconds"]
        head, secs = fit(
            np.hstack([X[rows], desc * D[rows]]) if desc else X[rows],
            {"article_type": types[rows], "type|colour": comp[rows]},
            {"article_type": 1.0, "type|colour": w},
        )
        head.save(cached)
        return head, secs

    header("catalog 80/20 split by product, test->test leave-one-out")
    results = []
    if "base" in only:
        results.append(evaluate("frozen backbone (1280-d)", 0.0, X[test]))
    type_head = None
    if only & {"base", "d"}:
        # seeded, so a cached type head is the one this run would train
        cached = args.cache / f"type-head-80-seed{args.seed}-ep{ep}"
        if cached.is_dir():
            type_head = ProjectionHead.load(cached)
            secs = type_head.info_["train_seconds"]
        else:
            type_head, secs = fit(X[train], {"article_type": lab["article_type"]}, None)
            type_head.save(cached)
        results.append(evaluate("type head (#3)", secs, type_head.transform(X[test])))
    if "a" in only:
        for w in (0.5, 1.0, 2.0):
            head, secs = fit(X[train], lab, {"article_type": 1.0, "base_colour": w})
            results.append(
                evaluate(f"(a) type + colour, colour weight {w}", secs, head.transform(X[test]))
            )
    if "b" in only:
        for s_ in (0.5, 1.0):
            Xb = np.hstack([X, s_ * D])
            head, secs = fit(Xb[train], lab, {"article_type": 1.0, "base_colour": 1.0})
            results.append(
                evaluate(
                    f"(b) type + colour 1:1, input + {s_} x descriptor",
                    secs,
                    head.transform(Xb[test]),
                )
            )
    if "c" in only:
        for w in (0.5, 1.0):
            head, secs = c_head(train, "80", w)
            results.append(
                evaluate(f"(c) type + 'type|colour' weight {w}", secs, head.transform(X[test]))
            )
    if "g" in only:
        # combinations around (c) at weight 0.5, the one that kept type P@10 at 0.813
        c05, c_secs = c_head(train, "80", 0.5)
        row, s, r = evaluate("(c) weight 0.5", c_secs, c05.transform(X[test]), keep=True)
        for C, wr in ((100, 0.15), (100, 0.3), (200, 0.5), (200, 1.0)):
            top = rerank(s, r, D[test], D[test], wr, C)
            results.append(
                table_row(f"(g1) (c) + re-rank {C}, {wr}", c_secs, test[top], test, t, c, g)
            )
        t0 = time.perf_counter()
        ch = ColourHead(epochs=ep, descriptor=True, joint=True).fit_colour(
            X[train], colours[train], D[train], types=types[train], seed=args.seed
        )
        secs = c_secs + time.perf_counter() - t0
        ch.type_head = c05
        for w in (0.35, 0.5, 0.75, 1.0):
            ch.weight = w
            vecs = ch.transform(X[test], D[test])
            row, s, r = evaluate(f"(g2) [(c) ; {w} x joint-desc colour]", secs, vecs, keep=True)
            results.append(row)
            if w == 0.5:
                top = rerank(s, r, D[test], D[test], 0.15, 100)
                name = f"(g2) w={w} + re-rank 100, 0.15"
                results.append(table_row(name, secs, test[top], test, t, c, g))
        Xb = np.hstack([X, 0.5 * D])
        head, secs = fit(
            Xb[train],
            {"article_type": types[train], "type|colour": comp[train]},
            {"article_type": 1.0, "type|colour": 0.5},
        )
        results.append(
            evaluate("(g3) (c) with input + 0.5 x descriptor", secs, head.transform(Xb[test]))
        )
    best = None
    if "d" in only:
        variants = {
            "d-cnn": (False, False),
            "d-desc": (True, False),
            "d-joint-cnn": (False, True),
            "d-joint-desc": (True, True),
        }
        Tt = type_head.transform(X[test])
        st, rt = top_k(Tt, Tt, 50, exclude=np.arange(len(test)))
        for variant, (use_desc, joint) in variants.items():
            t0 = time.perf_counter()
            ch = ColourHead(epochs=ep, descriptor=use_desc, joint=joint).fit_colour(
                X[train],
                colours[train],
                D[train] if use_desc else None,
                types=types[train],
                seed=args.seed,
            )
            secs = time.perf_counter() - t0
            ch.type_head = type_head
            Ct = ch.colour_head.transform(ch._colour_input(X[test], D[test] if use_desc else None))
            for w in (0.5, 0.75, 1.0, 1.5):
                ch.weight = w
                vecs = ch.transform(X[test], D[test] if use_desc else None)
                row, s, r = evaluate(f"({variant}) [type ; {w} x colour]", secs, vecs, keep=True)
                results.append(row)
                if (
                    variant == "d-joint-desc"  # (e) re-ranks its best weight
                    and (best is None or row["type+colour p@10"] > best[0]["type+colour p@10"])
                    and row["type p@10"] >= 0.80
                ):
                    best = (row, s, r, w)
            # (f) type-consistent candidates: top C by the type part, re-ranked by the blend
            for C, w in ((20, 1.0), (30, 1.0), (50, 1.0), (30, 1.5)):
                cc = np.einsum("qcd,qd->qc", Ct[rt[:, :C]], Ct)
                order = np.argsort(-(st[:, :C] + w * w * cc), axis=1, kind="stable")[:, :K]
                top = np.take_along_axis(rt[:, :C], order, axis=1)
                name = f"(f) type top {C}, re-ranked by {variant} w={w}"
                results.append(table_row(name, secs, test[top], test, t, c, g))
        if best is not None:
            row, s, r, w = best
            for C, wr in ((100, 0.15), (100, 0.3), (200, 0.5)):
                top = rerank(s, r, D[test], D[test], wr, C)
                name = f"(e) {row['name'].split(')')[0][1:]} w={w} + re-rank {C}, {wr}"
                results.append(table_row(name, row["train_s"], test[top], test, t, c, g))
    print(f"\ncatalog part: {time.perf_counter() - t_start:.0f} s", flush=True)

    if args.skip_photos and args.skip_full:
        return
    # the chosen settings, trained on every product as `fashionrec train-heads --colour` does
    cached = args.cache / f"type-head-all-seed{args.seed}-ep{ep}"
    if cached.is_dir():
        type_all = ProjectionHead.load(cached)
    else:
        type_all, _ = fit(X, {"article_type": types}, None)
        type_all.save(cached)
    print(f"\ntype head on all {len(X)} products: {type_all.info_['train_seconds']:.0f} s")
    chosen, parts = [], {}
    for spec in args.winner.split(","):
        variant, w = spec.split(":") if ":" in spec else (spec, best[3] if best else 1.0)
        if variant == "c":  # the (c) head alone, a plain ProjectionHead
            head, secs = c_head(np.arange(len(X)), "all", float(w))
            print(f"(c) weight {w} on all products: {secs:.0f} s")
            chosen.append((f"(c) weight {w}", head, False))
            continue
        if variant == "c-desc":  # (g3): the (c) head reading [backbone ; w * descriptor]
            head = _InputDescriptor(c_head(np.arange(len(X)), f"desc{w}-all", 0.5, float(w))[0], w)
            chosen.append((f"(g3) (c) + input {w} x descriptor", head, True))
            continue
        use_desc = variant.endswith("desc")
        head = ColourHead(epochs=ep, descriptor=use_desc, joint="joint" in variant, weight=float(w))
        if variant.startswith("c+"):  # [(c) head ; colour part]
            full_type = c_head(np.arange(len(X)), "all", 0.5)[0]
        else:
            full_type = type_all
        if variant not in parts:  # the weight is only the blend: one colour part per variant
            t0 = time.perf_counter()
            head.fit_colour(X, colours, D if use_desc else None, types=types, seed=args.seed)
            print(f"{variant}: colour part on all products {time.perf_counter() - t0:.0f} s")
            parts[variant] = head.colour_head
        head.colour_head, head.type_head = parts[variant], full_type
        chosen.append((f"{variant} w={w}", head, use_desc))
    plain_type = type_all.transform(X)

    if not args.skip_photos:
        rows, B, Dq, gated = photo_inputs(args, args.gated)
        print(
            f"\nshopper photos (n={len(rows)}, gated candidates; type in-sample: the gate saw them)"
        )
        print(f"{'space':<44}{'C':>5}{'w':>6}{'type':>8}{'group':>8}{'type+group':>12}")
        ws = (0.0, 0.3, 0.5, 1.0)
        common = (Dq, D, types, colours, rows, gated, ws, 200)
        photo_table(args, "frozen backbone", B, X, *common)
        photo_table(args, "type head", type_all.transform(B), plain_type, *common)
        for name, head, use_desc in chosen:
            q = head.transform(B, Dq) if use_desc else head.transform(B)
            base = head.transform(X, D) if use_desc else head.transform(X)
            photo_table(args, name, q, base, *common)

    if not args.skip_full:
        print("\ncatalog full 44k leave-one-out (heads trained on these products: in-sample)")
        header("")
        allrows = np.arange(len(X))
        spaces = [("frozen", X), ("type head", plain_type)]
        spaces += [(n, h.transform(X, D) if u else h.transform(X)) for n, h, u in chosen]
        for name, vecs in spaces:
            s, r = top_k(vecs, vecs, 100, exclude=allrows)
            table_row(name, 0.0, r[:, :K], allrows, t, c, g)
            if name == "frozen":
                table_row(f"{name} + re-rank 100, 0.15", 0.0, rerank(s, r, D, D, 0.15, 100),
                          allrows, t, c, g)  # fmt: skip
    print(f"\nruntime {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
