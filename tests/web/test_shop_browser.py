"""End to end in headless Chromium against a live server and a real SMTP server: register,
add to cart, check out with the test card, see the confirmation, receive the email."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shop_support import TEST_CARD, copy_index, start_smtp

from fashionrec.shop.prices import open_index_store, set_prices


@pytest.fixture(scope="module")
def shop_server(web_index, tmp_path_factory, serve_app):
    """`uvicorn fashionrec.api.asgi:app` over a private index copy, configured through the
    environment as in production, mailing to a local aiosmtpd; yields (base url, inbox)."""
    inbox, smtp_port, controller = start_smtp()
    index = copy_index(web_index, tmp_path_factory.mktemp("shop-e2e") / "index")
    store = open_index_store(index)
    set_prices(store, {}, default=Decimal("24.50"), default_source="demo")
    store.close()
    env = {
        "FASHIONREC_INDEX": str(index),
        "FASHIONREC_SMTP_HOST": "127.0.0.1",
        "FASHIONREC_SMTP_PORT": str(smtp_port),
        "FASHIONREC_DELIVERY_BUSINESS_DAYS": "4",
        "FASHIONREC_DATABASE_URL": None,  # the store beside the index copy
    }
    try:
        with serve_app(env, index.parent / "uvicorn.log") as base:
            yield base, inbox
    finally:
        controller.stop()


def test_register_add_to_cart_checkout_and_email(chromium, shop_server, artifacts):
    base, inbox = shop_server
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/")
        page.click("text=Register")
        page.fill("input[name=name]", "Ann Browser")
        page.fill("input[name=email]", "ann.browser@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("#register-form button[type=submit]")
        page.wait_for_selector("text=Hi, Ann Browser")

        page.goto("/products/1001")
        assert "24.50 EUR" in page.inner_text(".price") and page.is_visible(".demo-price")
        page.fill("#qty", "2")
        page.click("#add-to-cart")
        page.wait_for_url("**/cart")
        assert page.inner_text("#cart-count") == "2"
        assert "49.00 EUR" in page.inner_text("#cart-total")
        page.click("#to-checkout")
        page.wait_for_url("**/checkout")
        assert page.input_value("input[name=email]") == "ann.browser@example.com"
        assert page.is_visible("#test-cards")
        page.fill("textarea[name=address]", "5 Rue du Test\n69001 Lyon")
        page.fill("input[name=card_number]", TEST_CARD)
        page.fill("input[name=card_expiry]", "12/34")
        page.fill("input[name=card_cvc]", "123")
        page.click("#place-order")
        page.wait_for_selector("#order-placed")
        number = page.inner_text("#order-number")
        assert number.startswith("FR-") and "49.00 EUR" in page.inner_text(".order-total")
        delivery = page.inner_text("#delivery")
        page.screenshot(path=artifacts / "shop-order-confirmation.png", full_page=True)

        [msg] = inbox.wait(1)
        assert msg["To"] == "ann.browser@example.com" and number in msg["Subject"]
        text = msg.get_body(("plain",)).get_content()
        assert "2 x Synthetic Red Tshirts 1001" in text and "49.00 EUR" in text
        assert "5 Rue du Test" in text and delivery.split()[0] in text  # the weekday
        html = msg.get_body(("html",)).get_content()
        assert number in html and "49.00 EUR" in html and "Ann Browser" in html

        page.click("text=My orders")
        page.wait_for_selector(f"#my-orders >> text={number}")
        assert page.inner_text("#cart-count") == "0"
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
