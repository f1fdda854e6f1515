"""``qexpr dimension``: certified bounds on the neurovariety dimension of a polynomial network."""

from __future__ import annotations

import typer

from qexpr.cli._common import fail, one_line_errors, parse_widths, print_json


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


@one_line_errors
def command(
    kind: str = typer.Option("square", "--kind", help="square, quadratic or compact."),
    widths: str = typer.Option(
        ..., "--widths", help="Comma-separated d_0,...,d_h, e.g. 2,3,2,3,4."
    ),
    r: str | None = typer.Option(
        None, "--r", help="Exponent(s) of z^r per hidden layer [default: 2 for square, else 1]."
    ),
    bias: bool = typer.Option(False, "--bias", help="Affine layers (default: homogeneous)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random parameters and points."),
    float_check: bool = typer.Option(
        True, "--float/--no-float", help="Also compute the float64 SVD estimate."
    ),
    json_output: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Dimension of the neurovariety (functional variety) of a polynomial network.

    The lower bound is the rank of the Jacobian of the outputs at random points over two prime
    fields (certified); the upper bound ("expected") is min(ambient, parameters - symmetries,
    factorisation bound through the neurons' pre-activation polynomials).
    "certified" means they meet. Hidden layers are square (conventional neurons), quadratic
    or compact neurons (activation z^r: z^2 for square, identity for the others by default);
    the output layer has conventional neurons and no activation.

    Examples:

      qexpr dimension --kind square --widths 2,3,2,3,4 --r 2

      qexpr dimension --kind quadratic --widths 3,4,2 --json

      qexpr dimension --kind compact --widths 2,3,1 --bias --seed 1
    """
    from qexpr.dimension._dimension import neurovariety_dimension

    result = neurovariety_dimension(
        kind, parse_widths(widths), _parse_r(r), bias=bias, seed=seed, float_check=float_check
    ).to_dict()
    if json_output:
        print_json(result)
    else:
        typer.echo(_table(result))
