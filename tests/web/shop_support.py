"""Helpers of the shop's web tests: a real SMTP server, an app over a private index copy,
CSRF tokens read from pages."""

from __future__ import annotations

import re
import shutil
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from procs import free_port

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
TEST_CARD = "4242 4242 4242 4242"


class Inbox:
    """Messages received by a local aiosmtpd server."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._arrived:
            self.messages.append(msg)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, n: int = 1, timeout: float = 15) -> list[EmailMessage]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= n, timeout)
        return list(self.messages)


def start_smtp() -> tuple[Inbox, int, Any]:
    """(inbox, port, controller) of a real SMTP server on 127.0.0.1; stop the controller."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return inbox, port, controller


def copy_index(web_index: Path, dest: Path) -> Path:
    """A private copy of the session's test index (admin tests change theirs), without its
    database and session key."""
    shutil.copytree(web_index, dest, ignore=shutil.ignore_patterns("fashionrec.db*", ".session*"))
    return dest


def csrf(html: str) -> str:
    m = CSRF_META.search(html)
    assert m, "no csrf-token meta tag on the page"
    return m.group(1)
