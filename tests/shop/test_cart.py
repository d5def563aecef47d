from __future__ import annotations

from decimal import Decimal

import pytest

from fashionrec.errors import UnknownProductError
from fashionrec.shop import cart as carts
from fashionrec.shop.cart import MAX_QUANTITY
from fashionrec.shop.errors import CartError
from fashionrec.store.models import Product, User


def test_add_change_remove_and_prices_from_the_catalog(store):
    with store.session() as s:
        cart = carts.open_cart(s, None)
        carts.add(s, cart, "1001", 2)
        carts.add(s, cart, "1002")
        carts.add(s, cart, "1001", 1)
        token = cart.token
    with store.session() as s:
        view = carts.view(s, carts.find_cart(s, token))
        assert [(i.product_id, i.quantity) for i in view.items] == [("1001", 3), ("1002", 1)]
        assert view.total == Decimal("65.47") and view.count == 4 and view.ready
        s.get(Product, "1002").price = Decimal("6.00")  # a price change reaches the cart
    with store.session() as s:
        cart = carts.find_cart(s, token)
        assert carts.view(s, cart).total == Decimal("65.97")
        carts.set_quantity(s, cart, "1001", 1)
        carts.remove(s, cart, "1002")
        assert [(i.product_id, i.quantity) for i in carts.view(s, cart).items] == [("1001", 1)]
        carts.set_quantity(s, cart, "1001", 0)
        assert carts.view(s, cart).items == () and not carts.view(s, cart).ready


def test_what_cannot_be_bought_says_why(store):
    with store.session() as s:
        cart = carts.open_cart(s, None)
        with pytest.raises(CartError, match=r"Black Shoes \(1003\) has no price yet"):
            carts.add(s, cart, "1003")
        with pytest.raises(CartError, match="no longer sold"):
            carts.add(s, cart, "1004")
        with pytest.raises(UnknownProductError, match="'9999'"):
            carts.add(s, cart, "9999")
        with pytest.raises(CartError, match="from 0 to 20"):
            carts.add(s, cart, "1001", MAX_QUANTITY + 1)
        with pytest.raises(CartError, match="at least 1"):
            carts.add(s, cart, "1001", 0)
        with pytest.raises(CartError, match="not in the cart"):
            carts.set_quantity(s, cart, "1002", 2)
        carts.add(s, cart, "1001", MAX_QUANTITY)
        carts.add(s, cart, "1001", 5)
        assert cart.lines[0].quantity == MAX_QUANTITY  # capped, not an error


def test_product_leaving_the_catalog_makes_the_cart_not_ready(store):
    with store.session() as s:
        cart = carts.open_cart(s, None)
        carts.add(s, cart, "1001")
        token = cart.token
        s.get(Product, "1001").active = False
    with store.session() as s:
        view = carts.view(s, carts.find_cart(s, token))
        assert not view.items[0].available and not view.ready and view.total == 0


def test_guest_cart_merges_into_the_users_cart_at_sign_in(store):
    with store.session() as s:
        user = User(email="ann@example.com")
        s.add(user)
        s.flush()
        mine = carts.open_cart(s, None, user_id=user.id)
        carts.add(s, mine, "1001", 1)
        guest = carts.open_cart(s, None)
        carts.add(s, guest, "1001", 2)
        carts.add(s, guest, "1002", 1)
        uid, guest_token, my_token = user.id, guest.token, mine.token
    with store.session() as s:
        merged = carts.merge(s, guest_token, uid)
        assert merged.token == my_token
        assert {x.product_id: x.quantity for x in merged.lines} == {"1001": 3, "1002": 1}
        assert carts.find_cart(s, guest_token) is None
    with store.session() as s:  # a user without a cart adopts the guest cart
        other = User(email="bob@example.com")
        s.add(other)
        s.flush()
        guest = carts.open_cart(s, None)
        carts.add(s, guest, "1002")
        adopted = carts.merge(s, guest.token, other.id)
        assert adopted.token == guest.token and adopted.user_id == other.id
        # someone else's cart is never merged, whatever token is presented
        assert carts.merge(s, my_token, other.id).token == guest.token
        assert carts.open_cart(s, my_token, user_id=other.id).token == guest.token
