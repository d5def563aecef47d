from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from shop_helpers import free_port

from fashionrec.shop.mail import send_order_email
from fashionrec.shop.settings import ShopSettings
from fashionrec.store.models import Order, OrderLine


def sample_order() -> Order:
    order = Order(
        number="FR-ABCDEFGH2345",
        email="ann@example.com",
        name="Ann <Smith>",
        address="1 Rue de la Paix\n75002 Paris",
        total=Decimal("45.48"),
        currency="EUR",
        payment_ref="test_123",
        estimated_delivery=dt.date(2026, 12, 2),
    )
    order.lines = [
        OrderLine(product_id="1001", name="Red Tshirt", unit_price=Decimal("19.99"), quantity=2),
        OrderLine(product_id="1002", name="Blue Top", unit_price=Decimal("5.50"), quantity=1),
    ]
    return order


def test_confirmation_arrives_with_both_parts(smtp_server):
    inbox, port = smtp_server
    settings = ShopSettings(smtp_host="127.0.0.1", smtp_port=port, mail_from="shop@example.org")
    assert send_order_email(sample_order(), settings)
    [msg] = inbox.wait(1)
    assert inbox.envelopes == [("shop@example.org", ["ann@example.com"])]
    assert msg["Subject"] == "Your fashionrec order FR-ABCDEFGH2345" and msg["To"] == (
        "ann@example.com"
    )
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for needle in [
        "FR-ABCDEFGH2345",
        "Red Tshirt",
        "Blue Top",
        "19.99",
        "39.98",
        "5.50",
        "45.48 EUR",
        "Wednesday 2 December 2026",
        "1 Rue de la Paix",
        "75002 Paris",
        "ann@example.com",
    ]:
        assert needle in text, needle
        assert needle in html, needle
    assert "2 x Red Tshirt" in text and "Ann <Smith>" in text
    assert "Ann &lt;Smith&gt;" in html and "<Smith>" not in html  # escaped in HTML


def test_send_failure_is_logged_not_raised(caplog):
    settings = ShopSettings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=2)
    with caplog.at_level(logging.ERROR, logger="fashionrec.shop.mail"):
        assert send_order_email(sample_order(), settings) is False
    assert "could not send" in caplog.text and "ann@example.com" in caplog.text
    assert send_order_email(sample_order(), ShopSettings()) is False  # no SMTP host: skipped
