"""Payment: a provider contract, a deterministic offline test provider, a registry by name.

A real gateway drops in as a class with `charge` and `refund` (see docs/shop.md): register it
with `@register_provider("name")`, or name it as "package.module:Class" in the
`payment_provider` setting.

Test cards of `TestPaymentProvider` (any future expiry, any 3-digit CVC):

=====================  ===================================
4242 4242 4242 4242    approved
5555 5555 5555 4444    approved (Mastercard)
4000 0000 0000 0002    declined (card_declined)
4000 0000 0000 9995    declined (insufficient_funds)
4000 0000 0000 0119    error (processing_error)
=====================  ===================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from fashionrec.errors import ConfigError, suggest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Card:
    """Card details as typed at checkout (never stored; only the last 4 digits are logged)."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder: str = ""

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.number if ch.isdigit())

    @property
    def last4(self) -> str:
        return self.digits[-4:]

    def __repr__(self) -> str:  # keep numbers out of logs and tracebacks
        return f"Card(****{self.last4}, {self.exp_month:02d}/{self.exp_year})"


@dataclass(frozen=True)
class PaymentResult:
    """What a charge or refund did: ok, the provider's reference, a code and a message."""

    ok: bool
    reference: str | None
    code: str
    message: str


@runtime_checkable
class PaymentProvider(Protocol):
    """What the shop needs from a payment gateway."""

    name: str

    def charge(
        self, amount: Decimal, currency: str, card: Card, *, idempotency_key: str
    ) -> PaymentResult:
        """Take `amount`; the same `idempotency_key` must never charge twice."""
        ...

    def refund(self, reference: str) -> PaymentResult:
        """Give back a whole charge."""
        ...


def luhn_ok(number: str) -> bool:
    """The Luhn checksum of a card number.

    Example:
        >>> luhn_ok("4242 4242 4242 4242"), luhn_ok("4242 4242 4242 4241")
        (True, False)
    """
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12 or len(digits) > 19 or any(not (c.isdigit() or c in " -") for c in number):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_problem(card: Card, today: dt.date | None = None) -> PaymentResult | None:
    """A failed result when the card details are malformed or expired, else None."""
    today = today or dt.date.today()
    if not luhn_ok(card.number):
        return PaymentResult(False, None, "invalid_number", "the card number is not valid")
    if not (1 <= card.exp_month <= 12) or card.exp_year < 2000 or card.exp_year > 2100:
        return PaymentResult(False, None, "invalid_expiry", "the expiry date is not valid")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        return PaymentResult(False, None, "expired_card", "the card has expired")
    if not (card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        return PaymentResult(False, None, "invalid_cvc", "the security code must be 3 or 4 digits")
    return None


#: name -> factory(settings) of every known provider.
_PROVIDERS: dict[str, Callable[[Any], PaymentProvider]] = {}


def register_provider(name: str) -> Callable[[type], type]:
    """Class decorator: make a provider available as `payment_provider = name`."""

    def wrap(cls: type) -> type:
        _PROVIDERS[name] = cls
        return cls

    return wrap


def list_providers() -> list[str]:
    return sorted(_PROVIDERS)


def create_provider(name: str, settings: Any = None) -> PaymentProvider:
    """The provider called `name`, or the class at "package.module:Class".

    The factory gets the ShopSettings (a gateway adapter reads its keys from them or from
    its own environment variables).

    Example:
        >>> create_provider("test").name
        'test'
    """
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"payment provider {name!r} cannot be imported: {exc}") from None
    elif name in _PROVIDERS:
        factory = _PROVIDERS[name]
    else:
        raise ConfigError(
            f"unknown payment provider {name!r} (known: {', '.join(list_providers())}, or "
            "'package.module:Class')" + suggest(name, _PROVIDERS)
        )
    try:
        provider = factory(settings)
    except TypeError:
        provider = factory()
    if not isinstance(provider, PaymentProvider):
        raise ConfigError(f"payment provider {name!r} lacks charge() and refund()")
    return provider


@register_provider("test")
class TestPaymentProvider:
    """Offline, deterministic payments for development and tests (see the module's cards).

    Example:
        >>> p = TestPaymentProvider()
        >>> p.charge(Decimal("9.99"), "EUR", Card("4242424242424242", 12, 2099, "123"),
        ...          idempotency_key="k1").ok
        True
    """

    __test__ = False  # not a pytest test class
    name = "test"
    OUTCOMES: dict[str, tuple[bool, str, str]] = {
        "4242424242424242": (True, "approved", "payment approved"),
        "5555555555554444": (True, "approved", "payment approved"),
        "4000000000000002": (False, "card_declined", "the card was declined"),
        "4000000000009995": (False, "insufficient_funds", "the card has insufficient funds"),
        "4000000000000119": (False, "processing_error", "the payment could not be processed"),
    }

    def __init__(self, settings: Any = None) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, PaymentResult] = {}
        #: reference -> (amount, currency, refunded); inspectable in tests
        self.charges: dict[str, list[Any]] = {}

    def charge(
        self, amount: Decimal, currency: str, card: Card, *, idempotency_key: str
    ) -> PaymentResult:
        with self._lock:
            if idempotency_key in self._by_key:
                return self._by_key[idempotency_key]
            result = self._charge(Decimal(amount), currency, card, idempotency_key)
            self._by_key[idempotency_key] = result
            log.info(
                "test payment %s of %s %s on %r: %s",
                result.reference,
                amount,
                currency,
                card,
                result.code,
            )
            return result

    def _charge(
        self, amount: Decimal, currency: str, card: Card, idempotency_key: str
    ) -> PaymentResult:
        if amount <= 0:
            return PaymentResult(False, None, "invalid_amount", f"cannot charge {amount}")
        problem = card_problem(card)
        if problem is not None:
            return problem
        ok, code, message = self.OUTCOMES.get(
            card.digits, (False, "card_declined", "the card was declined (not a test card)")
        )
        if not ok:
            return PaymentResult(False, None, code, message)
        # Derived from the key, not random: two workers (each with its own provider) charged
        # for one double-clicked checkout answer with one reference, so the second submit
        # finds the order the first one wrote, as a real gateway's server-side keys allow.
        reference = "test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
        self.charges[reference] = [amount, currency, False]
        return PaymentResult(True, reference, code, message)

    def refund(self, reference: str) -> PaymentResult:
        with self._lock:
            charge = self.charges.get(reference)
            if charge is None:
                return PaymentResult(False, reference, "unknown_charge", "no such charge")
            if charge[2]:
                return PaymentResult(False, reference, "already_refunded", "already refunded")
            charge[2] = True
            log.info("test payment %s refunded", reference)
            return PaymentResult(True, reference, "refunded", "payment refunded")
