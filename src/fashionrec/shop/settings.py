"""Settings of the shop: currency, delivery estimate, SMTP, payment provider, sessions.

Servers build them from the environment (`ShopSettings.from_env()`, variables FASHIONREC_*);
tests and embedding code pass them directly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

from fashionrec.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ShopSettings:
    """How the shop sells, mails and signs its sessions.

    Example:
        >>> ShopSettings(smtp_host="127.0.0.1", smtp_port=2525).currency
        'EUR'
    """

    currency: str = "EUR"
    #: Estimated delivery: this many business days (Mon-Fri) after the order.
    delivery_business_days: int = 3
    #: SMTP server of order emails; None: emails are not sent (only logged).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = 10.0
    mail_from: str = "fashionrec shop <shop@fashionrec.invalid>"
    #: A registered provider name ("test") or "package.module:Class" of a gateway adapter.
    payment_provider: str = "test"
    #: Signs the session cookie; None: generated once and kept beside the database.
    secret_key: str | None = None
    #: Mark the session cookie `Secure` (serve over HTTPS).
    https_only: bool = False
    session_max_age: int = 14 * 24 * 3600
    #: Sign-in attempts allowed per email and IP address within the window.
    signin_attempts: int = 5
    signin_window_seconds: int = 15 * 60

    def __post_init__(self) -> None:
        if self.delivery_business_days < 0:
            raise ConfigError(
                f"delivery_business_days must be 0 or more, got {self.delivery_business_days}"
            )
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ConfigError(
                f"currency must be an ISO 4217 code such as EUR, got {self.currency!r}"
            )
        if self.smtp_ssl and self.smtp_starttls:
            raise ConfigError("choose one of smtp_ssl (implicit TLS) and smtp_starttls, not both")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ShopSettings:
        """Settings from FASHIONREC_<FIELD> variables (e.g. FASHIONREC_SMTP_HOST); unset ones
        keep their defaults.

        Example:
            >>> ShopSettings.from_env({"FASHIONREC_SMTP_PORT": "2525"}).smtp_port
            2525
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            name = f"FASHIONREC_{f.name.upper()}"
            if name not in env:
                continue
            raw = env[name].strip()
            kind = type(f.default)
            try:
                if kind is bool:
                    if raw.lower() not in _TRUE | _FALSE:
                        raise ValueError(raw)
                    values[f.name] = raw.lower() in _TRUE
                elif kind is int:
                    values[f.name] = int(raw)
                elif kind is float:
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw or None
            except ValueError:
                raise ConfigError(
                    f"{name}={raw!r} is not a valid {kind.__name__}"
                    + (" (use 1/0, true/false, yes/no)" if kind is bool else "")
                ) from None
        return cls(**values)
