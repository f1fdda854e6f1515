"""``qexpr dimension``: certified bounds on the neurovariety dimension of a polynomial network."""

from __future__ import annotations

from typing import Annotated

import typer

from qexpr.cli._common import (
    JsonFlag,
    ProgressFlag,
    examples,
    fail,
    one_line_errors,
    parse_widths,
    print_json,
    progress_bar,
    show_progress,
)


def _parse_r(text: str | None) -> int | tuple[int, ...] | None:
    """``"2"`` -> 2, ``"2,3"`` -> (2, 3), None stays None; one-line error otherwise."""
    if text is None:
        return None
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        fail(f"--r: expected an integer >= 1 or a comma-separated list, got {text!r}")
    return values[0] if len(values) == 1 else values


def _table(result: dict) -> str:
    """A short human-readable summary."""
    gap = result["singular_gap"]
    ranks = result["modular_ranks"], result["primes"]
    rows = [
        ("network", f"{result['kind']} {result['widths']} r={result['r']} bias={result['bias']}"),
        ("parameters", result["parameters"]),
        ("ambient", result["ambient"]),
        ("symmetries", result["symmetries"]),
        ("factorisation bound", result["factored"]),
        ("expected (upper bound)", result["expected"]),
        ("dimension (lower bound)", result["dimension"]),
        ("certified", result["certified"]),
        ("defect", result["defect"]),
        ("ranks mod p", ", ".join(f"{k} (p={p})" for k, p in zip(*ranks, strict=True))),
        ("float64 rank", result["float_rank"]),
        ("singular value gap", "-" if gap is None else f"{gap:.3g}"),
    ]
    return "\n".join(f"{name:<24} {value}" for name, value in rows)


HELP = """Dimension of the neurovariety (functional variety) of a polynomial network.

The lower bound is the rank of the Jacobian of the outputs at random points over two prime
fields (certified); the upper bound ("expected") is min(ambient, parameters - symmetries,
factorisation bound through the neurons' pre-activation polynomials).
"certified" means they meet. Hidden layers are square (conventional neurons), quadratic or
compact neurons (activation z^r: z^2 for square, identity for the others by default); the
output layer has conventional neurons and no activation. A Jacobian estimated past the size
limit is refused up front.

""" + examples(
    "qexpr dimension --kind square --widths 2,3,2,3,4 --r 2",
    "qexpr dimension --kind quadratic --widths 3,4,2 --json",
    "qexpr dimension --kind compact --widths 2,3,1 --bias --seed 1",
)


@one_line_errors
def command(
    widths: Annotated[str, typer.Option(help="Comma-separated d_0,...,d_h, e.g. 2,3,2,3,4.")],
    kind: Annotated[str, typer.Option(help="square, quadratic or compact.")] = "square",
    r: Annotated[
        str | None,
        typer.Option(help="Exponent(s) of z^r per hidden layer [default: 2 for square, else 1]."),
    ] = None,
    bias: Annotated[bool, typer.Option(help="Affine layers (default: homogeneous).")] = False,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random parameters and points.")] = 0,
    float_check: Annotated[
        bool, typer.Option("--float/--no-float", help="Also compute the float64 SVD estimate.")
    ] = True,
    as_json: JsonFlag = False,
    progress: ProgressFlag = None,
) -> None:
    from qexpr.cli._budget import check_dimension
    from qexpr.dimension._dimension import neurovariety_dimension

    sizes, exponents = parse_widths(widths), _parse_r(r)
    refusal = check_dimension(kind, sizes, exponents, bias)
    if refusal is not None:
        fail(refusal)
    with progress_bar(show_progress(progress)) as report:
        found = neurovariety_dimension(
            kind, sizes, exponents, bias=bias, seed=seed, float_check=float_check, progress=report
        )
    result = found.to_dict()
    if as_json:
        print_json(result)
    else:
        typer.echo(_table(result))


command.__doc__ = HELP
