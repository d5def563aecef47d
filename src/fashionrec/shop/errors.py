"""Errors of the shop; each says what was wrong and what to do."""

from __future__ import annotations

from fashionrec.errors import FashionRecError


class ShopError(FashionRecError, ValueError):
    """Base of the shop's errors: a request the shop cannot carry out as asked."""


class AccountError(ShopError):
    """Registration or account data is not acceptable (bad email, short password, taken)."""


class RateLimitedError(ShopError):
    """Too many sign-in attempts; `retry_after` seconds until the next one is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CartError(ShopError):
    """A product cannot go in the cart (no price, no longer sold, bad quantity) or the cart
    cannot be checked out (empty, changed)."""


class PaymentError(ShopError):
    """The payment was declined or failed; nothing was ordered. `code` is machine-readable."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class OrderError(ShopError):
    """An order cannot be placed or shown."""
