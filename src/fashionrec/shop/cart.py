"""Carts: reached by an opaque token (kept in the shopper's session), for guests and users.

Prices are never stored in the cart: they are read from the products table whenever the cart
is shown or checked out, so a price change reaches every cart.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fashionrec.errors import UnknownProductError
from fashionrec.shop.errors import CartError
from fashionrec.store.models import Cart, CartLine, Product

log = logging.getLogger(__name__)

MAX_QUANTITY = 20


@dataclass(frozen=True)
class CartItem:
    product_id: str
    name: str
    unit_price: Decimal | None
    quantity: int
    #: False when the product lost its price or left the catalog since it was added.
    available: bool

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price or Decimal(0)) * self.quantity


@dataclass(frozen=True)
class CartView:
    """What a cart holds, priced now."""

    token: str
    items: tuple[CartItem, ...]

    @property
    def count(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def total(self) -> Decimal:
        return sum((i.line_total for i in self.items if i.available), Decimal("0.00"))

    @property
    def ready(self) -> bool:
        """True when the cart can be checked out: not empty, everything still for sale."""
        return bool(self.items) and all(i.available for i in self.items)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def find_cart(session: Session, token: str | None) -> Cart | None:
    if not token:
        return None
    return session.scalar(select(Cart).where(Cart.token == token).options(selectinload(Cart.lines)))


def open_cart(session: Session, token: str | None, *, user_id: int | None = None) -> Cart:
    """The cart of `token`, else the user's latest cart, else a new one (flushed)."""
    cart = find_cart(session, token)
    if cart is not None and (cart.user_id is None or cart.user_id == user_id):
        return cart
    if user_id is not None:
        cart = session.scalar(
            select(Cart).where(Cart.user_id == user_id).order_by(Cart.id.desc()).limit(1)
        )
        if cart is not None:
            return cart
    cart = Cart(token=new_token(), user_id=user_id)
    session.add(cart)
    session.flush()
    return cart


def sellable(session: Session, product_id: str) -> Product:
    """The product if it can be bought; else a clear error."""
    product = session.get(Product, str(product_id))
    if product is None:
        raise UnknownProductError(f"product {product_id!r} is not in the catalog")
    if not product.active:
        raise CartError(f"{product.name} ({product.id}) is no longer sold")
    if product.price is None:
        raise CartError(
            f"{product.name} ({product.id}) has no price yet, so it cannot be bought; "
            "set one with `fashionrec set-prices`"
        )
    return product


def _quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or quantity < 0 or quantity > MAX_QUANTITY:
        raise CartError(f"quantity must be a whole number from 0 to {MAX_QUANTITY}, got {quantity}")
    return quantity


def _line(cart: Cart, product_id: str) -> CartLine | None:
    return next((x for x in cart.lines if x.product_id == str(product_id)), None)


def add(session: Session, cart: Cart, product_id: str, quantity: int = 1) -> CartLine:
    """Put `quantity` more of a product in the cart (capped at MAX_QUANTITY).

    Example:
        >>> add(session, open_cart(session, None), "1001", 2).quantity  # doctest: +SKIP
        2
    """
    if _quantity(quantity) == 0:
        raise CartError("quantity must be at least 1")
    product = sellable(session, product_id)
    line = _line(cart, product.id)
    if line is None:
        line = CartLine(product_id=product.id, quantity=0)
        cart.lines.append(line)
    line.quantity = min(line.quantity + quantity, MAX_QUANTITY)
    session.flush()
    return line


def set_quantity(session: Session, cart: Cart, product_id: str, quantity: int) -> None:
    """Set a line's quantity; 0 removes it. CartError when the product is not in the cart."""
    line = _line(cart, product_id)
    if line is None:
        raise CartError(f"product {product_id!r} is not in the cart")
    if _quantity(quantity) == 0:
        cart.lines.remove(line)
    else:
        line.quantity = quantity
    session.flush()


def remove(session: Session, cart: Cart, product_id: str) -> None:
    """Take a product out of the cart (nothing happens when it is not there)."""
    line = _line(cart, product_id)
    if line is not None:
        cart.lines.remove(line)
        session.flush()


def merge(session: Session, token: str | None, user_id: int) -> Cart:
    """At sign-in: fold the guest cart of `token` into the user's cart and return it.

    Quantities of a product in both carts add up (capped); the guest cart is then deleted.
    """
    guest = find_cart(session, token)
    if guest is not None and guest.user_id not in (None, user_id):
        guest = None  # someone else's cart: never merge it
    mine = session.scalar(
        select(Cart)
        .where(Cart.user_id == user_id)
        .order_by(Cart.id.desc())
        .limit(1)
        .options(selectinload(Cart.lines))
    )
    if mine is None or mine is guest:
        cart = guest or Cart(token=new_token())
        cart.user_id = user_id
        session.add(cart)
        session.flush()
        return cart
    if guest is not None:
        for line in list(guest.lines):
            target = _line(mine, line.product_id)
            if target is None:
                mine.lines.append(CartLine(product_id=line.product_id, quantity=line.quantity))
            else:
                target.quantity = min(target.quantity + line.quantity, MAX_QUANTITY)
        session.delete(guest)
    session.flush()
    return mine


def view(session: Session, cart: Cart | None) -> CartView:
    """The cart's lines with current names and prices."""
    if cart is None:
        return CartView(token="", items=())
    items = []
    for line in cart.lines:
        p = line.product
        ok = p is not None and p.active and p.price is not None
        items.append(
            CartItem(
                product_id=line.product_id,
                name=p.name if p is not None else line.product_id,
                unit_price=p.price if p is not None else None,
                quantity=line.quantity,
                available=ok,
            )
        )
    return CartView(token=cart.token, items=tuple(items))
