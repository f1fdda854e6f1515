"""``qexpr count-pieces``: pieces, activation regions, breakpoints and degree of a network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import fail, one_line_errors, parse_widths, print_json

HELP = """Count the pieces, activation regions and degree of a one-input network.

Give one or more network files (qexpr-network/1 JSON), or build a random network with
--kind/--widths/--seed.

Examples:

  qexpr count-pieces net.json

  qexpr count-pieces a.json b.json --json        # one JSON object per line

  qexpr count-pieces --kind quadratic --widths 1,4,4,1 --seed 0 --mode exact

  qexpr count-pieces net.json --domain -1 1 --mode float

  qexpr count-pieces --kind relu --widths 1,8,8,1 --save net.json

  qexpr count-pieces net2d.json --line 0.5,-1 1,2 --domain -1 1   # along x = p + t v

  qexpr count-pieces net.json --plot spline.png

  qexpr count-pieces net2d.json --random-lines 32 --seed 1 --json   # breakpoints per unit length
"""


def _describe(result, name: str, bound) -> str:
    points = ", ".join(f"{b:.6g}" for b in result.breakpoints) or "none"
    rows = [
        ("network", name),
        ("mode", result.mode),
        ("pieces", str(result.pieces)),
        ("activation regions", str(result.activation_regions)),
        ("degree", str(result.degree)),
        ("breakpoints", points),
        ("bound pieces", str(bound.pieces)),
        ("bound degree", str(bound.degree)),
        ("tightness", f"{result.pieces / bound.pieces:.4g}"),
    ]
    if result.unresolved:
        rows.append(("unresolved", f"{result.unresolved} (float64 too coarse; try --mode exact)"))
    return "\n".join(f"{key:<20}{value}" for key, value in rows)


def _density(net, record: dict, lines: int, seed: int, radius: float, mode: str) -> dict:
    """Hanin–Rolnick line statistic: breakpoints per unit length on seeded random chords."""
    from qexpr.spline._restrict import breakpoint_density

    density = breakpoint_density(net, lines=lines, seed=seed, radius=radius, mode=mode)
    return {
        **record,
        "random_lines": lines,
        "seed": seed,
        "radius": radius,
        "mean_density": density.mean,
        "std_density": density.std,
        "breakpoints": list(density.breakpoints),
        "chord_length": 2 * radius,
    }


def _bound_keys(result, bound) -> dict:
    return {
        "bound_pieces": bound.pieces,
        "bound_degree": bound.degree,
        "tightness": result.pieces / bound.pieces,
    }


@one_line_errors
def command(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Network files.", show_default=False)
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Random network: quadratic, relu, square or compact.")
    ] = None,
    widths: Annotated[str, typer.Option(help="Random network widths n0,n1,...,nL.")] = "1,4,4,1",
    seed: Annotated[int, typer.Option(help="Seed of the random network and random lines.")] = 0,
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
    line: Annotated[
        tuple[str, str] | None,
        typer.Option(
            help="Count along the line x = P + t V (comma-separated exact numbers); "
            "--domain then applies to t.",
            metavar="P V",
        ),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Draw the function, its pieces and breakpoints (PNG).")
    ] = None,
    random_lines: Annotated[
        int | None,
        typer.Option(
            help="Instead of one count: breakpoints per unit length (mean, std) over N "
            "random chords of length 2 R through the cube [-R, R]^n (Hanin-Rolnick).",
            metavar="N",
        ),
    ] = None,
    radius: Annotated[float, typer.Option(help="R of --random-lines.", metavar="R")] = 1.0,
) -> None:
    from qexpr._bounds import spline_bound
    from qexpr._io import load_network, save_network
    from qexpr._random import random_network
    from qexpr.spline._count import count_pieces

    if files and kind is not None:
        fail("give network files or --kind, not both")
    if not files and kind is None:
        fail("give a network file, or --kind with --widths for a random network")
    if save is not None and kind is None:
        fail("--save writes a random network: use it with --kind")
    if plot is not None and files and len(files) > 1:
        fail("--plot draws one network: give one file")
    if mode not in ("exact", "float", "auto"):
        fail(f"--mode: expected exact, float or auto, got {mode!r}")
    if random_lines is not None:
        if random_lines < 1:
            fail(f"--random-lines: expected a positive integer, got {random_lines}")
        if not radius > 0 or radius == float("inf"):
            fail(f"--radius: expected a positive finite number, got {radius}")
        for given, option in ((line, "--line"), (domain, "--domain"), (plot, "--plot")):
            if given is not None:
                fail(f"--random-lines draws its own chords: drop {option}")
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
        record = {"file": file} if file is not None else {"kind": kind, "widths": widths}
        if random_lines is not None:
            record = _density(net, record, random_lines, seed, radius, mode)
            if as_json:
                print_json(record)
            else:
                rows = [("network", name), *((k, v) for k, v in record.items() if k != "file")]
                typer.echo("\n".join(f"{k:<20}{v}" for k, v in rows))
            continue
        if line is not None:
            from qexpr._errors import QexprError
            from qexpr.spline._restrict import restrict_to_line

            try:
                net = restrict_to_line(net, line[0], line[1])
            except QexprError as exc:
                fail(f"--line: {exc}")
        elif net.input_dim != 1:
            fail(
                f"{name}: expected a network with one input, got input_dim {net.input_dim} "
                "(use --line P V)"
            )
        result = count_pieces(net, mode=mode, domain=domain)
        bound = spline_bound(net)
        if plot is not None:
            from qexpr.studies._plots import plot_spline

            plot_spline(result.spline, plot, title=name, xlabel="x" if line is None else "t")
        if as_json:
            if file is None:
                record["seed"] = seed
            if line is not None:
                record["line"] = list(line)
            print_json({**record, **result.to_dict(), **_bound_keys(result, bound)})
        else:
            typer.echo(_describe(result, name, bound))
            if len(jobs) > 1:
                typer.echo("")


command.__doc__ = HELP
