"""`fashionrec find` (and `fashionrec search --text`): text search that understands shoppers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fashionrec.cli.common import index_option, json_option


@click.command("find")
@click.argument("query")
@index_option
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--mode",
    type=click.Choice(["fused", "bm25", "semantic"]),
    default="fused",
    show_default=True,
    help="Ranking: BM25, sentence model, or both fused.",
)
@click.option("--literal", is_flag=True, help="Do not turn query words into filters.")
@json_option
def text_search_cmd(
    query: str, index_dir: Path, k: int, mode: str, literal: bool, as_json: bool
) -> None:
    """Find products matching QUERY, e.g. "navy formal shirt for men under 40"."""
    run_text_search(query, index_dir, k=k, mode=mode, understand=not literal, as_json=as_json)


@click.command("index-text")
@index_option
def index_text_cmd(index_dir: Path) -> None:
    """Embed the product texts with the sentence model so text search runs fused (BM25 +
    meaning); later runs embed only new or changed products."""
    import time

    from fashionrec.pipeline import IndexDir
    from fashionrec.text import TextSearcher

    d = IndexDir(index_dir)
    manifest = d.read_manifest()
    t = time.perf_counter()
    products = d.read_products(manifest)
    TextSearcher(products, manifest.encodings, cache_dir=d.path / "text").build()
    click.echo(
        f"Text embeddings of {len(products)} products ready in {d.path / 'text'} "
        f"({time.perf_counter() - t:.1f} s)"
    )


def run_text_search(
    query: str,
    index_dir: Path,
    *,
    k: int,
    mode: str = "fused",
    understand: bool = True,
    filters: dict | None = None,
    as_json: bool = False,
) -> None:
    """Text search over an index and print the results (shared by `find` and `search --text`)."""
    from fashionrec.pipeline import IndexDir
    from fashionrec.recommend import Filters
    from fashionrec.text import TextSearcher

    d = IndexDir(index_dir)
    manifest = d.read_manifest()
    products = d.read_products(manifest)
    searcher = TextSearcher(
        products, manifest.encodings, cache_dir=d.path / "text", semantic=mode != "bm25"
    )
    chosen = Filters.from_mapping(filters).resolved(manifest.encodings).to_dict()
    chosen = {f: v for f, v in chosen.items() if isinstance(v, list)}
    result = searcher.search(query, k, filters=chosen, mode=mode, understand=understand)
    _print(result, products, as_json)


def _print(result, products, as_json: bool) -> None:
    rows = products.loc[result.ids] if result.ids else products.iloc[:0]
    if as_json:
        items = [
            {
                "id": i,
                "score": s,
                **{
                    c: (None if v != v else v)
                    for c, v in rows.loc[
                        i, ["name", "article_type", "base_colour", "gender", "usage"]
                    ].items()
                },
            }
            for i, s in zip(result.ids, result.scores, strict=True)
        ]
        parsed = result.parsed.to_dict() if result.parsed else None
        click.echo(json.dumps({"parsed": parsed, "results": items}, indent=2, default=str))
        return
    if result.parsed and result.parsed.shown:
        click.echo("Showing: " + " \u00b7 ".join(result.parsed.shown))
    if result.parsed and result.parsed.corrections:
        fixes = ", ".join(f"{a} \u2192 {b}" for a, b in result.parsed.corrections.items())
        click.echo(f"(corrected: {fixes})")
    if not result.ids:
        click.echo("No matching products.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("#", "score", "id", "name", "type", "colour", "gender"):
        table.add_column(col, justify="right" if col in {"#", "score"} else "left")
    for n, (pid, score) in enumerate(zip(result.ids, result.scores, strict=True), 1):
        p = rows.loc[pid]
        table.add_row(
            str(n),
            f"{score:.3f}",
            pid,
            *(str(p.get(c) or "") for c in ("name", "article_type", "base_colour", "gender")),
        )
    Console().print(table)
