"""Sessions and CSRF protection of the shop front.

Sessions are Starlette's signed cookies (itsdangerous): httponly, SameSite=Lax, `Secure` when
`https_only`. The signing key comes from the settings or $FASHIONREC_SECRET_KEY, else it is
generated once and kept in INDEX_DIR/.session-secret (mode 0600) so every worker process
signs alike.

Every unsafe request (POST, PUT, PATCH, DELETE) to a page outside the JSON API must carry the
session's CSRF token, as the form field `csrf_token` or the `X-CSRF-Token` header; else 403.
JSON API routes that act on the session user check it with the `require_csrf` dependency.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SECRET_FILE = ".session-secret"
SESSION_COOKIE = "fashionrec_session"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def session_secret(configured: str | None, folder: Path) -> str:
    """The session signing key: the configured one, else the one saved in `folder` (created
    on first use with an atomic, exclusive write: concurrent workers agree on one key)."""
    if configured:
        return configured
    path = folder / SECRET_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails when another worker won the race: use its key
            log.info("session key generated in %s", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); render it in every form."""
    token = request.session.get(CSRF_KEY)
    if not token:
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def _matches(expected: Any, given: Any) -> bool:
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


async def require_csrf(request: Request) -> None:
    """Dependency for JSON routes acting on the session user: the X-CSRF-Token header must
    match the session's token (403 otherwise). Safe methods pass."""
    if request.method in SAFE_METHODS:
        return
    if not _matches(request.session.get(CSRF_KEY), request.headers.get(CSRF_HEADER)):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


class CSRFMiddleware:
    """Refuses unsafe requests to pages (not `exempt` paths) without the session's token.

    Sits inside SessionMiddleware. A form body is read once, checked, then replayed to the
    app; bodies over `max_body` bytes are refused (413) before any parsing.
    """

    def __init__(self, app: ASGIApp, *, exempt: tuple[str, ...], max_body: int) -> None:
        self.app = app
        self.exempt = exempt
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"].startswith(self.exempt)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        expected = scope.get("session", {}).get(CSRF_KEY)
        if _matches(expected, request.headers.get(CSRF_HEADER)):
            await self.app(scope, receive, send)
            return
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            await self._refuse(scope, receive, send, 403)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await self._refuse(scope, receive, send, 413)
                return
        replay = _replayer(bytes(body), receive)
        form = await Request(scope, replay()).form()
        given = form.get(CSRF_FIELD)
        await form.close()
        if not _matches(expected, given):
            await self._refuse(scope, receive, send, 403)
            return
        await self.app(scope, replay(), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        from fashionrec.web.pages import error_page

        log.warning(
            "refused %s %s: %s",
            scope["method"],
            scope["path"],
            "body too large" if status == 413 else "missing or wrong CSRF token",
        )
        if status == 413:
            response = error_page(
                Request(scope, receive),
                413,
                "Too large",
                f"The form is larger than {self.max_body:,} bytes.",
            )
        else:
            response = error_page(
                Request(scope, receive),
                403,
                "Form expired",
                "This form was missing its security token or it had expired. "
                "Go back, reload the page and try again.",
            )
        await response(scope, receive, send)


def _replayer(body: bytes, upstream: Receive) -> Any:
    """Receive callables giving the buffered body, then the client's own messages (so a
    disconnect is still seen)."""

    def make() -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return await upstream()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return receive

    return make
