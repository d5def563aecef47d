"""Search by photo and similar items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fashionrec.cli._group import cli
from fashionrec.cli.common import (
    filter_options,
    index_option,
    json_option,
)


def _print_matches(matches: list, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"results": [m.to_dict() for m in matches]}, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    if not matches:
        click.echo("No matching products.")
        return
    table = Table(show_lines=False)
    for col in ("#", "score", "id", "name", "type", "colour", "gender"):
        table.add_column(col, justify="right" if col in {"#", "score"} else "left")
    for i, m in enumerate(matches, 1):
        p = m.product
        table.add_row(
            str(i),
            f"{m.score:.3f}",
            m.id,
            str(p.get("name") or ""),
            str(p.get("article_type") or ""),
            str(p.get("base_colour") or ""),
            str(p.get("gender") or ""),
        )
    Console().print(table)


def result_options(f: Any) -> Any:
    """-k, --min-similarity and the metadata filters, shared by search and similar."""
    f = filter_options(f)
    f = click.option(
        "--min-similarity",
        help="Drop results below this cosine similarity; "
        "'auto' uses the threshold measured for precision 0.8 (auto:0.9 for 0.9).",
    )(f)
    return click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000))(f)


@cli.command("search")
@click.argument(
    "image", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option(
    "--text",
    "words",
    help='Words: alone, a text search ("navy formal shirt for men"); '
    'with IMAGE, filters on the photo search ("but in red", "for women").',
)
@index_option
@result_options
@json_option
def search_cmd(
    image: Path | None,
    words: str | None,
    index_dir: Path,
    k: int,
    min_similarity: str | None,
    filters: dict,
    as_json: bool,
) -> None:
    """Find the catalog products that look most like IMAGE, or match --text."""
    if image is None:
        if not words:
            raise click.UsageError('give a photo (IMAGE), --text "words", or both')
        from fashionrec.cli.text_cmds import run_text_search

        run_text_search(words, index_dir, k=k, filters=filters, as_json=as_json)
        return
    from fashionrec.recommend import Recommender

    rec = Recommender.open(index_dir)
    found = rec.search_photos(
        [image], k, filters=filters, min_similarity=min_similarity, words=words
    )[0]
    if found.words is not None and found.words.shown and not as_json:
        click.echo("Showing: " + " \u00b7 ".join(found.words.shown))
    _print_matches(found.matches, as_json)


@cli.command("similar")
@click.argument("product_id")
@index_option
@result_options
@json_option
def similar_cmd(
    product_id: str,
    index_dir: Path,
    k: int,
    min_similarity: str | None,
    filters: dict,
    as_json: bool,
) -> None:
    """Products that look like catalog product PRODUCT_ID (the "Similar Items" row)."""
    from fashionrec.recommend import Recommender

    rec = Recommender.open(index_dir)
    _print_matches(
        rec.similar_to_product(product_id, k, filters=filters, min_similarity=min_similarity),
        as_json,
    )
