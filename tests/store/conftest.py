"""The store under test: a SQLite file, and PostgreSQL where it is installed."""

from __future__ import annotations

import pytest

from fashionrec.store import Store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'shop.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_db")
    )
    store = Store.open(url)
    yield store
    store.close()
