"""The shop front: server-rendered HTML pages over the app's recommender.

`install_web(app)` mounts the pages, the static files and HTML error pages (404, 500) for
every path outside the JSON API, which keeps its one error shape.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from fashionrec.api.deps import recommender
from fashionrec.errors import FilterError, UnknownProductError
from fashionrec.recommend import Recommender
from fashionrec.web import _views as views

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["shop_url"] = views.shop_url
templates.env.globals["nav_genders"] = lambda request: views.collections(
    request.app.state.recommender.products
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Rec = Annotated[Recommender, Depends(recommender)]

PER_PAGE = 24
SIMILAR_K = 12
#: Paths that keep the JSON error shape (everything else gets HTML error pages).
JSON_PREFIXES = ("/api", "/openapi.json", "/docs", "/redoc", "/healthz")


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with the request and the shop's name."""
    return templates.TemplateResponse(
        request, name, {"shop_name": "fashionrec", **context}, status_code=status_code
    )


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status, title=title, message=message, status=status)


@router.get("/")
def home(
    request: Request, rec: Rec, shopper: Annotated[str | None, Query(max_length=128)] = None
) -> HTMLResponse:
    """Collections per gender, their common categories and rows of products; "Recommended
    for you" for a signed-in shopper or one named by `?shopper=<store user id>` (demos)."""
    from fashionrec.api.routers import users as personal

    user = personal.shopper_of(request, rec, shopper)
    recommended = [
        views.card(r["id"], r["product"], reasons=r["reasons"])
        for r in (personal.recommended_for(request, rec, user) if user else [])
    ]
    response = render(
        request,
        "home.html",
        sections=views.home_sections(rec),
        products=len(rec.products),
        recommended=recommended,
    )
    if shopper is not None and (user is not None or not shopper.strip()):
        if user is None:  # ?shopper= with no value forgets the demo shopper
            response.delete_cookie(personal.SHOPPER_COOKIE)
        else:
            response.set_cookie(
                personal.SHOPPER_COOKIE, str(user.id), httponly=True, samesite="lax"
            )
    return response


@router.get("/shop")
def shop(
    request: Request,
    rec: Rec,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    sort: str = "featured",
    q: Annotated[str, Query(max_length=200)] = "",
    per_page: Annotated[int, Query(ge=1, le=100)] = PER_PAGE,
) -> HTMLResponse:
    """A filtered, sorted, paginated listing with facet counts."""
    query = {k: request.query_params.getlist(k) for k in request.query_params}
    chosen = views.selections(query)
    try:
        filters = views.to_filters(chosen, rec)
    except FilterError as exc:
        return error_page(request, 422, "Unknown filter", str(exc))
    df = rec.products
    from fashionrec.api.routers.text import text_searcher

    searcher = text_searcher(request, rec) if q.strip() else None
    base, rank, understood = views.text_hits(searcher, df, q)
    matching = df[base & (filters.mask(df) if not filters.is_empty() else True)]
    matching = views.sort_frame(matching, sort if sort in views.SORTS else "featured", rank)
    total = len(matching)
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    state = [*((k, v) for k, vs in chosen.items() for v in vs), ("q", q)]
    if sort != "featured":
        state.append(("sort", sort))
    if per_page != PER_PAGE:
        state.append(("per_page", per_page))

    def link(n: int) -> str:
        return views.shop_url([*state, ("page", n if n > 1 else None)])

    active = [
        {
            "label": f"{views.FACETS[k][1]}: {v}",
            "url": views.shop_url([s for s in state if s != (k, v)]),
        }
        for k, vs in chosen.items()
        for v in vs
    ]
    if q:
        active.append(
            {"label": f"Text: {q}", "url": views.shop_url(s for s in state if s[0] != "q")}
        )
    start = (page - 1) * per_page
    return render(
        request,
        "shop.html",
        title=views.shop_title(chosen, q),
        cards=views.cards_of(rec, matching.iloc[start : start + per_page]),
        total=total,
        page=page,
        pages=pages,
        first=start + 1,
        last=min(start + per_page, total),
        prev_url=link(page - 1) if page > 1 else None,
        next_url=link(page + 1) if page < pages else None,
        page_links=views.page_links(page, pages, link),
        facets=views.facet_counts(df, filters, base, chosen),
        active=active,
        clear_url="/shop",
        sort=sort,
        sorts=[
            (key, label) for key, (label, col, _) in views.SORTS.items() if col in df or col == "id"
        ],
        q=q,
        understood=understood,
        per_page=per_page if per_page != PER_PAGE else None,
    )


@router.get("/products/{product_id}")
def product_page(product_id: str, request: Request, rec: Rec) -> HTMLResponse:
    """One product: photo, details and a Similar Items row from the recommender."""
    try:
        product = rec.product(product_id)
    except UnknownProductError as exc:
        return error_page(request, 404, "Product not found", str(exc))
    similar = rec.similar_to_product(product_id, SIMILAR_K)
    from fashionrec.api.routers import users as personal

    shopper = personal.shopper_of(request, rec)
    if shopper is not None:
        personal.record_view(request, rec, shopper, product_id)
    crumbs = [("Home", "/")]
    if product.get("gender"):
        crumbs.append((product["gender"], views.shop_url(gender=product["gender"])))
    if product.get("article_type"):
        crumbs.append(
            (
                product["article_type"],
                views.shop_url(gender=product.get("gender"), article_type=product["article_type"]),
            )
        )
    return render(
        request,
        "product.html",
        product=views.card(product_id, product),
        details=views.details(product),
        similar=views.match_cards(similar, product),
        crumbs=crumbs,
        shopper=shopper,
    )


@router.get("/search")
def search_page(request: Request, rec: Rec) -> HTMLResponse:
    """Search by photo: upload or drop a photo, crop it, filter; results come from the API."""
    df = rec.products
    options = {
        key: sorted(df[field].dropna().astype(str).unique().tolist())
        for key, (field, _) in views.FACETS.items()
        if field in df and key in ("gender", "article_type", "colour")
    }
    return render(request, "search.html", options=options, k=SIMILAR_K)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(JSON_PREFIXES)


def _html_error(request: Request, exc: Exception) -> HTMLResponse:
    """The HTML page for an error raised outside the JSON API."""
    if isinstance(exc, RequestValidationError):
        parts = [
            f"{'.'.join(map(str, e.get('loc', ())[1:]))}: {e.get('msg')}" for e in exc.errors()
        ]
        return error_page(request, 422, "Invalid request", "; ".join(parts) or "invalid request")
    status = getattr(exc, "status_code", 500)
    if status == 404:
        return error_page(
            request, 404, "Page not found", "We could not find the page you asked for."
        )
    if status >= 500 or not isinstance(exc, StarletteHTTPException):
        log.exception("page failed: %s", request.url.path, exc_info=exc)
        return error_page(request, 500, "Something went wrong", "Please try again later.")
    return error_page(request, status, "Something went wrong", str(exc.detail))


def install_web(app: FastAPI) -> FastAPI:
    """Mount the shop pages, /static and HTML error pages on an app made by create_app.

    Errors under the JSON API paths still go to the handlers already installed (one JSON
    error shape); install this after them.

    Example:
        >>> app = install_web(create_app(settings))  # doctest: +SKIP
    """
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for kind in (StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(kind, _dispatch(app.exception_handlers.get(kind)))
    return app


def _dispatch(json_handler: Any) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        if _wants_html(request) or json_handler is None:
            return _html_error(request, exc)
        return await json_handler(request, exc)

    return handler
