"""The `fashionrec` command line: thin commands over the library."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from fashionrec.errors import FashionRecError

DEFAULT_INDEX_ENV = "FASHIONREC_INDEX"


def default_index() -> str:
    """$FASHIONREC_INDEX, else ./fashionrec-index."""
    return os.environ.get(DEFAULT_INDEX_ENV, "fashionrec-index")


def _setup_logging(verbose: int) -> None:
    from rich.logging import RichHandler

    level = logging.WARNING if verbose < 0 else logging.INFO if verbose == 0 else logging.DEBUG
    handler = RichHandler(show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s")
    logging.getLogger("fashionrec").setLevel(level)


def index_option(f: Callable) -> Callable:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=default_index,
        show_default=f"${DEFAULT_INDEX_ENV} or ./fashionrec-index",
        help="Index directory to read.",
    )(f)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


FILTER_OPTIONS = [
    ("--gender", "gender", "Men, Women, Boys, Girls, Unisex..."),
    ("--master-category", "master_category", "e.g. Apparel, Footwear, Accessories."),
    ("--sub-category", "sub_category", "e.g. Topwear, Shoes, Watches."),
    ("--article-type", "article_type", "e.g. Tshirts, Watches, Casual Shoes."),
    ("--colour", "base_colour", "Base colour, e.g. Navy Blue."),
    ("--season", "season", "Summer, Winter, Fall, Spring."),
    ("--usage", "usage", "Casual, Formal, Sports..."),
]
RANGE_OPTIONS = [
    ("--year-min", "year_min"),
    ("--year-max", "year_max"),
    ("--price-min", "price_min"),
    ("--price-max", "price_max"),
]


def filter_options(f: Callable) -> Callable:
    """Add the metadata filter options; the command receives them as one `filters` dict."""
    for flag, name, help_text in reversed(FILTER_OPTIONS):
        f = click.option(
            flag, name, multiple=True, help=f"Keep only this {help_text} Repeat for any of several."
        )(f)
    for flag, name in reversed(RANGE_OPTIONS):
        f = click.option(flag, name, type=float, help=f"Keep only {name.replace('_', ' ')}.")(f)

    @functools.wraps(f)
    def wrapper(**kwargs: Any) -> Any:
        names = [n for _, n, _ in FILTER_OPTIONS] + [n for _, n in RANGE_OPTIONS]
        given = {n: kwargs.pop(n) for n in names}
        kwargs["filters"] = {n: v for n, v in given.items() if v not in (None, ())}
        return f(**kwargs)

    return wrapper


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="fashionrec")
def cli(verbose: int, quiet: bool) -> None:
    """fashionrec: visual recommendations for fashion shops."""
    _setup_logging(-1 if quiet else verbose)


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
    help="Vector index backend: auto, exact, hnsw, annoy.",
)
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--limit", type=click.IntRange(1), help="Index only the first N products.")
@click.option("--no-center", is_flag=True, help="Do not subtract the catalog mean feature.")
def index_cmd(
    catalog_dir: Path,
    out: Path,
    mapping: str | None,
    columns: tuple[str, ...],
    embedder: str | None,
    weights: str | None,
    backend: str,
    batch_size: int,
    limit: int | None,
    no_center: bool,
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


@cli.command("search")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_option
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--min-similarity",
    help="Drop results below this cosine similarity; 'auto' uses "
    "the threshold measured for precision 0.8 (auto:0.9 for 0.9).",
)
@filter_options
@json_option
def search_cmd(
    image: Path, index_dir: Path, k: int, min_similarity: str | None, filters: dict, as_json: bool
) -> None:
    """Find the catalog products that look most like IMAGE."""
    from fashionrec.recommend import Recommender

    rec = Recommender.open(index_dir)
    _print_matches(
        rec.similar_to_image(image, k, filters=filters, min_similarity=min_similarity), as_json
    )


@cli.command("similar")
@click.argument("product_id")
@index_option
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--min-similarity",
    help="Drop results below this cosine similarity; 'auto' uses "
    "the threshold measured for precision 0.8 (auto:0.9 for 0.9).",
)
@filter_options
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


@cli.command("eval-photos")
@click.argument("photos_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--labels",
    "labels_csv",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with columns image,label (photo PHOTOS_DIR/<image>.jpg).",
)
@click.option(
    "--label-map",
    "label_map_csv",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: label, article types that count as a match (|-separated).",
)
@index_option
@click.option("-k", "ks", default="1 10", show_default=True, help="Cut-offs, e.g. -k 1 10.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N photos (by name).")
@json_option
def eval_photos_cmd(
    photos_dir: Path,
    labels_csv: Path,
    label_map_csv: Path,
    index_dir: Path,
    ks: str,
    limit: int | None,
    as_json: bool,
) -> None:
    """Shopper photos search the index like the search page does: P@k, macro P@k, per label."""
    from fashionrec.eval.photos import evaluate_photos

    result = evaluate_photos(
        index_dir, photos_dir, labels_csv, label_map_csv, ks=_ks(ks), limit=limit
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_photo_eval(result, _ks(ks))


def _print_photo_eval(result: dict, ks: tuple[int, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    overall = "  ".join(
        f"p@{k} {result[f'p@{k}']:.3f}  macro p@{k} {result[f'macro_p@{k}']:.3f}" for k in ks
    )
    table = Table(title=f"{result['photos']} shopper photos: {overall}")
    for col in ("label", "count", *(f"p@{k}" for k in ks), "mostly retrieves"):
        table.add_column(col, justify="right" if col.startswith(("p@", "count")) else "left")
    for label, e in sorted(result["per_label"].items(), key=lambda kv: kv[1][f"p@{ks[-1]}"]):
        top = ", ".join(f"{t} ({n})" for t, n in e["retrieves"].items())
        table.add_row(label, str(e["count"]), *(f"{e[f'p@{k}']:.3f}" for k in ks), top)
    Console().print(table)


@cli.command("report")
@click.argument("target", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="report.html",
    show_default=True,
    help="HTML file to write.",
)
@click.option("--no-eval", is_flag=True, help="Charts only: skip the leave-one-out evaluation.")
@click.option(
    "--grid",
    default=8,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Rows of the similar-items picture (0 for none).",
)
def report_cmd(target: Path, out: Path, no_eval: bool, grid: int) -> None:
    """One self-contained HTML report of a catalog folder or an index (charts, evaluation)."""
    from fashionrec.eval.make_report import build_report

    path = build_report(target, out, evaluate=not no_eval, grid=grid)
    click.echo(f"Wrote {path}")


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(x) for x in text.replace(",", " ").split()}))
    except ValueError:
        raise click.BadParameter(f"expected whole numbers such as 1 5 10, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise click.BadParameter(f"k must be at least 1, got {text!r}")
    return ks


def _join_k_values(argv: list[str]) -> list[str]:
    """Let `eval ... -k 5 10 20` mean -k "5 10 20" (click options take one value)."""
    if not ({"eval", "eval-photos"} & set(argv)):
        return argv
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] in {"-k", "--k"}:
            values = []
            while i + 1 < len(argv) and argv[i + 1].isdigit():
                values.append(argv[i + 1])
                i += 1
            out.append(" ".join(values))
        i += 1
    return out


@cli.command("eval")
@click.argument("index_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--label",
    default="articleType",
    show_default=True,
    help="Relevance: same value of this column (articleType, subCategory, baseColour, "
    "gender, or a group column such as product_code).",
)
@click.option(
    "--and",
    "also",
    metavar="COLUMN",
    help="Also require the same value of this column (e.g. --and baseColour).",
)
@click.option("-k", "ks", default="1 5 10 20", show_default=True, help="Cut-offs, e.g. -k 5 10 20.")
@click.option("--per-label/--no-per-label", default=True, help="Break down by label value.")
@json_option
def eval_cmd(
    index_dirs: tuple[Path, ...],
    label: str,
    also: str | None,
    ks: str,
    per_label: bool,
    as_json: bool,
) -> None:
    """Leave-one-out retrieval quality of one or more indexes (precision, recall, mAP, nDCG)."""
    from fashionrec.eval.run import evaluate_index

    dirs = index_dirs or (Path(default_index()),)
    results = {
        str(d): evaluate_index(d, label=label, also=also, ks=_ks(ks), per_label=per_label)
        for d in dirs
    }
    if as_json:
        payload = next(iter(results.values())) if len(results) == 1 else {"runs": results}
        click.echo(json.dumps(payload, indent=2))
        return
    _print_eval(results, _ks(ks), per_label)


def _print_eval(results: dict[str, dict], ks: tuple[int, ...], per_label: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    first = next(iter(results.values()))
    title = f"leave-one-out, relevant = same {first['label']}"
    table = Table(title=title + (f" and {first['also']}" if first["also"] else ""))
    for col in ("index", "backbone", "k", "p@k", "r@k", "map@k", "ndcg@k"):
        table.add_column(col, justify="left" if col in {"index", "backbone"} else "right")
    for name, r in results.items():
        for i, k in enumerate(ks):
            label = (Path(name).name or name, r["embedder"]) if i == 0 else ("", "")
            table.add_row(
                *label, str(k), *(f"{r[f'{m}@{k}']:.3f}" for m in ("p", "r", "map", "ndcg"))
            )
    console.print(table)
    if per_label and first.get("per_label"):
        k = 10 if 10 in ks else ks[-1]
        rows = sorted(first["per_label"].items(), key=lambda kv: kv[1].get(f"p@{k}", 0))
        per = Table(title=f"per {first['label']} (worst first), {next(iter(results))}")
        for col in (first["label"], "count", f"p@{k}", f"r@{k}"):
            per.add_column(col, justify="left" if col == first["label"] else "right")
        for value, r in rows:
            if f"p@{k}" in r:
                per.add_row(value, str(r["count"]), f"{r[f'p@{k}']:.3f}", f"{r[f'r@{k}']:.3f}")
        console.print(per)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and exit 1 on user errors."""
    try:
        args = _join_k_values(list(sys.argv[1:] if argv is None else argv))
        cli.main(args=args, prog_name="fashionrec", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FashionRecError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted; re-run the same command to resume.", err=True)
        sys.exit(130)
