"""Personal recommendations and shopper events.

Who may call: a browser session (the signed-in store user, `request.session["user_id"]`) only
for itself; otherwise `Authorization: Bearer <token>` when `ApiSettings.api_token` is set;
open when it is not (local use).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from fashionrec.api.deps import TopK, filters_dep, recommender
from fashionrec.api.errors import ApiError, errors_for
from fashionrec.api.routers.products import product_json
from fashionrec.api.schemas import Product, Reason
from fashionrec.recommend import Filters, Recommender
from fashionrec.recommend.personal.explain import CODES
from fashionrec.recommend.personal.service import (
    EventKindError,
    LiveRecommendations,
    UnknownUserError,
)
from fashionrec.store.models import EVENT_KINDS, User

#: Where the shop keeps the session's CSRF token and which header carries it (web/security.py).
CSRF_KEY, CSRF_HEADER = "csrf", "x-csrf-token"

router = APIRouter(prefix="/api", tags=["users"])


class UserInfo(BaseModel):
    id: int
    external_id: str | None = None
    name: str | None = None
    gender: str | None = None


class PersonalReason(Reason):
    code: str = Field(description=f"Stable code: {', '.join(CODES)}", examples=["popular"])


class PersonalItem(BaseModel):
    id: str
    score: float = Field(description="Higher is better; comparable within one response")
    product: Product
    reasons: list[PersonalReason]
    source: str = Field(description="Method that found it: popularity, variants, content, cf")


class PersonalResponse(BaseModel):
    user: UserInfo
    method: str = Field(description="cold-start, content or cf+content", examples=["content"])
    results: list[PersonalItem]


class EventIn(BaseModel):
    user_id: int | str = Field(description="Store user id, or an imported shopper's external id")
    product_id: str
    kind: str = Field(description=f"One of {', '.join(EVENT_KINDS)}", examples=["like"])


class EventOut(BaseModel):
    id: int
    user_id: int
    product_id: str
    kind: str
    created_at: dt.datetime


def live(
    request: Request, rec: Annotated[Recommender, Depends(recommender)]
) -> LiveRecommendations:
    """The app's live recommendations, rebuilt when the index was reloaded."""
    current = getattr(request.app.state, "personal", None)
    if current is None or current.rec is not rec:
        current = LiveRecommendations(rec, request.app.state.store)
        request.app.state.personal = current
    return current


Live = Annotated[LiveRecommendations, Depends(live)]


def session_user(request: Request) -> int | None:
    """The signed-in store user of a browser session (None without SessionMiddleware)."""
    value = request.scope.get("session", {}).get("user_id")
    return int(value) if value is not None else None


