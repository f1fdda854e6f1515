"""The float engine for ReLU networks (``qexpr/spline/_linear.py``) and float mode's
dispatch (``qexpr/spline/_count.py``) against independent computations.

Reference: the exact engine (:func:`qexpr.spline._exact.exact_cells`, rational arithmetic)
on the same float64 weights. Whenever float mode reports ``unresolved == 0`` its cells,
activation patterns, cell ends and output slopes and intercepts must be the exact ones
(ends and outputs to within float64 rounding); ``unresolved > 0`` is the documented way to
say the counts may be wrong. Networks: random ones, and adversarial ones (roots shared by
several neurons, roots 10^-6 apart, zero weights and biases, exactly equal neighbouring
outputs, weights over 10^±6) on several domains.
"""

from __future__ import annotations

import gc
import math
import weakref
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qexpr
from qexpr.spline import _count, _linear, _scale
from qexpr.spline._exact import exact_cells

roots = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 2.5, 1e-6, -1e-6]),
    st.builds(lambda k: k * 1e-6, st.integers(-3, 3)),
    st.builds(lambda k: k / 7, st.integers(-14, 14)),
    st.floats(-5, 5),
)
slopes = st.one_of(
    st.sampled_from([1.0, -1.0, 2.0, -0.5, 1e6, -1e-6, 1 / 3, 0.0]),
    st.floats(-4, 4).map(lambda v: v if abs(v) > 1e-3 else 0.0),
)
mixing = st.one_of(
    st.sampled_from([0.0, 0.0, 1.0, -1.0, 0.5, -2.0, 1 / 7]),
    st.floats(-3, 3).map(lambda v: v if abs(v) > 1e-3 else 0.0),
)
biases = st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.25]), st.floats(-2, 2))


@st.composite
def relu_networks(draw: st.DrawFn) -> qexpr.Network:
    """A float64 ReLU network 1-n1-...-nk-o: first-layer roots drawn from shared and
    clustered values, later layers with many zero weights (neurons that switch without
    reaching the output: equal neighbouring outputs), a linear output layer."""
    width = draw(st.integers(1, 5))
    first = [(draw(slopes), draw(roots)) for _ in range(width)]
    layers = [
        qexpr.LinearLayer(
            w=np.array([[s] for s, _ in first]),
            b=np.array([-s * r for s, r in first]),
            activation="relu",
        )
    ]
    for _ in range(draw(st.integers(0, 3))):
        fan_in, width = width, draw(st.integers(1, 5))
        w = [[draw(mixing) for _ in range(fan_in)] for _ in range(width)]
        layers.append(
            qexpr.LinearLayer(
                w=np.array(w), b=np.array([draw(biases) for _ in range(width)]), activation="relu"
            )
        )
    outputs = draw(st.integers(1, 2))
    w = [[draw(mixing) for _ in range(width)] for _ in range(outputs)]
    layers.append(qexpr.LinearLayer(w=np.array(w), b=np.array([draw(biases)] * outputs)))
    return qexpr.Network(1, tuple(layers))


domains = st.sampled_from([None, (-2.0, 1.0), (-30.5, 30.5), (-1e-6, 1e6), (-1 / 3, 0.5)])


def _runs(patterns: np.ndarray) -> np.ndarray:
    """Indices of the first cell of each run of equal patterns."""
    keep = np.ones(len(patterns), dtype=bool)
    keep[1:] = np.any(patterns[1:] != patterns[:-1], axis=1)
    return np.flatnonzero(keep)


def _assert_matches_exact(net: qexpr.Network, domain: tuple[float, float] | None) -> int:
    """Compare float cells with the exact engine's; returns ``unresolved``."""
    cells, slope, intercept, slope_env, intercept_env = _linear.linear_cells(net, domain)
    if cells.unresolved:
        return cells.unresolved
    exact_domain = None if domain is None else tuple(Fraction(v) for v in domain)
    exact = exact_cells(net, exact_domain)
    runs = _runs(cells.patterns)
    assert [tuple(map(bool, cells.patterns[i])) for i in runs] == [c.pattern for c in exact]
    lefts = [-math.inf if c.left is None else float(c.left) for c in exact]
    np.testing.assert_allclose(cells.left[runs], lefts, rtol=1e-9, atol=1e-12)
    for i, cell in zip(runs, exact):
        for j, poly in enumerate(cell.outputs):
            c0, c1 = (float(v) for v in ([*poly.coeffs(), 0, 0][:2]))
            assert abs(intercept[i, j] - c0) <= 1e-9 * intercept_env[i, j] + 1e-300
            assert abs(slope[i, j] - c1) <= 1e-9 * slope_env[i, j] + 1e-300
    return 0


@given(relu_networks(), domains)
def test_linear_cells_are_the_exact_cells_or_unresolved(net, domain):
    _assert_matches_exact(net, domain)


@settings(max_examples=12)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([[1, 8, 8, 8, 8, 1], [1, 6, 6, 6, 6, 6, 6, 1], [1, 12, 12, 1]]),
    domains,
)
def test_random_deep_networks_match_the_exact_cells(seed, widths, domain):
    net = qexpr.random_network("relu", widths, seed=seed, exact=False)
    assert _assert_matches_exact(net, domain) == 0


@given(relu_networks(), domains)
def test_float_mode_is_the_exact_count_or_unresolved(net, domain):
    fast = qexpr.count_pieces(net, "float", domain)
    exact = qexpr.count_pieces(net, "exact", domain)
    if fast.unresolved == 0:
        assert (fast.pieces, fast.activation_regions, fast.degree) == (
            exact.pieces,
            exact.activation_regions,
            exact.degree,
        )
        np.testing.assert_allclose(
            fast.breakpoints, [float(b) for b in exact.spline.breakpoints], rtol=1e-9, atol=1e-12
        )
        assert [r.pattern for r in fast.spline.region_list] == [
            r.pattern for r in exact.spline.region_list
        ]
        assert [p.degree for p in fast.spline.piece_list] == [
            p.degree for p in exact.spline.piece_list
        ]


