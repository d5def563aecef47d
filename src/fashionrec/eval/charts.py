"""Charts of a catalog and of evaluation runs, rendered to PNG bytes for the HTML report.

Every function returns PNG bytes, so a chart can be embedded as a data URI or written to a
file. matplotlib (Agg backend, never a display) draws the plots;
:func:`fashionrec.eval.grid.image_grid` uses PIL
directly because it only pastes thumbnails.

Example::

    from fashionrec.catalog import load_catalog
    from fashionrec.eval.charts import product_type_distribution

    png = product_type_distribution(load_catalog("fixture-300").products)
"""

from __future__ import annotations

import io
import logging
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fashionrec.errors import ConfigError

logger = logging.getLogger(__name__)

DPI = 110
WIDTH_IN = 9.0
#: Inches per bar of a horizontal bar chart: keeps ~140 labels at 8 pt apart.
BAR_IN = 0.19
BAR_COLOUR = "#4c72b0"
NEUTRAL_COLOUR = "#b0b0b0"
EDGE_COLOUR = "#444444"

__all__ = [
    "category_distribution",
    "colour_for",
    "metric_bars",
    "missing_values_chart",
    "per_label_bars",
    "product_type_distribution",
    "top_types_pie",
]


def _pyplot() -> Any:
    """Import pyplot on the Agg backend, with an install hint when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "charts need matplotlib; install it with `pip install matplotlib`"
        ) from exc
    return plt


def _png(fig: Any) -> bytes:
    """Render and close `fig`; no Software metadata so the bytes carry no URL."""
    plt = _pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


def _empty(message: str, title: str) -> bytes:
    """A small chart that says there is nothing to plot (better than a blank image)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.6))
    ax.set_axis_off()
    ax.set_title(title, fontsize=12, loc="left")
    ax.text(0.5, 0.4, message, ha="center", va="center", fontsize=11, color="#555555")
    return _png(fig)


def colour_for(name: str) -> str | None:
    """The colour matplotlib knows for a catalog colour name, or None.

    Tries the CSS name ("Sea Green" -> seagreen), then the xkcd survey name ("Navy Blue",
    "Mustard"), then each word ("Coffee Brown" -> brown).

    Example::

        colour_for("Navy Blue")  # 'xkcd:navy blue'
    """
    from matplotlib import colors as mcolors

    words = str(name).strip().lower().split()
    if not words:
        return None
    # xkcd names come from a survey of how people name colours, so they match shop usage
    # better than CSS ("Brown" is brown, not CSS's red-brown; "Lavender" is not near-white).
    candidates = ["xkcd:" + " ".join(words), "".join(words)]
    for word in words:
        candidates += ["xkcd:" + word, word]
    for cand in candidates:
        if cand in mcolors.XKCD_COLORS or cand in mcolors.CSS4_COLORS:
            return cand
    return None


def _counts(products: pd.DataFrame, column: str) -> pd.Series:
    if column not in products.columns:
        raise ConfigError(
            f"no column {column!r} in the products table; columns: {', '.join(map(str, products))}"
        )
    values = products[column].astype("string").str.strip()
    values = values.mask(values == "").fillna("(missing)")
    return values.value_counts(sort=True)


def _use_log(counts: pd.Series) -> bool:
    """Log scale only for long, very skewed lists, where rare values would vanish."""
    return len(counts) > 15 and counts.iloc[0] / max(1, counts.iloc[-1]) > 200


