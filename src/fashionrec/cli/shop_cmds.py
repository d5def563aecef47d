"""Shop commands: set product prices, create an admin account."""

from __future__ import annotations

from pathlib import Path

import click

from fashionrec.cli._group import cli
from fashionrec.cli.common import default_index

_INDEX = click.argument("index_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))


@cli.command("set-prices")
@_INDEX
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV of prices (columns: see --id-column, --price-column).",
)
@click.option("--id-column", default="id", show_default=True)
@click.option("--price-column", default="price", show_default=True)
@click.option(
    "--hm-transactions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="H&M transactions CSV: median price per article x --hm-scale.",
)
@click.option(
    "--hm-scale",
    default="590",
    show_default=True,
    help="H&M prices are normalised (~0.03); x590 gives plausible EUR.",
)
@click.option("--default", "default", help="Price of every product still without one.")
def set_prices_cmd(
    index_dir: Path,
    csv_path: Path | None,
    id_column: str,
    price_column: str,
    hm_transactions: Path | None,
    hm_scale: str,
    default: str | None,
) -> None:
    """Set the shop's product prices (the catalog may have none) in INDEX_DIR's database."""
    from fashionrec.shop import prices as p

    if not (csv_path or hm_transactions or default):
        raise click.UsageError("give --csv FILE, --hm-transactions FILE or --default AMOUNT")
    found, source = {}, "csv"
    if hm_transactions:
        found, source = p.hm_prices(hm_transactions, scale=p.parse_price(hm_scale)), "hm"
    if csv_path:
        found.update(p.prices_from_csv(csv_path, id_column=id_column, price_column=price_column))
    store = p.open_index_store(index_dir)
    counts = p.set_prices(store, found, default=default and p.parse_price(default), source=source)
    click.echo(
        f"{counts['set']} prices set, {counts['defaulted']} products given the default, "
        f"{counts['unknown']} ids not in the index."
    )


@cli.command("create-admin")
@click.argument("email")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=default_index,
    show_default="$FASHIONREC_INDEX or ./fashionrec-index",
)
@click.option("--name", default="", help="Name shown in the shop's header.")
@click.password_option(help="Prompted (twice) when not given; at least 10 characters.")
def create_admin_cmd(email: str, index_dir: Path, name: str, password: str) -> None:
    """Create an admin account (or make an existing account an admin)."""
    from fashionrec.shop.accounts import make_admin
    from fashionrec.shop.prices import open_index_store

    with open_index_store(index_dir).session() as s:
        user = make_admin(s, email, password, name=name or None)
        click.echo(f"{user.email} is an admin; sign in at /account/signin, then open /admin.")
