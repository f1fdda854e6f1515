"""The certified piecewise-linear engine (``qexpr/spline/_pwl.py``) against the exact engine.

Networks are conventional ReLU networks with float64 weights drawn from adversarial
families: roots shared by several neurons ({0, ±1}), clustered (k·10^-6), far apart
(10^±6), sevenths rounded to float64, weights over 10^±6 (and 10^-200, which the engine
hands to the general hybrid engine), tiny offsets (10^-24), zero weights and zero biases
(exactly coincident breakpoints at 0). Property: the default mode (hybrid, which runs this
engine) gives exactly the exact engine's cells, pieces and JSON.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qexpr
from qexpr.spline import _modular, _pwl
from qexpr.spline._exact import exact_cells

roots = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 1e6, 1e-6, -1e-6]),
    st.builds(lambda k: k * 1e-6, st.integers(-3, 3)),
    st.builds(lambda k: k / 7, st.integers(-8, 8)),
)
scales = st.one_of(
    st.sampled_from([1.0, -1.0, 2.0, 1e6, 1e-6, -1e-6, 1 / 7, 0.0, 1e-200]),
    st.builds(lambda e, s: s * 10.0**e, st.floats(-6, 6), st.sampled_from([1.0, -1.0])),
)
offsets = st.one_of(
    st.just(0.0), st.builds(lambda k: k * 1e-6, st.integers(-2, 2)), st.just(-1e-24)
)
mixing = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 1 / 7, -3 / 7, 1e-6, 1e6, 2.0]),
    st.floats(-3, 3).map(lambda v: v if abs(v) > 1e-9 else 0.0),
)


@st.composite
def relu_networks(draw: st.DrawFn) -> qexpr.Network:
    """A float64 conventional network: an adversarial first layer, mixing ReLU layers and
    a linear output layer (1 or 2 outputs)."""
    width = draw(st.integers(1, 5))
    first = [(draw(scales), draw(roots), draw(offsets)) for _ in range(width)]
    layers = [
        qexpr.LinearLayer(
            w=np.array([[s] for s, _, _ in first]),
            b=np.array([-s * r + c for s, r, c in first]),
            activation="relu",
        )
    ]
    for _ in range(draw(st.integers(0, 3))):
        fan_in, width = width, draw(st.integers(1, 5))
        w = [[draw(mixing) for _ in range(fan_in)] for _ in range(width)]
        b = [draw(st.one_of(offsets, roots)) for _ in range(width)]
        layers.append(qexpr.LinearLayer(w=np.array(w), b=np.array(b), activation="relu"))
    outputs = draw(st.integers(1, 2))
    w = [[draw(mixing) for _ in range(width)] for _ in range(outputs)]
    layers.append(qexpr.LinearLayer(w=np.array(w), b=np.zeros(outputs)))
    return qexpr.Network(1, tuple(layers))


domains = st.one_of(
    st.none(),
    st.tuples(st.sampled_from([-2.0, -1e-6, -1 / 3, -30.5]), st.sampled_from([1.0, 1e6, 0.5])),
    st.just((Fraction(-1, 3), Fraction(2, 3))),
)


def _same_cells(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        x.left == y.left
        and x.right == y.right
        and x.outputs == y.outputs
        and x.pattern == y.pattern
        for x, y in zip(a, b)
    )


def _summary(result: qexpr.PieceCount) -> dict:
    summary = result.to_dict(exact_output=True)
    del summary["mode"], summary["exact_cells"]
    return summary


@given(relu_networks(), domains)
def test_pwl_cells_are_the_exact_cells(net, domain):
    exact_domain = None if domain is None else tuple(Fraction(v) for v in domain)
    result = _pwl.pwl_cells(net, exact_domain)
    assert _same_cells(result.cells, exact_cells(net, exact_domain))


@given(relu_networks(), domains)
def test_default_mode_equals_exact_mode(net, domain):
    auto = qexpr.count_pieces(net, domain=domain)
    exact = qexpr.count_pieces(net, "exact", domain=domain)
    assert auto.mode == "hybrid" and auto.certified
    assert _summary(auto) == _summary(exact)
    assert auto.spline.breakpoints == exact.spline.breakpoints  # exact RealAlgebraic equality


@given(
    st.lists(
        st.one_of(st.just(0.0), st.floats(1e-6, 4), st.floats(-4, -1e-6)), min_size=2, max_size=12
    ),
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
)
def test_zero_biases_coincide_exactly_and_are_certified(first, depth, seed):
    """All breakpoints at 0 (no biases): certified without any exact re-solve (weights in
    float64's safe range; others go to the general engine)."""
    rng = np.random.default_rng(seed)
    layers = [
        qexpr.LinearLayer(
            w=np.array([[v] for v in first]), b=np.zeros(len(first)), activation="relu"
        )
    ]
    width = len(first)
    for _ in range(depth):
        layers.append(
            qexpr.LinearLayer(w=rng.standard_normal((4, width)), b=np.zeros(4), activation="relu")
        )
        width = 4
    layers.append(qexpr.LinearLayer(w=rng.standard_normal((1, width)), b=np.zeros(1)))
    net = qexpr.Network(1, tuple(layers))
    result = _pwl.pwl_cells(net)
    assert result.exact_cells == 0
    assert _same_cells(result.cells, exact_cells(net))


def test_random_networks_need_no_exact_re_solve():
    for widths in ([1, 16, 16, 16, 16, 1], [1, 32, 32, 32, 1]):
        net = qexpr.random_network("relu", widths, seed=0, exact=False)
        result = qexpr.count_pieces(net, domain=(-30.5, 30.5))
        assert result.exact_cells == 0
        assert _summary(result) == _summary(qexpr.count_pieces(net, "exact", domain=(-30.5, 30.5)))


def test_uncertain_cell_is_handed_to_the_exact_re_solve(monkeypatch):
    """Two neurons whose roots are both 1/3 (3x - 1 and 6x - 2): float64 cannot separate
    the two inexact roots, so the cell holding them is re-solved exactly."""
    calls = []

    def recording(net, domain, cache):
        calls.append(domain)
        return exact_cells(net, domain, cache)

    monkeypatch.setattr(_pwl, "exact_cells", recording)
    net = qexpr.Network(
        1,
        (
            qexpr.LinearLayer(
                w=np.array([[3.0], [6.0], [1.0]]), b=np.array([-1.0, -2.0, 5.0]), activation="relu"
            ),
            qexpr.LinearLayer(w=np.array([[1.0, -1.0, 0.5]]), b=np.array([0.0]), activation="relu"),
            qexpr.LinearLayer(w=np.array([[2.0]]), b=np.array([1.0])),
        ),
    )
    result = _pwl.pwl_cells(net)
    assert result.exact_cells > 0
    [(lo, hi)] = calls
    assert (lo is None or lo < Fraction(1, 3)) and (hi is None or Fraction(1, 3) < hi)
    assert _same_cells(result.cells, exact_cells(net))


def test_rational_weights_off_float64_use_the_general_engine(monkeypatch):
    calls = []
    general = _pwl.hybrid_cells
    monkeypatch.setattr(_pwl, "hybrid_cells", lambda *a: calls.append(a) or general(*a))
    layer = qexpr.LinearLayer(
        w=np.array([[Fraction(1, 3)], [Fraction(1)]], dtype=object),
        b=np.array([Fraction(1), Fraction(-1, 2)], dtype=object),
        activation="relu",
    )
    out = qexpr.LinearLayer(
        w=np.array([[Fraction(1), Fraction(-2)]], dtype=object),
        b=np.array([Fraction(0)], dtype=object),
    )
    net = qexpr.Network(1, (layer, out))
    result = _pwl.pwl_cells(net)
    assert len(calls) == 1
    assert _same_cells(result.cells, exact_cells(net))


def test_exact_float_rationals_take_the_certified_path():
    """Fraction weights that are float64 values (k/2^n) are read as floats, exactly."""
    net = qexpr.random_network("relu", [1, 6, 6, 1], seed=3, exact=False)
    exact_net = net.to_exact()
    result = _pwl.pwl_cells(exact_net)
    assert result.exact_cells == 0
    assert _same_cells(result.cells, exact_cells(exact_net))


@given(
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.floats(0, 12),
)
def test_radii_bound_the_rounding_error(m, n, seed, spread):
    """Slopes and intercepts of one layer, in float with radii, against Fractions."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-spread, spread, (m, n))
    w = rng.standard_normal((m, n)) * scale
    b = rng.standard_normal(n) * 10.0 ** rng.uniform(-spread, spread, n)
    h_s, h_c = rng.standard_normal((3, m)), rng.standard_normal((3, m)) * 100
    r_s, r_c = np.abs(h_s) * 1e-12, np.zeros((3, m))
    cells = replace(
        _pwl._domain_cells(None),
        values=np.stack([h_s, r_s, h_c, r_c]),
        unsure=np.zeros(3, dtype=bool),
    )
    (s, s_rad, c, c_rad), _ = _pwl._pre_activation(cells, w, b, np.abs(w))
    for i in range(3):
        for j in range(n):
            worst_s = sum(
                abs(Fraction(w[k, j])) * Fraction(r_s[i, k]) for k in range(m)
            )  # inputs may be off by their radius
            exact_s = sum(Fraction(h_s[i, k]) * Fraction(w[k, j]) for k in range(m))
            exact_c = sum(Fraction(h_c[i, k]) * Fraction(w[k, j]) for k in range(m)) + Fraction(
                b[j]
            )
            assert abs(Fraction(s[i, j]) - exact_s) + worst_s <= Fraction(s_rad[i, j])
            assert abs(Fraction(c[i, j]) - exact_c) <= Fraction(c_rad[i, j])


@pytest.mark.parametrize(
    "value", [0.0, 1.0, 2.0**51 + 3.0, 2.0**52 - 1.0, -(2.0**52) + 1.0, 12345678901.0]
)
def test_modular_reduction_is_exact(value):
    """A residue of the right class and of size at most 1.5 p, for |x| < 2^52."""
    ints = [_modular.Integers.of(np.ones((1, 1)), np.zeros(1))]
    modular = _modular.Modular(ints)
    x = np.full((len(modular.primes), 1, 1), value)
    reduced = modular._reduce(x)[:, 0, 0]
    for r, p in zip(reduced.tolist(), modular.primes.tolist()):
        assert r == int(r) and (int(r) - int(value)) % p == 0 and abs(r) <= 1.5 * p


@pytest.mark.parametrize("block", [1, 7, 50])
@pytest.mark.parametrize("dense", [0, 2**24])
def test_block_size_does_not_change_the_cells(monkeypatch, block, dense):
    """Cells are read, and the exact scan runs, a block of cells at a time, with dense or
    row-by-row weights: tiny blocks and either product, the exact engine's cells."""
    net = qexpr.random_network("relu", [1, 12, 12, 12, 2], seed=5, exact=False)
    monkeypatch.setattr(_modular, "BLOCK_VALUES", block)
    monkeypatch.setattr(_pwl, "BLOCK_VALUES", block)
    monkeypatch.setattr(_modular, "DENSE_VALUES", dense)
    assert _same_cells(_pwl.pwl_cells(net).cells, exact_cells(net))


@given(
    st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-6),
    st.floats(-1e6, 1e6),
    st.floats(0, 1e-3),
    st.floats(0, 1e-3),
    st.sampled_from([-1, 1]),
    st.sampled_from([-1, 1]),
)
def test_root_enclosures_hold_the_exact_root(s, c, s_frac, c_frac, s_sign, c_sign):
    """Every root -(c + dc) / (s + ds) with |ds|, |dc| within the radii (the corners, where
    the root is extreme) lies in the enclosure the engine decides with."""
    s_rad, c_rad = abs(s) * s_frac, abs(c) * c_frac
    arrays = [np.array([[v]]) for v in (s, s_rad, c, c_rad)]
    x, lo, hi = _pwl._roots(*arrays)
    assert lo[0, 0] <= x[0, 0] <= hi[0, 0]
    true = -(Fraction(c) + c_sign * Fraction(c_rad)) / (Fraction(s) + s_sign * Fraction(s_rad))
    assert Fraction(lo[0, 0]) <= true <= Fraction(hi[0, 0])
