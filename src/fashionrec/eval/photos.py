"""`fashionrec eval-photos`: shopper photos query the catalog the way the search page does.

A result is relevant when its article type is one that the label map lists for the photo's
label (e.g. label "Pants" -> Trousers | Jeans | Track Pants ...).
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fashionrec.errors import CatalogError, ConfigError

log = logging.getLogger(__name__)


def read_labels(path: str | Path, *, value: str = "label") -> dict[str, str]:
    """image -> label (or another column) from a CSV with columns image,<value>."""
    rows = _read_csv(path, ("image", value))
    return {r["image"].strip(): r[value].strip() for r in rows if r[value].strip()}


def read_label_map(path: str | Path) -> dict[str, set[str]]:
    """label -> the catalog article types that count as the same kind of garment."""
    rows = _read_csv(path, None)
    if not rows:
        raise CatalogError(f"{path} is empty")
    label_col, types_col = list(rows[0].keys())[:2]
    return {
        r[label_col].strip(): {t.strip() for t in r[types_col].split("|") if t.strip()}
        for r in rows
    }


def _read_csv(path: str | Path, need: Sequence[str] | None) -> list[dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"no such file: {path}")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in need or () if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogError(f"{path} lacks column(s) {missing}; it has {reader.fieldnames}")
        return list(reader)


def photo_paths(photos_dir: str | Path, images: Sequence[str]) -> list[Path]:
    """`PHOTOS_DIR/<image>.jpg` (or the name as given when it has an extension)."""
    root = Path(photos_dir)
    paths = []
    for name in images:
        p = root / name if Path(name).suffix else root / f"{name}.jpg"
        if not p.is_file():
            raise CatalogError(f"photo {name!r} not found at {p}")
        paths.append(p)
    return paths


def evaluate_photos(
    index_dir: str | Path,
    photos_dir: str | Path,
    labels_csv: str | Path,
    label_map_csv: str | Path,
    *,
    ks: Sequence[int] = (1, 10),
    limit: int | None = None,
    colours_csv: str | Path | None = None,
    colour_groups_csv: str | Path | None = None,
) -> dict[str, Any]:
    """P@k of shopper photos against an index, overall, macro over labels and per label.

    With `colours_csv` (image, colour in the catalog's vocabulary) the photos it labels also
    report colour-group P@k and type + colour-group P@k (a result matches the colour when its
    base colour is in the photo colour's group: `colour_groups_csv` with columns colour,
    catalog_colours, by default the file beside `colours_csv`, else the repo's groups).

    Example:
        >>> evaluate_photos("idx", "photos", "labels.csv", "map.csv")["p@10"]  # doctest: +SKIP
    """
    from fashionrec.recommend import Recommender

    labels = read_labels(labels_csv)
    label_map = read_label_map(label_map_csv)
    unknown = sorted({lab for lab in labels.values() if lab not in label_map})
    if unknown:
        raise ConfigError(f"labels missing from the label map {label_map_csv}: {unknown}")
    images = sorted(labels)[:limit] if limit else sorted(labels)
    rec = Recommender.open(index_dir)
    depth = max(ks)
    results = rec.similar_to_images(photo_paths(photos_dir, images), depth)
    hits = np.zeros((len(images), depth), dtype=bool)
    retrieved: dict[str, Counter] = {}
    for i, (image, matches) in enumerate(zip(images, results, strict=True)):
        wanted = label_map[labels[image]]
        types = [m.product.get("article_type") for m in matches]
        hits[i, : len(types)] = [t in wanted for t in types]
        retrieved.setdefault(labels[image], Counter()).update(t for t in types if t)
    out = _summary(hits, [labels[i] for i in images], retrieved, ks)
    if colours_csv is not None:
        out["colour"] = _colour_summary(
            images,
            results,
            hits,
            read_labels(colours_csv, value="colour"),
            read_colour_groups(colour_groups_csv, beside=colours_csv),
            ks,
        )
    out["in_sample"] = _in_sample(rec, images)
    if out["in_sample"]:
        log.warning(
            "%d of these photos trained the index's type gate: these figures are "
            "in-sample; `fashionrec train-gate` reports the out-of-fold ones",
            out["in_sample"],
        )
    return out


def read_colour_groups(
    path: str | Path | None, *, beside: str | Path | None = None
) -> dict[str, set[str]] | None:
    """colour -> the catalog colours that count as a match; None: use the repo's groups."""
    if path is None and beside is not None:
        candidate = Path(beside).with_name("colour_groups.csv")
        path = candidate if candidate.is_file() else None
    if path is None:
        return None
    rows = _read_csv(path, ("colour", "catalog_colours"))
    return {
        r["colour"].strip(): {c.strip() for c in r["catalog_colours"].split("|") if c.strip()}
        for r in rows
    }


def _colour_summary(
    images: Sequence[str],
    results: Sequence[Sequence[Any]],
    type_hits: np.ndarray,
    colours: dict[str, str],
    groups: dict[str, set[str]] | None,
    ks: Sequence[int],
) -> dict[str, Any]:
    from fashionrec.colour import same_group

    rows = [i for i, image in enumerate(images) if image in colours]
    if not rows:
        raise ConfigError("none of the evaluated photos has a colour in the colours CSV")
    depth = type_hits.shape[1]
    colour_hits = np.zeros((len(rows), depth), dtype=bool)
    for n, i in enumerate(rows):
        wanted = colours[images[i]]
        for j, m in enumerate(results[i][:depth]):
            got = str(m.product.get("base_colour") or "")
            colour_hits[n, j] = (
                got in groups.get(wanted, {wanted})
                if groups is not None
                else same_group(got, wanted)
            )
    both = colour_hits & type_hits[rows]
    out: dict[str, Any] = {"photos": len(rows)}
    for k in ks:
        out[f"type_p@{k}"] = float(type_hits[rows, :k].mean())
        out[f"colour_group_p@{k}"] = float(colour_hits[:, :k].mean())
        out[f"type_colour_group_p@{k}"] = float(both[:, :k].mean())
    return out


def _in_sample(rec: Any, images: Sequence[str]) -> int:
    """How many evaluated photos the index's gate was trained on."""
    if rec.gate is None:
        return 0
    from fashionrec.pipeline.gate import trained_photos

    seen = trained_photos(rec.index_dir.heads_path(rec.manifest.generation) / "gate")
    return len(seen.intersection(images))


def _summary(
    hits: np.ndarray, labels: list[str], retrieved: dict[str, Counter], ks: Sequence[int]
) -> dict[str, Any]:
    lab = np.array(labels, dtype=object)
    out: dict[str, Any] = {"photos": len(labels)}
    for k in ks:
        out[f"p@{k}"] = float(hits[:, :k].mean())
    per_label = {}
    for value in sorted(set(labels)):
        rows = lab == value
        entry: dict[str, Any] = {"count": int(rows.sum())}
        for k in ks:
            entry[f"p@{k}"] = float(hits[rows, :k].mean())
        entry["retrieves"] = dict(retrieved[value].most_common(3))
        per_label[value] = entry
    for k in ks:
        out[f"macro_p@{k}"] = float(np.mean([e[f"p@{k}"] for e in per_label.values()]))
    out["per_label"] = per_label
    return out
