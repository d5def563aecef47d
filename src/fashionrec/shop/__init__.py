"""The shop: accounts, carts, payment, orders and their confirmation emails.

Library first: every function takes a `Store` or a SQLAlchemy session; the web pages in
`fashionrec.web` (account, cart, admin) are a thin layer over it.
"""

from fashionrec.shop.errors import (
    AccountError,
    CartError,
    OrderError,
    PaymentError,
    RateLimitedError,
    ShopError,
)
from fashionrec.shop.orders import Checkout, add_business_days, place_order
from fashionrec.shop.payment import (
    Card,
    PaymentProvider,
    PaymentResult,
    TestPaymentProvider,
    create_provider,
    register_provider,
)
from fashionrec.shop.settings import ShopSettings

__all__ = [
    "AccountError",
    "Card",
    "CartError",
    "Checkout",
    "OrderError",
    "PaymentError",
    "PaymentProvider",
    "PaymentResult",
    "RateLimitedError",
    "ShopError",
    "ShopSettings",
    "TestPaymentProvider",
    "add_business_days",
    "create_provider",
    "place_order",
    "register_provider",
]
