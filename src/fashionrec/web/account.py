"""Account pages: register, sign in (rate-limited), sign out, my orders, an order."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fashionrec.shop import accounts, ratelimit
from fashionrec.shop import cart as carts
from fashionrec.shop.errors import AccountError, OrderError, RateLimitedError
from fashionrec.shop.orders import get_order, orders_of
from fashionrec.web.pages import error_page, render
from fashionrec.web.shop import (
    CART_KEY,
    ORDERS_KEY,
    current_user,
    safe_next,
    sign_in,
    store_of,
    to_signin,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=1024)]


@router.get("/account/register")
def register_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "account_register.html", next=safe_next(next), email="", full_name="")


@router.post("/account/register")
def register(
    request: Request,
    email: Text,
    password: Text,
    name: Annotated[str, Form(max_length=200)] = "",
    next: Text = "/",
) -> Response:
    """Create the account, sign it in and bring the guest cart along."""
    try:
        with store_of(request).session() as s:
            user = accounts.register(s, email, password, name=name)
            cart = carts.merge(s, request.session.get(CART_KEY), user.id)
            token = cart.token
    except AccountError as exc:
        return render(
            request,
            "account_register.html",
            422,
            error=str(exc),
            email=email,
            full_name=name,
            next=safe_next(next),
        )
    sign_in(request, user, token)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/account/signin")
def signin_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "account_signin.html", next=safe_next(next), email="")


@router.post("/account/signin")
def signin(request: Request, email: Text, password: Text, next: Text = "/") -> Response:
    """Check the password (at most N failures per email and address in the window)."""
    shop = request.app.state.settings.shop
    key = ratelimit.attempt_key(email, request.client.host if request.client else None)
    page = {"email": email, "next": safe_next(next)}
    store = store_of(request)
    try:
        with store.session() as s:
            ratelimit.check(s, key, limit=shop.signin_attempts, window=shop.signin_window_seconds)
            user = accounts.authenticate(s, email, password)
            if user is None:
                ratelimit.record_failure(s, key, window=shop.signin_window_seconds)
            else:
                ratelimit.clear(s, key)
                token = carts.merge(s, request.session.get(CART_KEY), user.id).token
    except RateLimitedError as exc:
        response = render(request, "account_signin.html", 429, error=str(exc), **page)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if user is None:
        return render(request, "account_signin.html", 401, error="Wrong email or password.", **page)
    sign_in(request, user, token)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/account/signout")
def signout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/account/orders")
def my_orders(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return to_signin(request)
    with store_of(request).session() as s:
        orders = orders_of(s, user.id)
    return render(request, "account_orders.html", orders=orders)


@router.get("/orders/{number}")
def order_page(request: Request, number: str, placed: bool = False) -> Response:
    """An order, for its owner, an admin, or the guest who placed it in this session;
    404 for anyone else (no hint that the number exists)."""
    user = current_user(request)
    mine = number in request.session.get(ORDERS_KEY, [])
    try:
        with store_of(request).session() as s:
            order = get_order(
                s,
                number,
                user_id=user.id if user else None,
                admin=mine or bool(user and user.is_admin),
            )
    except OrderError:
        return error_page(request, 404, "Order not found", f"There is no order {number} here.")
    return render(request, "order.html", order=order, placed=placed)
