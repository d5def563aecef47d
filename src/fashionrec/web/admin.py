"""Admin pages: add and remove catalog products (the index updates incrementally), see orders.

Only signed-in admins (`fashionrec create-admin`) get in: anonymous visitors are sent to sign
in, other users get 403. A new product's photo is decoded (size- and type-checked like every
upload), re-encoded and written under INDEX_DIR/uploads/; no client-given path or name is used.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select

from fashionrec.api.errors import ApiError
from fashionrec.api.reload import reload_recommender
from fashionrec.api.uploads import read_upload
from fashionrec.catalog.schema import CANONICAL_FIELDS, PRESETS
from fashionrec.errors import FashionRecError
from fashionrec.shop.orders import all_orders
from fashionrec.shop.prices import parse_price, set_prices
from fashionrec.store.models import Product, User
from fashionrec.web.pages import error_page, render
from fashionrec.web.shop import current_user, store_of, to_signin

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Field = Annotated[str, Form(max_length=200)]
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: The catalog fields an admin gives, written under the Kaggle preset's column names.
ADMIN_FIELDS = tuple(f for f in CANONICAL_FIELDS if f not in ("price", "group"))
LIST_LIMIT = 200


def _admin(request: Request) -> User | Response:
    user = current_user(request)
    if user is None:
        return to_signin(request)
    if not user.is_admin:
        return error_page(request, 403, "Admins only", "This page is for the shop's admins.")
    return user


@contextmanager
def _index_lock(index_dir: Path) -> Iterator[None]:
    """One index change at a time, across every worker process."""
    with open(index_dir / ".admin.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _page(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
    q = request.query_params.get("q", "").strip()[:100]
    with store_of(request).session() as s:
        query = select(Product).where(Product.active).order_by(Product.id.desc())
        if q:
            like = f"%{q}%"
            query = query.where(or_(Product.id.like(like), Product.name.like(like)))
        products = list(s.scalars(query.limit(LIST_LIMIT)))
    return render(
        request,
        "admin_products.html",
        status,
        products=products,
        q=q,
        limit=LIST_LIMIT,
        form=extra.pop("form", {}),
        **extra,
    )


@router.get("/admin")
def admin_home(request: Request) -> Response:
    guard = _admin(request)
    return guard if isinstance(guard, Response) else _page(request)


def _new_id(request: Request) -> str:
    """The next free numeric id; removed products' ids (still in the store, inactive, with
    their history) are never reused."""
    with store_of(request).session() as s:
        ids = [*request.app.state.recommender.products.index, *s.scalars(select(Product.id))]
    numeric = [int(i) for i in ids if str(i).isdigit()]
    return str(max(numeric) + 1) if numeric else f"P{secrets.token_hex(4).upper()}"


def _add(request: Request, image: Any, fields: dict[str, str], price: Any) -> str:
    """Write a one-product catalog under INDEX_DIR/uploads/ and add it to the index."""
    from fashionrec.pipeline import add_products

    app = request.app
    index_dir = Path(app.state.settings.index_dir)
    with _index_lock(index_dir):
        pid = fields["id"] or _new_id(request)
        with store_of(request).session() as s:
            known = s.get(Product, pid) is not None
        if known or pid in app.state.recommender.products.index:
            raise FashionRecError(f"product {pid!r} already exists; choose another id")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        folder = index_dir / "uploads" / f"{stamp}-{secrets.token_hex(3)}"
        (folder / "images").mkdir(parents=True)
        image.convert("RGB").save(folder / "images" / f"{pid}.jpg", quality=92)
        with open(folder / "styles.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            columns = PRESETS["kaggle"].columns
            writer.writerow([columns[f] for f in ADMIN_FIELDS])
            writer.writerow([pid, *(fields[f] for f in ADMIN_FIELDS[1:])])
        add_products(index_dir, folder, mapping="kaggle", show_progress=False)
        reload_recommender(app)
        set_prices(app.state.store, {pid: price}, source="admin")
    log.info("admin added product %s", pid)
    return pid


@router.post("/admin/products")
async def add_product(
    request: Request,
    photo: Annotated[UploadFile, File()],
    name: Field,
    article_type: Field,
    price: Annotated[str, Form(max_length=20)],
    product_id: Annotated[str, Form(max_length=40)] = "",
    gender: Field = "",
    master_category: Field = "",
    sub_category: Field = "",
    base_colour: Field = "",
    season: Field = "",
    year: Annotated[str, Form(max_length=4)] = "",
    usage: Field = "",
) -> Response:
    guard = _admin(request)
    if isinstance(guard, Response):
        return guard
    fields = {
        "id": product_id.strip(),
        "name": name.strip(),
        "gender": gender.strip(),
        "master_category": master_category.strip(),
        "sub_category": sub_category.strip(),
        "article_type": article_type.strip(),
        "base_colour": base_colour.strip(),
        "season": season.strip(),
        "year": year.strip(),
        "usage": usage.strip(),
    }
    form = {**fields, "price": price}
    settings = request.app.state.settings
    try:
        if fields["id"] and not _ID.match(fields["id"]):
            raise FashionRecError(
                f"product id {fields['id']!r}: use letters, digits, - and _ (up to 40)"
            )
        if not fields["name"] or not fields["article_type"]:
            raise FashionRecError("a product needs a name and a type")
        if fields["year"] and not fields["year"].isdigit():
            raise FashionRecError(f"year {fields['year']!r} is not a year, e.g. 2024")
        amount = parse_price(price)
        image = await read_upload(
            photo, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upload_pixels
        )
        pid = await run_in_threadpool(_add, request, image, fields, amount)
    except ApiError as exc:
        return _page(request, exc.status, error=exc.message, form=form)
    except FashionRecError as exc:
        return _page(request, 422, error=str(exc), form=form)
    return RedirectResponse(f"/admin?added={pid}", status_code=303)


@router.post("/admin/products/remove")
def remove_product(
    request: Request, product_id: Annotated[list[str], Form(max_length=64)]
) -> Response:
    from fashionrec.pipeline import remove_products

    guard = _admin(request)
    if isinstance(guard, Response):
        return guard
    index_dir = Path(request.app.state.settings.index_dir)
    try:
        with _index_lock(index_dir):
            n = remove_products(index_dir, product_id)
            reload_recommender(request.app)
    except FashionRecError as exc:
        return _page(request, 422, error=str(exc))
    log.info("admin removed %d products: %s", n, ", ".join(product_id[:10]))
    return RedirectResponse(f"/admin?removed={n}", status_code=303)


@router.get("/admin/orders")
def admin_orders(request: Request) -> Response:
    guard = _admin(request)
    if isinstance(guard, Response):
        return guard
    with store_of(request).session() as s:
        orders = all_orders(s)
    return render(request, "admin_orders.html", orders=orders)
