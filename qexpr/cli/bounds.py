"""``qexpr bounds``: every upper and lower bound qexpr knows for a kind and widths."""

from __future__ import annotations

from typing import Annotated

import typer

from qexpr._numbers import format_integer
from qexpr.cli._common import (
    JsonFlag,
    ProgressFlag,
    examples,
    one_line_errors,
    parse_widths,
    print_json,
    progress_bar,
    show_progress,
)

HELP = """Print the bounds on pieces, linear regions and degree for a kind and widths.

Widths n0,n1,...,nL follow random networks: layers 1..L-1 hidden, layer L the identity
output. With --json and one input, "pieces" and "degree" are the best upper bounds.

""" + examples(
    "qexpr bounds --kind quadratic --widths 1,4,4,1",
    "qexpr bounds --kind relu --widths 3,8,8,1 --json",
)


def _best_quantity(result) -> str:
    """What the best bound counts: pieces where a pieces bound exists (pieces ≤ regions
    with one input), else the regions of the region bounds, else pieces (none known)."""
    quantities = {entry.quantity for entry in result.entries if entry.side != "lower"}
    return "regions" if "regions" in quantities and "pieces" not in quantities else "pieces"


def _align(rows: list[tuple[str, ...]], numeric: int | None = None) -> list[str]:
    """Rows as lines with every column starting at the same place; column ``numeric``
    (numbers, possibly hundreds of digits long) is right-aligned."""
    sizes = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(size) if k == numeric else cell.ljust(size)
            for k, (cell, size) in enumerate(zip(row, sizes))
        ).rstrip()
        for row in rows
    ]


def _text(result, kind: str) -> str:
    """The summary (kind, widths, best bounds) and a table of every bound, aligned."""
    best = "unknown" if result.pieces is None else format_integer(result.pieces)
    summary = [
        ("kind", kind),
        ("widths", ",".join(map(str, result.widths))),
        (f"best upper bound on {_best_quantity(result)}", best),
        ("upper bound on degree", format_integer(result.degree)),
    ]
    table = [("bound", "side", "counts", "value", "source")] + [
        (e.name, e.side, e.quantity, format_integer(e.value), e.source) for e in result.entries
    ]
    return "\n".join([*_align(summary), "", *_align(table, numeric=3)])


@one_line_errors
def command(
    kind: Annotated[str, typer.Option(help="quadratic, relu, square or compact.")] = "quadratic",
    widths: Annotated[str, typer.Option(help="Widths n0,n1,...,nL.")] = "1,4,4,1",
    as_json: JsonFlag = False,
    progress: ProgressFlag = None,
) -> None:
    from qexpr._bounds import kind_bounds

    sizes = parse_widths(widths)
    with progress_bar(show_progress(progress)) as report:
        result = kind_bounds(kind, sizes, progress=report)
    if as_json:
        print_json(result.to_dict())
    else:
        typer.echo(_text(result, kind))


command.__doc__ = HELP
