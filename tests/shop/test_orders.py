from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from shop_helpers import add_products
from sqlalchemy import func, select

from fashionrec.shop import accounts
from fashionrec.shop import cart as carts
from fashionrec.shop.errors import AccountError, CartError, OrderError, PaymentError
from fashionrec.shop.orders import (
    Checkout,
    add_business_days,
    get_order,
    orders_of,
    place_order,
)
from fashionrec.shop.payment import Card, TestPaymentProvider
from fashionrec.shop.settings import ShopSettings
from fashionrec.store import Store
from fashionrec.store.models import Interaction, Order, OrderLine, Product, User

VISA = Card("4242 4242 4242 4242", 12, 2099, "123")
SETTINGS = ShopSettings(delivery_business_days=3)
FRIDAY = dt.date(2026, 11, 27)


def filled_cart(store, items=(("1001", 2), ("1002", 1)), user_id=None) -> str:
    with store.session() as s:
        cart = carts.open_cart(s, None, user_id=user_id)
        for pid, q in items:
            carts.add(s, cart, pid, q)
        return cart.token


def checkout(email="ann@example.com", card=VISA) -> Checkout:
    return Checkout(
        email=email, name="Ann Smith", address="1 Rue de la Paix\n75002 Paris", card=card
    )


def count(store, model) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_business_days_skip_weekends():
    assert add_business_days(FRIDAY, 1) == dt.date(2026, 11, 30)  # Monday
    assert add_business_days(FRIDAY, 3) == dt.date(2026, 12, 2)
    assert add_business_days(dt.date(2026, 11, 28), 1) == dt.date(2026, 11, 30)  # from Saturday
    assert add_business_days(FRIDAY, 0) == FRIDAY
    assert add_business_days(dt.date(2026, 11, 23), 10) == dt.date(2026, 12, 7)


def test_guest_order_is_written_whole(store):
    token = filled_cart(store)
    provider = TestPaymentProvider()
    order = place_order(
        store, token, checkout(), provider=provider, settings=SETTINGS, today=FRIDAY
    )
    assert order.total == Decimal("45.48") and order.currency == "EUR" and order.status == "paid"
    assert order.estimated_delivery == dt.date(2026, 12, 2)
    assert order.number.startswith("FR-") and len(order.number) == 15
    assert [(x.product_id, x.name, x.unit_price, x.quantity) for x in order.lines] == [
        ("1001", "Red Tshirt", Decimal("19.99"), 2),
        ("1002", "Blue Top", Decimal("5.50"), 1),
    ]
    assert provider.charges[order.payment_ref][:2] == [Decimal("45.48"), "EUR"]
    with store.session() as s:
        guest = accounts.find_user(s, "ann@example.com")
        assert guest.is_guest and guest.name == "Ann Smith" and order.user_id == guest.id
        kinds = s.execute(select(Interaction.product_id, Interaction.kind, Interaction.quantity))
        assert sorted(kinds) == [("1001", "purchase", 2), ("1002", "purchase", 1)]
        assert carts.find_cart(s, token).lines == []  # emptied
        assert get_order(s, order.number, user_id=guest.id).total == order.total
        with pytest.raises(OrderError):
            get_order(s, order.number, user_id=guest.id + 1)
        with pytest.raises(OrderError):
            get_order(s, order.number, user_id=None)
        assert get_order(s, order.number, user_id=None, admin=True).number == order.number
    with pytest.raises(CartError, match="empty"):  # a second submit does not order again
        place_order(store, token, checkout(), provider=provider, settings=SETTINGS)


def test_prices_are_read_at_checkout_not_when_added(store):
    token = filled_cart(store, [("1002", 2)])
    with store.session() as s:
        s.get(Product, "1002").price = Decimal("7.25")
    order = place_order(store, token, checkout(), provider=TestPaymentProvider(), settings=SETTINGS)
    assert order.total == Decimal("14.50") and order.lines[0].unit_price == Decimal("7.25")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000 0000 0000 0002", "card_declined"),
        ("4000 0000 0000 9995", "insufficient_funds"),
        ("4000 0000 0000 0119", "processing_error"),
        ("4242 4242 4242 4243", "invalid_number"),
    ],
)
def test_failed_payment_leaves_no_order_and_the_cart_intact(store, number, code):
    token = filled_cart(store)
    bad = checkout(card=Card(number, 12, 2099, "123"))
    with pytest.raises(PaymentError, match="payment failed") as err:
        place_order(store, token, bad, provider=TestPaymentProvider(), settings=SETTINGS)
    assert err.value.code == code
    assert count(store, Order) == count(store, OrderLine) == count(store, Interaction) == 0
    assert count(store, User) == 0  # not even the guest
    with store.session() as s:
        assert [(x.product_id, x.quantity) for x in carts.find_cart(s, token).lines] == [
            ("1001", 2),
            ("1002", 1),
        ]


class CartChangingProvider(TestPaymentProvider):
    """Approves, but the shopper adds an item in another tab while the payment runs."""

    def __init__(self, store, token):
        super().__init__()
        self.store, self.token = store, token

    def charge(self, amount, currency, card, *, idempotency_key):
        result = super().charge(amount, currency, card, idempotency_key=idempotency_key)
        with self.store.session() as s:
            carts.add(s, carts.find_cart(s, self.token), "1002")
        return result


def test_failure_after_payment_is_refunded_and_writes_nothing(store):
    token = filled_cart(store, [("1001", 1)])
    provider = CartChangingProvider(store, token)
    with pytest.raises(CartError, match="changed during checkout"):
        place_order(store, token, checkout(), provider=provider, settings=SETTINGS)
    [(amount, _, refunded)] = provider.charges.values()
    assert amount == Decimal("19.99") and refunded
    assert count(store, Order) == count(store, Interaction) == 0


