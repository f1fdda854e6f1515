"""``to_dict(exact_output=True)``: breakpoints and pieces leave the process exactly."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

import qexpr


def _array(rows: list) -> np.ndarray:
    return np.array(rows, dtype=object)


def _square_minus(c: F) -> qexpr.Network:
    """relu(x^2 - c), hand-derived breakpoints ±sqrt(c)."""
    layer = qexpr.QuadraticLayer(
        wr=_array([[1]]),
        br=_array([0]),
        wg=_array([[1]]),
        bg=_array([0]),
        wb=_array([[0]]),
        c=_array([-c]),
        activation="relu",
    )
    return qexpr.Network(1, (layer,))


@pytest.mark.parametrize("mode", ["auto", "exact"])
def test_irrational_breakpoints_as_polynomial_and_interval(mode):
    record = qexpr.count_pieces(_square_minus(F(2)), mode=mode).to_dict(exact_output=True)
    signs = []
    for point in record["exact_breakpoints"]:
        assert [int(c) for c in point["poly"]] == [-2, 0, 1]
        lo, hi = (F(v) for v in point["interval"])
        assert lo * lo <= 2 <= hi * hi or hi * hi <= 2 <= lo * lo  # isolates ±sqrt(2)
        signs.append(lo + hi > 0)
    assert signs == [False, True]


@pytest.mark.parametrize("mode", ["auto", "exact"])
def test_breakpoints_beyond_float_range_are_exact(mode):
    big = F(10) ** 400
    layer = qexpr.LinearLayer(w=_array([[1]]), b=_array([-big]), activation="relu")
    result = qexpr.count_pieces(qexpr.Network(1, (layer,)), mode=mode)
    record = result.to_dict(exact_output=True)
    assert record["exact_breakpoints"] == [str(big)]
    assert record["breakpoints"] == [str(big)]  # beyond float64: the exact string, never inf
    assert [p["polys"] for p in record["exact_pieces"]] == [[["0"]], [[str(-big), "1"]]]
    assert record["exact_pieces"][0]["left"] is None and record["exact_pieces"][1]["right"] is None


def test_piece_coefficients_evaluate_to_the_network_exactly():
    net = qexpr.random_network("quadratic", [1, 3, 2, 1], seed=2)
    record = qexpr.count_pieces(net).to_dict(exact_output=True)
    form = qexpr.spline_form(net)
    for piece, exact in zip(record["exact_pieces"], form.piece_list):
        lo = exact.left if exact.left is None else exact.left.interval[1]
        hi = exact.right if exact.right is None else exact.right.interval[0]
        x = (
            (lo - 1 if hi is None else hi - 1)
            if lo is None
            else (lo + 1 if hi is None else (lo + hi) / 2)
        )
        coeffs = [F(c) for c in piece["polys"][0]]
        value = sum(c * x**k for k, c in enumerate(coeffs))
        assert value == net.evaluate_exact(np.array([[x]], dtype=object))[0][0]
