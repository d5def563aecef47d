"""The shop over HTTP (TestClient, real SQLite, a real SMTP server): guest checkout with the
email that arrives, accounts, declines, CSRF, order privacy, admin catalog changes."""

from __future__ import annotations

import io
import re
import time
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from shop_support import TEST_CARD, copy_index, csrf, start_smtp
from sqlalchemy import func, select

from fashionrec.api import ApiSettings, create_app
from fashionrec.shop import accounts
from fashionrec.shop.prices import set_prices
from fashionrec.shop.settings import ShopSettings
from fashionrec.store.models import Order, Product

PASSWORD = "correct horse battery"
ORDER_URL = re.compile(r"/orders/(FR-[0-9A-Z]{12})\?placed=1$")


@pytest.fixture(scope="module")
def smtp():
    inbox, port, controller = start_smtp()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def shop_app(web_index, tmp_path_factory, smtp):
    """The app over a private copy of the test index, selling every product at 25.00 (demo
    prices), mailing through the local SMTP server, with one admin."""
    index = copy_index(web_index, tmp_path_factory.mktemp("shop-web") / "index")
    shop = ShopSettings(smtp_host="127.0.0.1", smtp_port=smtp[1], delivery_business_days=2)
    app = create_app(ApiSettings(index_dir=index, max_upload_bytes=300_000, shop=shop))
    set_prices(
        app.state.store, {"1001": Decimal("19.99")}, default=Decimal("25"), default_source="demo"
    )
    with app.state.store.session() as s:
        accounts.make_admin(s, "admin@example.com", PASSWORD, name="Boss")
    return app


@pytest.fixture()
def client(shop_app) -> TestClient:
    return TestClient(shop_app, raise_server_exceptions=False, follow_redirects=False)


def token(client: TestClient, path: str = "/cart") -> str:
    return csrf(client.get(path).text)


