"""Neurovariety dimension: bounds, known values, symmetries, float vs modular."""

from __future__ import annotations

import dataclasses
from math import comb

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import modular_point

from qexpr._errors import QexprError
from qexpr.dimension._dimension import PRIMES, DimensionResult, neurovariety_dimension
from qexpr.dimension._jacobian import evaluated_jacobian, symmetry_generators

architectures = st.tuples(
    st.sampled_from(["square", "quadratic", "compact"]),
    st.lists(st.integers(1, 3), min_size=2, max_size=4).map(tuple),
    st.integers(1, 2),
    st.booleans(),
)


def alexander_hirschowitz(d0: int, d1: int, r: int) -> int:
    """Dimension of sums of d1 r-th powers of linear forms in d0 variables (AH theorem)."""
    if r == 2 and 2 <= d1 <= d0 - 1:
        return d0 * d1 - comb(d1, 2)
    generic = min(d0 * d1, comb(d0 + r - 1, r))
    return generic - 1 if (d0, r, d1) in {(3, 4, 5), (4, 4, 9), (5, 4, 14), (5, 3, 7)} else generic


@pytest.mark.parametrize(
    ("d0", "d1", "r"),
    [(d0, d1, r) for d0 in range(2, 6) for d1 in range(1, 9) for r in (2, 3, 4)]
    + [(4, 9, 4), (5, 14, 4)],
)
def test_shallow_conv_follows_alexander_hirschowitz(d0: int, d1: int, r: int) -> None:
    result = neurovariety_dimension("square", (d0, d1, 1), r=r, float_check=False)
    assert result.dimension == alexander_hirschowitz(d0, d1, r)
    assert result.ambient == comb(d0 + r - 1, r)
    assert result.expected == min(d0 * d1, comb(d0 + r - 1, r))
    # certified exactly when the known dimension meets the upper bound min(d0 d1, C(d0+r-1, r))
    assert result.certified == (
        alexander_hirschowitz(d0, d1, r) == min(d0 * d1, comb(d0 + r - 1, r))
    )


def test_ktb_example_has_dimension_16_and_expected_22() -> None:
    result = neurovariety_dimension("square", (2, 3, 2, 3, 4), r=2)
    params = 2 * 3 + 3 * 2 + 2 * 3 + 3 * 4
    assert result.parameters == params
    assert result.ambient == 4 * comb(2 + 8 - 1, 8)
    assert result.expected == min(params - (3 + 2 + 3), 36) == 22
    assert result.dimension == 16  # Kileel, Trager, Bruna (2019)
    assert not result.certified and result.defect == 6


@given(architectures)
def test_dimension_between_bounds_and_primes_agree(arch) -> None:
    kind, widths, r, bias = arch
    result = neurovariety_dimension(kind, widths, r, bias=bias, float_check=False)
    assert result.dimension <= result.expected <= min(result.ambient, result.parameters)
    assert len(set(result.modular_ranks)) == 1
    assert result.defect == result.expected - result.dimension >= 0


@given(
    st.lists(st.integers(1, 3), min_size=2, max_size=4).map(tuple), st.booleans(), st.integers(0, 9)
)
def test_quadratic_contains_square_network(widths, bias, seed) -> None:
    quad = neurovariety_dimension("quadratic", widths, 1, bias=bias, seed=seed, float_check=False)
    conv = neurovariety_dimension("square", widths, 2, bias=bias, seed=seed, float_check=False)
    assert quad.ambient == conv.ambient
    assert quad.dimension >= conv.dimension


