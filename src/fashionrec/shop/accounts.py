"""Accounts: registration, sign-in (argon2id hashes), guests and admins.

Passwords are hashed with argon2-cffi's PasswordHasher (argon2id, its RFC 9106 low-memory
profile); a hash made with older parameters is upgraded at the next successful sign-in.
"""

from __future__ import annotations

import logging
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fashionrec.shop.errors import AccountError
from fashionrec.store.models import User

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 is slow on purpose; do not hash megabytes
#: Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the SMTP
#: server's question; this catches typos such as a missing @ or domain.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def normalise_email(email: str) -> str:
    """The email as stored: trimmed, lower-cased; AccountError when it is not an address.

    Example:
        >>> normalise_email("  Ann@Example.COM ")
        'ann@example.com'
    """
    text = (email or "").strip().lower()
    if len(text) > 254 or not _EMAIL.match(text):
        raise AccountError(f"{email!r} is not an email address (expected e.g. ann@example.com)")
    return text


def check_password(password: str) -> None:
    """AccountError unless the password has MIN_PASSWORD to MAX_PASSWORD characters."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def register(session: Session, email: str, password: str, *, name: str | None = None) -> User:
    """Create an account (a guest with the same email becomes a full account, keeping its
    orders). AccountError when the email is taken, invalid or the password too short.

    Example:
        >>> user = register(session, "ann@example.com", "correct horse battery")  # doctest: +SKIP
    """
    address = normalise_email(email)
    check_password(password)
    user = find_user(session, address)
    if user is not None and not user.is_guest:
        raise AccountError(f"an account with the email {address} already exists; sign in instead")
    if user is None:
        user = User(email=address)
        session.add(user)
    user.is_guest = False
    user.password_hash = _hasher().hash(password)
    user.name = (name or "").strip()[:200] or user.name
    session.flush()
    log.info("account registered: user %d", user.id)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The account with this email and password, or None. Rehashes outdated hashes.

    Example:
        >>> authenticate(session, "ann@example.com", "wrong") is None  # doctest: +SKIP
        True
    """
    hasher = _hasher()
    try:
        address = normalise_email(email)
    except AccountError:
        return None
    user = find_user(session, address)
    if user is None or user.is_guest or not user.password_hash or len(password) > MAX_PASSWORD:
        # hash anyway so an unknown email takes as long as a wrong password
        hasher.hash(password[:MAX_PASSWORD] or "x")
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        log.info("password hash of user %d upgraded", user.id)
    return user


def guest_user(session: Session, email: str, *, name: str | None = None) -> User:
    """The guest user of this email (created on first checkout, reused afterwards).

    AccountError when a registered account has the email: its owner should sign in, and a
    guest must not add orders (and tastes) to someone else's account.
    """
    address = normalise_email(email)
    user = find_user(session, address)
    if user is not None and not user.is_guest:
        raise AccountError(
            f"an account with the email {address} exists; sign in to check out with it"
        )
    if user is None:
        user = User(email=address, is_guest=True)
        session.add(user)
    if name:
        user.name = name.strip()[:200]
    session.flush()
    return user


def make_admin(session: Session, email: str, password: str, *, name: str | None = None) -> User:
    """Create an admin account, or make an existing account an admin with this password."""
    address = normalise_email(email)
    check_password(password)
    user = find_user(session, address)
    if user is None or user.is_guest:
        user = register(session, address, password, name=name)
    else:
        user.password_hash = _hasher().hash(password)
    user.is_admin = True
    session.flush()
    log.info("user %d is an admin", user.id)
    return user
