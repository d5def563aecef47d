"""Shoppers: import histories, evaluate personal recommendations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fashionrec.cli._group import cli
from fashionrec.cli.common import index_option, json_option


@cli.command("import-interactions")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@index_option
@click.option(
    "--hm", is_flag=True, help="SOURCE is the H&M sample folder (customers, transactions)."
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=CSV_COLUMN",
    help="Column of a field (user, product, kind, timestamp, quantity): --column user=customer.",
)
@click.option("--database-url", help="SQLAlchemy URL; default: the SQLite file beside the index.")
@json_option
def import_interactions_cmd(
    source: Path,
    index_dir: Path,
    hm: bool,
    columns: tuple[str, ...],
    database_url: str | None,
    as_json: bool,
) -> None:
    """Import shoppers' interactions (a CSV, or the H&M sample with --hm) into the store."""
    from fashionrec.store.importers import import_hm, import_interactions_csv

    store = _open_store(index_dir, database_url)
    if hm:
        report = import_hm(store, source)
    else:
        report = import_interactions_csv(store, source, columns=_mapping(columns))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(report.summary())
    for line, message in report.errors:
        click.echo(f"  line {line}: {message}", err=True)


@cli.command("eval-users")
@click.argument("hm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index of HM_DIR; default: built once into the cache folder and reused.",
)
@click.option("--k", "k", default=10, show_default=True, type=click.IntRange(1, 100))
@json_option
def eval_users_cmd(hm_dir: Path, index_dir: Path | None, k: int, as_json: bool) -> None:
    """Hold out each H&M customer's last basket: HR@k, nDCG@k, coverage per method."""
    from fashionrec.eval.users import evaluate_users

    result = evaluate_users(hm_dir, index_dir=index_dir, k=k)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_users(result, k)


def _open_store(index_dir: Path, database_url: str | None) -> Any:
    """The store beside the index, with the index's products mirrored when there is one."""
    from fashionrec.pipeline.layout import IndexDir
    from fashionrec.store import Store, default_url

    store = Store.open(database_url or default_url(index_dir))
    idx = IndexDir(index_dir)
    if idx.exists():
        m = idx.read_manifest()
        store.sync_products(
            idx.read_products(m).reset_index(drop=True), f"{m.generation}:{m.updated_at}"
        )
    return store


def _mapping(columns: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in columns:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(
                f"expected FIELD=CSV_COLUMN, got {item!r}", param_hint="--column"
            )
        out[field.strip()] = column.strip()
    return out


def _print_users(result: dict, k: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from fashionrec.eval.users import BUCKETS

    buckets = [label for _, _, label in BUCKETS]
    any_method = next(iter(result.values()))
    table = Table(title=f"{any_method['n']} customers, last basket held out")
    for col in ("method", f"HR@{k}", "95 % interval", "hits", f"nDCG@{k}", "coverage"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for label in buckets:
        table.add_column(f"HR {label} ({any_method['by_history'][label]['n']})", justify="right")
    for name, r in result.items():
        lo, hi = r[f"hr@{k}_ci95"]
        table.add_row(
            name,
            f"{r[f'hr@{k}']:.3f}",
            f"{lo:.3f}-{hi:.3f}",
            str(r["hits"]),
            f"{r[f'ndcg@{k}']:.4f}",
            f"{r['coverage']:.3f}",
            *(f"{r['by_history'][b][f'hr@{k}']:.3f}" for b in buckets),
        )
    Console().print(table)
    gain = result.get("hybrid", {}).get(f"hr@{k}_gain_over_popularity_ci95")
    if gain:
        Console().print(
            f"hybrid - popularity HR@{k}, 95 % interval: {gain[0]:+.3f} to {gain[1]:+.3f}"
        )
