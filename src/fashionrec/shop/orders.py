"""Placing orders: price from the database, charge, then write everything in one transaction.

The order, its lines, one `purchase` interaction per line (they feed the recommendations) and
the emptied cart commit together or not at all. A declined payment writes nothing; a
transaction that fails after a successful charge is refunded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from fashionrec.shop import accounts
from fashionrec.shop.cart import find_cart, sellable
from fashionrec.shop.errors import CartError, OrderError, PaymentError
from fashionrec.shop.payment import Card, PaymentProvider
from fashionrec.shop.settings import ShopSettings
from fashionrec.store import Store
from fashionrec.store.models import CartLine, Interaction, Order, OrderLine, User, utcnow

log = logging.getLogger(__name__)

#: Order numbers: "FR-" and 12 characters of this alphabet (60 random bits; no 0/O, 1/I/L).
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Checkout:
    """What the shopper typed at checkout."""

    email: str
    name: str
    address: str
    card: Card


def order_number() -> str:
    """A new unguessable order number, e.g. 'FR-7KQ2M9XH4TCA'."""
    return "FR-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The date `days` business days (Monday to Friday) after `start`.

    Example:
        >>> add_business_days(dt.date(2026, 11, 27), 3)  # a Friday
        datetime.date(2026, 12, 2)
    """
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def _check_details(checkout: Checkout) -> tuple[str, str, str]:
    email = accounts.normalise_email(checkout.email)
    name = " ".join(checkout.name.split())[:200]
    address = checkout.address.strip()[:2000]
    if not name:
        raise OrderError("please give the name to deliver to")
    if len(address) < 5:
        raise OrderError("please give a delivery address")
    return email, name, address


def place_order(
    store: Store,
    cart_token: str,
    checkout: Checkout,
    *,
    provider: PaymentProvider,
    settings: ShopSettings,
    user_id: int | None = None,
    today: dt.date | None = None,
    attempt: str = "",
) -> Order:
    """Charge the cart's total and record the order; returns it with its lines loaded.

    `attempt` names one checkout (the web form carries a fresh one per page): submitting it
    twice pays once, while buying the same items again later is a new payment.

    PaymentError (declined/failed: nothing written, cart intact), CartError (empty cart, a
    product no longer for sale or the cart changed meanwhile), OrderError or AccountError
    (bad details).

    Example:
        >>> order = place_order(store, token, Checkout("ann@example.com", "Ann", "1 Rue X",
        ...     Card("4242424242424242", 12, 2030, "123")), provider=TestPaymentProvider(),
        ...     settings=ShopSettings())  # doctest: +SKIP
    """
    email, name, address = _check_details(checkout)
    with store.session() as s:
        cart = find_cart(s, cart_token)
        if cart is None or not cart.lines:
            raise CartError("the cart is empty")
        if cart.user_id is not None and cart.user_id != user_id:
            raise CartError("this cart belongs to another account")
        lines = []
        for line in cart.lines:
            product = sellable(s, line.product_id)  # prices re-read now, never from the form
            lines.append((product.id, product.name, product.price, line.quantity))
        total = sum((Decimal(p) * q for _, _, p, q in lines), Decimal(0)).quantize(CENT)
        if user_id is None:
            user = accounts.find_user(s, email)
            if user is not None and not user.is_guest:
                accounts.guest_user(s, email)  # raises: the owner of this email must sign in
        cart_id = cart.id
    snapshot = repr(sorted((pid, str(price), qty) for pid, _, price, qty in lines))
    # One checkout attempt with the same cart, contents and card charged twice (a double
    # click) reuses one payment; a retry with another card after a decline is a new payment.
    card_id = f"{checkout.card.digits}|{checkout.card.exp_month}|{checkout.card.exp_year}"
    key_text = f"{cart_token}|{attempt}|{snapshot}|{total}|{card_id}"
    key = hashlib.sha256(key_text.encode()).hexdigest()[:40]
    result = provider.charge(total, settings.currency, checkout.card, idempotency_key=key)
    if not result.ok:
        log.info("payment refused for cart %d: %s", cart_id, result.code)
        raise PaymentError(f"payment failed: {result.message}", result.code)
    paid = _order_paid_by(store, result.reference)
    if paid is not None:  # a repeated submit: that payment already stands behind an order
        log.info("repeated submit of cart %d: order %s already placed", cart_id, paid.number)
        return paid
    try:
        order = _record(
            store,
            cart_id,
            lines,
            total,
            email,
            name,
            address,
            result.reference,
            settings,
            user_id=user_id,
            today=today or dt.date.today(),
        )
    except Exception:
        # A double submit shares its payment with the order the first submit wrote: show
        # that order, and never refund a payment an order stands on.
        paid = _order_paid_by(store, result.reference)
        if paid is not None:
            log.info("double submit of cart %d: order %s already placed", cart_id, paid.number)
            return paid
        refund = provider.refund(result.reference or "")
        log.exception(
            "order of cart %d failed after payment; refund %s: %s",
            cart_id,
            result.reference,
            refund.code,
        )
        raise
    log.info("order %s placed: %s %s, %d lines", order.number, total, settings.currency, len(lines))
    return order