def authorise(request: Request, user: User, *, writes: bool = False) -> None:
    """A valid bearer token may act for anyone; a session only for itself (and, to write,
    with the session's CSRF token in X-CSRF-Token); without either, only when no token is
    configured."""
    settings = request.app.state.settings
    token = getattr(settings, "api_token", None)
    header = request.headers.get("authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return
    signed_in = session_user(request)
    if signed_in is not None:
        if signed_in != user.id:
            raise ApiError(403, "forbidden", "you may only use your own recommendations")
        if writes:
            expected = request.scope.get("session", {}).get(CSRF_KEY)
            given = request.headers.get(CSRF_HEADER)
            if not expected or not given or not hmac.compare_digest(str(expected), given):
                raise ApiError(403, "forbidden", "missing or wrong CSRF token; reload the page")
        return
    if token:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>, or sign in")


def require_caller(request: Request) -> None:
    """Refuse an anonymous caller of a protected API before looking anyone up, so that the
    answer (401, not 404) never tells which users exist."""
    token = getattr(request.app.state.settings, "api_token", None)
    if not token or session_user(request) is not None:
        return
    header = request.headers.get("authorization", "")
    if not hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>, or sign in")


def _user(service: LiveRecommendations, user_id: int | str) -> User:
    try:
        return service.user(user_id)
    except UnknownUserError as exc:
        raise ApiError(404, "not_found", str(exc)) from None


@router.get(
    "/users/{user_id}/recommendations",
    response_model=PersonalResponse,
    responses=errors_for(401, 403, 404),
)
def user_recommendations(
    user_id: str,
    request: Request,
    service: Live,
    filters: Annotated[Filters, Depends(filters_dep)],
    k: TopK = 10,
) -> dict[str, Any]:
    """ "Recommended for you": the hybrid for this shopper, each result with its reasons."""
    require_caller(request)
    user = _user(service, user_id)
    authorise(request, user)
    answer = service.recommend(user.id, k, filters)
    return {
        "user": _user_json(user),
        "method": answer.method,
        "results": [
            {
                "id": r.product_id,
                "score": round(r.score, 6),
                "product": product_json(request, service.rec.product(r.product_id)),
                "reasons": r.reasons,
                "source": r.source,
            }
            for r in answer.results
        ],
    }


@router.post(
    "/events", status_code=201, response_model=EventOut, responses=errors_for(401, 403, 404)
)
def post_event(event: EventIn, request: Request, service: Live) -> dict[str, Any]:
    """Record a view, like, dislike, more, less, cart or purchase; the shopper's next
    recommendations take it into account."""
    if event.kind not in EVENT_KINDS:
        raise ApiError(
            422, "invalid", f"unknown kind {event.kind!r}; choose from {', '.join(EVENT_KINDS)}"
        )
    require_caller(request)
    user = _user(service, event.user_id)
    authorise(request, user, writes=True)
    try:
        saved = service.record(user.id, event.product_id, event.kind)
    except EventKindError as exc:  # pragma: no cover - checked above
        raise ApiError(422, "invalid", str(exc)) from None
    return {
        "id": saved.id,
        "user_id": saved.user_id,
        "product_id": saved.product_id,
        "kind": saved.kind,
        "created_at": saved.created_at,
    }


def _user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "external_id": user.external_id,
        "name": user.name,
        "gender": user.gender,
    }


#: Cookie naming a store user for demos of imported shoppers (`/?shopper=<id>`).
SHOPPER_COOKIE = "shopper"


def shopper_of(request: Request, rec: Recommender, chosen: str | None = None) -> User | None:
    """The shopper a page is for: the signed-in session user, else `chosen` (from
    `?shopper=`), else the `shopper` cookie; None when unknown. Naming a shopper is a demo
    feature of an open API: once `api_token` is set, only the signed-in user counts, since
    anyone could name anyone (and their recommendations tell what they bought)."""
    service = live(request, rec)
    candidates = [session_user(request), chosen, request.cookies.get(SHOPPER_COOKIE)]
    if getattr(request.app.state.settings, "api_token", None):
        candidates = candidates[:1]
    if chosen is not None and not chosen.strip():  # `?shopper=` forgets the cookie's shopper
        candidates = candidates[:1]
    for value in candidates:
        if value is None or str(value).strip() == "":
            continue
        try:
            return service.user(value)
        except UnknownUserError:
            continue
    return None


def recommended_for(
    request: Request, rec: Recommender, user: User, k: int = 6
) -> list[dict[str, Any]]:
    """The "Recommended for you" row of the home page: product, score and reasons."""
    answer = live(request, rec).recommend(user.id, k)
    return [
        {"id": r.product_id, "product": rec.product(r.product_id), "reasons": r.reasons}
        for r in answer.results
    ]


def record_view(request: Request, rec: Recommender, user: User, product_id: str) -> None:
    """A product page seen by a known shopper counts as a view (never fails the page)."""
    try:
        live(request, rec).record(user.id, product_id, "view")
    except Exception:  # noqa: BLE001 - a lost view must not break the page
        logging.getLogger(__name__).warning("could not record a view", exc_info=True)
