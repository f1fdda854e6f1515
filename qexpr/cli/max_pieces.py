"""``qexpr max-pieces``: search an architecture's weights for the most pieces, certified."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import fail, one_line_errors, parse_widths, print_json

HELP = """Search the weights of a one-input architecture for the most pieces (Theorem 1).

Starts from the known constructions and seeded random networks, improves them by local
search on the float engine, and certifies every reported number with the exact engine:
the saved network's exact count is what is printed. Beside it: the kind's upper bounds,
relu_max (the best proved upper bound for conventional ReLU networks of the same widths;
the maximum when every hidden width is >= 3), and strictly_more_than_relu with the
margin. Stops early when the count meets a proved upper bound.

Examples:

  qexpr max-pieces --kind quadratic --widths 1,3,3,1

  qexpr max-pieces --kind relu --widths 1,4,4,1 --json

  qexpr max-pieces --kind quadratic --widths 1,2,2,1 --time 60 --seed 1 --save best.json

  qexpr max-pieces --kind compact --widths 1,3,1 --objective degree

  qexpr max-pieces --kind quadratic --widths 1,3,1 --evaluations 2000   # same on any machine
"""


def _describe(result) -> str:
    verdict = "yes" if result.strictly_more_than_relu else "no"
    relu = "maximum" if result.relu_max_attained else "upper bound"
    rows = [
        ("kind", result.kind),
        ("widths", ",".join(map(str, result.widths))),
        ("pieces (certified)", str(result.pieces)),
        ("activation regions", str(result.activation_regions)),
        ("degree", str(result.degree)),
        ("bound pieces", str(result.bounds.pieces)),
        ("bound degree", str(result.bounds.degree)),
        ("proven maximum", "yes" if result.proven_maximum else "not known"),
        (f"relu {relu}", str(result.relu_max)),
        ("more than relu", f"{verdict} (margin {result.pieces - result.relu_max})"),
        ("found from", result.start),
        ("evaluations", str(result.evaluations)),
        ("seconds", f"{result.seconds:.1f}"),
    ]
    return "\n".join(f"{key:<20}{value}" for key, value in rows)


def _check_save(save: Path) -> None:
    """Refuse an unwritable --save path before any work."""
    parent = save.parent if str(save.parent) else Path(".")
    if save.is_dir():
        fail(f"--save: {save} is a directory")
    if not parent.is_dir():
        fail(f"--save: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        fail(f"--save: directory {parent} is not writable")


@one_line_errors
def command(
    kind: Annotated[str, typer.Option(help="quadratic, relu, square or compact.")] = "quadratic",
    widths: Annotated[str, typer.Option(help="Widths 1,n1,...,nL (one input).")] = "1,3,3,1",
    time_limit: Annotated[
        float, typer.Option("--time", help="Seconds of search.", metavar="SECONDS")
    ] = 20.0,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    objective: Annotated[
        str, typer.Option(help="pieces, regions (activation regions) or degree.")
    ] = "pieces",
    evaluations: Annotated[
        int | None,
        typer.Option(
            help="Stop after N float evaluations (reproducible on any machine).", metavar="N"
        ),
    ] = None,
    save: Annotated[
        Path | None, typer.Option(help="Write the best network (exact weights) to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    progress: Annotated[bool, typer.Option(help="tqdm progress bar on stderr.")] = True,
) -> None:
    from qexpr.studies._max_pieces import OBJECTIVES, max_pieces, save_network_atomically

    parsed = parse_widths(widths)
    if not 0 < time_limit < math.inf:
        fail(f"--time: expected a positive finite number of seconds, got {time_limit}")
    if seed < 0:
        fail(f"--seed: expected a non-negative integer, got {seed}")
    if objective not in OBJECTIVES:
        fail(f"--objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if evaluations is not None and evaluations < 0:
        fail(f"--evaluations: expected a non-negative integer, got {evaluations}")
    if save is not None:
        _check_save(save)
    result = max_pieces(
        kind,
        parsed,
        time_limit=time_limit,
        seed=seed,
        objective=objective,
        max_evaluations=evaluations,
        progress=progress,
    )
    if save is not None:
        save_network_atomically(result.network, save)
    if as_json:
        print_json({**result.to_dict(), **({"file": str(save)} if save is not None else {})})
    else:
        typer.echo(_describe(result))


command.__doc__ = HELP
