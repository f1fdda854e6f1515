"""Long run of the certified piecewise-linear engine against the exact engine.

Draws networks from the adversarial strategy of ``tests/test_spline_pwl.py`` (float64
conventional ReLU networks: shared, clustered and far-apart roots, sevenths, weights over
10^±6 and 10^-200, tiny offsets, zero weights and biases) and compares
``qexpr.spline._pwl.pwl_cells`` with ``qexpr.spline._exact.exact_cells`` cell by cell
(ends, output polynomials, patterns). Prints how many networks were drawn, how many
differ (must be 0), how many had a stretch re-solved exactly (``exact_cells > 0``) and how
many were handed to the general hybrid engine (weights off float64's safe range).

Run: ``.venv/bin/python benchmarks/pwl_adversarial.py [networks] [seed]`` (default 4000
and 0; different seeds draw different networks).
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_spline_pwl import _same_cells, domains, relu_networks

from qexpr.spline import _pwl
from qexpr.spline._exact import exact_cells


def main(count: int, first: int) -> None:
    tally = dict(networks=0, different=0, re_solved=0, general=0)
    general = _pwl.hybrid_cells

    def counted(*args: object) -> object:
        tally["general"] += 1
        return general(*args)

    _pwl.hybrid_cells = counted

    @seed(first)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(relu_networks(), domains)
    def one(net: object, domain: tuple | None) -> None:
        exact_domain = None if domain is None else tuple(Fraction(v) for v in domain)
        result = _pwl.pwl_cells(net, exact_domain)
        tally["networks"] += 1
        tally["re_solved"] += result.exact_cells > 0
        tally["different"] += not _same_cells(result.cells, exact_cells(net, exact_domain))

    one()
    print(
        f"networks {tally['networks']}  different from exact {tally['different']}  "
        f"with a stretch re-solved {tally['re_solved']}  general engine {tally['general']}"
    )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) > 2 or not all(a.isdigit() for a in arguments):
        sys.exit("pwl_adversarial.py: expected [networks] [seed], non-negative integers")
    main(*(int(a) for a in arguments), *(4000, 0)[len(arguments) :])
