"""Commands that build, update and describe an index."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fashionrec.cli._group import cli
from fashionrec.cli.common import (
    default_index,
    index_option,
    json_option,
)


@cli.command("index")
@click.argument("catalog_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_index,
    show_default="$FASHIONREC_INDEX or ./fashionrec-index",
    help="Index directory.",
)
@click.option("--mapping", help="Column mapping: a preset (kaggle, hm) or a JSON/TOML file.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=CSV_COLUMN",
    help="Override one column of the mapping, e.g. --column name=prod_name.",
)
@click.option(
    "--embedder", help="Backbone (see `fashionrec embedders`); default: the best measured."
)
@click.option(
    "--weights",
    type=click.Path(exists=True, dir_okay=False),
    help="Weights file for backbones whose weights are not bundled (resnet50, vgg16).",
)
@click.option(
    "--backend",
    default="auto",
    show_default=True,
    help="Vector index backend: auto, exact, hnsw, annoy, milvus.",
)
@click.option(
    "--uri",
    help="Vector engine address for --backend milvus: http://HOST:19530 for a server, or a "
    "Milvus Lite path (default: milvus.db inside --out). Token: $FASHIONREC_MILVUS_TOKEN.",
)
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--limit", type=click.IntRange(1), help="Index only the first N products.")
@click.option("--no-center", is_flag=True, help="Do not subtract the catalog mean feature.")
@click.option(
    "--ray-workers",
    type=click.IntRange(1),
    help="Embed with N Ray actors (pip install 'fashionrec[ray]'); default: in this process.",
)
@click.option(
    "--ray-address",
    metavar="ADDR",
    help="Ray cluster to embed on ('auto', 'ray://HEAD:10001'); default: a local Ray. "
    "Implies Ray; without --ray-workers, one actor per cluster CPU.",
)
def index_cmd(
    catalog_dir: Path,
    out: Path,
    mapping: str | None,
    columns: tuple[str, ...],
    embedder: str | None,
    weights: str | None,
    backend: str,
    uri: str | None,
    batch_size: int,
    limit: int | None,
    no_center: bool,
    ray_workers: int | None,
    ray_address: str | None,
) -> None:
    """Clean, embed and index CATALOG_DIR (photos + metadata CSV). Re-run to resume."""
    from fashionrec.pipeline import build_index

    manifest = build_index(
        catalog_dir,
        out,
        mapping=mapping,
        overrides=_overrides(columns),
        embedder=embedder,
        weights=weights,
        backend=backend,
        batch_size=batch_size,
        limit=limit,
        center=not no_center,
        backend_params={"uri": uri} if uri else None,
        executor="ray" if ray_workers or ray_address else "local",
        ray_workers=ray_workers,
        ray_address=ray_address,
    )
    from fashionrec.catalog import CleaningReport

    report = CleaningReport.read(Path(out) / "report.json")
    click.echo(report.summary())
    click.echo(
        f"Indexed {manifest.count} products into {out} "
        f"({manifest.embedder_name}, {manifest.dim}-d, {manifest.backend})."
    )


def _overrides(columns: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in columns:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            raise click.BadParameter(
                f"expected FIELD=CSV_COLUMN, got {item!r}", param_hint="--column"
            )
        out[field.strip()] = column.strip()
    return out


@cli.command("add")
@click.argument("catalog_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@index_option
@click.option("--replace", is_flag=True, help="Re-embed products that are already indexed.")
def add_cmd(catalog_dir: Path, index_dir: Path, replace: bool) -> None:
    """Add the products of CATALOG_DIR that the index lacks, without a rebuild."""
    from fashionrec.pipeline import add_products

    counts = add_products(index_dir, catalog_dir, replace=replace)
    click.echo(
        f"Added {counts['added']}, skipped {counts['skipped']} already indexed, "
        f"{counts['failed']} failed."
    )


@cli.command("remove")
@click.argument("product_ids", nargs=-1, required=True)
@index_option
def remove_cmd(product_ids: tuple[str, ...], index_dir: Path) -> None:
    """Remove products from the index by id, without a rebuild."""
    from fashionrec.pipeline import remove_products

    click.echo(f"Removed {remove_products(index_dir, product_ids)} products.")


@cli.command("info")
@click.argument("index_dir", type=click.Path(file_okay=False, path_type=Path), required=False)
@json_option
def info_cmd(index_dir: Path | None, as_json: bool) -> None:
    """Describe an index: backbone, size, backend, catalog and cleaning report."""
    from fashionrec.pipeline import IndexDir

    d = IndexDir(index_dir or default_index())
    manifest = d.read_manifest()
    if as_json:
        click.echo(json.dumps(manifest.to_dict(), indent=2))
        return
    emb = manifest.embedder
    click.echo(
        f"Index:     {d.path}\nProducts:  {manifest.count}\n"
        f"Backbone:  {manifest.embedder_name} ({manifest.dim}-d, {emb.get('runtime')})\n"
        f"Backend:   {manifest.backend}  metric: {manifest.metric}"
        f"  centred: {manifest.centered}\n"
        f"Catalog:   {manifest.catalog.get('root')}\nUpdated:   {manifest.updated_at}"
    )
    for field, values in manifest.encodings.items():
        click.echo(f"  {field}: {len(values)} values")


@cli.command("embedders")
@json_option
def embedders_cmd(as_json: bool) -> None:
    """List the available backbones."""
    from fashionrec.embed import DEFAULT_EMBEDDER, embedder_info, list_embedders

    infos = [embedder_info(n) for n in list_embedders()]
    if as_json:
        click.echo(json.dumps(infos, indent=2, default=str))
        return
    for info in infos:
        star = "*" if info.get("name") == DEFAULT_EMBEDDER else " "
        click.echo(
            f"{star} {info.get('name'):20} {info.get('dim'):>5}-d  {info.get('description', '')}"
        )
