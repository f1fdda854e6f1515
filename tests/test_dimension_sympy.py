"""Differential tests against an independent sympy implementation of the networks.

The outputs are built symbolically, expanded into monomials and differentiated with
respect to every parameter: the rank of that coefficient Jacobian over Q at a random
integer point must equal the tool's modular rank, the evaluated Jacobians must agree
entrywise mod p, and the monomials that occur must be those counted in ``ambient``.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from flint import fmpz_mat

from qexpr._dimension import PRIMES, neurovariety_dimension
from qexpr._polynet import PolyNetSpec, make_spec
from qexpr._polynet_jacobian import evaluated_jacobian

TINY = [
    ("conv", (2, 2, 1), 2, False),
    ("conv", (2, 2, 2, 1), 2, False),
    ("conv", (2, 3, 2), 2, True),
    ("conv", (2, 2, 2, 1), 1, True),
    ("quadratic", (2, 2, 1), 1, False),
    ("quadratic", (2, 2, 2, 1), 1, False),
    ("quadratic", (2, 2, 1), 1, True),
    ("quadratic", (2, 1, 1), 2, False),
    ("compact", (2, 2, 1), 1, False),
    ("compact", (2, 2, 2, 1), 1, True),
    ("compact", (1, 2, 1), 2, False),
    ("compact", (3, 2, 2, 1), 1, False),
]


def symbolic_outputs(spec: PolyNetSpec, theta: np.ndarray, x: list) -> list:
    """The network's outputs as sympy expressions, written from the definitions."""
    a = list(x)
    for layer, w in enumerate(spec.blocks(theta), start=1):
        kind = spec.layer_kind(layer)
        out = []
        for i in range(spec.widths[layer]):
            lin = {
                name: sum(w[name][i, j] * a[j] for j in range(len(a)))
                for name in w
                if name[0] == "w" or name == "W"
            }
            sq = sum(w["wb"][i, j] * a[j] ** 2 for j in range(len(a))) if "wb" in w else 0
            bias = {name: w[name][i] for name in w if w[name].ndim == 1}
            if kind in ("conv", "linear"):
                z = lin["W"] + bias.get("b", 0)
            elif kind == "compact":
                z = lin["wr"] + sq + bias.get("br", 0) + bias.get("c", 0)
            else:
                z = (
                    (lin["wr"] + bias.get("br", 0)) * (lin["wg"] + bias.get("bg", 0))
                    + sq
                    + bias.get("c", 0)
                )
            out.append(z if kind == "linear" else z ** spec.r[layer - 1])
        a = out
    return a


def setup(arch):
    spec = make_spec(*arch)
    theta = np.array(sympy.symbols(f"t0:{spec.parameters}"), dtype=object)
    x = sympy.symbols(f"x0:{spec.widths[0]}")
    return spec, theta, x, symbolic_outputs(spec, theta, list(x))


@pytest.mark.parametrize("arch", TINY)
def test_coefficient_jacobian_rank_matches(arch) -> None:
    _, theta, x, outputs = setup(arch)
    rows = []
    for f in outputs:
        poly = sympy.Poly(sympy.expand(f), *x)
        for coeff in poly.coeffs():
            rows.append([sympy.diff(coeff, t) for t in theta])
    values = dict(
        zip(theta, np.random.default_rng(7).integers(-50, 50, theta.size).tolist(), strict=True)
    )
    numeric = [[int(entry.subs(values)) for entry in row] for row in rows]
    assert fmpz_mat(numeric).rank() == neurovariety_dimension(*arch, float_check=False).dimension


@pytest.mark.parametrize("arch", TINY)
def test_occurring_monomials_are_those_counted(arch) -> None:
    spec, _, x, outputs = setup(arch)
    occurring = set()
    for f in outputs:
        occurring |= set(sympy.Poly(sympy.expand(f), *x).monoms())
    assert occurring == set(map(tuple, spec.support.tolist()))


@pytest.mark.parametrize("arch", TINY)
def test_evaluated_jacobian_matches_symbolic_derivatives(arch) -> None:
    spec, theta, x, outputs = setup(arch)
    p = PRIMES[0]
    rng = np.random.default_rng(3)
    theta_val = rng.integers(0, p, spec.parameters)
    points = rng.integers(0, p, (3, spec.widths[0]))
    ours = evaluated_jacobian(spec, theta_val, points, p)
    subs_theta = dict(zip(theta, theta_val.tolist(), strict=True))
    for k, f in enumerate(outputs):
        grads = [sympy.diff(f, t).subs(subs_theta) for t in theta]
        for i, point in enumerate(points.tolist()):
            subs_x = dict(zip(x, point, strict=True))
            expected = [int(g.subs(subs_x)) % p for g in grads]
            assert ours[k * len(points) + i].tolist() == expected
