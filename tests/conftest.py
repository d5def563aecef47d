"""Shared fixtures: the shared data folder (skipped cleanly when absent) and a synthetic catalog."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionrec.config import DATA_ENV, shared_data_dir
from procs import free_port, stop


def _shared(sub: str) -> Path:
    path = shared_data_dir() / sub
    if not path.exists():
        pytest.skip(f"shared data {path} is absent (set {DATA_ENV} to the shared data folder)")
    return path


@pytest.fixture(scope="session")
def shared_data():
    """Return a function giving a sub-folder of the shared data, skipping when it is absent."""
    return _shared


@pytest.fixture(scope="session")
def fixture300() -> Path:
    """The 300-product real catalog (10 per each of 30 article types)."""
    return _shared("fixture-300")


SYNTH_TYPES = [
    ("Men", "Apparel", "Topwear", "Tshirts", "Red"),
    ("Women", "Apparel", "Topwear", "Tops", "Blue"),
    ("Men", "Footwear", "Shoes", "Casual Shoes", "Black"),
    ("Women", "Accessories", "Watches", "Watches", "Silver"),
]
STYLES_HEADER = [
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
]


def make_synthetic_catalog(root: Path, *, per_type: int = 6, seed: int = 0, size=(60, 80)) -> Path:
    """Write a small Kaggle-style catalog: one coloured shape per article type, with noise.

    Products of the same type share a shape and colour, so a sane embedder groups them.
    """
    rng = np.random.default_rng(seed)
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rows = []
    pid = 1000
    colours = {
        "Red": (200, 30, 30),
        "Blue": (30, 60, 200),
        "Black": (20, 20, 20),
        "Silver": (180, 180, 190),
    }
    for t, (gender, master, sub, article, colour) in enumerate(SYNTH_TYPES):
        for _ in range(per_type):
            w, h = size
            arr = np.full((h, w, 3), 255, np.uint8)
            rgb = np.array(colours[colour]) + rng.integers(-15, 16, 3)
            x0, y0 = 8 + rng.integers(0, 4), 8 + rng.integers(0, 4)
            if t == 0:
                arr[y0 : h - 8, x0 : w - 8] = rgb
            elif t == 1:
                arr[y0 : h - 8 : 2, x0 : w - 8] = rgb
            elif t == 2:
                arr[h // 2 : h - 8, x0 : w - 8] = rgb
            else:
                yy, xx = np.ogrid[:h, :w]
                arr[(yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (w / 3) ** 2] = rgb
            noise = rng.integers(-8, 9, arr.shape)
            arr = np.clip(arr.astype(int) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(images / f"{pid}.jpg", quality=92)
            rows.append(
                [
                    pid,
                    gender,
                    master,
                    sub,
                    article,
                    colour,
                    "Summer",
                    2012,
                    "Casual",
                    f"Synthetic {colour} {article} {pid}",
                ]
            )
            pid += 1
    with open(root / "styles.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(STYLES_HEADER)
        writer.writerows(rows)
    return root


@pytest.fixture()
def synthetic_catalog(tmp_path: Path) -> Path:
    """A 24-product Kaggle-style catalog in a temporary folder."""
    return make_synthetic_catalog(tmp_path / "catalog")


@pytest.fixture(scope="session")
def make_catalog():
    """The synthetic catalog writer, for fixtures of wider scope."""
    return make_synthetic_catalog


@pytest.fixture(autouse=True)
def _restore_fashionrec_logger():
    """CLI tests install a stderr handler and stop propagation; undo it for caplog users."""
    import logging

    logger = logging.getLogger("fashionrec")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers, logger.level, logger.propagate = handlers, level, propagate


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL server on 127.0.0.1 (skipped when PostgreSQL is not installed).

    initdb refuses root, so the cluster runs as the `postgres` user when we are root.
    """
    import os
    import shutil
    import socket
    import subprocess

    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; scripts/setup.sh)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'fashionrec[postgres]')")
    import tempfile

    # pytest's tmp folders are private to root; the postgres user needs its own.
    root = Path(tempfile.mkdtemp(prefix="fashionrec-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = root / "data"
    run = {"check": True, "capture_output": True}
    subprocess.run(
        [
            *as_user,
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ],
        **run,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_user, bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-o", opts, "-w", "start"],
        **run,
    )
    subprocess.run(
        [
            *as_user,
            bin_dir / "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "fashionrec",
        ],
        **run,
    )
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/fashionrec"
    subprocess.run(
        [*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], capture_output=True
    )


@pytest.fixture()
def postgres_db(postgres_url):
    """A fresh, empty database on the throw-away PostgreSQL server, dropped after the test, so
    tests never see each other's rows."""
    import uuid

    from sqlalchemy import create_engine

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def serve_app():
    """A context manager factory: `with serve_app(env, log) as base_url:` runs
    `uvicorn fashionrec.api.asgi:app` on a free localhost port with `env` (FASHIONREC_INDEX...;
    a None value removes a variable) over the test process's environment, waits for it to
    answer, and stops it (terminate, then kill) on exit."""
    import contextlib
    import os
    import subprocess
    import sys
    import time

    import httpx

    @contextlib.contextmanager
    def serve(env: dict, log: Path, *, timeout: float = 60):
        port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "fashionrec.api.asgi:app", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--log-level", "warning"]
        full = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, env=full, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"the server exited ({proc.returncode}): {log.read_text()[-2000:]}")
                try:
                    if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the server did not start in {timeout:.0f} s: {log.read_text()[-2000:]}"
                    )
                time.sleep(0.2)
            yield base
        finally:
            stop(proc)

    return serve
