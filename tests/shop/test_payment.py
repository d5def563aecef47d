from __future__ import annotations

from decimal import Decimal

import pytest

from fashionrec.errors import ConfigError
from fashionrec.shop.payment import (
    Card,
    PaymentProvider,
    TestPaymentProvider,
    create_provider,
    luhn_ok,
)


def card(number: str, month: int = 12, year: int = 2099, cvc: str = "123") -> Card:
    return Card(number, month, year, cvc)


@pytest.mark.parametrize(
    ("number", "ok", "code"),
    [
        ("4242 4242 4242 4242", True, "approved"),
        ("5555-5555-5555-4444", True, "approved"),
        ("4000 0000 0000 0002", False, "card_declined"),
        ("4000 0000 0000 9995", False, "insufficient_funds"),
        ("4000 0000 0000 0119", False, "processing_error"),
        ("4242 4242 4242 4241", False, "invalid_number"),
        ("4111 1111 1111 1111", False, "card_declined"),  # valid, but not a test card
    ],
)
def test_test_cards_are_deterministic(number, ok, code):
    provider = TestPaymentProvider()
    result = provider.charge(Decimal("10.00"), "EUR", card(number), idempotency_key=number)
    assert (result.ok, result.code) == (ok, code)
    assert (result.reference is not None) == ok and result.message


def test_expiry_cvc_and_amount_are_checked():
    p = TestPaymentProvider()
    good = "4242424242424242"
    assert p.charge(Decimal(5), "EUR", card(good, 1, 2020), idempotency_key="a").code == (
        "expired_card"
    )
    assert p.charge(Decimal(5), "EUR", card(good, 13), idempotency_key="b").code == (
        "invalid_expiry"
    )
    assert p.charge(Decimal(5), "EUR", card(good, cvc="12"), idempotency_key="c").code == (
        "invalid_cvc"
    )
    assert p.charge(Decimal(0), "EUR", card(good), idempotency_key="d").code == "invalid_amount"
    assert not p.charges


def test_idempotent_charges_and_refunds():
    p = TestPaymentProvider()
    first = p.charge(Decimal("9.99"), "EUR", card("4242424242424242"), idempotency_key="k")
    again = p.charge(Decimal("9.99"), "EUR", card("4242424242424242"), idempotency_key="k")
    assert first == again and len(p.charges) == 1
    assert p.refund(first.reference).ok and p.charges[first.reference][2] is True
    assert p.refund(first.reference).code == "already_refunded"
    assert p.refund("nope").code == "unknown_charge"


def test_card_numbers_stay_out_of_repr():
    assert "4242424242424242" not in repr(card("4242424242424242"))
    assert luhn_ok("4000000000000002") and not luhn_ok("4242x4242424242424")


class FakeGateway:
    """A stand-in adapter, as a real gateway would be written (see docs/shop.md)."""

    name = "fake"

    def __init__(self, settings=None):
        self.settings = settings

    def charge(self, amount, currency, card, *, idempotency_key):
        raise NotImplementedError

    def refund(self, reference):
        raise NotImplementedError


def test_registry_by_name_and_dotted_path():
    assert isinstance(create_provider("test"), PaymentProvider)
    gateway = create_provider(f"{__name__}:FakeGateway", settings="cfg")
    assert gateway.name == "fake" and gateway.settings == "cfg"
    with pytest.raises(ConfigError, match=r"unknown payment provider 'tset'.*Did you mean 'test'"):
        create_provider("tset")
    with pytest.raises(ConfigError, match="cannot be imported"):
        create_provider("no.such.module:Gateway")
