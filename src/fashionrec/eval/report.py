"""A self-contained HTML report: one file, inline CSS, charts as data URIs, no external links.

Sections are built separately (catalog overview, evaluation runs, image grids) and written
together with a table of contents. Every value that comes from data is HTML-escaped.

Example::

    from fashionrec.catalog import load_catalog
    from fashionrec.eval.report import catalog_sections, write_report

    cat = load_catalog("fashion-product-images-small")
    write_report("report.html", catalog_sections(cat.products, cat.report.to_dict()))
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fashionrec._io import atomic_write_bytes

from . import charts

logger = logging.getLogger(__name__)

#: Catalog columns drawn as a distribution chart, when present and not all empty.
CATEGORY_COLUMNS = ("gender", "master_category", "sub_category", "base_colour", "season", "usage")
#: Preferred order of metric columns; other scalar metrics follow alphabetically.
METRIC_ORDER = ("queries", "count", "p@1", "p@5", "p@10", "r@10", "map@10", "ndcg@10")

__all__ = [
    "ReportSection",
    "catalog_sections",
    "evaluation_section",
    "image_section",
    "render_html",
    "write_report",
]


@dataclass
class ReportSection:
    """One titled part of the report; `html` is an already-safe HTML fragment."""

    title: str
    html: str


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` holding `png` as a base64 data URI, with escaped alt text."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _figure(png: bytes, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f"<figure>{img_tag(png, alt)}{cap}</figure>"


NUM = ' class="num"'


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric_from: int = 1,
    bold: Sequence[Sequence[bool]] | None = None,
) -> str:
    """An escaped table; columns from `numeric_from` on are right-aligned."""
    head = "".join(
        f"<th{NUM if i >= numeric_from else ''}>{_e(h)}</th>" for i, h in enumerate(header)
    )
    body = []
    for r, row in enumerate(rows):
        cells = []
        for i, v in enumerate(row):
            text = _e(v)
            if bold is not None and bold[r][i]:
                text = f"<strong>{text}</strong>"
            cells.append(f"<td{NUM if i >= numeric_from else ''}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _n_values(products: pd.DataFrame, column: str) -> int | str:
    if column not in products.columns:
        return "n/a"
    return int(products[column].dropna().astype(str).str.strip().replace("", pd.NA).nunique())


def _report_dict(report: Any) -> Mapping[str, Any] | None:
    if report is None:
        return None
    if hasattr(report, "to_dict"):
        return report.to_dict()
    return report


def _count(value: Any) -> int:
    """A report field may be a list of issues or already a number."""
    if isinstance(value, (list, tuple)):
        return len(value)
    return int(value or 0)


def _summary_html(products: pd.DataFrame, report: Mapping[str, Any] | None) -> str:
    rows: list[tuple[str, Any]] = [("products", f"{len(products):,}")]
    for label, column in (
        ("article types", "article_type"),
        ("colours", "base_colour"),
        ("genders", "gender"),
        ("master categories", "master_category"),
        ("sub categories", "sub_category"),
    ):
        if column in products.columns:
            rows.append((label, _n_values(products, column)))
    if "year" in products.columns and products["year"].notna().any():
        rows.append(("years", f"{products['year'].min()}–{products['year'].max()}"))
    if "price" in products.columns and products["price"].notna().any():
        rows.append(
            ("price range", f"{products['price'].min():,.2f}–{products['price'].max():,.2f}")
        )
    parts = ["<h3>Products</h3>", _table(["", "value"], rows)]
    if report is not None:
        cleaning = [
            ("rows read", f"{_count(report.get('rows_read')):,}"),
            ("products kept", f"{_count(report.get('kept')):,}"),
            ("rows fixed (kept)", f"{_count(report.get('fixed')):,}"),
            ("rows dropped", f"{_count(report.get('dropped')):,}"),
            ("bad images (dropped)", f"{_count(report.get('bad_images')):,}"),
            ("images without a row", f"{_count(report.get('orphan_images')):,}"),
        ]
        parts += ["<h3>Cleaning</h3>", _table(["", "count"], cleaning)]
        if report.get("csv_path"):
            parts.insert(0, f'<p class="muted">Source: <code>{_e(report["csv_path"])}</code></p>')
        reasons = [
            (kind, reason, f"{n:,}")
            for kind, by_reason in (report.get("counts") or {}).items()
            for reason, n in sorted(by_reason.items(), key=lambda kv: -kv[1])
        ]
        if reasons:
            parts += [
                "<h3>Cleaning by reason</h3>",
                _table(["kind", "reason", "rows"], reasons, numeric_from=2),
            ]
    return "\n".join(parts)


def _missing(products: pd.DataFrame, report: Mapping[str, Any] | None) -> dict[str, int]:
    if report is not None and report.get("missing_values"):
        return {str(k): int(v) for k, v in report["missing_values"].items()}
    out = {}
    for column in products.columns:
        if column == "image_path":
            continue
        values = products[column]
        empty = values.isna()
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            empty |= values.astype("string").str.strip().eq("").fillna(False)
        out[str(column)] = int(empty.sum())
    return out


def catalog_sections(
    products: pd.DataFrame, report: Mapping[str, Any] | Any | None = None
) -> list[ReportSection]:
    """Summary table (and cleaning counts when `report` is given), then catalog charts.

    `report` is a ``CleaningReport.to_dict()`` mapping (a CleaningReport is accepted too).
    """
    start = time.perf_counter()
    rep = _report_dict(report)
    sections = [ReportSection("Catalog summary", _summary_html(products, rep))]
    if "article_type" in products.columns:
        types = [
            _figure(
                charts.product_type_distribution(products),
                "Bar chart: number of products of every article type",
            ),
            _figure(
                charts.top_types_pie(products),
                "Donut chart: share of the 10 most common article types",
            ),
        ]
        sections.append(ReportSection("Product types", "\n".join(types)))
    missing = _missing(products, rep)
    total = _count(rep.get("kept")) if rep is not None and rep.get("kept") else len(products)
    sections.append(
        ReportSection(
            "Missing values",
            _figure(
                charts.missing_values_chart(missing, total),
                "Bar chart: rows with a missing value, per column",
            ),
        )
    )
    figures = [
        _figure(
            charts.category_distribution(products, column),
            f"Bar chart: number of products per {column.replace('_', ' ')}",
        )
        for column in CATEGORY_COLUMNS
        if column in products.columns and products[column].notna().any()
    ]
    if figures:
        sections.append(ReportSection("Categories", "\n".join(figures)))
    logger.info(
        "catalog sections for %d products in %.1f s", len(products), time.perf_counter() - start
    )
    return sections


def _metric_columns(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    keys = {k for m in results.values() for k, v in m.items() if _is_scalar(v)}
    first = [k for k in METRIC_ORDER if k in keys]
    return first + sorted(keys - set(first))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def _metrics_table(rows: Mapping[str, Mapping[str, Any]], first_header: str) -> str:
    columns = _metric_columns(rows)
    names = list(rows)
    best: dict[str, float] = {}
    if len(names) > 1:
        for c in columns:
            if c in ("queries", "count"):
                continue
            vals = [rows[n].get(c) for n in names]
            floats = [v for v in vals if isinstance(v, float) and not math.isnan(v)]
            if floats:
                best[c] = max(floats)
    body = [[n, *(_fmt(rows[n].get(c)) for c in columns)] for n in names]
    bold = [[False, *(c in best and rows[n].get(c) == best[c] for c in columns)] for n in names]
    return _table([first_header, *columns], body, bold=bold)


def evaluation_section(title: str, results: Mapping[str, Mapping[str, Any]]) -> ReportSection:
    """A table of runs (best value per metric in bold), a comparison chart of p@10 (or the
    first metric), then per-label results of the first run that has them."""
    if not results:
        return ReportSection(title, '<p class="muted">No evaluation runs.</p>')
    parts = [_metrics_table(results, "run")]
    columns = [c for c in _metric_columns(results) if c not in ("queries", "count")]
    metric = "p@10" if "p@10" in columns else (columns[0] if columns else None)
    if metric is not None and len(results) > 1:
        parts.append(
            _figure(charts.metric_bars(results, metric=metric), f"Bar chart: {metric} of every run")
        )
    labelled = [(n, m["per_label"]) for n, m in results.items() if m.get("per_label")]
    if labelled:
        run, per_label = labelled[0]
        label_metric = metric if metric and any(metric in v for v in per_label.values()) else None
        parts.append(f"<h3>Per label: {_e(run)}</h3>")
        if label_metric is not None:
            parts.append(
                _figure(
                    charts.per_label_bars(per_label, metric=label_metric),
                    f"Bar chart: {label_metric} per label for run {run}",
                )
            )
            ordered = dict(
                sorted(per_label.items(), key=lambda kv: kv[1].get(label_metric, math.inf))
            )
            parts.append(f'<p class="muted">Sorted by {_e(label_metric)}, worst first.</p>')
        else:
            ordered = dict(per_label)
        parts.append(_metrics_table(ordered, "label"))
    return ReportSection(title, "\n".join(parts))


def image_section(title: str, png: bytes, *, caption: str = "") -> ReportSection:
    """A section holding one image (e.g. an :func:`~fashionrec.eval.charts.image_grid`)."""
    return ReportSection(title, _figure(png, caption or title, caption))


CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--accent:#4c72b0;--zebra:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:var(--fg);background:var(--bg)}
main{max-width:1040px;margin:0 auto;padding:24px 20px 64px}
h1{font-size:1.8em;margin:.2em 0}
h2{font-size:1.35em;margin:2em 0 .6em;padding-bottom:.25em;border-bottom:1px solid var(--line)}
h3{font-size:1.05em;margin:1.4em 0 .4em}
.muted{color:var(--muted)}
nav{background:var(--zebra);border:1px solid var(--line);border-radius:6px;padding:8px 18px;
 margin:16px 0}
nav ol{margin:.3em 0;padding-left:1.4em}
a{color:var(--accent)}
figure{margin:1em 0}
figure img{max-width:100%;height:auto;display:block;border:1px solid var(--line);
 border-radius:4px}
figcaption{color:var(--muted);font-size:.9em;margin-top:.3em}
.table-wrap{overflow-x:auto;max-height:36em;overflow-y:auto;margin:.5em 0}
table{border-collapse:collapse;font-size:.92em}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{background:var(--zebra);position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:var(--zebra)}
code{font-size:.9em;word-break:break-all}
@media (max-width:600px){body{font-size:14px}main{padding:12px}}
"""


