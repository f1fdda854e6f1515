"""Constructions reach their stated counts; the inclusions hold exactly."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import rational_points, widths

import qexpr
from qexpr._bounds import serra_bound, spline_bound
from qexpr._constructions import (
    chebyshev_network,
    embed_in_quadratic,
    sawtooth_chebyshev_network,
    sawtooth_network,
    tooth_map,
)


@given(st.lists(st.integers(3, 5), min_size=1, max_size=3))
def test_sawtooth_attains_serra_bound(hidden):
    result = qexpr.count_pieces(sawtooth_network(hidden), mode="exact")
    assert result.pieces == result.activation_regions == math.prod(n + 1 for n in hidden)
    assert result.pieces == serra_bound(1, hidden)
    assert all(0 < b < 1 for b in result.breakpoints)


@pytest.mark.parametrize("n", [3, 4, 7])
def test_tooth_map_values(n):
    # G evaluated by its formula: alternating 0/1 at the breakpoints, G(0) = 2.
    t, s, c, beta = tooth_map(n)

    def g(u):
        return beta + sum(ck * max(sk * (u - tk), 0) for tk, sk, ck in zip(t, s, c))

    assert [g(tk) for tk in t] == [k % 2 for k in range(n)]
    assert g(Fraction(0)) == 2 and g(Fraction(1)) in (0, 1)


def chebyshev_reference(depth, x):
    cheb = np.polynomial.chebyshev.Chebyshev.basis
    return cheb(2**depth)(x) + sum(np.maximum(cheb(2**k)(x), 0) for k in range(1, depth))


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_chebyshev_network(depth):
    net = chebyshev_network(depth)
    x = np.linspace(-1.2, 1.2, 101)
    assert np.allclose(net.evaluate(x[:, None])[:, 0], chebyshev_reference(depth, x))
    result = qexpr.count_pieces(net, mode="exact")
    assert result.pieces == 2**depth - 1 and result.degree == 2**depth
    assert result.degree == spline_bound(net).degree
    roots = sorted(
        np.cos((2 * j - 1) * np.pi / 2 ** (k + 1))
        for k in range(1, depth)
        for j in range(1, 2**k + 1)
    )
    assert np.allclose(result.breakpoints, roots)


@pytest.mark.parametrize(("hidden", "depth"), [([3], 2), ([3], 3), ([3, 3], 2), ([4], 2)])
def test_sawtooth_chebyshev(hidden, depth):
    result = qexpr.count_pieces(sawtooth_chebyshev_network(hidden, depth), mode="exact")
    assert result.pieces == math.prod(n + 1 for n in hidden) * (2**depth - 1)
    assert result.degree == 2**depth


@given(st.sampled_from(["relu", "square"]), widths(max_depth=3, max_width=3), st.data())
def test_inclusions_exact(kind, shape, data):
    net = qexpr.random_network(kind, shape, seed=data.draw(st.integers(0, 2**32 - 1)))
    quad = embed_in_quadratic(net)
    assert all(layer.neuron == "quadratic" for layer in quad.layers)
    points = np.array(data.draw(rational_points()), dtype=object)[:, None]
    assert quad.evaluate_exact(points).tolist() == net.evaluate_exact(points).tolist()


def test_bad_arguments():
    with pytest.raises(qexpr.QexprValueError, match="at least 3"):
        sawtooth_network([2])
    with pytest.raises(qexpr.QexprValueError, match="depth"):
        chebyshev_network(0)
    with pytest.raises(qexpr.QexprValueError, match="conventional"):
        embed_in_quadratic(qexpr.random_network("quadratic", [1, 2, 1]))
