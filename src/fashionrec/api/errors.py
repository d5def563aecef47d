"""One JSON error shape for every error the API returns:

{"error": {"status": 404, "code": "not_found", "message": "product '9' is not in the index"}}
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from fashionrec.errors import (
    CatalogError,
    ConfigError,
    FashionRecError,
    FilterError,
    ImageError,
    UnknownProductError,
)

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class ApiError(FashionRecError):
    """An error with an HTTP status, raised by route code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    500: "internal_error",
}


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    body = {
        "error": {"status": status, "code": code or _CODES.get(status, "error"), "message": message}
    }
    return JSONResponse(body, status_code=status)


#: Responses every route may give, declared for the OpenAPI schema.
COMMON_ERRORS = {
    422: {"model": ErrorResponse, "description": "Invalid parameters"},
    500: {"model": ErrorResponse, "description": "Internal error"},
}


def errors_for(*statuses: int) -> dict[int, dict]:
    """OpenAPI `responses=` entries for the given error statuses (plus the common ones)."""
    out = dict(COMMON_ERRORS)
    for status in statuses:
        out[status] = {"model": ErrorResponse, "description": _CODES.get(status, "error")}
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through one shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code)

    @app.exception_handler(UnknownProductError)
    async def _missing(_: Request, exc: UnknownProductError) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(ImageError)
    async def _image(_: Request, exc: ImageError) -> JSONResponse:
        too_big = "too large" in str(exc) or "limit" in str(exc)
        return error_response(
            413 if too_big else 422, str(exc), "too_large" if too_big else "bad_image"
        )

    @app.exception_handler(FilterError)
    @app.exception_handler(ConfigError)
    @app.exception_handler(CatalogError)
    async def _bad(_: Request, exc: FashionRecError) -> JSONResponse:
        return error_response(422, str(exc), "invalid")

    @app.exception_handler(FashionRecError)
    async def _other(_: Request, exc: FashionRecError) -> JSONResponse:
        log.exception("request failed")
        return error_response(500, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return error_response(422, "; ".join(parts) or "invalid request", "invalid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal error")
