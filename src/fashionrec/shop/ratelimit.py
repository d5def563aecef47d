"""Sign-in rate limit: failed attempts per email and client address in a sliding window.

The attempts live in the database (table signin_attempts), not in process memory, so every
worker process of a server enforces the same limit and workers stay stateless.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fashionrec.shop.errors import RateLimitedError
from fashionrec.store.models import SigninAttempt, utcnow

log = logging.getLogger(__name__)


def attempt_key(email: str, client: str | None) -> str:
    """The key attempts are counted under: the email (case-folded) and the client address.

    Example:
        >>> attempt_key(" Ann@Example.com", "10.0.0.1")
        'ann@example.com|10.0.0.1'
    """
    return f"{email.strip().lower()[:320]}|{(client or '-')[:64]}"


def check(session: Session, key: str, *, limit: int, window: int) -> None:
    """Raise RateLimitedError when `key` already has `limit` failures in the last `window`
    seconds; the error says how long to wait.

    Example:
        >>> check(session, attempt_key("a@b.co", "1.2.3.4"), limit=5, window=900)  # doctest: +SKIP
    """
    since = utcnow() - dt.timedelta(seconds=window)
    count, oldest = session.execute(
        select(func.count(SigninAttempt.id), func.min(SigninAttempt.created_at)).where(
            SigninAttempt.key == key, SigninAttempt.created_at > since
        )
    ).one()
    if count >= limit:
        wait = int((oldest + dt.timedelta(seconds=window) - utcnow()).total_seconds()) + 1
        log.warning("sign-in rate limit hit for %s (%d failures)", key, count)
        raise RateLimitedError(
            f"too many sign-in attempts; try again in {_human(wait)}", retry_after=max(wait, 1)
        )


def record_failure(session: Session, key: str, *, window: int) -> None:
    """Count one failed attempt (and drop this key's attempts older than the window)."""
    since = utcnow() - dt.timedelta(seconds=window)
    session.execute(
        delete(SigninAttempt).where(SigninAttempt.key == key, SigninAttempt.created_at <= since)
    )
    session.add(SigninAttempt(key=key))


def clear(session: Session, key: str) -> None:
    """Forget the failures of `key` (after a successful sign-in)."""
    session.execute(delete(SigninAttempt).where(SigninAttempt.key == key))


def _human(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} min"
