"""Cart and checkout pages: add, change quantity, remove, pay, confirmation."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fashionrec.errors import UnknownProductError
from fashionrec.shop import cart as carts
from fashionrec.shop.errors import AccountError, CartError, OrderError, PaymentError
from fashionrec.shop.mail import send_order_email
from fashionrec.shop.orders import Checkout, place_order
from fashionrec.shop.payment import Card, TestPaymentProvider
from fashionrec.web.pages import render
from fashionrec.web.shop import CART_KEY, ORDERS_KEY, current_user, store_of

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Qty = Annotated[int, Form(ge=0, le=carts.MAX_QUANTITY)]
Pid = Annotated[str, Form(min_length=1, max_length=64)]
Text = Annotated[str, Form(max_length=2000)]
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


def _cart_page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    with store_of(request).session() as s:
        view = carts.view(s, carts.find_cart(s, request.session.get(CART_KEY)))
    return render(
        request,
        "cart.html",
        status,
        cart=view,
        error=error,
        currency=request.app.state.settings.shop.currency,
    )


@router.get("/cart")
def cart_page(request: Request) -> HTMLResponse:
    return _cart_page(request)


def _change(request: Request, action) -> Response:
    user = current_user(request)
    try:
        with store_of(request).session() as s:
            cart = carts.open_cart(
                s, request.session.get(CART_KEY), user_id=user.id if user else None
            )
            action(s, cart)
            request.session[CART_KEY] = cart.token
    except (CartError, UnknownProductError) as exc:
        return _cart_page(request, 422, str(exc))
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/add")
def add(request: Request, product_id: Pid, quantity: Qty = 1) -> Response:
    return _change(request, lambda s, c: carts.add(s, c, product_id, quantity))


@router.post("/cart/update")
def update(request: Request, product_id: Pid, quantity: Qty) -> Response:
    return _change(request, lambda s, c: carts.set_quantity(s, c, product_id, quantity))


@router.post("/cart/remove")
def remove(request: Request, product_id: Pid) -> Response:
    return _change(request, lambda s, c: carts.remove(s, c, product_id))


def _checkout_page(request: Request, status: int = 200, **fields) -> Response:
    with store_of(request).session() as s:
        view = carts.view(s, carts.find_cart(s, request.session.get(CART_KEY)))
    if not view.items:
        return RedirectResponse("/cart", status_code=303)
    user = current_user(request)
    form = {
        "email": user.email if user else "",
        "name": (user.name or "") if user else "",
        "address": "",
    }
    form.update({k: v for k, v in fields.items() if k in form})
    test_cards = isinstance(request.app.state.payment, TestPaymentProvider)
    return render(
        request,
        "checkout.html",
        status,
        cart=view,
        form=form,
        user=user,
        error=fields.get("error"),
        test_cards=test_cards,
        currency=request.app.state.settings.shop.currency,
        attempt=secrets.token_urlsafe(16),  # one per page: a double submit pays once
    )


@router.get("/checkout")
def checkout_form(request: Request) -> Response:
    return _checkout_page(request)


def _card(number: str, expiry: str, cvc: str, holder: str) -> Card:
    m = _EXPIRY.match(expiry)
    if not m:
        raise OrderError(f"the expiry date {expiry!r} should look like MM/YY, e.g. 12/30")
    year = int(m.group(2))
    return Card(
        number=number,
        exp_month=int(m.group(1)),
        exp_year=year + 2000 if year < 100 else year,
        cvc=cvc.strip(),
        holder=holder,
    )


@router.post("/checkout")
def checkout(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)],
    address: Text,
    card_number: Annotated[str, Form(max_length=40)],
    card_expiry: Annotated[str, Form(max_length=10)],
    card_cvc: Annotated[str, Form(max_length=4)],
    attempt: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Charge and place the order; the confirmation email goes out after the response."""
    user = current_user(request)
    app = request.app
    fields = {"email": email, "name": name, "address": address}
    try:
        details = Checkout(
            email=email,
            name=name,
            address=address,
            card=_card(card_number, card_expiry, card_cvc, name),
        )
        order = place_order(
            app.state.store,
            request.session.get(CART_KEY) or "",
            details,
            provider=app.state.payment,
            settings=app.state.settings.shop,
            user_id=user.id if user else None,
            attempt=attempt,
        )
    except PaymentError as exc:
        return _checkout_page(request, 402, error=f"{exc}. Your cart is unchanged.", **fields)
    except (AccountError, OrderError, CartError) as exc:
        return _checkout_page(request, 422, error=str(exc), **fields)
    request.session[ORDERS_KEY] = [*request.session.get(ORDERS_KEY, [])[-19:], order.number]
    background.add_task(send_order_email, order, app.state.settings.shop)
    return RedirectResponse(f"/orders/{order.number}?placed=1", status_code=303)
