"""``qexpr count-pieces``: pieces, activation regions, breakpoints and degree of a network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr._cli._common import fail, one_line_errors, parse_widths, print_json

HELP = """Count the pieces, activation regions and degree of a one-input network.

Give one or more network files (qexpr-network/1 JSON), or build a random network with
--kind/--widths/--seed.

Examples:

  qexpr count-pieces net.json

  qexpr count-pieces a.json b.json --json        # one JSON object per line

  qexpr count-pieces --kind quadratic --widths 1,4,4,1 --seed 0 --mode exact

  qexpr count-pieces net.json --domain -1 1 --mode float

  qexpr count-pieces --kind relu --widths 1,8,8,1 --save net.json
"""


def _describe(result, name: str) -> str:
    points = ", ".join(f"{b:.6g}" for b in result.breakpoints) or "none"
    rows = [
        ("network", name),
        ("mode", result.mode),
        ("pieces", str(result.pieces)),
        ("activation regions", str(result.activation_regions)),
        ("degree", str(result.degree)),
        ("breakpoints", points),
    ]
    if result.unresolved:
        rows.append(("unresolved", f"{result.unresolved} (float64 too coarse; try --mode exact)"))
    return "\n".join(f"{key:<20}{value}" for key, value in rows)


@one_line_errors
def command(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Network files.", show_default=False)
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Random network: quadratic, relu, square or compact.")
    ] = None,
    widths: Annotated[str, typer.Option(help="Random network widths n0,n1,...,nL.")] = "1,4,4,1",
    seed: Annotated[int, typer.Option(help="Random network seed.")] = 0,
    float_weights: Annotated[
        bool,
        typer.Option("--float-weights", help="Random float64 weights instead of small rationals."),
    ] = False,
    mode: Annotated[
        str, typer.Option(help="exact, float, or auto (exact when the network is small).")
    ] = "auto",
    domain: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Count on [A, B] instead of the whole line.", metavar="A B"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per network.")
    ] = False,
    save: Annotated[
        Path | None, typer.Option(help="Write the random network to this file.")
    ] = None,
) -> None:
    from qexpr._count import count_pieces
    from qexpr._io import load_network, save_network
    from qexpr._random import random_network

    if files and kind is not None:
        fail("give network files or --kind, not both")
    if not files and kind is None:
        fail("give a network file, or --kind with --widths for a random network")
    if save is not None and kind is None:
        fail("--save writes a random network: use it with --kind")
    if mode not in ("exact", "float", "auto"):
        fail(f"--mode: expected exact, float or auto, got {mode!r}")
    if kind is not None:
        net = random_network(kind, parse_widths(widths), seed=seed, exact=not float_weights)
        if save is not None:
            save_network(net, save)
        jobs = [(f"random {kind} {widths} seed {seed}", None, net)]
    else:
        jobs = [(str(path), str(path), None) for path in files]
    for name, file, net in jobs:
        if net is None:
            net = load_network(file)
        if net.input_dim != 1:
            fail(f"{name}: expected a network with one input, got input_dim {net.input_dim}")
        result = count_pieces(net, mode=mode, domain=domain)
        if as_json:
            record = (
                {"file": file}
                if file is not None
                else {"kind": kind, "widths": widths, "seed": seed}
            )
            print_json({**record, **result.to_dict()})
        else:
            typer.echo(_describe(result, name))
            if len(jobs) > 1:
                typer.echo("")


command.__doc__ = HELP
