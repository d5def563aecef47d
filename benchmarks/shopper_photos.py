"""Shopper photos -> 44k catalog: crops, type gate, augmentation, dev photos (out-of-fold).

Prints one row per step (P@1, P@10, macro P@10 over the 17 labels, gate accuracy and ECE),
the per-label P@10 of the plain search and of the final gate, and the catalog-side check
(leave-one-out P@10 by articleType with the gate applied to catalog queries). Features are
cached under /tmp/shopper_cache, so a rerun takes a few minutes (first run: ~15 min).

    nice python benchmarks/shopper_photos.py --index /tmp/idx44k --save /tmp/gate-lite0
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np

from fashionrec.config import shared_data_dir
from fashionrec.eval.retrieval import leave_one_out
from fashionrec.photo.experiment import (
    DevPhotos,
    augmented_features,
    dev_features,
    folds_of,
    gated_hits,
    oof_probs,
    sample_per_type,
    summarize_hits,
    train_gate,
)
from fashionrec.photo.gate import (
    TypeGate,
    _softmax,
    expected_calibration_error,
    fit_temperature,
    set_mask,
)
from fashionrec.pipeline.build import finish_vectors
from fashionrec.recommend import Recommender

log = logging.getLogger("shopper_photos")
CATALOG_PER_TYPE = 300  # catalog rows per type the gate trains on (balances Tshirts vs Ties)
AUG_PER_TYPE = 100  # one shopper-style version of up to this many products per type


def row(name: str, s: dict, extra: str = "") -> None:
    print(
        f"| {name:<44} | {s['p@1']:.3f} | {s['p@10']:.3f} | {s['macro_p@10']:.3f} | {extra:<20} |",
        flush=True,
    )


def gate_rows(name, probs, dev_mask, gate, q, X, types, wanted, labels, masses) -> dict:
    top = probs.argmax(1)
    ok = dev_mask[np.arange(len(q)), top]
    ece = expected_calibration_error(probs.max(1), ok)
    out = {}
    for mass in masses:
        allowed = [gate.allowed_types(p, mass=mass) for p in probs]
        s = summarize_hits(gated_hits(q, X, types, allowed, wanted), labels)
        row(f"{name}, mass {mass:g}", s, f"acc {ok.mean():.3f} ECE {ece:.3f}")
        out[mass] = s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="/tmp/idx44k")
    ap.add_argument("--dev-weight", type=float, default=20.0)
    ap.add_argument("--mlp", action="store_true", help="also try a 512-unit hidden layer")
    ap.add_argument("--save", default=None, help="train on everything and save the gate here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning)
    t0 = time.time()

    rec = Recommender.open(args.index)
    X = rec.index.get_vectors(rec.products["key"].to_numpy())
    types = rec.products["article_type"].to_numpy().astype(str)
    paths = rec.products["image_path"].tolist()
    T = sorted(set(types))
    dev = DevPhotos.load(shared_data_dir() / "shopper-photos-dev")
    wanted = [dev.label_map[lab] for lab in dev.labels]
    proto = TypeGate(T)
    dev_t = [proto.type_set(w) for w in wanted]
    dev_mask = set_mask(dev_t, len(T))
    q = {
        c: finish_vectors(dev_features(rec.embedder, dev, crop=c), rec.mean)
        for c in ("none", "centre", "garment")
    }

    print(f"{len(dev.labels)} dev photos -> {len(X)} catalog products, {len(T)} article types")
    print(f"| {'step':<44} | P@1   | P@10  | macro | {'gate':<20} |")
    print(f"|{'-' * 46}|-------|-------|-------|{'-' * 22}|")
    none = [None] * len(dev.labels)
    plain = summarize_hits(gated_hits(q["none"], X, types, none, wanted), dev.labels)
    row("plain (pad to white square)", plain)
    for c, label in (("centre", "+ centre crop 80 %"), ("garment", "+ garment (foreground) crop")):
        row(label, summarize_hits(gated_hits(q[c], X, types, none, wanted), dev.labels))

    crop = "centre"
    qc = q[crop]
    cat_rows = sample_per_type(types, per_type=CATALOG_PER_TYPE, seed=0)
    cat_part = (X[cat_rows], [proto.type_set([types[r]]) for r in cat_rows], 1.0)
    aug_rows = sample_per_type(types, per_type=AUG_PER_TYPE, seed=0)
    XA = finish_vectors(augmented_features(rec.embedder, paths, aug_rows, seed=0), rec.mean)
    aug_part = (XA, [proto.type_set([types[r]]) for r in aug_rows], 1.0)
    steps = [
        ("gate: catalog only", [cat_part], 0.0, 0, (0.0, 0.5)),
        ("gate: + augmented catalog", [cat_part, aug_part], 0.0, 0, (0.0, 0.5)),
        ("gate: + dev photos (OOF)", [cat_part, aug_part], args.dev_weight, 0, (0.0, 0.5, 0.7)),
    ]
    if args.mlp:
        steps.append(("gate MLP-512: + dev photos (OOF)", [cat_part, aug_part], 5.0, 512, (0.0,)))
    final_probs = None
    for name, base, wdev, hidden, masses in steps:
        probs, _, temps = oof_probs(T, base, qc, dev_t, dev_weight=wdev, hidden=hidden)
        gate_rows(name, probs, dev_mask, proto, qc, X, types, wanted, dev.labels, masses)
        if wdev > 0 and hidden == 0:
            final_probs, final_temp = probs, float(np.median(temps))
    allowed = [proto.allowed_types(p, mass=0.0) for p in final_probs]
    final = summarize_hits(gated_hits(qc, X, types, allowed, wanted), dev.labels)
    print("\nper label P@10 (count): plain -> final gate (centre crop, top-1 type, OOF)")
    for lab, p in plain["per_label"].items():
        n = int((dev.labels == lab).sum())
        print(f"  {lab:<11} ({n:>3}) {p:.2f} -> {final['per_label'][lab]:.2f}")

    # Catalog side: each half of the catalog is gated by a gate that never saw it.
    half = folds_of(len(X), k=2, seed=0)
    loo_plain = leave_one_out(X, types, ks=(1, 10), per_label=False).overall
    cat_logits = np.zeros((len(X), len(T)), np.float32)
    for h in (0, 1):
        keep_c, keep_a = cat_rows[half[cat_rows] != h], aug_rows[half[aug_rows] != h]
        gate = train_gate(
            T,
            [
                (X[keep_c], [proto.type_set([types[r]]) for r in keep_c], 1.0),
                (XA[half[aug_rows] != h], [proto.type_set([types[r]]) for r in keep_a], 1.0),
                (qc, dev_t, args.dev_weight),
            ],
        )
        cat_logits[half == h] = gate.logits(X[half == h])
    cat_probs = np.zeros_like(cat_logits)
    cat_mask = set_mask([proto.type_set([t]) for t in types], len(T))
    for h in (0, 1):  # cross-fitted temperature, as for the photos
        other = half != h
        temp = fit_temperature(cat_logits[other], cat_mask[other])
        cat_probs[half == h] = _softmax(cat_logits[half == h] / temp)
    print(f"\ncatalog leave-one-out by articleType (44k): plain P@10 {loo_plain['p@10']:.3f}")
    own = [{t} for t in types]
    for mass in (0.0, 0.5, 0.9):
        allowed = [proto.allowed_types(p, mass=mass) for p in cat_probs]
        hits = gated_hits(X, X, types, allowed, own, exclude=np.arange(len(X)))
        print(f"  gated, mass {mass:g}: P@1 {hits[:, 0].mean():.3f} P@10 {hits.mean():.3f}")
    acc = (np.array(T)[cat_probs.argmax(1)] == types).mean()
    print(f"  gate top-1 accuracy on catalog photos (held-out half): {acc:.3f}")

    if args.save:
        gate = train_gate(T, [cat_part, aug_part, (qc, dev_t, args.dev_weight)])
        gate.temperature_ = final_temp  # median of the folds' cross-fitted temperatures
        gate.meta = {
            "embedder": rec.manifest.embedder_name,
            "query_crop": {"mode": crop, "fraction": 0.8},
            "trained_on": f"catalog {len(cat_rows)} + augmented {len(aug_rows)} + dev photos "
            f"{len(qc)} (weight {args.dev_weight:g})",
            "oof": {k: final[k] for k in ("p@1", "p@10", "macro_p@10")},
        }
        gate.save(args.save)
        print(f"\nsaved the gate (temperature {gate.temperature_:.2f}) to {args.save}")
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
