"""The store on real databases: SQLite files and, where installed, PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from fashionrec.errors import ConfigError
from fashionrec.store import Interaction, Product, Store, User, default_url

TABLES = {
    "meta",
    "products",
    "users",
    "interactions",
    "carts",
    "cart_lines",
    "orders",
    "order_lines",
    "alembic_version",
}


def _products(n: int = 3, *, price: bool = True) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{i:010d}" for i in range(n)],
            "name": [f"Item {i}" for i in range(n)],
            "gender": ["Women"] * n,
            "article_type": ["Dresses"] * n,
            "price": [f"{10 + i}.5" for i in range(n)] if price else [None] * n,
        }
    )


def test_migrations_create_every_table_and_are_idempotent(store):
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    store.upgrade()  # a second process opening the same database changes nothing
    assert set(inspect(store.engine).get_table_names()) >= TABLES


def test_sync_products_upserts_keeps_zero_padded_ids_and_deactivates_removed(store):
    assert store.sync_products(_products(3), "hash-a") == 3
    assert store.sync_products(_products(3), "hash-a") == 0  # unchanged catalog: skipped
    with store.session() as s:
        first = s.get(Product, "0000000000")
        assert first.price == Decimal("10.50") and first.name == "Item 0"
    store.sync_products(_products(2, price=False), "hash-b")
    with store.session() as s:
        assert s.get(Product, "0000000002").active is False
        assert s.get(Product, "0000000001").price == Decimal("11.50")  # kept without a new one


def test_session_rolls_back_the_whole_unit_on_error(store):
    with store.session() as s:
        s.add(User(email="a@example.com"))
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(User(email="b@example.com"))
        s.flush()
        s.add(User(email="a@example.com"))
        s.flush()
    with store.session() as s:
        emails = set(s.scalars(select(User.email)))
    assert emails == {"a@example.com"}


def test_deleting_a_user_deletes_their_interactions(store):
    with store.session() as s:
        user = User(email="c@example.com")
        s.add(user)
        s.flush()
        s.add(Interaction(user_id=user.id, product_id="1", kind="view"))
        uid = user.id
    with store.session() as s:
        s.delete(s.get(User, uid))
    with store.session() as s:
        assert s.scalars(select(Interaction)).all() == []


def test_default_url_is_a_file_beside_the_index_unless_set(tmp_path, monkeypatch):
    monkeypatch.delenv("FASHIONREC_DATABASE_URL", raising=False)
    assert default_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/fashionrec.db"
    monkeypatch.setenv("FASHIONREC_DATABASE_URL", "sqlite:///elsewhere.db")
    assert default_url(tmp_path) == "sqlite:///elsewhere.db"


def test_a_malformed_url_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="not valid"):
        Store.open("not a url")
