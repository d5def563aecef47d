from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from fashionrec.shop import ratelimit
from fashionrec.shop.errors import RateLimitedError
from fashionrec.store import Store
from fashionrec.store.models import SigninAttempt


def fail(store, key, n=1):
    for _ in range(n):
        with store.session() as s:
            ratelimit.check(s, key, limit=3, window=60)
            ratelimit.record_failure(s, key, window=60)


def test_limit_per_email_and_address_shared_by_processes(store):
    key = ratelimit.attempt_key("Ann@example.com", "10.0.0.1")
    fail(store, key, 3)
    # another "worker": its own engine on the same database sees the same attempts
    other = Store.open(store.url)
    with other.session() as s, pytest.raises(RateLimitedError, match="try again in") as err:
        ratelimit.check(s, ratelimit.attempt_key("ann@EXAMPLE.com", "10.0.0.1"), limit=3, window=60)
    assert 1 <= err.value.retry_after <= 61
    with other.session() as s:  # another address, or another email, is not blocked
        ratelimit.check(s, ratelimit.attempt_key("ann@example.com", "10.0.0.2"), limit=3, window=60)
        ratelimit.check(s, ratelimit.attempt_key("bob@example.com", "10.0.0.1"), limit=3, window=60)
    other.close()


def test_window_slides_and_success_clears(store):
    key = ratelimit.attempt_key("ann@example.com", "1.2.3.4")
    fail(store, key, 3)
    with store.session() as s:  # age the attempts past the window
        old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=61)
        s.execute(update(SigninAttempt).values(created_at=old))
    fail(store, key, 2)
    with store.session() as s:
        ratelimit.check(s, key, limit=3, window=60)  # 2 recent ones only
        ratelimit.clear(s, key)
    fail(store, key, 3)
    with store.session() as s, pytest.raises(RateLimitedError):
        ratelimit.check(s, key, limit=3, window=60)
