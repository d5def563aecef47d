"""`fashionrec report`: the HTML report of a catalog folder or an index directory."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fashionrec.eval.report import (
    ReportSection,
    catalog_sections,
    evaluation_section,
    image_section,
    write_report,
)
from fashionrec.pipeline.layout import IndexDir

log = logging.getLogger(__name__)

#: Labels evaluated for an index report, when the catalog has them.
REPORT_LABELS = ("article_type", "sub_category", "base_colour", "gender", "group")


def _similar_items_grid(index_dir: Path, *, n: int, k: int, seed: int) -> bytes:
    from fashionrec.eval.grid import image_grid
    from fashionrec.recommend import Recommender

    rec = Recommender.open(index_dir)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(rec.products), size=min(n, len(rec.products)), replace=False)
    rows = []
    for pid in rec.products.index[np.sort(picks)]:
        query = rec.product(pid)
        row = [(query["image_path"], f"{query.get('article_type') or ''}")]
        for m in rec.similar_to_product(pid, k=k):
            row.append(
                (m.product["image_path"], f"{m.product.get('article_type') or ''}\n{m.score:.2f}")
            )
        rows.append(row)
    return image_grid(rows, thumb=96)


#: Colours too common or too pale to show what colour re-ranking changes.
_NEUTRAL = {"Black", "White", "Grey", "Off White", "Cream", "Multi", "Silver", "Steel"}


def _colour_grid(index_dir: Path, *, n: int, k: int, seed: int) -> bytes | None:
    """Per query two rows: top-k by look alone, then with colour re-ranking."""
    from fashionrec.eval.grid import image_grid
    from fashionrec.recommend import Recommender

    rec = Recommender.open(index_dir)
    if rec.colours is None or "base_colour" not in rec.products:
        return None
    pool = np.flatnonzero(~rec.products["base_colour"].isin(_NEUTRAL).to_numpy())
    if not len(pool):
        return None
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))

    def cell(p: dict) -> tuple[str, str]:
        return p["image_path"], f"{p.get('article_type') or ''}\n{p.get('base_colour') or ''}"

    rows = []
    for pid in rec.products.index[picks]:
        query = rec.product(pid)
        for label, weight in (("before", 0.0), ("after", None)):
            row = [(query["image_path"], f"{label}: {query.get('base_colour') or ''}")]
            row += [cell(m.product) for m in rec.similar_to_product(pid, k, colour_weight=weight)]
            rows.append(row)
    return image_grid(rows, thumb=88)


def index_sections(
    index_dir: Path,
    *,
    evaluate: bool = True,
    labels: Sequence[str] = REPORT_LABELS,
    grid: int = 8,
    seed: int = 0,
) -> list[ReportSection]:
    """Catalog charts, leave-one-out evaluation per label, and a similar-items picture."""
    from fashionrec.eval.run import evaluate_index

    d = IndexDir(index_dir)
    manifest = d.read_manifest()
    products = d.read_products(manifest)
    report = json.loads(d.report_path.read_text()) if d.report_path.is_file() else None
    sections = catalog_sections(products, report)
    if evaluate:
        runs = {}
        for label in labels:
            if label in products and products[label].notna().sum() > 1:
                log.info("evaluating leave-one-out by %s", label)
                r = evaluate_index(
                    index_dir, label=label, ks=(1, 5, 10, 20), per_label=label == "article_type"
                )
                runs[f"same {label}"] = r
        if "article_type" in products and "base_colour" in products:
            runs["same article_type and base_colour"] = evaluate_index(
                index_dir,
                label="article_type",
                also="base_colour",
                ks=(1, 5, 10, 20),
                per_label=False,
            )
        if runs:
            title = f"Retrieval quality ({manifest.embedder_name}, leave-one-out)"
            sections.append(evaluation_section(title, runs))
    if grid:
        png = _similar_items_grid(Path(index_dir), n=grid, k=5, seed=seed)
        sections.append(
            image_section(
                "Similar items",
                png,
                caption=(
                    "Each row: a catalog product (framed), then its five most similar products "
                    "with their article type and cosine similarity."
                ),
            )
        )
        colour_png = _colour_grid(Path(index_dir), n=grid, k=5, seed=seed)
        if colour_png is not None:
            sections.append(
                image_section(
                    "Colour re-ranking: before and after",
                    colour_png,
                    caption=(
                        "Seeded random products of a distinct colour (not black, white, grey...). "
                        "For each, its five most similar products by look alone (before), then "
                        "with the index's colour re-ranking (after), with type and colour."
                    ),
                )
            )
    return sections


def build_report(
    target: str | Path, out: str | Path, *, evaluate: bool = True, grid: int = 8, seed: int = 0
) -> Path:
    """Write the report of an index directory (charts + evaluation) or of a catalog folder.

    Example:
        >>> build_report("fashionrec-index", "report.html")   # doctest: +SKIP
    """
    target = Path(target)
    if IndexDir(target).exists():
        sections = index_sections(target, evaluate=evaluate, grid=grid, seed=seed)
        title = f"fashionrec report: index {target.name}"
    else:
        from fashionrec.catalog import load_catalog

        catalog = load_catalog(target)
        sections = catalog_sections(catalog.products, catalog.report.to_dict())
        title = f"fashionrec report: catalog {target.name}"
    return write_report(out, sections, title=title)
