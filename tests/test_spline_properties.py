"""Property tests: the spline engines against independent computations."""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np
from hypothesis import assume, given
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
    s = qexpr.spline_form(net, mode="exact")
    values = s.evaluate_exact(points)
    expected = net.evaluate_exact(np.array(points, dtype=object)[:, None])
    assert [list(v) for v in values] == expected.tolist()


@given(networks())
def test_exact_spline_at_its_own_rational_breakpoints(net):
    # At a breakpoint both neighbouring pieces must agree with the network (continuity).
    s = qexpr.spline_form(net, mode="exact")
    for i, b in enumerate(s.breakpoints):
        if b.is_rational:
            q = b.as_fraction()
            arg = flint.fmpq(q.numerator, q.denominator)
            expected = net.evaluate_exact([[q]])[0].tolist()
            for piece in (s.piece_list[i], s.piece_list[i + 1]):
                got = [p(arg) for p in piece.polys]
                assert [Fraction(int(v.p), int(v.q)) for v in got] == expected


@given(networks(), st.data())
def test_float_spline_matches_network(net, data):
    s = qexpr.spline_form(net, mode="float")
    x = np.array(data.draw(st.lists(st.floats(-8, 8), min_size=1, max_size=16)))
    expected = net.evaluate(x[:, None])
    # A piece is a Chebyshev series on an interval fitted to it: its rounding error is
    # relative to the series' size there (its largest coefficient), not to the value at x.
    piece = np.searchsorted(s.float_breakpoints(), x)
    size = np.array([max(np.abs(p.coef).max() for p in s.piece_list[i].polys) for i in piece])
    error = np.abs(s(x) - expected).max(axis=1)
    assert np.all(error <= 1e-9 * (1.0 + size) + 1e-9 * np.abs(expected).max(axis=1))


@given(networks())
def test_exact_and_float_agree(net):
    exact = qexpr.count_pieces(net, mode="exact")
    fl = qexpr.count_pieces(net, mode="float")
    # Float64 may decline (a value below its rounding noise, a flat root): it says so,
    # and then its counts are not claimed. Otherwise they must equal the exact ones.
    assume(fl.unresolved == 0)
    assert (fl.pieces, fl.activation_regions, fl.degree) == (
        exact.pieces,
        exact.activation_regions,
        exact.degree,
    )
    np.testing.assert_allclose(fl.breakpoints, exact.breakpoints, rtol=1e-6, atol=1e-6)
    exact_cells, float_cells = exact.spline.cell_list, fl.spline.cell_list
    assert [c.pattern for c in float_cells] == [c.pattern for c in exact_cells]
    assert [c.degree for c in float_cells] == [c.degree for c in exact_cells]


@given(networks())
def test_degree_within_the_product_bound(net):
    assert qexpr.count_pieces(net).degree <= degree_bound(net)


@given(networks())
def test_pieces_and_regions(net):
    s = qexpr.spline_form(net, mode="exact")
    # Every region carries one polynomial, so pieces never outnumber regions,
    # and adjacent pieces really differ.
    assert len(s.piece_list) <= len(s.region_list)
    for a, b in zip(s.piece_list, s.piece_list[1:]):
        assert a.polys != b.polys


@given(networks())
def test_dense_sampling_never_exceeds_exact_count(net):
    s = qexpr.spline_form(net, mode="exact")
    points = [float(b) for r in s.region_list for b in (r.left, r.right) if b is not None]
    lo, hi = (min(points) - 1, max(points) + 1) if points else (-10.0, 10.0)
    # A generic grid: shifted by an irrational amount so that no point sits exactly on a
    # breakpoint, where a touching (tangent) neuron would read 0 = inactive for one point.
    x = np.linspace(lo, hi, 20001) + np.sqrt(2) * 1e-6
    states = reference_relu_patterns(qexpr.network_to_dict(net), x)
    changes = int(np.count_nonzero(np.any(states[1:] != states[:-1], axis=1)))
    assert changes + 1 <= len(s.region_list)
    # The sampled patterns are among the exact regions' patterns.
    exact_patterns = {r.pattern for r in s.region_list}
    sampled = {tuple(bool(v) for v in row) for row in states}
    assert sampled <= exact_patterns


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 6), min_size=1, max_size=3))
def test_linear_engine_matches_general_float_engine(seed, hidden):
    # Two independent float algorithms on ReLU networks: affine propagation vs Chebyshev.
    from qexpr.spline._float import float_cells
    from qexpr.spline._linear import linear_cells

    net = qexpr.random_network("relu", [1, *hidden, 1], seed=seed, exact=False)
    fast, *_ = linear_cells(net)
    general = float_cells(net)
    assume(fast.unresolved == general.unresolved == 0)

    # The general engine starts with a cut at 0; compare the patterns as region sequences.
    def runs(cells):
        p = cells.patterns
        keep = np.ones(len(p), dtype=bool)
        keep[1:] = np.any(p[1:] != p[:-1], axis=1)
        return p[keep], cells.left[keep]

    (pa, la), (pb, lb) = runs(fast), runs(general)
    assert np.array_equal(pa, pb)
    np.testing.assert_allclose(la[1:], lb[1:], rtol=1e-9, atol=1e-12)


def test_float_engine_in_small_blocks_gives_the_same_cells(monkeypatch):
    # Wide layers are evaluated a block of cells at a time: the block size must not matter.
    from qexpr.spline import _float

    net = qexpr.random_network("quadratic", [1, 12, 6, 1], seed=4, exact=False)
    whole = qexpr.count_pieces(net, mode="float")
    monkeypatch.setattr(_float, "BLOCK_VALUES", 7)
    blocked = qexpr.count_pieces(net, mode="float")
    assert blocked.breakpoints == whole.breakpoints
    assert blocked.activation_regions == whole.activation_regions
