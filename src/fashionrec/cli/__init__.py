"""The `fashionrec` command line: thin commands over the library."""

from __future__ import annotations

import sys

import click

from fashionrec.cli import (  # noqa: F401  (register commands)
    catalog_cmds,
    engine_cmds,
    eval_cmds,
    search_cmds,
    serve_cmds,
    shop_cmds,
    text_cmds,
    user_cmds,
)
from fashionrec.cli._group import cli
from fashionrec.cli.common import join_k_values
from fashionrec.errors import FashionRecError

cli.add_command(text_cmds.text_search_cmd)
cli.add_command(text_cmds.index_text_cmd)

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and exit 1 on user errors."""
    try:
        args = join_k_values(list(sys.argv[1:] if argv is None else argv))
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