def _anchor(title: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    anchor, i = base, 2
    while anchor in used:
        anchor, i = f"{base}-{i}", i + 1
    used.add(anchor)
    return anchor


def render_html(sections: Sequence[ReportSection], *, title: str = "fashionrec report") -> str:
    """The whole HTML document as a string (see :func:`write_report`)."""
    used: set[str] = set()
    anchors = [_anchor(s.title, used) for s in sections]
    toc = "".join(
        f'<li><a href="#{a}">{_e(s.title)}</a></li>' for a, s in zip(anchors, sections, strict=True)
    )
    body = "\n".join(
        f'<section id="{a}">\n<h2>{_e(s.title)}</h2>\n{s.html}\n</section>'
        for a, s in zip(anchors, sections, strict=True)
    )
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{_e(title)}</h1>\n"
        f'<p class="muted">Generated by fashionrec on {when}.</p>\n'
        f'<nav aria-label="Contents"><strong>Contents</strong><ol>{toc}</ol></nav>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def write_report(
    path: str | Path, sections: Sequence[ReportSection], *, title: str = "fashionrec report"
) -> Path:
    """Write ONE self-contained HTML file (atomically) and return its path.

    Example::

        write_report("out/report.html", [image_section("Grid", png)], title="Shop")
    """
    path = Path(path)
    document = render_html(sections, title=title)
    atomic_write_bytes(path, document.encode("utf-8"))
    logger.info("wrote report %s (%d sections, %.1f MB)", path, len(sections), len(document) / 1e6)
    return path
