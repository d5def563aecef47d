"""Importers of shopper histories on real databases (SQLite; PostgreSQL where installed)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from sqlalchemy import func, select

from fashionrec.cli import main
from fashionrec.errors import CatalogError, ConfigError
from fashionrec.store import Interaction, Store, User
from fashionrec.store.importers import import_hm, import_interactions_csv

CSV = """customer,article,event,when,qty
alice,0001,purchase,2024-01-02,1
alice,0002,like,2024-01-03T10:00:00,
bob,0001,view,2024-01-04 09:30,
,0003,view,2024-01-04,
carol,0004,liek,2024-01-05,
carol,0005,view,yesterday,
dave,,view,2024-01-05,
erin,0001,cart,2024-01-06,0
erin,0002,purchase,2024-01-07,2
"""
MAPPING = {
    "user": "customer",
    "product": "article",
    "kind": "event",
    "timestamp": "when",
    "quantity": "qty",
}


def test_csv_import_reports_malformed_rows_and_keeps_the_rest(store, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    report = import_interactions_csv(store, path, columns=MAPPING)
    assert (report.rows, report.imported, report.malformed) == (9, 4, 5)
    assert report.users_created == 3  # alice, bob, erin
    lines = dict(report.errors)
    assert lines[5] == "no user"
    assert (
        lines[6].startswith("unknown kind 'liek'; choose from view, like") and "'like'" in lines[6]
    )
    assert lines[7] == "bad timestamp 'yesterday'"
    assert lines[8] == "no product"
    assert "quantity" in lines[9]
    with store.session() as s:
        rows = s.execute(
            select(User.external_id, Interaction.product_id, Interaction.kind, Interaction.quantity)
            .join(User, User.id == Interaction.user_id)
            .order_by(Interaction.created_at)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("alice", "0001", "purchase", 1),
        ("alice", "0002", "like", 1),
        ("bob", "0001", "view", 1),
        ("erin", "0002", "purchase", 2),
    ]
    again = import_interactions_csv(store, path, columns=MAPPING)
    assert again.already_imported and "nothing changed" in again.summary()
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 4


def test_csv_import_names_missing_columns(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    with pytest.raises(CatalogError, match=r"no 'user_id' column for the user.*--column user="):
        import_interactions_csv(store, path)
    with pytest.raises(ConfigError, match="unknown field 'usr'.*Did you mean 'user'"):
        import_interactions_csv(store, path, columns={"usr": "customer"})


def test_cli_import_interactions(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    args = ["import-interactions", str(path), "--index", str(tmp_path / "none")]
    args += ["--database-url", url]
    for field, column in MAPPING.items():
        args += ["--column", f"{field}={column}"]
    main(args)
    out = capsys.readouterr()
    assert "9 rows: 4 imported, 5 malformed, 3 new users" in out.out
    assert "line 6: unknown kind 'liek'" in out.err


def test_hm_sample_import(shared_data, tmp_path):
    hm = shared_data("hm-sample")
    store = Store.open(f"sqlite:///{tmp_path / 'hm.db'}")
    start = time.perf_counter()
    report = import_hm(store, hm)
    seconds = time.perf_counter() - start
    tx = pd.read_csv(hm / "transactions_sample.csv", dtype=str)
    customers = pd.read_csv(hm / "customers_sample.csv", dtype=str)["customer_id"]
    users = set(customers) | set(tx["customer_id"])
    assert report.imported == len(tx) == 31_662
    assert report.users_created == len(users)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 31_662
        assert s.scalar(select(func.count()).select_from(User)) == len(users)
        genders = dict(s.execute(select(User.gender, func.count()).group_by(User.gender)).all())
        kinds = set(s.scalars(select(Interaction.kind).distinct()))
        first = s.scalars(select(Interaction.product_id).limit(50)).all()
    assert kinds == {"purchase"}
    assert all(len(p) == 10 for p in first)  # zero-padded article ids survive
    assert genders["Women"] > 10 * genders["Men"] > 0  # mostly Ladieswear buyers
    assert seconds < 30, f"31k rows took {seconds:.1f} s"
    assert import_hm(store, hm).already_imported
