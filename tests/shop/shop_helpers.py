"""Test data of the shop's library tests (importable: conftest modules are not)."""

from __future__ import annotations

import socket
from decimal import Decimal

from fashionrec.store import Store
from fashionrec.store.models import Product

PRODUCTS = [
    ("1001", "Red Tshirt", Decimal("19.99"), True),
    ("1002", "Blue Top", Decimal("5.50"), True),
    ("1003", "Black Shoes", None, True),
    ("1004", "Silver Watch", Decimal("99.00"), False),
]


def add_products(store: Store) -> Store:
    with store.session() as s:
        for pid, name, price, active in PRODUCTS:
            s.add(Product(id=pid, name=name, price=price, active=active, gender="Men"))
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
