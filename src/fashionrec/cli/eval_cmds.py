"""Evaluation and reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fashionrec.cli._group import cli
from fashionrec.cli.common import (
    default_index,
    index_option,
    json_option,
    parse_ks,
)


def labelled_photos_options(f: Any) -> Any:
    """PHOTOS_DIR plus --labels and --label-map, for the commands that use labelled photos."""
    existing_csv = click.Path(exists=True, dir_okay=False, path_type=Path)
    f = click.option(
        "--label-map",
        "label_map_csv",
        required=True,
        type=existing_csv,
        help="CSV: label, article types that count as a match (|-separated).",
    )(f)
    f = click.option(
        "--labels",
        "labels_csv",
        required=True,
        type=existing_csv,
        help="CSV with columns image,label (photo PHOTOS_DIR/<image>.jpg).",
    )(f)
    return click.argument(
        "photos_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
    )(f)


@cli.command("eval-photos")
@labelled_photos_options
@index_option
@click.option("-k", "ks", default="1 10", show_default=True, help="Cut-offs, e.g. -k 1 10.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N photos (by name).")
@click.option(
    "--colours",
    "colours_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV image,colour: also report colour-group and type + colour-group P@k.",
)
@click.option(
    "--colour-groups",
    "colour_groups_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV colour,catalog_colours (default: colour_groups.csv beside --colours).",
)
@json_option
def eval_photos_cmd(
    photos_dir: Path,
    labels_csv: Path,
    label_map_csv: Path,
    index_dir: Path,
    ks: str,
    limit: int | None,
    colours_csv: Path | None,
    colour_groups_csv: Path | None,
    as_json: bool,
) -> None:
    """Shopper photos search the index like the search page does: P@k, macro P@k, per label."""
    from fashionrec.eval.photos import evaluate_photos

    result = evaluate_photos(
        index_dir,
        photos_dir,
        labels_csv,
        label_map_csv,
        ks=parse_ks(ks),
        limit=limit,
        colours_csv=colours_csv,
        colour_groups_csv=colour_groups_csv,
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_photo_eval(result, parse_ks(ks))


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
    colour = result.get("colour")
    if colour:
        parts = "  ".join(
            f"p@{k}: type {colour[f'type_p@{k}']:.3f}, colour group "
            f"{colour[f'colour_group_p@{k}']:.3f}, type + colour group "
            f"{colour[f'type_colour_group_p@{k}']:.3f}"
            for k in ks
        )
        Console().print(f"{colour['photos']} colour-labelled photos: {parts}")


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
@click.option(
    "--colour-groups",
    is_flag=True,
    help="With --and baseColour: near colours count as the same (Navy Blue ~ Blue).",
)
@json_option
def eval_cmd(
    index_dirs: tuple[Path, ...],
    label: str,
    also: str | None,
    ks: str,
    per_label: bool,
    colour_groups: bool,
    as_json: bool,
) -> None:
    """Leave-one-out retrieval quality of one or more indexes (precision, recall, mAP, nDCG)."""
    from fashionrec.eval.run import evaluate_index

    dirs = index_dirs or (Path(default_index()),)
    results = {
        str(d): evaluate_index(
            d,
            label=label,
            also=also,
            ks=parse_ks(ks),
            per_label=per_label,
            colour_groups=colour_groups,
        )
        for d in dirs
    }
    if as_json:
        payload = next(iter(results.values())) if len(results) == 1 else {"runs": results}
        click.echo(json.dumps(payload, indent=2))
        return
    _print_eval(results, parse_ks(ks), per_label)


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


@cli.command("train-heads")
@click.argument("index_dir", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option(
    "--attributes/--no-attributes",
    default=True,
    show_default=True,
    help="Attribute classifiers (gender, type, colour, ...) for predictions on photos.",
)
@click.option(
    "--projection",
    is_flag=True,
    help="Also a retrieval projection head; searches then run in its space.",
)
@click.option(
    "--with-colour",
    is_flag=True,
    help="Train the projection on article type AND base colour (weights 1:1); --colour "
    "measured better (keeps type P@10).",
)
@click.option(
    "--colour",
    "colour",
    is_flag=True,
    help="A projection head trained on article type AND 'type|colour' classes, so similar "
    "items and photo search rank the same type and colour first (docs/evaluation.md, Colour).",
)
@click.option(
    "--colour-weight",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Weight of the 'type|colour' task with --colour  [default: 0.5, measured]",
)
@click.option("--seed", default=0, show_default=True, type=int)
@json_option
def train_heads_cmd(
    index_dir: Path | None,
    attributes: bool,
    projection: bool,
    with_colour: bool,
    colour: bool,
    colour_weight: float | None,
    seed: int,
    as_json: bool,
) -> None:
    """Train heads on the index's embeddings; measured on an 80/20 product split first."""
    from fashionrec.pipeline.heads import train_heads

    if colour_weight is not None and not colour:
        raise click.UsageError("--colour-weight needs --colour")
    if colour and with_colour:
        raise click.UsageError("choose one of --colour and --with-colour")
    tasks = {"article_type": 1.0, "base_colour": 1.0} if with_colour else None
    report = train_heads(
        index_dir or default_index(),
        attributes=attributes,
        projection=projection,
        projection_tasks=tasks,
        colour=colour,
        colour_weight=colour_weight,
        seed=seed,
    )
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if "attributes" in report:
        table = Table(title="attribute classifiers, held-out 20 % of products")
        for col in ("attribute", "classes", "accuracy", "macro P", "macro R", "macro F1", "ECE"):
            table.add_column(col, justify="left" if col == "attribute" else "right")
        for name, r in report["attributes"]["attributes"].items():
            if "accuracy" in r:
                table.add_row(
                    name,
                    str(len(r["classes"])),
                    f"{r['accuracy']:.3f}",
                    f"{r['macro_precision']:.3f}",
                    f"{r['macro_recall']:.3f}",
                    f"{r['macro_f1']:.3f}",
                    f"{r['ece']:.3f}",
                )
        console.print(table)
    if "projection" in report:
        p = report["projection"]
        table = Table(title=f"retrieval, test->test leave-one-out ({p['n_test']} products)")
        metrics = list(p["frozen"])
        table.add_column("vectors")
        for m in metrics:
            table.add_column(m, justify="right")
        for name in ("frozen", "head"):
            table.add_row(name, *(f"{p[name][m]:.3f}" for m in metrics))
        console.print(table)
        console.print(f"head trained in {p['train_seconds']} s on 80 % of the products")
        if "final_train_seconds" in p:
            console.print(f"final head trained in {p['final_train_seconds']} s on all of them")


@cli.command("train-gate")
@labelled_photos_options
@index_option
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--seed", default=0, show_default=True, type=int)
@json_option
def train_gate_cmd(
    photos_dir: Path,
    labels_csv: Path,
    label_map_csv: Path,
    index_dir: Path,
    folds: int,
    seed: int,
    as_json: bool,
) -> None:
    """Train the photo type gate from labelled shopper photos; prints out-of-fold figures."""
    from fashionrec.pipeline.gate import train_gate

    report = train_gate(index_dir, photos_dir, labels_csv, label_map_csv, folds=folds, seed=seed)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(
        f"{report['photos']} photos, {folds}-fold out-of-fold (seed {seed}); "
        f"gate accuracy {report['gate_accuracy']:.3f}, ECE {report['gate_ece']:.3f}"
    )
    for name in ("plain", "gated"):
        r = report[name]
        click.echo(
            f"  {name:6} P@1 {r['p@1']:.3f}  P@10 {r['p@10']:.3f}  macro P@10 {r['macro_p@10']:.3f}"
        )
    click.echo(f"The gate, trained on all photos, is now part of {index_dir}.")
