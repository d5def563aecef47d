"""The HTTP server."""

from __future__ import annotations

from pathlib import Path

import click

from fashionrec.cli._group import cli
from fashionrec.cli.common import default_index


@cli.command("serve")
@click.argument("index_dir", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each loads the model and maps the index).",
)
def serve_cmd(index_dir: Path | None, host: str, port: int, workers: int) -> None:
    """Serve the HTTP API over an index (OpenAPI docs at /docs)."""
    import os

    import uvicorn

    from fashionrec.pipeline import IndexDir

    path = Path(index_dir or default_index()).resolve()
    IndexDir(path).read_manifest()  # fail here, clearly, before uvicorn starts
    os.environ["FASHIONREC_INDEX"] = str(path)
    click.echo(f"Serving {path} on http://{host}:{port} (API docs at /docs)")
    uvicorn.run("fashionrec.api.asgi:app", host=host, port=port, workers=workers, log_level="info")
