"""Property tests: the spline engines against independent computations."""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import networks, rational_points, reference_relu_patterns

import qexpr


def degree_bound(net: qexpr.Network) -> int:
    """Product over layers of (2 for quadratic/compact, 1 for linear) × (2 for square, 1 else)."""
    return math.prod(
        (1 if la.neuron == "linear" else 2) * (2 if la.activation == "square" else 1)
        for la in net.layers
    )


@given(networks(), rational_points())
def test_exact_spline_equals_exact_network(net, points):
    s = qexpr.spline(net, mode="exact")
    values = s.evaluate_exact(points)
    expected = net.evaluate_exact(np.array(points, dtype=object)[:, None])
    assert [list(v) for v in values] == expected.tolist()


@given(networks())
def test_exact_spline_at_its_own_rational_breakpoints(net):
    # At a breakpoint both neighbouring pieces must agree with the network (continuity).
    s = qexpr.spline(net, mode="exact")
    for i, b in enumerate(s.breakpoints):
        if b.is_rational:
            q = b.as_fraction()
            arg = flint.fmpq(q.numerator, q.denominator)
            expected = net.evaluate_exact([[q]])[0].tolist()
            for piece in (s.pieces[i], s.pieces[i + 1]):
                got = [p(arg) for p in piece.polys]
                assert [Fraction(int(v.p), int(v.q)) for v in got] == expected


@given(networks(), st.data())
def test_float_spline_matches_network(net, data):
    s = qexpr.spline(net, mode="float")
    x = np.array(data.draw(st.lists(st.floats(-8, 8), min_size=1, max_size=16)))
    expected = net.evaluate(x[:, None])
    scale = 1.0 + np.abs(expected).max()
    np.testing.assert_allclose(s(x), expected, rtol=1e-7, atol=1e-7 * scale)


@given(networks())
def test_exact_and_float_agree(net):
    exact = qexpr.count_pieces(net, mode="exact")
    fl = qexpr.count_pieces(net, mode="float")
    assert fl.unresolved == 0
    assert (fl.pieces, fl.activation_regions, fl.degree) == (
        exact.pieces,
        exact.activation_regions,
        exact.degree,
    )
    np.testing.assert_allclose(fl.breakpoints, exact.breakpoints, rtol=1e-6, atol=1e-6)


@given(networks())
def test_degree_within_the_product_bound(net):
    assert qexpr.count_pieces(net).degree <= degree_bound(net)


@given(networks())
def test_pieces_and_regions(net):
    s = qexpr.spline(net, mode="exact")
    # Every region carries one polynomial, so pieces never outnumber regions,
    # and adjacent pieces really differ.
    assert len(s.pieces) <= len(s.regions)
    for a, b in zip(s.pieces, s.pieces[1:]):
        assert a.polys != b.polys


@given(networks())
def test_dense_sampling_never_exceeds_exact_count(net):
    s = qexpr.spline(net, mode="exact")
    points = [float(b) for r in s.regions for b in (r.left, r.right) if b is not None]
    lo, hi = (min(points) - 1, max(points) + 1) if points else (-10.0, 10.0)
    x = np.linspace(lo, hi, 20001)
    states = reference_relu_patterns(qexpr.network_to_dict(net), x)
    changes = int(np.count_nonzero(np.any(states[1:] != states[:-1], axis=1)))
    assert changes + 1 <= len(s.regions)
    # The sampled patterns are among the exact regions' patterns.
    exact_patterns = {r.pattern for r in s.regions}
    sampled = {tuple(bool(v) for v in row) for row in states}
    assert sampled <= exact_patterns