def test_bad_details_are_refused_before_any_charge(store):
    token = filled_cart(store)
    provider = TestPaymentProvider()
    for bad, message in [
        (Checkout("nope", "Ann", "1 Rue X, Paris", VISA), "not an email"),
        (Checkout("a@example.com", "  ", "1 Rue X, Paris", VISA), "name"),
        (Checkout("a@example.com", "Ann", "", VISA), "address"),
    ]:
        with pytest.raises((OrderError, AccountError), match=message):
            place_order(store, token, bad, provider=provider, settings=SETTINGS)
    with store.session() as s:
        accounts.register(s, "ann@example.com", "correct horse battery")
    with pytest.raises(AccountError, match="sign in to check out"):
        place_order(store, token, checkout(), provider=provider, settings=SETTINGS)
    with store.session() as s:
        s.get(Product, "1002").price = None
    with pytest.raises(CartError, match="no price"):
        place_order(store, token, checkout("b@example.com"), provider=provider, settings=SETTINGS)
    assert not provider.charges and count(store, Order) == 0


def test_signed_in_user_orders_into_their_account(store):
    with store.session() as s:
        uid = accounts.register(s, "ann@example.com", "correct horse battery", name="Ann").id
    token = filled_cart(store, user_id=uid)
    other = filled_cart(store)
    provider = TestPaymentProvider()
    with pytest.raises(CartError, match="another account"):  # a user's cart, used anonymously
        place_order(store, token, checkout("x@example.com"), provider=provider, settings=SETTINGS)
    order = place_order(store, token, checkout(), provider=provider, settings=SETTINGS, user_id=uid)
    place_order(store, other, checkout("b@example.com"), provider=provider, settings=SETTINGS)
    with store.session() as s:
        assert [o.number for o in orders_of(s, uid)] == [order.number]


def _place_many(store, n: int) -> list:
    tokens = [filled_cart(store, [("1001", 1)]) for _ in range(n)]
    provider = TestPaymentProvider()
    results: list = []

    def run(token, i):
        try:
            results.append(
                place_order(
                    store,
                    token,
                    checkout(f"c{i}@example.com"),
                    provider=provider,
                    settings=SETTINGS,
                )
            )
        except Exception as exc:  # collected, asserted below
            results.append(exc)

    threads = [threading.Thread(target=run, args=(t, i)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_orders_get_distinct_numbers(store):
    results = _place_many(store, 8)
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.number for r in results}) == 8 and count(store, Order) == 8


@pytest.mark.parametrize("same_card", [True, False])
def test_same_cart_checked_out_twice_at_once_orders_once(store, same_card):
    token = filled_cart(store, [("1001", 1)])
    provider = TestPaymentProvider()
    results: list = []
    # one card: a double click, one payment shared; two cards: two payments, one refunded
    cards = [VISA, VISA if same_card else Card("5555555555554444", 12, 2099, "123")]

    def run(c):
        try:
            results.append(
                place_order(store, token, checkout(card=c), provider=provider, settings=SETTINGS)
            )
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in cards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    orders = [r for r in results if isinstance(r, Order)]
    assert count(store, Order) == 1 and len({o.number for o in orders}) == 1
    # (when one thread finishes before the other starts, the second finds an empty cart)
    assert all(isinstance(r, Order | CartError) for r in results), results
    if same_card:
        assert len(provider.charges) == 1
    refunded = [ref for ref, (_, _, done) in provider.charges.items() if done]
    assert set(provider.charges) - set(refunded) == {orders[0].payment_ref}


def test_buying_the_same_again_is_a_new_payment_and_a_replay_is_no_free_order(store):
    token = filled_cart(store, [("1001", 1)])
    provider = TestPaymentProvider()
    first = place_order(
        store, token, checkout(), provider=provider, settings=SETTINGS, attempt="page-1"
    )
    with store.session() as s:  # same cart token, same items, same card, a later checkout
        carts.add(s, carts.find_cart(s, token), "1001", 1)
    second = place_order(
        store, token, checkout(), provider=provider, settings=SETTINGS, attempt="page-2"
    )
    assert second.number != first.number and second.payment_ref != first.payment_ref
    assert len(provider.charges) == 2 and count(store, Order) == 2
    # replaying the first page's attempt with the same cart again: the provider answers
    # with the old payment, so the shopper sees that order, and no unpaid order is written
    with store.session() as s:
        carts.add(s, carts.find_cart(s, token), "1001", 1)
    again = place_order(
        store, token, checkout(), provider=provider, settings=SETTINGS, attempt="page-1"
    )
    assert again.number == first.number
    assert count(store, Order) == 2 and len(provider.charges) == 2


@pytest.fixture()
def pg_store(postgres_db):
    st = Store.open(postgres_db)
    yield add_products(st)
    st.close()


def test_postgresql_order_atomicity_and_concurrency(pg_store):
    store = pg_store
    token = filled_cart(store)
    with pytest.raises(PaymentError):
        place_order(
            store,
            token,
            checkout(card=Card("4000000000000002", 12, 2099, "123")),
            provider=TestPaymentProvider(),
            settings=SETTINGS,
        )
    assert count(store, Order) == 0
    provider = CartChangingProvider(store, token)
    with pytest.raises(CartError):
        place_order(store, token, checkout(), provider=provider, settings=SETTINGS)
    assert count(store, Order) == count(store, Interaction) == 0
    assert all(done for _, _, done in provider.charges.values())
    results = _place_many(store, 6)
    assert all(isinstance(r, Order) for r in results), results
    assert len({r.number for r in results}) == 6 and count(store, Interaction) == 6
