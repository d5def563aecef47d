"""The command group itself (commands register on it from their modules)."""

from __future__ import annotations

import click

from fashionrec.cli.common import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="fashionrec")
def cli(verbose: int, quiet: bool) -> None:
    """fashionrec: visual recommendations for fashion shops."""
    setup_logging(-1 if quiet else verbose)
