"""Setting product prices in the store: from a CSV, from H&M transactions, or a default.

The Kaggle catalog has no prices and H&M articles have none either; H&M transactions carry
prices normalised to about 0.03, so `hm_prices` takes each article's median and multiplies by
HM_PRICE_SCALE = 590: the sample's median price becomes 14.99 EUR, its quartiles 9.54 and 19.99
(plausible H&M shelf prices; 590 is a documented guess, not a figure published by H&M).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from fashionrec.errors import CatalogError, ConfigError, suggest
from fashionrec.store import Store
from fashionrec.store.models import Product

log = logging.getLogger(__name__)

HM_PRICE_SCALE = Decimal("590")
CENT = Decimal("0.01")


def parse_price(value: str | float | Decimal) -> Decimal:
    """A non-negative amount with cents; ConfigError otherwise.

    Example:
        >>> parse_price("19.9")
        Decimal('19.90')
    """
    try:
        price = Decimal(str(value).strip()).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise ConfigError(f"{value!r} is not a price (expected e.g. 19.99)") from None
    if price < 0 or not price.is_finite():
        raise ConfigError(f"a price cannot be negative or infinite, got {value!r}")
    return price


def prices_from_csv(
    path: str | Path, *, id_column: str = "id", price_column: str = "price"
) -> dict[str, Decimal]:
    """product id -> price from a CSV; CatalogError names a missing column or bad row."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        for col in (id_column, price_column):
            if col not in columns:
                raise CatalogError(
                    f"{path}: no column {col!r} (columns: {', '.join(columns)})"
                    + suggest(col, columns)
                )
        out = {}
        for n, row in enumerate(reader, start=2):
            raw = (row[price_column] or "").strip()
            if not raw:
                continue
            try:
                out[str(row[id_column]).strip()] = parse_price(raw)
            except ConfigError as exc:
                raise CatalogError(f"{path} line {n}: {exc}") from None
    return out


def hm_prices(transactions: str | Path, *, scale: Decimal = HM_PRICE_SCALE) -> dict[str, Decimal]:
    """article id -> median transaction price x `scale` (see the module's note)."""
    import pandas as pd

    df = pd.read_csv(transactions, usecols=["article_id", "price"], dtype={"article_id": str})
    medians = df.groupby("article_id")["price"].median()
    return {str(k): (Decimal(str(v)) * scale).quantize(CENT) for k, v in medians.items()}


def set_prices(
    store: Store,
    prices: Mapping[str, Decimal],
    *,
    default: Decimal | None = None,
    source: str = "csv",
    default_source: str = "default",
) -> dict[str, int]:
    """Write prices into the store's products; `default` goes to products still without one.

    Ids are matched as given, then with H&M's zero padding (10 digits). Returns counts:
    set, defaulted, unknown (ids of `prices` not among the products).

    Example:
        >>> set_prices(store, {"1001": Decimal("19.99")}, default=Decimal("25"))  # doctest: +SKIP
        {'set': 1, 'defaulted': 23, 'unknown': 0}
    """
    counts = {"set": 0, "defaulted": 0, "unknown": 0}
    with store.session() as s:
        products = {p.id: p for p in s.scalars(select(Product))}
        for pid, price in prices.items():
            product = products.get(pid) or products.get(pid.zfill(10))
            if product is None:
                counts["unknown"] += 1
                continue
            product.price, product.price_source = price, source
            counts["set"] += 1
        if default is not None:
            for product in products.values():
                if product.price is None:
                    product.price, product.price_source = default, default_source
                    counts["defaulted"] += 1
    log.info("prices: %(set)d set, %(defaulted)d defaulted, %(unknown)d unknown ids", counts)
    return counts


def open_index_store(index_dir: str | Path, url: str | None = None) -> Store:
    """The store of an index (migrated), with the index's products mirrored into it, so
    prices can be set before the server first runs."""
    from fashionrec.pipeline import IndexDir
    from fashionrec.store import default_url

    idx = IndexDir(index_dir)
    manifest = idx.read_manifest()
    store = Store.open(url or default_url(index_dir))
    products = idx.read_products(manifest)
    store.sync_products(products.reset_index(), f"{manifest.generation}:{manifest.updated_at}")
    return store
