"""Commands for a vector engine: push a local index there."""

from __future__ import annotations

from pathlib import Path

import click

from fashionrec.cli._group import cli


@cli.command("push")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--backend", default="milvus", show_default=True, help="Target backend: milvus.")
@click.option(
    "--uri",
    help="Engine address: http://HOST:19530, or a Milvus Lite path (default: milvus.db inside "
    "the index directory). Token: $FASHIONREC_MILVUS_TOKEN.",
)
@click.option("--collection", help="Collection name (default: a new fashionrec_<random> one).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write a new index directory there and leave INDEX_DIR as it is (default: in place).",
)
def push_cmd(
    index_dir: Path, backend: str, uri: str | None, collection: str | None, out: Path | None
) -> None:
    """Copy INDEX_DIR's vectors and filter metadata into a vector engine, without re-embedding."""
    from fashionrec.pipeline.push import push_index

    params = {k: v for k, v in {"uri": uri, "collection": collection}.items() if v}
    manifest = push_index(index_dir, backend=backend, out=out, backend_params=params)
    click.echo(f"Pushed {manifest.count} products; {out or index_dir} now serves from {backend}.")
