"""Bulk importers of shopper histories: a generic interactions CSV and the H&M sample.

Rows that cannot be used (no user, unknown kind, bad time) are reported with their line
number and skipped; the rest go in with one bulk insert per table, in one transaction (all or
nothing). A file already imported (same content and column mapping) is not imported twice.

Example:
    >>> store = Store.open("sqlite:///shop.db")                           # doctest: +SKIP
    >>> import_interactions_csv(store, "events.csv").summary()            # doctest: +SKIP
    '31,662 rows: 31,650 imported, 12 malformed, 1,364 new users'
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fashionrec.errors import CatalogError, ConfigError, suggest
from fashionrec.store.db import Store
from fashionrec.store.models import EVENT_KINDS, Interaction, Meta, Product, User

log = logging.getLogger(__name__)

#: Fields of an interactions CSV and their default column names.
COLUMNS = {
    "user": "user_id",
    "product": "product_id",
    "kind": "kind",
    "timestamp": "timestamp",
    "quantity": "quantity",
}
OPTIONAL = {"kind", "quantity"}
#: H&M index groups that tell a shopper's gender (the others: children, sport).
HM_GENDERS = {"Ladieswear": "Women", "Divided": "Women", "Menswear": "Men"}
_CHUNK = 5000
MAX_REPORTED = 50


@dataclass
class ImportReport:
    """What an import did; `errors` holds (line, message) of the first malformed rows."""

    rows: int = 0
    imported: int = 0
    malformed: int = 0
    users_created: int = 0
    unknown_products: int = 0
    already_imported: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        if self.already_imported:
            return f"already imported ({self.rows:,} rows); nothing changed"
        text = (
            f"{self.rows:,} rows: {self.imported:,} imported, {self.malformed:,} malformed, "
            f"{self.users_created:,} new users"
        )
        if self.unknown_products:
            text += f", {self.unknown_products:,} rows of products not in the catalog"
        return text

    def to_dict(self) -> dict:
        return {**self.__dict__, "errors": [list(e) for e in self.errors]}


def _fingerprint(path: Path, extra: Mapping) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(extra, sort_keys=True).encode())
    return f"import:{digest.hexdigest()}"


def _resolve_columns(header: Iterable[str], columns: Mapping[str, str] | None) -> dict[str, str]:
    unknown = set(columns or {}) - set(COLUMNS)
    if unknown:
        bad = sorted(unknown)[0]
        raise ConfigError(
            f"unknown field {bad!r} in the column mapping; choose from {', '.join(COLUMNS)}"
            + suggest(bad, COLUMNS)
        )
    mapping = {**COLUMNS, **(columns or {})}
    header = list(header)
    out = {}
    for fld, col in mapping.items():
        if col in header:
            out[fld] = col
        elif fld not in OPTIONAL:
            raise CatalogError(
                f"the CSV has no {col!r} column for the {fld}; its columns: {', '.join(header)}"
                + suggest(col, header)
                + f" (map it with --column {fld}=NAME)"
            )
    return out


def import_interactions_csv(
    store: Store,
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    default_kind: str = "purchase",
) -> ImportReport:
    """Import user, product, kind, timestamp rows (column names mappable). Users are matched
    on (and created with) `external_id`; a row without kind is a `default_kind`."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"no interactions file at {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise CatalogError(f"cannot read {path} as CSV: {exc}") from exc
    cols = _resolve_columns(df.columns, columns)
    report = ImportReport(rows=len(df))
    key = _fingerprint(path, {"columns": cols, "kind": default_kind})
    with store.session() as s:
        if s.get(Meta, key) is not None:
            report.already_imported = True
            return report
        users = df[cols["user"]].str.strip()
        products = df[cols["product"]].str.strip()
        kinds = (
            df[cols["kind"]].str.strip().str.lower().replace("", default_kind)
            if "kind" in cols
            else pd.Series(default_kind, index=df.index)
        )
        times = pd.to_datetime(df[cols["timestamp"]], errors="coerce", utc=True, format="mixed")
        quantity = pd.Series(1.0, index=df.index)
        if "quantity" in cols:  # an empty quantity is 1
            raw = df[cols["quantity"]].str.strip().replace("", "1")
            quantity = pd.to_numeric(raw, errors="coerce")
        problems = _problems(users, products, kinds, times, quantity, df[cols["timestamp"]])
        for line, message in problems:
            report.malformed += 1
            if len(report.errors) < MAX_REPORTED:
                report.errors.append((line, message))
        bad = {line - 2 for line, _ in problems}
        ok = ~df.index.isin(list(bad))
        frame = pd.DataFrame(
            {
                "user": users[ok],
                "product_id": products[ok],
                "kind": kinds[ok],
                "created_at": times[ok].dt.tz_localize(None),
                "quantity": quantity[ok].fillna(1).astype(int),
            }
        )
        report.imported, report.users_created, report.unknown_products = _insert(s, frame)
        s.add(Meta(key=key, value=path.name))
    log.info("import %s: %s", path.name, report.summary())
    return report


def _problems(users, products, kinds, times, quantity, raw_times) -> list[tuple[int, str]]:
    out = []
    valid = set(EVENT_KINDS)
    for i in np.flatnonzero(
        (users == "").to_numpy()
        | (products == "").to_numpy()
        | ~kinds.isin(valid).to_numpy()
        | times.isna().to_numpy()
        | ~((quantity >= 1) & (quantity % 1 == 0)).to_numpy()
    ):
        line = int(i) + 2  # 1-based, after the header
        if users.iat[i] == "":
            out.append((line, "no user"))
        elif products.iat[i] == "":
            out.append((line, "no product"))
        elif kinds.iat[i] not in valid:
            out.append(
                (
                    line,
                    f"unknown kind {kinds.iat[i]!r}; choose from {', '.join(EVENT_KINDS)}"
                    + suggest(kinds.iat[i], EVENT_KINDS),
                )
            )
        elif pd.isna(times.iat[i]):
            out.append((line, f"bad timestamp {raw_times.iat[i]!r}"))
        else:
            out.append((line, "quantity must be a whole number >= 1"))
    return out


def _user_ids(s: Session, external_ids: Iterable[str], genders: Mapping[str, str] | None = None):
    """external id -> user id, creating the users that do not exist yet (bulk)."""
    wanted = list(dict.fromkeys(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = s.execute(select(User.external_id, User.id).where(User.external_id.in_(chunk)))
        found.update({e: i for e, i in rows})
    new = [e for e in wanted if e not in found]
    genders = genders or {}
    if new:
        s.execute(insert(User), [{"external_id": e, "gender": genders.get(e)} for e in new])
        for start in range(0, len(new), _CHUNK):
            chunk = new[start : start + _CHUNK]
            rows = s.execute(select(User.external_id, User.id).where(User.external_id.in_(chunk)))
            found.update({e: i for e, i in rows})
    return found, len(new)


def _insert(
    s: Session, frame: pd.DataFrame, genders: Mapping[str, str] | None = None
) -> tuple[int, int, int]:
    """Insert interaction rows (user = external id). Returns (rows, new users, rows of
    products the catalog lacks: kept, collaborative filtering learns from them)."""
    ids, created = _user_ids(s, frame["user"], genders)
    catalog = set(s.scalars(select(Product.id)))
    unknown = int((~frame["product_id"].isin(catalog)).sum()) if catalog else 0
    records = [
        {
            "user_id": ids[u],
            "product_id": p,
            "kind": k,
            "created_at": t.to_pydatetime(),
            "quantity": q,
        }
        for u, p, k, t, q in zip(
            frame["user"],
            frame["product_id"],
            frame["kind"],
            frame["created_at"],
            frame["quantity"],
            strict=True,
        )
    ]
    for start in range(0, len(records), _CHUNK):
        s.execute(insert(Interaction), records[start : start + _CHUNK])
    return len(records), created, unknown


def import_hm(store: Store, hm_dir: str | Path) -> ImportReport:
    """Import the H&M sample: customers (and buyers missing from customers_sample.csv) become
    users with their customer id as external_id and a gender inferred from the index groups
    of the articles they bought; every transaction becomes a purchase on its date."""
    hm_dir = Path(hm_dir)
    tx_path = hm_dir / "transactions_sample.csv"
    if not tx_path.is_file():
        raise CatalogError(f"no transactions_sample.csv in {hm_dir}")
    tx = pd.read_csv(tx_path, dtype={"customer_id": str, "article_id": str})
    report = ImportReport(rows=len(tx))
    key = _fingerprint(tx_path, {"hm": 1})
    with store.session() as s:
        if s.get(Meta, key) is not None:
            report.already_imported = True
            return report
        tx["article_id"] = tx["article_id"].str.strip()  # read as text: zeros kept
        customers = _read_ids(hm_dir / "customers_sample.csv", "customer_id")
        genders = _hm_genders(hm_dir / "articles_train_sample.csv", tx)
        _, created = _user_ids(s, [*customers, *tx["customer_id"]], genders)
        frame = pd.DataFrame(
            {
                "user": tx["customer_id"],
                "product_id": tx["article_id"],
                "kind": "purchase",
                "created_at": pd.to_datetime(tx["t_dat"]),
                "quantity": 1,
            }
        )
        report.imported, _, report.unknown_products = _insert(s, frame)
        report.users_created = created
        s.add(Meta(key=key, value=f"hm:{hm_dir.name}"))
    log.info("import %s: %s", hm_dir.name, report.summary())
    return report


def _read_ids(path: Path, column: str) -> list[str]:
    if not path.is_file():
        return []
    return pd.read_csv(path, usecols=[column], dtype=str)[column].dropna().tolist()


def _hm_genders(articles: Path, tx: pd.DataFrame) -> dict[str, str]:
    """Customer -> Women/Men from the index group they bought most (children and sport
    articles say nothing); customers with no telling purchase get none."""
    if not articles.is_file():
        return {}
    arts = pd.read_csv(articles, usecols=["article_id", "index_group_name"], dtype=str)
    group = arts.set_index(arts["article_id"].str.zfill(10))["index_group_name"].map(HM_GENDERS)
    bought = tx.assign(g=tx["article_id"].map(group)).dropna(subset=["g"])
    if bought.empty:
        return {}
    counts = bought.groupby(["customer_id", "g"]).size().reset_index(name="n")
    top = counts.sort_values("n", ascending=False).drop_duplicates("customer_id")
    return dict(zip(top["customer_id"], top["g"], strict=True))
