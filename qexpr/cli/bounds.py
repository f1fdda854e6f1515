"""``qexpr bounds``: every upper and lower bound qexpr knows for a kind and widths."""

from __future__ import annotations

from typing import Annotated

import typer

from qexpr._numbers import format_integer
from qexpr.cli._common import JsonFlag, examples, one_line_errors, parse_widths, print_json

HELP = """Print the bounds on pieces, linear regions and degree for a kind and widths.

Widths n0,n1,...,nL follow random networks: layers 1..L-1 hidden, layer L the identity
output. With --json and one input, "pieces" and "degree" are the best upper bounds.

""" + examples(
    "qexpr bounds --kind quadratic --widths 1,4,4,1",
    "qexpr bounds --kind relu --widths 3,8,8,1 --json",
)


@one_line_errors
def command(
    kind: Annotated[str, typer.Option(help="quadratic, relu, square or compact.")] = "quadratic",
    widths: Annotated[str, typer.Option(help="Widths n0,n1,...,nL.")] = "1,4,4,1",
    as_json: JsonFlag = False,
) -> None:
    from qexpr._bounds import kind_bounds

    result = kind_bounds(kind, parse_widths(widths))
    if as_json:
        print_json(result.to_dict())
        return
    best = "unknown" if result.pieces is None else format_integer(result.pieces)
    what = "pieces" if result.widths[0] == 1 else "regions"
    typer.echo(f"{'kind':<22}{kind}\n{'widths':<22}{widths}")
    label = f"best {what} bound"
    typer.echo(f"{label:<22}{best}\n{'degree bound':<22}{format_integer(result.degree)}")
    for entry in result.entries:
        label = f"{entry.name} ({entry.side} {entry.quantity})"
        typer.echo(f"{label:<36}{format_integer(entry.value):<12}{entry.source}")


command.__doc__ = HELP
