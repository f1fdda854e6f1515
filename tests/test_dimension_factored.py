"""Factorisation upper bound: hand values, the factorisation itself, tangents in the fibre."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import modular_point

from qexpr.dimension._dimension import PRIMES, neurovariety_dimension
from qexpr.dimension._factored import (
    factored_bound,
    factored_point,
    factored_tangents,
    neuron_dimension,
)
from qexpr.dimension._jacobian import evaluated_jacobian
from qexpr.dimension._spec import make_spec


def _small(arch: tuple) -> bool:
    """Keep the Jacobians small, from a cheap over-estimate of their size.

    (The exact monomial count is itself costly for deep networks of high degree.)
    """
    kind, widths, r, _ = arch
    factor = r if kind == "square" else 2 * r
    degree = factor ** (len(widths) - 2)  # hidden layers; the output layer is linear
    monomials = math.comb(widths[0] + degree, degree)
    parameters = 4 * sum(m * n for m, n in itertools.pairwise(widths))
    return widths[-1] * monomials * parameters <= 10**6


architectures = st.tuples(
    st.sampled_from(["square", "quadratic", "compact"]),
    st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
    st.integers(1, 2),
    st.booleans(),
).filter(_small)


def network_outputs(spec, theta, points, p):
    """f(x) at each point, layer by layer with the Jacobian module's forward pass."""
    from qexpr.dimension._jacobian import _power, _pre_activation

    a = points
    for layer, w in enumerate(spec.blocks(theta), start=1):
        z = _pre_activation(spec.layer_neuron(layer), a, w, p)["z"]
        a = _power(z, spec.r[layer - 1], p) if layer < spec.depth else z
    return a


def factored_outputs(spec, point, points, p):
    """f(x) from the pre-activation matrices: p(a) = (1, a)^T M (1, a) / 2."""
    half = pow(2, -1, p)
    a = points
    for layer, mats in enumerate(point, start=1):
        tilde = np.column_stack([np.ones(len(a), dtype=np.int64), a])
        left = np.einsum("ni,kij->nkj", tilde, mats) % p
        z = np.einsum("nkj,nj->nk", left, tilde) % p * half % p
        r = spec.r[layer - 1] if layer < spec.depth else 1
        a = np.ones_like(z)
        for _ in range(r):
            a = a * z % p
    return a


@given(architectures, st.integers(0, 2**32))
def test_outputs_factor_through_the_pre_activation_matrices(arch, seed) -> None:
    p = PRIMES[1]
    spec, _, theta, points = modular_point(arch, seed, 4, p)
    point = factored_point(spec, theta, p)
    assert np.array_equal(
        factored_outputs(spec, point, points, p), network_outputs(spec, theta, points, p)
    )


BOTTLENECKS = [
    ("quadratic", (2, 4, 2, 1), 1, False),  # dependent outputs, dense quadratic next
    ("quadratic", (2, 5, 3, 2), 1, True),
    ("square", (2, 4, 2, 1), 1, True),  # dependent outputs, conv next; kernel of W
    ("compact", (2, 5, 3, 1), 1, True),  # dependent outputs, compact next
    ("compact", (2, 3, 1), 1, False),  # kernel of the output layer
]


@pytest.mark.parametrize("arch", BOTTLENECKS)
def test_bottleneck_tangents_keep_the_outputs_to_first_order(arch) -> None:
    _check_tangents_keep_the_outputs(arch, 7)


@given(architectures, st.integers(0, 2**32))
def test_tangents_keep_the_outputs_to_first_order(arch, seed) -> None:
    _check_tangents_keep_the_outputs(arch, seed)


def _check_tangents_keep_the_outputs(arch, seed) -> None:
    # g(e) = f(y + e v) - f(y) is a polynomial in e; its linear coefficient (Lagrange
    # interpolation at 0 and enough nodes, exact mod p) must vanish. v is a random
    # combination of all tangents (the condition is linear in v).
    p = PRIMES[1]
    spec, rng, theta, points = modular_point(arch, seed, 3, p)
    point = factored_point(spec, theta, p)
    degree = 2 ** (spec.depth) * max(spec.r, default=1) ** spec.depth + 1
    es = np.arange(1, degree + 2)
    tangents = factored_tangents(spec, point, p)
    weights = rng.integers(0, p, len(tangents))
    combined = [
        sum(int(c) * vec.get(i, 0) for c, vec in zip(weights, tangents, strict=True)) % p
        for i in range(len(point))
    ]
    for vec in [dict(enumerate(combined))] if tangents else []:
        values = []
        for e in es:
            moved = [(mats + int(e) * vec.get(i, 0)) % p for i, mats in enumerate(point)]
            values.append(factored_outputs(spec, moved, points, p).ravel())
        base = factored_outputs(spec, point, points, p).ravel()
        # linear coefficient of the polynomial g(e) = f(y + e v) - f(y) with g(0) = 0:
        # Lagrange interpolation through e = 0, es, derivative at 0.
        nodes = [0, *map(int, es)]
        data = [np.zeros_like(base), *[(v - base) % p for v in values]]
        slope = np.zeros_like(base)
        for k, ek in enumerate(nodes[1:], start=1):
            # L_k'(0) = (1/e_k) prod_{m != k, 0} e_m / (e_m - e_k)
            weight = pow(ek, -1, p)
            for em in nodes[1:]:
                if em != ek:
                    weight = weight * em % p * pow(em - ek, -1, p) % p
            slope = (slope + weight * data[k]) % p
        assert not slope.any()