@given(architectures, st.integers(0, 2**32))
def test_symmetry_generators_lie_in_the_jacobian_kernel(arch, seed) -> None:
    p = PRIMES[1]
    spec, rng, theta, points = modular_point(arch, seed, 5, p)
    jac = evaluated_jacobian(spec, theta, points, p)
    gens = symmetry_generators(spec, theta, p)
    product = (jac.astype(object) @ gens.astype(object)) % p
    assert not product.any()
    # the same identity in floats
    theta_f, points_f = rng.standard_normal(spec.parameters), rng.standard_normal(points.shape)
    jac_f = evaluated_jacobian(spec, theta_f, points_f, None)
    gens_f = symmetry_generators(spec, theta_f, None)
    scale = 1 + np.abs(jac_f).max() * np.abs(gens_f).max(initial=0) * spec.parameters
    assert np.allclose(jac_f @ gens_f, 0, atol=1e-12 * scale)


@pytest.mark.parametrize(
    ("kind", "widths", "r", "bias"),
    [
        ("square", (2, 3, 2, 3, 4), 2, False),
        ("square", (3, 4, 2), 2, True),
        ("quadratic", (2, 3, 2), 1, False),
        ("quadratic", (3, 2, 2, 1), 1, True),
        ("compact", (2, 3, 2), 1, False),
        ("compact", (2, 2, 2, 2), 2, True),
    ],
)
def test_float_rank_matches_modular_rank(kind, widths, r, bias) -> None:
    result = neurovariety_dimension(kind, widths, r, bias=bias)
    assert result.singular_gap is None or result.singular_gap > 1e4
    assert result.float_rank == result.dimension


def test_seed_gives_deterministic_result() -> None:
    first = neurovariety_dimension("compact", (2, 3, 2), bias=True, seed=5)
    assert first == neurovariety_dimension("compact", (2, 3, 2), bias=True, seed=5)


def test_primes_are_prime_and_fit_int64_products() -> None:
    from sympy import isprime

    assert all(isprime(p) and p < 2**26 for p in PRIMES) and PRIMES[0] != PRIMES[1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "relu", "widths": (2, 2)},
        {"kind": "square", "widths": (2,)},
        {"kind": "square", "widths": (2, 0, 1)},
        {"kind": "square", "widths": (2, 2, 1), "r": 0},
        {"kind": "square", "widths": (2, 2, 2, 1), "r": (2,)},
        {"kind": "square", "widths": (2, 2, 1), "r": 2.0},
        {"kind": "square", "widths": (2, 2, 1), "seed": -1},
        {"kind": "square", "widths": (2, 2, 1), "bias": 1},
    ],
)
def test_bad_input_raises_qexpr_error(kwargs) -> None:
    with pytest.raises(QexprError):
        neurovariety_dimension(**kwargs)


def test_result_rejects_a_dimension_above_its_upper_bound() -> None:
    good = neurovariety_dimension("square", (2, 2, 1), float_check=False)
    with pytest.raises(QexprError, match="exceeds"):
        dataclasses.replace(
            good, dimension=good.expected + 1, modular_ranks=(good.expected + 1,) * 2
        )
    assert isinstance(good, DimensionResult)


@given(st.lists(st.integers(1, 3), min_size=3, max_size=4).map(tuple))
def test_theorem2_rows_are_consistent(widths) -> None:
    from qexpr.dimension._table import theorem2_markdown, theorem2_rows

    (row,) = theorem2_rows([widths])
    assert row.quadratic.dimension >= row.square.dimension  # V_z2 ⊆ V_quad
    assert not row.certified_strict or row.relation == "strict"
    assert theorem2_markdown([row]).count("\n") == 3


def test_theorem2_architecture_count() -> None:
    from qexpr.dimension._table import theorem2_architectures

    assert len(list(theorem2_architectures())) == sum(3 * 4**h for h in (2, 3, 4))


def test_outputs_sharing_one_form_are_counted_by_hand() -> None:
    # (4,1,4) quadratic: f_k = c_k q with q an arbitrary quaternary quadratic form
    # (10 coefficients): dimension 10 + 4 - 1 = 13.
    result = neurovariety_dimension("quadratic", (4, 1, 4), float_check=False)
    assert result.injective and result.dimension == 13
