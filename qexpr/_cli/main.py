"""Entry point of the ``qexpr`` command: builds the typer app from the command modules.

Command modules import only light modules at import time (heavy ones, torch and sympy,
inside the command function), so ``qexpr --help`` starts fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="qexpr",
    help=(
        "Expressivity and training of quadratic neural networks.\n\n"
        "Examples:\n\n"
        "  qexpr count-pieces net.json --json\n\n"
        "  qexpr count-pieces --kind quadratic --widths 1,4,4,1 --seed 0"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _register() -> None:
    from qexpr._cli import count_pieces, dimension

    app.command("count-pieces")(count_pieces.command)
    app.command("dimension")(dimension.command)


def main() -> None:
    """Run the ``qexpr`` command line."""
    _register()
    app()
