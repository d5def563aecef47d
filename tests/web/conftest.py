"""Fixtures of the shop front tests: a tiny-backbone index, the app, a live server and a
headless Chromium (Debian's, through a pinned playwright; see shared TOOLCHAIN.md)."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from fashionrec.api import ApiSettings, create_app
from fashionrec.pipeline import build_index

CHROMIUM = os.environ.get("FASHIONREC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Launch arguments for Debian's Chromium (also used by pytest-playwright if present)."""
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def web_catalog(tmp_path_factory, make_catalog) -> Path:
    return make_catalog(tmp_path_factory.mktemp("web-cat"), per_type=6)


@pytest.fixture(scope="session")
def web_index(tmp_path_factory, web_catalog) -> Path:
    """A 24-product index with the tiny random-init backbone (built once per session)."""
    out = tmp_path_factory.mktemp("web-idx") / "index"
    build_index(web_catalog, out, embedder="tiny", show_progress=False)
    return out


@pytest.fixture(scope="session")
def web_client(web_index) -> TestClient:
    app = create_app(ApiSettings(index_dir=web_index, max_upload_bytes=300_000))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def busy_photo(web_catalog) -> bytes:
    """A PNG holding two catalog photos side by side: a red T-shirt (1001), a watch (1020)."""
    left = Image.open(web_catalog / "images" / "1001.jpg").convert("RGB")
    right = Image.open(web_catalog / "images" / "1020.jpg").convert("RGB")
    canvas = Image.new("RGB", (left.width + right.width, left.height), "white")
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width, 0))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where screenshots go: $FASHIONREC_ARTIFACTS, else a pytest temporary folder."""
    env = os.environ.get("FASHIONREC_ARTIFACTS")
    path = Path(env) if env else tmp_path_factory.mktemp("web-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nweb screenshots: {path}")
    return path


@pytest.fixture(scope="session")
def live_server(web_index, tmp_path_factory, serve_app) -> Iterator[str]:
    """`uvicorn fashionrec.api.asgi:app` over the test index on a free localhost port."""
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    with serve_app({"FASHIONREC_INDEX": str(web_index)}, log) as base:
        yield base


@pytest.fixture(scope="session")
def chromium(browser_type_launch_args) -> Iterator[Any]:
    """A headless Chromium; skips when playwright or the Debian chromium is absent."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright==1.65.2)"
    )
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pw = sync_api.sync_playwright().start()
    try:
        browser = pw.chromium.launch(**browser_type_launch_args)
    except Exception as exc:  # a broken browser install should skip, not fail, the suite
        pw.stop()
        pytest.skip(f"Chromium did not start: {exc}")
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture()
def page(chromium, live_server) -> Iterator[Any]:
    """A fresh desktop-sized page; its console errors fail the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


class Tags(HTMLParser):
    """Collects start tags with their attributes and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def links(self) -> list[str]:
        return [a["href"] for a in self.find("a") if a.get("href")]


@pytest.fixture(scope="session")
def parse():
    return Tags
