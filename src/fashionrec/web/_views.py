"""What the shop pages show, computed from the recommender's products table (no HTTP here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from fashionrec.recommend import Filters, Match, Recommender
from fashionrec.recommend.reasons import reasons_for

#: Query parameter -> (Filters field, label shown to shoppers); same names as the JSON API.
FACETS: dict[str, tuple[str, str]] = {
    "gender": ("gender", "Gender"),
    "sub_category": ("sub_category", "Category"),
    "article_type": ("article_type", "Type"),
    "colour": ("base_colour", "Colour"),
    "season": ("season", "Season"),
    "usage": ("usage", "Occasion"),
    "master_category": ("master_category", "Department"),
}
#: Sort keys of the listing: key -> (label, column, ascending).
SORTS: dict[str, tuple[str, str, bool]] = {
    "featured": ("Featured", "id", True),
    "newest": ("Newest", "year", False),
    "name": ("Name A-Z", "name", True),
    "price": ("Price: low to high", "price", True),
    "-price": ("Price: high to low", "price", False),
}
HOME_GENDERS = ("Women", "Men")


def collections(products: pd.DataFrame, n: int = 2) -> list[str]:
    """The gender collections a shop front shows: Women and Men where the catalog has them,
    else its `n` most common gender values (H&M: Ladieswear, Divided...).

    Example:
        >>> collections(pd.DataFrame({"gender": ["Ladieswear", "Menswear", "Ladieswear"]}))
        ['Ladieswear', 'Menswear']
    """
    if "gender" not in products:
        return []
    present = set(products["gender"].dropna().unique())
    usual = [g for g in HOME_GENDERS if g in present]
    return usual or _top(products["gender"], n)


def shop_url(params: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **more: Any) -> str:
    """A /shop link; list values repeat the parameter, empty ones are dropped.

    Example:
        >>> shop_url(gender="Women", article_type=["Tops", "Tunics"])
        '/shop?gender=Women&article_type=Tops&article_type=Tunics'
    """
    pairs: list[tuple[str, str]] = []
    items = list(params.items() if isinstance(params, Mapping) else params) + list(more.items())
    for key, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, str(v)) for v in values if v not in (None, "")]
    return "/shop" + (f"?{urlencode(pairs)}" if pairs else "")


def card(
    product_id: str,
    product: Mapping[str, Any],
    score: float | None = None,
    reasons: Sequence[Mapping[str, str]] = (),
) -> dict:
    """The fields a product card shows."""
    return {
        "id": str(product_id),
        "name": product.get("name") or f"Product {product_id}",
        "article_type": product.get("article_type"),
        "base_colour": product.get("base_colour"),
        "gender": product.get("gender"),
        "price": product.get("price"),
        "url": f"/products/{product_id}",
        "image_url": f"/api/images/{product_id}",
        "score": None if score is None else round(100 * max(score, 0.0)),
        "reasons": list(reasons),
    }


def cards_of(rec: Recommender, df: pd.DataFrame) -> list[dict]:
    return [card(pid, rec.product(pid)) for pid in df.index]


def match_cards(matches: Sequence[Match], query: Mapping[str, Any] | None = None) -> list[dict]:
    """Cards of matches; with a query (article_type, base_colour), each says why it matches."""
    return [
        card(m.id, m.product, m.score, reasons_for(query, m.product) if query else ())
        for m in matches
    ]


def _top(series: pd.Series, n: int) -> list[str]:
    counts = series.dropna().astype(str).value_counts()
    return [str(v) for v in counts.index[:n]]


def _varied(items: pd.DataFrame, n: int) -> pd.DataFrame:
    """Up to n rows taking turns between article types, newest first within each."""
    if "year" in items:
        items = items.sort_values("year", ascending=False, kind="stable")
    if "article_type" not in items:
        return items.head(n)
    turn = items.groupby("article_type", sort=False).cumcount()
    order = np.lexsort((np.arange(len(items)), turn.to_numpy()))
    return items.iloc[order[:n]]


def home_sections(rec: Recommender, *, per_gender: int = 3, per_row: int = 6) -> list[dict]:
    """Per gender: its most common sub-categories as rows of varied products, and its most
    common article types as links."""
    df = rec.products
    if "gender" not in df:
        return []
    sections = []
    for gender in collections(df):
        mine = df[df["gender"] == gender]
        if mine.empty:
            continue
        rows = []
        for sub in _top(mine.get("sub_category", pd.Series(dtype=str)), per_gender):
            items = mine[mine["sub_category"] == sub]
            rows.append(
                {
                    "title": sub,
                    "count": int(len(items)),
                    "url": shop_url(gender=gender, sub_category=sub),
                    "cards": cards_of(rec, _varied(items, per_row)),
                }
            )
        categories = [
            {"name": t, "url": shop_url(gender=gender, article_type=t)}
            for t in _top(mine.get("article_type", pd.Series(dtype=str)), 10)
        ]
        sections.append(
            {
                "gender": gender,
                "count": int(len(mine)),
                "url": shop_url(gender=gender),
                "categories": categories,
                "rows": rows,
            }
        )
    return sections


def selections(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The facet values chosen in a query string (unknown keys ignored)."""
    return {
        key: [v for v in query.get(key, []) if v.strip()]
        for key in FACETS
        if any(v.strip() for v in query.get(key, []))
    }


