"""Hand-derived answers on the degenerate networks users hit, in exact and float mode."""

from __future__ import annotations

import math
from fractions import Fraction as F

import flint
import numpy as np
import pytest

import qexpr

MODES = ["exact", "hybrid", "float"]


def quad(wr, br, wg, bg, wb, c, activation="relu") -> qexpr.QuadraticLayer:
    """A quadratic layer from rows of small integers/fractions."""
    arr = lambda v: np.array([[F(x) for x in row] for row in v], dtype=object)  # noqa: E731
    vec = lambda v: np.array([F(x) for x in v], dtype=object)  # noqa: E731
    return qexpr.QuadraticLayer(
        wr=arr(wr), br=vec(br), wg=arr(wg), bg=vec(bg), wb=arr(wb), c=vec(c), activation=activation
    )


def lin(w, b, activation="identity") -> qexpr.LinearLayer:
    return qexpr.LinearLayer(
        w=np.array([[F(x) for x in row] for row in w], dtype=object),
        b=np.array([F(x) for x in b], dtype=object),
        activation=activation,
    )


def net(*layers) -> qexpr.Network:
    return qexpr.Network(1, layers)


def check(network, mode, expected, domain=None):
    """(pieces, regions, degree) equal ``expected``; float mode may instead say it cannot
    tell (``unresolved > 0``: a multiple or shared root is a coincidence float64 cannot
    prove), but never gives a different answer without saying so."""
    r = qexpr.count_pieces(network, mode=mode, domain=domain)
    if mode == "float" and r.unresolved:
        return
    assert r.unresolved == 0
    assert (r.pieces, r.activation_regions, r.degree) == expected


@pytest.mark.parametrize("mode", MODES)
def test_tangent_double_root_does_not_switch(mode):
    # relu((x - 1)^2): (x - 1)(x - 1) >= 0 touches 0 at x = 1 only.
    n = net(quad([[1]], [-1], [[1]], [-1], [[0]], [0]), lin([[1]], [0]))
    check(n, mode, (1, 1, 2))


@pytest.mark.parametrize("mode", MODES)
def test_identically_zero_pre_activation_is_inactive(mode):
    n = net(lin([[0]], [0], "relu"), lin([[3]], [2]))
    r = qexpr.count_pieces(n, mode=mode)
    assert (r.pieces, r.activation_regions, r.degree) == (1, 1, 0)
    assert r.spline.region_list[0].pattern == (False,)


@pytest.mark.parametrize("mode", MODES)
def test_dead_neuron_and_zero_bias_behind_it(mode):
    # z = x * (-x) - 1 < 0 everywhere: the neuron is dead; the next layer sees exactly 0.
    n = net(quad([[1]], [0], [[-1]], [0], [[0]], [-1]), lin([[5]], [0], "relu"), lin([[1]], [0]))
    r = qexpr.count_pieces(n, mode=mode)
    assert (r.pieces, r.activation_regions, r.degree) == (1, 1, 0)
    assert r.spline.region_list[0].pattern == (False, False)


