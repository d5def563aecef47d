"""The shop's database: products, users, interactions, carts, orders (SQLAlchemy + Alembic)."""

from fashionrec.store.db import DATABASE_ENV, Store, default_url
from fashionrec.store.models import (
    EVENT_KINDS,
    EVENT_WEIGHTS,
    Cart,
    CartLine,
    Interaction,
    Order,
    OrderLine,
    Product,
    User,
)

__all__ = [
    "DATABASE_ENV",
    "EVENT_KINDS",
    "EVENT_WEIGHTS",
    "Cart",
    "CartLine",
    "Interaction",
    "Order",
    "OrderLine",
    "Product",
    "Store",
    "User",
    "default_url",
]
