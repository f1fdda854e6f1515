"""Differential tests against the independent sympy implementation of the networks.

The rank of the symbolic coefficient Jacobian over Q must equal the tool's modular rank
of the evaluated Jacobian, the Jacobians must agree entrywise mod p, and the monomials
that occur must be those counted in ``ambient``.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from qexpr.dimension._dimension import PRIMES, neurovariety_dimension
from qexpr.dimension._jacobian import evaluated_jacobian
from qexpr.dimension._spec import make_spec
from qexpr.dimension._sympy_oracle import coefficient_jacobian_rank, symbolic_network

TINY = [
    ("square", (2, 2, 1), 2, False),
    ("square", (2, 2, 2, 1), 2, False),
    ("square", (2, 3, 2), 2, True),
    ("square", (2, 2, 2, 1), 1, True),
    ("quadratic", (2, 2, 1), 1, False),
    ("quadratic", (2, 2, 2, 1), 1, False),
    ("quadratic", (2, 2, 1), 1, True),
    ("quadratic", (2, 1, 1), 2, False),
    ("compact", (2, 2, 1), 1, False),
    ("compact", (2, 2, 2, 1), 1, True),
    ("compact", (1, 2, 1), 2, False),
    ("compact", (3, 2, 2, 1), 1, False),
]


@pytest.mark.parametrize("arch", TINY)
def test_coefficient_jacobian_rank_matches(arch) -> None:
    expected = coefficient_jacobian_rank(make_spec(*arch[:3], bias=arch[3]), seed=7)
    assert neurovariety_dimension(*arch[:3], bias=arch[3], float_check=False).dimension == expected


@pytest.mark.parametrize("arch", TINY)
def test_occurring_monomials_are_those_counted(arch) -> None:
    spec = make_spec(*arch[:3], bias=arch[3])
    _, x, outputs = symbolic_network(spec)
    occurring = set()
    for f in outputs:
        occurring |= set(sympy.Poly(sympy.expand(f), *x).monoms())
    assert occurring == set(map(tuple, spec.support.tolist()))


@pytest.mark.parametrize("arch", TINY)
def test_evaluated_jacobian_matches_symbolic_derivatives(arch) -> None:
    spec = make_spec(*arch[:3], bias=arch[3])
    theta, x, outputs = symbolic_network(spec)
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
