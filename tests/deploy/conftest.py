"""Fixtures of the deployment tests: a Milvus Lite gRPC server (the vector engine several API
processes share), started on a free port over a temporary data directory."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from procs import free_port, stop


def start_milvus_lite(
    data_dir: Path, log: Path, *, timeout: float = 60
) -> tuple[subprocess.Popen, str]:
    """`milvus-lite server` on a free localhost port; (process, uri) once it answers."""
    from pymilvus import MilvusClient

    port = free_port()
    cmd = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"milvus-lite exited ({proc.returncode}): {log.read_text()}")
            try:  # a closed port first: the client would wait long on a server not yet up
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                MilvusClient(uri=uri, timeout=5).list_collections()
                return proc, uri
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"milvus-lite did not answer in {timeout:.0f} s") from None
                time.sleep(0.2)
    except BaseException:
        stop(proc)
        raise


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory) -> Iterator[str]:
    """URI of a Milvus Lite server shared by the processes of one test module."""
    pytest.importorskip("pymilvus", reason="pymilvus is not installed (fashionrec[milvus])")
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (fashionrec[milvus])")
    root = tmp_path_factory.mktemp("milvus")
    try:
        proc, uri = start_milvus_lite(root / "data", root / "milvus.log")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield uri
    finally:
        stop(proc)
