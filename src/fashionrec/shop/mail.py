"""The order confirmation email: plain text and HTML from Jinja templates, sent over SMTP.

A failed send is logged and reported as False; it never undoes the order.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fashionrec.shop.settings import ShopSettings
from fashionrec.store.models import Order

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda v: f"{v:,.2f}"
    env.filters["day"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}" if d else "soon"
    return env


def order_context(order: Order, settings: ShopSettings, shop_name: str = "fashionrec") -> dict:
    lines = [
        {
            "product_id": x.product_id,
            "name": x.name,
            "quantity": x.quantity,
            "unit_price": x.unit_price,
            "line_total": x.unit_price * x.quantity,
        }
        for x in order.lines
    ]
    return {"order": order, "lines": lines, "currency": order.currency, "shop_name": shop_name}


def order_email(
    order: Order, settings: ShopSettings, *, shop_name: str = "fashionrec"
) -> EmailMessage:
    """The confirmation of `order` as a multipart/alternative message (text, then HTML).

    Example:
        >>> msg = order_email(order, ShopSettings())  # doctest: +SKIP
        >>> msg["Subject"]  # doctest: +SKIP
        'Your fashionrec order FR-7KQ2M9XH4TCA'
    """
    env = _env()
    ctx: dict[str, Any] = order_context(order, settings, shop_name)
    msg = EmailMessage()
    msg["Subject"] = f"Your {shop_name} order {order.number}"
    msg["From"] = settings.mail_from
    msg["To"] = order.email
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="fashionrec.invalid")
    msg.set_content(env.get_template("order_email.txt").render(ctx))
    msg.add_alternative(env.get_template("order_email.html").render(ctx), subtype="html")
    return msg


def send(msg: EmailMessage, settings: ShopSettings) -> bool:
    """Send over the configured SMTP server; False (and a log line) when it fails or when no
    server is configured."""
    if not settings.smtp_host:
        log.info("no SMTP host configured (FASHIONREC_SMTP_HOST); not sending %r", msg["Subject"])
        return False
    try:
        if settings.smtp_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=settings.smtp_timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
            )
        with smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.error(
            "could not send %r to %s via %s:%s: %s",
            msg["Subject"],
            msg["To"],
            settings.smtp_host,
            settings.smtp_port,
            exc,
        )
        return False
    log.info("sent %r to %s", msg["Subject"], msg["To"])
    return True


def send_order_email(order: Order, settings: ShopSettings) -> bool:
    """Render and send the confirmation of `order`; never raises."""
    try:
        msg = order_email(order, settings)
    except Exception:  # a template bug must not break checkout either
        log.exception("could not render the email of order %s", order.number)
        return False
    return send(msg, settings)