def add_to_cart(client, pid="1001", quantity=2):
    r = client.post(
        "/cart/add", data={"product_id": pid, "quantity": quantity, "csrf_token": token(client)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/cart", r.text[:500]


def pay(client, email="gus@example.com", card=TEST_CARD, **extra):
    data = {
        "email": email,
        "name": "Gus Guest",
        "address": "2 Main Street\nDublin",
        "card_number": card,
        "card_expiry": "12/39",
        "card_cvc": "123",
        "csrf_token": token(client, "/checkout"),
        **extra,
    }
    return client.post("/checkout", data=data)


def register(client, email, name="Ann"):
    r = client.post(
        "/account/register",
        data={"email": email, "password": PASSWORD, "name": name, "csrf_token": token(client)},
    )
    assert r.status_code == 303, r.text[:500]


def orders(app) -> int:
    with app.state.store.session() as s:
        return s.scalar(select(func.count()).select_from(Order))


def test_guest_checkout_and_the_email_that_arrives(client, shop_app, smtp):
    inbox, _ = smtp
    page = client.get("/products/1002").text
    assert "Add to cart" in page and "25.00 EUR" in page and "demo price" in page
    assert "demo price" not in client.get("/products/1001").text  # a price set from a CSV
    add_to_cart(client, "1001", 2)
    add_to_cart(client, "1002", 1)
    cart = client.get("/cart").text
    assert "64.98 EUR" in cart and 'id="cart-count" aria-label="3 items">3<' in cart
    checkout = client.get("/checkout").text
    assert "4242 4242 4242 4242" in checkout and "check out as a guest" not in checkout
    seen = len(inbox.messages)
    r = pay(client)
    assert r.status_code == 303, r.text[:800]
    number = ORDER_URL.search(r.headers["location"]).group(1)
    page = client.get(r.headers["location"]).text
    assert "Thank you" in page and number in page and "64.98 EUR" in page
    [msg] = inbox.wait(seen + 1)[seen:]
    assert msg["To"] == "gus@example.com" and number in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for part in (text, html):
        for needle in (
            number,
            "Gus Guest",
            "2 Main Street",
            "gus@example.com",
            "19.99",
            "39.98",
            "25.00",
            "64.98 EUR",
            "Estimated delivery",
        ):
            assert needle in part, needle
    assert "0 items" in client.get("/cart").text or "cart is empty" in client.get("/cart").text
    # a new visitor (no session) cannot see the guest's order
    stranger = TestClient(shop_app, raise_server_exceptions=False)
    assert stranger.get(f"/orders/{number}").status_code == 404


def test_declined_card_keeps_the_cart_and_orders_nothing(client, shop_app):
    add_to_cart(client, "1003", 1)
    before = orders(shop_app)
    r = pay(client, card="4000 0000 0000 0002")
    assert r.status_code == 402 and "the card was declined" in r.text
    assert "2 Main Street" in r.text  # what was typed is kept (except the card)
    assert orders(shop_app) == before and "1003" in client.get("/cart").text
    assert pay(client, card="4242 4242 4242 4241").status_code == 402  # Luhn
    r = pay(client, card_expiry="13/30")
    assert r.status_code == 402 and "expiry date is not valid" in r.text
    r = pay(client, card_expiry="soon")
    assert r.status_code == 422 and "should look like MM/YY" in r.text
    assert pay(client).status_code == 303 and orders(shop_app) == before + 1


def test_csrf_missing_or_wrong_is_refused(client, shop_app):
    good = token(client)
    other = token(TestClient(shop_app))
    for data, headers in [
        ({"product_id": "1001"}, {}),
        ({"product_id": "1001", "csrf_token": "forged"}, {}),
        ({"product_id": "1001", "csrf_token": other}, {}),  # another session's token
        ({"product_id": "1001"}, {"X-CSRF-Token": other}),
    ]:
        r = client.post("/cart/add", data=data, headers=headers)
        assert r.status_code == 403 and "security token" in r.text
    r = client.post("/cart/add", json={"product_id": "1001"}, headers={"X-CSRF-Token": "x"})
    assert r.status_code == 403
    assert (
        client.post(
            "/cart/add", data={"product_id": "1001"}, headers={"X-CSRF-Token": good}
        ).status_code
        == 303
    )
    assert client.post("/account/signout").status_code == 403
    assert client.post("/checkout", data={"email": "a@b.co"}).status_code == 403
    # the JSON API is not cookie-authenticated: no token needed there
    assert client.get("/api/products?limit=1").status_code != 403


def test_session_cookie_flags(client):
    r = client.get("/cart")
    cookie = r.headers["set-cookie"].lower()
    assert "fashionrec_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_register_sign_in_out_and_cart_merge(client, shop_app):
    add_to_cart(client, "1005", 1)  # as a guest
    register(client, "ann@example.com", "Ann")
    home = client.get("/").text
    assert "Hi, Ann" in home and "My orders" in home and "/admin" not in home
    assert "1005" in client.get("/cart").text  # the guest cart came along
    r = client.post("/account/signout", data={"csrf_token": token(client)})
    assert r.status_code == 303 and "Sign in" in client.get("/").text
    r = client.post(
        "/account/signin",
        data={
            "email": "ANN@example.com",
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": token(client),
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    assert "1005" in client.get("/cart").text and "Hi, Ann" in client.get("/cart").text
    # checkout is prefilled; the order lands in the account
    assert 'value="ann@example.com"' in client.get("/checkout").text
    assert pay(client, email="ann@example.com").status_code == 303
    assert client.get("/account/orders").text.count("/orders/FR-") == 1
    r = client.post(
        "/account/register",
        data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert r.status_code == 422 and "already exists" in r.text


def test_signin_is_rate_limited(client):
    register(client, "rita@example.com")
    client.post("/account/signout", data={"csrf_token": token(client)})
    for _ in range(5):
        r = client.post(
            "/account/signin",
            data={
                "email": "rita@example.com",
                "password": "wrong password!",
                "csrf_token": token(client),
            },
        )
        assert r.status_code == 401 and "Wrong email or password" in r.text
    r = client.post(
        "/account/signin",
        data={"email": "rita@example.com", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert r.status_code == 429 and "too many sign-in attempts" in r.text
    assert int(r.headers["retry-after"]) > 0


def test_another_users_order_is_not_visible(shop_app):
    ann, bob = (TestClient(shop_app, follow_redirects=False) for _ in range(2))
    register(ann, "ann2@example.com")
    register(bob, "bob2@example.com", "Bob")
    add_to_cart(ann, "1002", 1)
    number = ORDER_URL.search(pay(ann, email="ann2@example.com").headers["location"]).group(1)
    assert ann.get(f"/orders/{number}").status_code == 200
    assert bob.get(f"/orders/{number}").status_code == 404
    assert number not in bob.get("/account/orders").text
    assert bob.get("/orders/FR-AAAAAAAAAAAA").status_code == 404
    assert TestClient(shop_app, follow_redirects=False).get("/account/orders").status_code == 303


def jpeg(colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 80), colour).save(buf, format="JPEG")
    return buf.getvalue()


def test_admin_routes_refuse_anonymous_and_non_admins(shop_app):
    anon = TestClient(shop_app, follow_redirects=False)
    r = anon.get("/admin")
    assert r.status_code == 303 and r.headers["location"] == "/account/signin?next=/admin"
    assert anon.get("/admin/orders").status_code == 303
    user = TestClient(shop_app, follow_redirects=False)
    register(user, "mallory@example.com")
    assert user.get("/admin").status_code == 403 and user.get("/admin/orders").status_code == 403
    t = token(user)
    r = user.post("/admin/products/remove", data={"product_id": "1001", "csrf_token": t})
    assert r.status_code == 403
    r = user.post(
        "/admin/products",
        data={"name": "X", "article_type": "Tshirts", "price": "1", "csrf_token": t},
        files={"photo": ("x.jpg", jpeg(), "image/jpeg")},
    )
    assert r.status_code == 403
    assert "1001" in shop_app.state.recommender.products.index


def test_admin_adds_and_removes_products_and_sees_orders(shop_app):
    admin = TestClient(shop_app, follow_redirects=False)
    r = admin.post(
        "/account/signin",
        data={
            "email": "admin@example.com",
            "password": PASSWORD,
            "next": "/admin",
            "csrf_token": token(admin),
        },
    )
    assert r.headers["location"] == "/admin"
    page = admin.get("/admin").text
    assert "Add a product" in page and "Hi, Boss" in page
    # another worker process over the same index and database
    worker2 = create_app(shop_app.state.settings)
    before = len(shop_app.state.recommender)
    t = token(admin, "/admin")
    r = admin.post(
        "/admin/products",
        data={
            "name": "Admin Red Tee",
            "article_type": "Tshirts",
            "price": "12.5",
            "gender": "Men",
            "base_colour": "Red",
            "csrf_token": t,
        },
        files={"photo": ("../../etc/passwd.jpg", jpeg(), "image/jpeg")},
    )
    assert r.status_code == 303, r.text[:800]
    pid = r.headers["location"].split("added=")[1]
    assert len(shop_app.state.recommender) == before + 1
    page = admin.get(f"/products/{pid}").text
    assert "Admin Red Tee" in page and "12.50 EUR" in page and "Add to cart" in page
    photos = list((shop_app.state.settings.index_dir / "uploads").rglob("*.jpg"))
    assert [p.name for p in photos] == [f"{pid}.jpg"]  # our name, under INDEX_DIR/uploads
    similar = admin.get(f"/api/products/{pid}/similar?k=3").json()["results"]
    assert similar and all(m["article_type"] == "Tshirts" for m in similar)
    # the other worker notices the new manifest (it looks at most once a second)
    time.sleep(1.1)
    assert TestClient(worker2).get(f"/products/{pid}").status_code == 200
    # bad uploads are refused with a clear message and change nothing
    r = admin.post(
        "/admin/products",
        data={"name": "Bad", "article_type": "Tshirts", "price": "5", "csrf_token": t},
        files={"photo": ("a.jpg", b"MZ not an image at all", "image/jpeg")},
    )
    assert r.status_code == 415 and "not a supported image" in r.text
    r = admin.post(
        "/admin/products",
        data={"name": "Bad", "article_type": "Tshirts", "price": "-3", "csrf_token": t},
        files={"photo": ("a.jpg", jpeg(), "image/jpeg")},
    )
    assert r.status_code == 422 and "negative" in r.text
    assert len(shop_app.state.recommender) == before + 1
    # remove it: gone from the shop, not sellable any more
    r = admin.post("/admin/products/remove", data={"product_id": pid, "csrf_token": t})
    assert r.status_code == 303 and r.headers["location"] == "/admin?removed=1"
    assert admin.get(f"/products/{pid}").status_code == 404
    with shop_app.state.store.session() as s:
        assert s.get(Product, pid).active is False
    r = admin.post("/cart/add", data={"product_id": pid, "csrf_token": t})
    assert r.status_code == 422 and "no longer sold" in r.text
    orders_page = admin.get("/admin/orders").text
    assert "Admin: orders" in orders_page


def test_session_key_is_made_once_private_and_shared(tmp_path, shop_app):
    from fashionrec.web.security import SECRET_FILE, session_secret

    first = session_secret(None, tmp_path)
    assert session_secret(None, tmp_path) == first and len(first) >= 60
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert session_secret("from-settings", tmp_path) == "from-settings"
    assert list(tmp_path.iterdir()) == [tmp_path / SECRET_FILE]  # no temporary file left
    index_dir = shop_app.state.settings.index_dir
    assert (index_dir / SECRET_FILE).stat().st_mode & 0o777 == 0o600


def test_secure_cookie_when_https_only(shop_app):
    import dataclasses

    settings = shop_app.state.settings
    shop = dataclasses.replace(settings.shop, https_only=True, secret_key="k" * 40)
    app = create_app(dataclasses.replace(settings, shop=shop))
    cookie = TestClient(app, base_url="https://testserver").get("/cart").headers["set-cookie"]
    assert "secure" in cookie.lower()
