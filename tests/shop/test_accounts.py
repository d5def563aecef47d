from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from fashionrec.shop import accounts
from fashionrec.shop.errors import AccountError
from fashionrec.store.models import User

PASSWORD = "correct horse battery"


def test_register_hashes_with_argon2id_and_authenticates(store):
    with store.session() as s:
        user = accounts.register(s, " Ann@Example.com ", PASSWORD, name="Ann")
        assert user.email == "ann@example.com" and user.name == "Ann" and not user.is_guest
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with store.session() as s:
        assert accounts.authenticate(s, "ANN@example.com", PASSWORD).name == "Ann"
        assert accounts.authenticate(s, "ann@example.com", PASSWORD + "x") is None
        assert accounts.authenticate(s, "nobody@example.com", PASSWORD) is None
        assert accounts.authenticate(s, "not an email", PASSWORD) is None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("ann.example.com", PASSWORD, "not an email address"),
        ("ann@example", PASSWORD, "not an email address"),
        ("ann@example.com", "short", "at least 10 characters"),
    ],
)
def test_register_rejects_bad_input_clearly(store, email, password, message):
    with store.session() as s, pytest.raises(AccountError, match=message):
        accounts.register(s, email, password)
    with store.session() as s:
        assert s.scalar(select(User)) is None  # nothing half-made


def test_an_email_registers_once(store):
    with store.session() as s:
        accounts.register(s, "ann@example.com", PASSWORD)
    with store.session() as s, pytest.raises(AccountError, match="already exists; sign in"):
        accounts.register(s, "ANN@example.com", "another password")


def test_outdated_hash_is_upgraded_at_sign_in(store):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with store.session() as s:
        s.add(User(email="old@example.com", password_hash=weak.hash(PASSWORD)))
    with store.session() as s:
        assert accounts.authenticate(s, "old@example.com", PASSWORD) is not None
    with store.session() as s:
        new_hash = accounts.find_user(s, "old@example.com").password_hash
        assert not PasswordHasher().check_needs_rehash(new_hash)
        assert accounts.authenticate(s, "old@example.com", PASSWORD) is not None


def test_guests_are_reused_by_email_and_can_register_later(store):
    with store.session() as s:
        first = accounts.guest_user(s, "guest@example.com", name="Gus").id
    with store.session() as s:
        again = accounts.guest_user(s, "Guest@Example.com")
        assert again.id == first and again.is_guest
        # a guest cannot sign in (no password)
        assert accounts.authenticate(s, "guest@example.com", "") is None
    with store.session() as s:
        user = accounts.register(s, "guest@example.com", PASSWORD)
        assert user.id == first and not user.is_guest
    with store.session() as s, pytest.raises(AccountError, match="sign in to check out"):
        accounts.guest_user(s, "guest@example.com")


def test_make_admin_creates_or_promotes(store):
    with store.session() as s:
        accounts.register(s, "boss@example.com", PASSWORD)
    with store.session() as s:
        user = accounts.make_admin(s, "boss@example.com", "new password 123")
        assert user.is_admin
    with store.session() as s:
        assert accounts.authenticate(s, "boss@example.com", "new password 123").is_admin
        assert accounts.make_admin(s, "new@example.com", PASSWORD).is_admin
