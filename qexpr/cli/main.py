"""Entry point of the ``qexpr`` command: builds the typer app from the command modules.

Command modules import only light modules at import time (heavy ones, torch and sympy,
inside the command function), so ``qexpr --help`` starts fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qexpr.cli._common import examples

app = typer.Typer(
    name="qexpr",
    help="Expressivity and training of quadratic neural networks.\n\n"
    + examples(
        "qexpr count-pieces net.json --json",
        "qexpr count-pieces --kind quadratic --widths 1,4,4,1 --seed 0",
        "qexpr --version",
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version() -> str:
    """The installed distribution's version (read from its metadata, no heavy import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qexpr")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"qexpr {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Expressivity and training of quadratic neural networks."""


def _register() -> None:
    """Add the commands to :data:`app` (once: calling again changes nothing)."""
    if app.registered_commands:
        return
    from qexpr.cli import (
        bounds,
        count_pieces,
        dimension,
        max_pieces,
        slice,
        sweep,
        train,
        verify,
    )

    app.command("count-pieces")(count_pieces.command)
    app.command("bounds")(bounds.command)
    app.command("max-pieces")(max_pieces.command)
    app.command("slice")(slice.command)
    app.command("dimension")(dimension.command)
    app.command("train", help=train.HELP)(train.command)
    app.command("sweep")(sweep.command)
    app.command("verify")(verify.command)


def main() -> None:
    """Run the ``qexpr`` command line; usage errors are one line on stderr with status 2."""
    # typer < 0.30 vendors click; its usage errors are not re-exported publicly.
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    _register()
    try:
        status = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        status = 0
    except UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        typer.echo(f"qexpr: error: {exc.format_message()}{hint}", err=True)
        status = 2
    except typer.Abort:
        status = 130
    sys.exit(status if isinstance(status, int) else 0)