def test_single_quadratic_neuron_two_inputs_by_hand() -> None:
    # (2,1,1): f = c (x^T Q x), Q in Sym_2 (dimension 3, dense), c a scalar, rescaling 1:
    # 3 + 1 - 1 = 3; with biases all quadratic polynomials in 2 variables: 6 + 1 - 1 = 6.
    assert neuron_dimension("quadratic", 2, False) == 3
    for bias, value in ((False, 3), (True, 6)):
        result = neurovariety_dimension("quadratic", (2, 1, 1), bias=bias, float_check=False)
        assert result.factored == value == result.expected == result.dimension


def test_two_outputs_of_one_quadratic_form_by_hand() -> None:
    # (2,1,2): f_k = c_k q, q binary quadratic form: 3 + 2 - 1 = 4 (old bound: 6 = ambient).
    result = neurovariety_dimension("quadratic", (2, 1, 2), float_check=False)
    assert result.factored == 4 and result.certified
    assert min(result.ambient, result.parameters - result.symmetries) == 6


def test_quadratic_neuron_dimension_closed_form() -> None:
    # min(3n - 1, n(n+1)/2): Sym_n for n <= 4, then the rank-2-plus-diagonal count 3n - 1.
    assert [neuron_dimension("quadratic", n, False) for n in range(1, 8)] == [
        1,
        3,
        6,
        10,
        14,
        17,
        20,
    ]
    assert [neuron_dimension("quadratic", n, True) for n in range(1, 5)] == [3, 6, 10, 14]


@pytest.mark.parametrize("n", range(1, 8))
@pytest.mark.parametrize("bias", [False, True])
def test_quadratic_neuron_dimension_is_attained(n, bias) -> None:
    # The closed form is an upper bound; the rank of the one-neuron network's Jacobian
    # (a certified lower bound) meets it, so it is exact.
    result = neurovariety_dimension("quadratic", (n, 1, 1), bias=bias, float_check=False)
    assert result.dimension == neuron_dimension("quadratic", n, bias)


def test_ktb_conv_example_stays_below_the_bound() -> None:
    result = neurovariety_dimension("square", (2, 3, 2, 3, 4), r=2, float_check=False)
    assert result.dimension == 16 <= result.expected


def test_bottleneck_after_a_wide_layer_by_hand() -> None:
    # (2,4,1) conv with r=1 is linear: f = w.x, dimension 2; the factorisation counts
    # 8 + 4 for (W1, W2) minus GL(4) orbit (16 - (4-2)(4-1) = 10) = 2.
    result = neurovariety_dimension("square", (2, 4, 1), r=1, float_check=False)
    assert result.factored == 2 == result.dimension


@given(architectures, st.integers(0, 3))
def test_factored_bound_is_above_the_certified_lower_bound(arch, seed) -> None:
    result = neurovariety_dimension(*arch[:3], bias=arch[3], seed=seed, float_check=False)
    assert result.dimension <= result.factored
    spec = make_spec(*arch[:3], bias=arch[3])
    theta = np.random.default_rng(seed).integers(1, PRIMES[1], spec.parameters)
    dim_phi, tangents = factored_bound(spec, theta, PRIMES[1])
    assert result.dimension <= dim_phi - tangents


def test_factored_bound_is_no_weaker_than_the_jacobian_rank_of_phi() -> None:
    # dim Phi - s >= rank of the network Jacobian at a random point (sanity on a deep net).
    spec = make_spec("quadratic", (3, 4, 3, 2), 1, bias=True)
    p = PRIMES[0]
    theta = np.random.default_rng(1).integers(1, p, spec.parameters)
    points = np.random.default_rng(2).integers(1, p, (spec.monomials, 3))
    from qexpr.dimension._rank import modular_rank

    rank = modular_rank(evaluated_jacobian(spec, theta, points, p), p)
    dim_phi, tangents = factored_bound(spec, theta, p)
    assert rank <= dim_phi - tangents