def to_filters(chosen: Mapping[str, list[str]], rec: Recommender) -> Filters:
    """Filters in the catalog's spelling; FilterError names an unknown value."""
    mapping = {FACETS[k][0]: v for k, v in chosen.items()}
    return Filters.from_mapping(mapping).resolved(rec.vocabulary)


#: How many text-search hits the shop lists for a query (then filters, sorts and pages them).
TEXT_HITS = 240


def text_hits(searcher: Any, df: pd.DataFrame, q: str) -> tuple[np.ndarray, pd.Series, list[str]]:
    """Rows the text search finds for `q`, each row's rank (for "featured" order), and how
    the words were understood ("Shirts", "Men", ...)."""
    if not q.strip():
        return np.ones(len(df), dtype=bool), pd.Series(dtype=float), []
    mode = "fused" if searcher.semantic else "bm25"
    found = searcher.search(q, TEXT_HITS, mode=mode)
    rank = pd.Series(range(len(found.ids)), index=found.ids, dtype=float)
    shown = found.parsed.shown if found.parsed else []
    return df.index.isin(found.ids), rank, shown


def facet_counts(
    df: pd.DataFrame, filters: Filters, base: np.ndarray, chosen: Mapping[str, list[str]]
) -> list[dict]:
    """Each facet's values with counts among products matching every *other* facet."""
    out = []
    for key, (field, label) in FACETS.items():
        if field not in df or (key == "master_category" and key not in chosen):
            continue
        others = dataclasses.replace(filters, **{field: ()})
        mask = base & (others.mask(df) if not others.is_empty() else True)
        counts = df.loc[mask, field].dropna().astype(str).value_counts()
        picked = {v.lower() for v in getattr(filters, field)}
        values = [
            {"value": str(v), "count": int(n), "checked": str(v).lower() in picked}
            for v, n in counts.items()
        ]
        values += [  # a chosen value with no product left still shows, so it can be unticked
            {"value": v, "count": 0, "checked": True}
            for v in getattr(filters, field)
            if v.lower() not in {x["value"].lower() for x in values}
        ]
        if values:
            out.append({"key": key, "label": label, "values": values, "open": bool(picked)})
    return out


def sort_frame(df: pd.DataFrame, sort: str, rank: pd.Series | None = None) -> pd.DataFrame:
    """Sort a listing; "featured" follows the text search's `rank` when there is one."""
    if sort == "featured" and rank is not None and len(rank):
        return df.iloc[np.argsort(rank.reindex(df.index).to_numpy(), kind="stable")]
    _, column, ascending = SORTS.get(sort, SORTS["featured"])
    if column == "id" or column not in df:
        return df
    return df.sort_values(column, ascending=ascending, na_position="last", kind="stable")


def page_links(page: int, pages: int, link: Any) -> list[dict]:
    """Page numbers around the current one, with gaps (None) between far ones."""
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[dict] = []
    for i, n in enumerate(wanted):
        if i and n - wanted[i - 1] > 1:
            out.append({"gap": True})
        out.append({"number": n, "url": link(n), "current": n == page})
    return out


def shop_title(chosen: Mapping[str, list[str]], q: str) -> str:
    parts = chosen.get("gender", []) + chosen.get("colour", [])
    kinds = chosen.get("article_type") or chosen.get("sub_category") or []
    title = " ".join([" / ".join(parts[:2])] + [", ".join(kinds[:3])]).strip()
    if q:
        title = f"“{q}”" + (f" in {title}" if title else "")
    return title or "All products"


def details(product: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rows of a product page's detail table."""
    rows = [
        ("Gender", "gender"),
        ("Department", "master_category"),
        ("Category", "sub_category"),
        ("Type", "article_type"),
        ("Colour", "base_colour"),
        ("Season", "season"),
        ("Year", "year"),
        ("Occasion", "usage"),
        ("Price", "price"),
        ("Product id", "id"),
    ]
    return [(label, str(product[k])) for label, k in rows if product.get(k) not in (None, "")]
