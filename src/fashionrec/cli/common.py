"""Options and helpers shared by the commands."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DEFAULT_INDEX_ENV = "FASHIONREC_INDEX"


def default_index() -> str:
    """$FASHIONREC_INDEX, else ./fashionrec-index."""
    return os.environ.get(DEFAULT_INDEX_ENV, "fashionrec-index")


def setup_logging(verbose: int) -> None:
    """Log fashionrec's messages to stderr: warnings with -q, info by default, debug with -v."""
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.WARNING if verbose < 0 else logging.INFO if verbose == 0 else logging.DEBUG
    handler = RichHandler(
        console=Console(stderr=True), show_path=False, show_time=False, markup=False
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.set_name("fashionrec-cli")
    # Our own logger, on stderr: stdout carries results (JSON, tables) and nothing else.
    logger = logging.getLogger("fashionrec")
    logger.handlers = [h for h in logger.handlers if h.get_name() != "fashionrec-cli"]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


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
    ("--colour-group", "colour_group", "near-colour group, e.g. Blue (Navy Blue, Teal...)."),
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


def parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(x) for x in text.replace(",", " ").split()}))
    except ValueError:
        raise click.BadParameter(f"expected whole numbers such as 1 5 10, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise click.BadParameter(f"k must be at least 1, got {text!r}")
    return ks


def join_k_values(argv: list[str]) -> list[str]:
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