@pytest.mark.parametrize("mode", MODES)
def test_roots_shared_by_two_neurons(mode):
    # relu(x) and relu(2x) switch at the same point: one breakpoint, not two.
    n = net(lin([[1], [2]], [0, 0], "relu"), lin([[1, 1]], [0]))
    r = qexpr.count_pieces(n, mode=mode)
    assert (r.pieces, r.activation_regions, r.degree) == (2, 2, 1)
    assert r.breakpoints == pytest.approx((0.0,), abs=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_root_shared_across_layers(mode):
    # Layer 2 pre-activation 2*relu(x) - 0 vanishes on the whole inactive side and
    # switches at the same point as layer 1.
    n = net(lin([[1]], [0], "relu"), lin([[2]], [0], "relu"), lin([[1]], [0]))
    r = qexpr.count_pieces(n, mode=mode)
    assert (r.pieces, r.activation_regions) == (2, 2)
    assert r.spline.region_list[0].pattern == (False, False)
    assert r.spline.region_list[1].pattern == (True, True)


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_switches(mode):
    # relu(x) - relu(-x) = x: two activation regions, one piece.
    n = net(lin([[1], [-1]], [0, 0], "relu"), lin([[1, -1]], [0]))
    check(n, mode, (1, 2, 1))


@pytest.mark.parametrize("mode", MODES)
def test_zero_weights_everywhere(mode):
    n = net(
        quad([[0]], [0], [[0]], [0], [[0]], [0]),
        quad([[0]], [0], [[0]], [0], [[0]], [0], "identity"),
    )
    check(n, mode, (1, 1, 0))


@pytest.mark.parametrize("mode", MODES)
def test_odd_and_even_multiplicity_roots(mode):
    # Layer 1 computes h = (x, x^2) (identity); layer 2 forms x * x^2 = x^3 (switches at 0)
    # and x^2 * x^2 = x^4 (never switches).
    first = quad([[1], [1]], [0, 0], [[0], [1]], [1, 0], [[0], [0]], [0, 0], "identity")
    second = quad([[1, 0], [0, 1]], [0, 0], [[0, 1], [0, 1]], [0, 0], [[0, 0], [0, 0]], [0, 0])
    n = net(first, second, lin([[1, 1]], [0]))
    r = qexpr.count_pieces(n, mode=mode)
    assert (r.pieces, r.activation_regions, r.degree) == (2, 2, 4)
    assert r.breakpoints == pytest.approx((0.0,), abs=1e-9)


def test_irrational_breakpoints_are_exact():
    # relu(x^2 - 2): breakpoints ±sqrt(2), roots of the irreducible x^2 - 2.
    n = net(quad([[1]], [0], [[1]], [0], [[0]], [-2]), lin([[1]], [0]))
    s = qexpr.spline_form(n)
    assert len(s.piece_list) == 3
    assert [float(b) for b in s.breakpoints] == pytest.approx([-math.sqrt(2), math.sqrt(2)])
    assert all(b.poly == flint.fmpz_poly([-2, 0, 1]) for b in s.breakpoints)
    assert not s.breakpoints[0].is_rational


@pytest.mark.parametrize("mode", MODES)
def test_equal_irrational_roots_of_different_polynomials(mode):
    # x^2 - 2 and 2x^2 - 4 switch at the same two irrational points.
    n = net(quad([[1], [2]], [0, 0], [[1], [1]], [0, 0], [[0], [0]], [-2, -4]), lin([[1, 1]], [0]))
    check(n, mode, (3, 3, 2))


@pytest.mark.parametrize("mode", MODES)
def test_domain_restriction(mode):
    n = net(lin([[1]], [0], "relu"), lin([[1]], [0]))
    check(n, mode, (2, 2, 1), domain=(-1, 1))
    check(n, mode, (1, 1, 1), domain=(1, 2))
    check(n, mode, (1, 1, 0), domain=(-2, -1))
    # A root on the domain's edge is not inside it.
    check(n, mode, (1, 1, 1), domain=(0, 1))
    check(n, mode, (2, 2, 1), domain=("-1/3", "1/3"))


@pytest.mark.parametrize("mode", MODES)
def test_multi_output_pieces(mode):
    # Outputs (relu(x), relu(x - 1)): the vector changes polynomial at 0 and at 1.
    n = net(lin([[1], [1]], [0, -1], "relu"))
    r = qexpr.count_pieces(n, mode=mode)
    assert (r.pieces, r.activation_regions, r.degree) == (3, 3, 1)
    assert r.breakpoints == pytest.approx((0.0, 1.0), abs=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_square_network_is_one_polynomial(mode):
    n = net(
        lin([[1], [2]], [1, -1], "square"), lin([[1, -1]], [F(1, 2)], "square"), lin([[1]], [0])
    )
    check(n, mode, (1, 1, 4))


def test_exact_polynomials_by_hand():
    # relu(x) * relu(x) through a quadratic output: x^2 for x > 0, 0 for x < 0.
    n = net(lin([[1]], [0], "relu"), quad([[1]], [0], [[1]], [0], [[0]], [0], "identity"))
    s = qexpr.spline_form(n)
    assert [p.polys[0] for p in s.piece_list] == [flint.fmpq_poly([]), flint.fmpq_poly([0, 0, 1])]
    assert s.evaluate_exact([F(-3), F(1, 2)]) == [(F(0),), (F(1, 4),)]