def test_switch_that_reaches_no_output_joins_the_pieces():
    # relu(x + 2) and relu(x - 1); the next layer reads relu(x + 2) + 1/2 (always on) and
    # relu(x - 1) - 100 (off everywhere). The switch at x = 1 reaches no output: the
    # outputs on both sides are one polynomial, which only the structure proves (the float
    # values are equal, so nothing shows a difference): one region more than pieces on a
    # domain without x = 101, where the second neuron turns on.
    net = qexpr.Network(
        1,
        (
            qexpr.LinearLayer(
                w=np.array([[1.0], [1.0]]), b=np.array([2.0, -1.0]), activation="relu"
            ),
            qexpr.LinearLayer(
                w=np.array([[1.0, 0.0], [0.0, 1.0]]), b=np.array([0.5, -100.0]), activation="relu"
            ),
            qexpr.LinearLayer(w=np.array([[2.0, 3.0]]), b=np.array([0.5])),
        ),
    )
    for domain, pieces, regions in [((-4.0, 4.0), 2, 3), ((-1.5, 30.0), 1, 2), (None, 3, 4)]:
        fast = qexpr.count_pieces(net, "float", domain)
        exact = qexpr.count_pieces(net, "exact", domain)
        assert fast.unresolved == 0
        assert (fast.pieces, fast.activation_regions) == (exact.pieces, exact.activation_regions)
        assert (fast.pieces, fast.activation_regions) == (pieces, regions)


@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.floats(2.0**-14, 2.0**14),
            st.floats(-(2.0**14), -(2.0**-14)),
            st.sampled_from([2.0**-10, -(2.0**10), 2.0**-11, 1e300, 1e-300]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_input_scale_is_the_rounded_mean_of_logarithms(weights):
    net = qexpr.Network(
        1,
        (
            qexpr.LinearLayer(
                w=np.array([[v] for v in weights]), b=np.zeros(len(weights)), activation="relu"
            ),
            qexpr.LinearLayer(w=np.ones((1, len(weights))), b=np.zeros(1)),
        ),
    )
    logs = [math.log2(abs(v)) for v in weights if v != 0]
    k = -round(sum(logs) / len(logs)) if logs else 0
    assert _scale.input_scale(net) == (k if abs(k) > _scale.SCALE_EXPONENT else 0)


@pytest.mark.parametrize(
    "domain", [(-0.0, 2.0), [-1.5, 2.0], (-30.5, 30.5), (1e-300, 1.0), (-1.0, 5e-324)]
)
def test_float_pair_domains_read_as_the_general_check_reads_them(domain):
    general = _count._check_domain(domain, exact=True)
    fast = _count._check_domain(domain, exact=False)
    assert fast == (float(general[0]), float(general[1]))
    assert [math.copysign(1.0, v) for v in fast] == [math.copysign(1.0, float(v)) for v in general]


@pytest.mark.parametrize("domain", [(1.0, 1.0), (math.nan, 1.0), (-math.inf, 0.0), (True, 2.0)])
def test_float_pair_domains_that_are_not_pass_to_the_general_check(domain):
    with pytest.raises(qexpr.QexprError):
        _count._check_domain(domain, exact=False)


def test_region_count_compares_whole_rows():
    rng = np.random.default_rng(3)
    for width in (0, 1, 7, 64, 100):
        patterns = rng.random((40, width)) > 0.7
        patterns[5:9] = patterns[4]
        expected = 1 + int(np.count_nonzero(np.any(patterns[1:] != patterns[:-1], axis=1)))
        assert _count._region_count(patterns) == expected


def test_prepared_float_forms_are_kept_with_their_network():
    net = qexpr.random_network("relu", [1, 5, 5, 1], seed=1, exact=False)
    first = qexpr.count_pieces(net, "float", (-3.0, 3.0))
    prepared = _linear.linear_network(net)
    assert _linear.linear_network(net) is prepared  # built once, kept with the network
    again = qexpr.count_pieces(net, "float", (-3.0, 3.0))
    assert again.to_dict() == first.to_dict()
    twin = qexpr.network_from_dict(qexpr.network_to_dict(net))
    assert qexpr.count_pieces(twin, "float", (-3.0, 3.0)).to_dict() == first.to_dict()
    assert _linear.linear_network(twin) is not prepared
    probe = weakref.ref(net)
    del net, first, again
    gc.collect()
    assert probe() is None  # no module keeps the network (or what was derived from it)


def test_derived_calls_make_once_per_network():
    calls = []

    def make(net):
        calls.append(net)
        return len(calls)

    a, b = (qexpr.random_network("relu", [1, 2, 1], seed=s) for s in (0, 1))
    assert (a.derived(make), a.derived(make), b.derived(make)) == (1, 1, 2)
    assert calls == [a, b]


@pytest.mark.parametrize("domain", [None, (-30.5, 30.5)])
def test_linear_cells_without_relu_layers(domain):
    net = qexpr.Network(1, (qexpr.LinearLayer(w=np.array([[2.0]]), b=np.array([1.0])),))
    cells, slope, intercept, _, _ = _linear.linear_cells(net, domain)
    assert len(cells.left) == 1 and cells.relu_layers == () and cells.unresolved == 0
    assert (slope[0, 0], intercept[0, 0]) == (2.0, 1.0)