def _order_paid_by(store: Store, reference: str | None) -> Order | None:
    if reference is None:
        return None
    with store.session() as s:
        return s.scalar(
            select(Order).where(Order.payment_ref == reference).options(selectinload(Order.lines))
        )


def _record(
    store: Store,
    cart_id: int,
    lines: list,
    total: Decimal,
    email: str,
    name: str,
    address: str,
    reference: str | None,
    settings: ShopSettings,
    *,
    user_id: int | None,
    today: dt.date,
) -> Order:
    with store.session() as s:
        # Empty the cart first: this locks its rows, so of two concurrent checkouts of one
        # cart only the first finds them; the other one is refunded.
        gone = s.execute(
            delete(CartLine)
            .where(CartLine.cart_id == cart_id)
            .returning(CartLine.product_id, CartLine.quantity)
        ).all()
        if sorted(map(tuple, gone)) != sorted((pid, qty) for pid, _, _, qty in lines):
            raise CartError("the cart changed during checkout; please review it and try again")
        user = (
            s.get(User, user_id)
            if user_id is not None
            else accounts.guest_user(s, email, name=name)
        )
        if user is None:
            raise OrderError("the signed-in account no longer exists")
        order = Order(
            number=order_number(),
            user_id=user.id,
            email=email,
            name=name,
            address=address,
            status="paid",
            total=total,
            currency=settings.currency,
            payment_ref=reference,
            estimated_delivery=add_business_days(today, settings.delivery_business_days),
            created_at=utcnow(),
        )
        order.lines = [
            OrderLine(product_id=pid, name=pname, unit_price=price, quantity=qty)
            for pid, pname, price, qty in lines
        ]
        s.add(order)
        s.add_all(
            Interaction(user_id=user.id, product_id=pid, kind="purchase", quantity=qty)
            for pid, _, _, qty in lines
        )
        s.flush()
        _ = list(order.lines)  # loaded before the session closes
    return order


def get_order(session: Session, number: str, *, user_id: int | None, admin: bool = False) -> Order:
    """An order its owner (or an admin) may see; OrderError otherwise (shown as 404, so a
    stranger cannot tell a wrong number from someone else's order)."""
    order = session.scalar(
        select(Order).where(Order.number == number).options(selectinload(Order.lines))
    )
    if order is None or not (admin or (user_id is not None and order.user_id == user_id)):
        raise OrderError(f"no order {number!r} in your account")
    return order


def orders_of(session: Session, user_id: int) -> list[Order]:
    """A user's orders, newest first."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.user_id == user_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .options(selectinload(Order.lines))
        )
    )


def all_orders(session: Session, *, limit: int = 200) -> list[Order]:
    """The latest orders of everyone (for admins)."""
    return list(
        session.scalars(
            select(Order)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
            .options(selectinload(Order.lines))
        )
    )
