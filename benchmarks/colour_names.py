"""Colour names: fit ColourNamer on 80 % of the 44k catalog, score the rest and shopper photos.

Prints strict and by-group colour-name accuracy on the held-out 20 % (seeded split by product),
by-group accuracy on the 320 colour-labelled shopper photos (groups: that folder's own
colour_groups.csv, and the repo's), and the descriptor time per image (decode excluded).
Descriptors are cached under --cache, so a rerun takes seconds (first run ~2-3 min).

    nice python benchmarks/colour_names.py [--save /tmp/colour-namer]
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from pathlib import Path

import numpy as np

from fashionrec.catalog.images import load_image
from fashionrec.catalog.loader import load_catalog
from fashionrec.colour import ColourNamer, colour_descriptor, group_accuracy
from fashionrec.colour.extract import DESCRIPTOR_DIM, DESCRIPTOR_VERSION
from fashionrec.config import shared_data_dir

log = logging.getLogger("colour_names")


def describe(paths: list[str], label: str) -> tuple[np.ndarray, float]:
    """Descriptors of the images at `paths` and the mean ms per image (decode excluded)."""
    out = np.zeros((len(paths), DESCRIPTOR_DIM), np.float32)
    spent = 0.0
    for i, p in enumerate(paths):
        img = load_image(p)
        t = time.perf_counter()
        out[i] = colour_descriptor(img)
        spent += time.perf_counter() - t
        if i and i % 5000 == 0:
            log.info("%s: %d/%d", label, i, len(paths))
    return out, 1e3 * spent / max(1, len(paths))


def cached(cache: Path, name: str, paths: list[str]) -> tuple[np.ndarray, float | None]:
    """Descriptors from the cache when it matches, else computed and cached."""
    file = cache / f"{name}-{DESCRIPTOR_VERSION}.npz"
    if file.exists():
        with np.load(file, allow_pickle=False) as z:
            if len(z["x"]) == len(paths):
                return z["x"], None
    x, ms = describe(paths, name)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, x=x)
    return x, ms


def shopper_groups(path: Path) -> dict[str, set[str]]:
    """The dev folder's groups: labelled colour -> catalog colours that count as a match."""
    with open(path, newline="") as f:
        return {r["colour"]: set(r["catalog_colours"].split("|")) for r in csv.DictReader(f)}


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/colour_cache"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--C", type=float, default=10.0)
    ap.add_argument("--save", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    data = shared_data_dir()

    cat = load_catalog(data / "fashion-product-images-small").products
    cat = cat[cat["image_path"].notna()]
    x, ms_cat = cached(args.cache, "catalog44k", cat["image_path"].tolist())
    labels = cat["base_colour"].fillna("").astype(str).to_numpy()
    rng = np.random.default_rng(args.seed)
    test = rng.random(len(cat)) < 0.2
    t = time.perf_counter()
    namer = ColourNamer(C=args.C).fit(x[~test], labels[~test])
    fit_s = time.perf_counter() - t
    if args.save:
        namer.save(args.save)
    scored = test & np.isin(labels, namer.classes_)
    pred = [n for n, _ in namer.predict(x[scored])]
    truth = labels[scored].tolist()
    strict = float(np.mean(np.array(pred) == np.array(truth)))
    majority = max(set(truth), key=truth.count)
    base = truth.count(majority) / len(truth)
    print(
        f"catalog held-out 20% (n={scored.sum()}, {len(namer.classes_)} colours, fit {fit_s:.0f}s)"
    )
    print(f"  strict accuracy   {strict:.3f}   (always {majority!r}: {base:.3f})")
    print(f"  by repo group     {group_accuracy(pred, truth):.3f}")

    dev = data / "shopper-photos-dev"
    with open(dev / "colours.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    paths = [str(dev / "images" / f"{r['image']}.jpg") for r in rows]
    xs, ms_dev = cached(args.cache, "shopper320", paths)
    named = namer.predict(xs)
    spred = [n for n, _ in named]
    struth = [r["colour"] for r in rows]
    groups = shopper_groups(dev / "colour_groups.csv")
    dev_hit = np.array([p in groups.get(t, {t}) for p, t in zip(spred, struth, strict=True)])
    print(f"shopper photos (n={len(rows)})")
    print(f"  strict accuracy   {np.mean(np.array(spred) == np.array(struth)):.3f}")
    print(f"  by dev groups     {dev_hit.mean():.3f}   (CNN top-10 colour group: ~0.24)")
    print(f"  by repo group     {group_accuracy(spred, struth):.3f}")
    conf = np.array([p for _, p in named])
    hi = conf >= np.median(conf)
    print(
        f"  by dev groups, confident half {dev_hit[hi].mean():.3f}, other {dev_hit[~hi].mean():.3f}"
    )
    solid = np.array([r["pattern"] == "solid" for r in rows])
    print(
        f"  by dev groups, solid {dev_hit[solid].mean():.3f} (n={solid.sum()}), "
        f"patterned {dev_hit[~solid].mean():.3f}"
    )
    for name, ms in (("catalog", ms_cat), ("shopper", ms_dev)):
        print(f"descriptor ms/image ({name}): " + (f"{ms:.2f}" if ms is not None else "cached"))


if __name__ == "__main__":
    main()