def _hbar(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    colours: Sequence[str] | None = None,
    hatches: Sequence[str | None] | None = None,
    annotations: Sequence[str] | None = None,
    xlim: tuple[float, float] | None = None,
    log: bool = False,
) -> bytes:
    """Horizontal bars, first label on top, value written at the end of each bar."""
    plt = _pyplot()
    n = len(labels)
    fontsize = 9 if n <= 40 else 8
    fig, ax = plt.subplots(figsize=(WIDTH_IN, max(2.2, 1.2 + BAR_IN * n)))
    y = list(range(n))
    ax.barh(
        y,
        values,
        color=list(colours) if colours is not None else BAR_COLOUR,
        edgecolor=EDGE_COLOUR if colours is not None else "none",
        linewidth=0.6,
        height=0.75,
        hatch=list(hatches) if hatches is not None else None,
    )
    ax.set_yticks(y, [textwrap.shorten(str(s), 40, placeholder="…") for s in labels])
    ax.tick_params(axis="y", labelsize=fontsize, length=0)
    ax.invert_yaxis()
    ax.set_ylim(n - 0.4, -0.6)
    from matplotlib.ticker import FuncFormatter

    if log:
        ax.set_xscale("log")
        xlabel += " (log scale)"
    if log or max(values, default=0) >= 1000:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=12, loc="left")
    if xlim is not None:
        ax.set_xlim(*xlim)
        if xlim[0] == 0 and 1 < xlim[1] < 1.5:  # a 0..1 metric: no tick past 1
            ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    texts = annotations if annotations is not None else [f"{v:,.0f}" for v in values]
    for yi, v, text in zip(y, values, texts, strict=True):
        ax.annotate(
            text,
            (v, yi),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=fontsize - 1,
            color="#333333",
        )
    left, right = ax.get_xlim()
    if xlim is None and not log:
        ax.set_xlim(left, right * 1.12)  # room for the value labels
    elif log:
        # bars start at 0.5 so a count of 1 still shows a bar
        ax.set_xlim(0.5, max(values) * 2.5)
    return _png(fig)


def product_type_distribution(products: pd.DataFrame, *, column: str = "article_type") -> bytes:
    """Every product type as a horizontal bar, most common on top (a tall figure for ~140).

    A log scale is used when the biggest type is over 200 times the smallest, so rare types
    stay visible; the exact count is written beside every bar.
    """
    counts = _counts(products, column)
    if counts.empty:
        return _empty("no products", f"Products per {column}")
    return _hbar(
        list(counts.index),
        counts.to_numpy(float).tolist(),
        title=f"Products per {column.replace('_', ' ')} ({len(counts)} values)",
        xlabel="products",
        log=_use_log(counts),
    )


def top_types_pie(products: pd.DataFrame, *, column: str = "article_type", n: int = 10) -> bytes:
    """The `n` most common values as a donut, the rest as one "other" slice, legend beside."""
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    counts = _counts(products, column)
    if counts.empty:
        return _empty("no products", f"Top {n} of {column}")
    top = counts.iloc[:n]
    rest = counts.iloc[n:]
    labels = [str(s) for s in top.index]
    values = top.to_numpy(float).tolist()
    if len(rest):
        labels.append(f"other ({len(rest)} values)")
        values.append(float(rest.sum()))
    plt = _pyplot()
    cmap = plt.get_cmap("tab20")
    colours = [cmap(i % 20) for i in range(len(top))] + ([NEUTRAL_COLOUR] if len(rest) else [])
    total = sum(values)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.2))
    wedges, _ = ax.pie(
        values,
        colors=colours,
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.45, "edgecolor": "white", "linewidth": 1},
    )
    for w, v in zip(wedges, values, strict=True):
        if v / total >= 0.04:  # label only wedges wide enough for the text
            ang = math.radians((w.theta1 + w.theta2) / 2)
            ax.text(
                0.775 * math.cos(ang),
                0.775 * math.sin(ang),
                f"{v / total:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="black",
            )
    legend = [f"{lab}: {v:,.0f} ({v / total:.1%})" for lab, v in zip(labels, values, strict=True)]
    ax.legend(
        wedges, legend, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9
    )
    ax.set_title(
        f"Top {len(top)} of {len(counts)} {column.replace('_', ' ')} values "
        f"(share of {total:,.0f} products)",
        fontsize=12,
        loc="left",
    )
    ax.set_aspect("equal")
    return _png(fig)


