"""Wiring of the shop into the app: sessions, CSRF, routers, template helpers.

`install_shop(app)` is called by `create_app`; the pages live in account.py, cart.py and
admin.py. The signed-in user's id is `request.session["user_id"]` (other features read it).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from fashionrec.shop.payment import create_provider
from fashionrec.store import Store
from fashionrec.store.models import Cart, CartLine, Product, User
from fashionrec.web import security

log = logging.getLogger(__name__)

USER_KEY = "user_id"
CART_KEY = "cart"
ORDERS_KEY = "orders"  # numbers of the orders placed in this session (guests see them)
MAX_FORM_BYTES = 64 * 1024


def store_of(request: Request) -> Store:
    return request.app.state.store


def current_user(request: Request) -> User | None:
    """The signed-in user (looked up once per request), or None."""
    if "shop_user" in request.state._state:
        return request.state.shop_user
    user = None
    uid = request.session.get(USER_KEY)
    if isinstance(uid, int):
        with store_of(request).session() as s:
            user = s.get(User, uid)
        if user is None or user.is_guest:  # deleted meanwhile: forget it
            request.session.pop(USER_KEY, None)
            user = None
    request.state.shop_user = user
    return user


def sign_in(request: Request, user: User, cart_token: str | None) -> None:
    """A fresh session for `user` (new CSRF token; the guest's orders stay visible)."""
    orders = request.session.get(ORDERS_KEY, [])
    request.session.clear()
    request.session[USER_KEY] = user.id
    if cart_token:
        request.session[CART_KEY] = cart_token
    if orders:
        request.session[ORDERS_KEY] = orders
    request.state.shop_user = user


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything else (other hosts, //evil) gives `default`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def to_signin(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/account/signin?next={quote(here)}", status_code=303)


def shop_header(request: Request) -> dict[str, Any]:
    """What the header shows: the user's name, admin link, cart item count."""
    user = current_user(request)
    token = request.session.get(CART_KEY)
    count = 0
    if token:
        from sqlalchemy import func, select

        with store_of(request).session() as s:
            count = s.scalar(
                select(func.coalesce(func.sum(CartLine.quantity), 0))
                .join(Cart, Cart.id == CartLine.cart_id)
                .where(Cart.token == token)
            )
    name = user and (user.name or user.email.split("@")[0])
    return {"user": user, "name": name, "is_admin": bool(user and user.is_admin), "count": count}


def shop_offer(request: Request, product_id: str) -> dict[str, Any] | None:
    """The product as the shop sells it: price (from the store), whether it is a demo price
    and whether it can be added to the cart."""
    with store_of(request).session() as s:
        p = s.get(Product, str(product_id))
    if p is None:
        return None
    return {
        "price": p.price,
        "demo": p.price_source == "demo",
        "sellable": p.active and p.price is not None,
        "currency": request.app.state.settings.shop.currency,
    }


def install_shop(app: FastAPI) -> FastAPI:
    """Add sessions, CSRF protection and the shop's pages to an app made by create_app."""
    from fashionrec.api.reload import remember_manifest
    from fashionrec.web import account, admin, cart
    from fashionrec.web.pages import JSON_PREFIXES, templates

    settings = app.state.settings
    shop = settings.shop
    app.state.payment = create_provider(shop.payment_provider, shop)
    remember_manifest(app)
    for module in (account, cart, admin):
        app.include_router(module.router)
    templates.env.globals.update(
        csrf_token=security.csrf_token, shop_header=shop_header, shop_offer=shop_offer
    )
    # the admin's product form carries a photo: allow the upload limit plus the fields
    app.add_middleware(
        security.CSRFMiddleware,
        exempt=JSON_PREFIXES + ("/static",),
        max_body=max(settings.max_upload_bytes + MAX_FORM_BYTES, MAX_FORM_BYTES),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=security.session_secret(shop.secret_key, settings.index_dir),
        session_cookie=security.SESSION_COOKIE,
        max_age=shop.session_max_age,
        same_site="lax",
        https_only=shop.https_only,
    )
    return app