def _share(part: float, total: float) -> str:
    share = part / total
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def missing_values_chart(missing: Mapping[str, int], total: int) -> bytes:
    """Missing values per column, with the share of `total` rows beside each bar."""
    if total < 0:
        raise ConfigError(f"total must be >= 0, got {total}")
    items = sorted(((str(k), int(v)) for k, v in missing.items()), key=lambda kv: -kv[1])
    if not items:
        return _empty("no columns", "Missing values per column")
    title = f"Missing values per column (of {total:,} rows)"
    if not any(v for _, v in items):
        return _empty("no missing values in any column", title)
    annotations = [f"{v:,} ({_share(v, total)})" if total else f"{v:,}" for _, v in items]
    colours = ["#c44e52" if v else NEUTRAL_COLOUR for _, v in items]
    return _hbar(
        [k for k, _ in items],
        [v for _, v in items],
        title=title,
        xlabel="rows with no value",
        colours=colours,
        annotations=annotations,
    )


def category_distribution(products: pd.DataFrame, column: str) -> bytes:
    """Products per value of `column`, most common on top.

    For a colour column (name containing "colour" or "color") each bar is tinted with the
    colour matplotlib knows by that name ("Navy Blue" -> navy); unknown names stay grey.
    """
    counts = _counts(products, column)
    if counts.empty:
        return _empty("no products", f"Products per {column}")
    colours: list[str] | None = None
    hatches: list[str | None] | None = None
    if "colour" in column.lower() or "color" in column.lower():
        known = [colour_for(str(c)) for c in counts.index]
        colours = [c or NEUTRAL_COLOUR for c in known]
        hatches = [None if c else "///" for c in known]  # so unknown names don't read as grey
    log = _use_log(counts)
    return _hbar(
        list(counts.index),
        counts.to_numpy(float).tolist(),
        title=f"Products per {column.replace('_', ' ')} ({len(counts)} values)",
        xlabel="products",
        colours=colours,
        hatches=hatches,
        log=log,
    )


def _unit_range(values: Sequence[float]) -> tuple[float, float] | None:
    finite = [v for v in values if math.isfinite(v)]
    if finite and min(finite) >= 0 and max(finite) <= 1:
        return (0.0, 1.08)
    return None


def metric_bars(results: Mapping[str, Mapping[str, float]], *, metric: str = "p@10") -> bytes:
    """One bar per run (e.g. per backbone) for `metric`, best on top."""
    rows = [(str(name), float(m[metric])) for name, m in results.items() if metric in m]
    missing = [str(name) for name, m in results.items() if metric not in m]
    if missing:
        logger.warning("runs without %s are left out of the chart: %s", metric, ", ".join(missing))
    if not rows:
        return _empty(f"no run has {metric}", f"{metric} per run")
    rows.sort(key=lambda r: -r[1] if math.isfinite(r[1]) else math.inf)
    values = [v for _, v in rows]
    return _hbar(
        [r for r, _ in rows],
        values,
        title=f"{metric} per run",
        xlabel=metric,
        annotations=[f"{v:.3f}" for v in values],
        xlim=_unit_range(values),
    )


def per_label_bars(
    per_label: Mapping[str, Mapping[str, float]], *, metric: str = "p@10", top: int = 40
) -> bytes:
    """`metric` per label for the `top` labels with the most queries, worst at the bottom."""
    if top < 1:
        raise ConfigError(f"top must be at least 1, got {top}")
    rows = [
        (str(label), float(m[metric]), int(m.get("count", 0)))
        for label, m in per_label.items()
        if metric in m
    ]
    if not rows:
        return _empty(f"no label has {metric}", f"{metric} per label")
    shown = sorted(rows, key=lambda r: -r[2])[:top]
    shown.sort(key=lambda r: -r[1] if math.isfinite(r[1]) else math.inf)
    values = [v for _, v, _ in shown]
    title = f"{metric} per label"
    if len(shown) < len(rows):
        title += f" ({len(shown)} labels with most queries, of {len(rows)})"
    return _hbar(
        [lab for lab, _, _ in shown],
        values,
        title=title,
        xlabel=metric,
        annotations=[f"{v:.3f}  (n={c:,})" for _, v, c in shown],
        xlim=(0.0, 1.2) if _unit_range(values) else None,
    )


# --- thumbnail grid (PIL only) ---------------------------------------------------------------
