"""Networks whose only ReLU layer is the first (``qexpr/spline/_first_layer.py``) against the
exact engine: shared roots, roots closer than float64 can tell apart, tangent roots, roots
on the domain's ends, zero and constant neurons; quadratic, compact and linear neurons."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qexpr
from qexpr.spline import _certify
from qexpr.spline._exact import exact_cells
from qexpr.spline._first_layer import first_layer_cells, only_first_layer_relu

TINY = F(1, 2**60)  # 1 and 1 + 2^-60 round to the same float64
#: Roots: shared (0, ±1), closer than float64 resolution, sevenths, far apart.
roots = st.one_of(
    st.sampled_from([F(0), F(1), F(-1), 1 + TINY, 1 - TINY, TINY, F(10**6), F(1, 10**6)]),
    st.builds(lambda k: F(k, 7), st.integers(-8, 8)),
)
scales = st.sampled_from([F(1), F(-1), F(3), F(1, 7), F(10**6), F(0)])
KINDS = {"quadratic": qexpr.QuadraticLayer, "compact": qexpr.CompactLayer}


@st.composite
def neurons(draw: st.DrawFn, kind: str) -> dict[str, F]:
    """``s (x - r1)(x - r2)`` (``r1 == r2``: a tangent root; ``s == 0``: a zero neuron),
    or ``s (x - r1)`` for linear neurons."""
    r1 = draw(roots)
    r2 = draw(st.one_of(st.just(r1), roots))
    s = draw(scales)
    if kind == "quadratic":
        return dict(wr=s, br=-s * r1, wg=F(1), bg=-r2, wb=F(0), c=F(0))
    if kind == "compact":
        return dict(wr=-s * (r1 + r2), br=s * r1 * r2, wb=s, c=F(0))
    return dict(w=s, b=-s * r1)


def _layer(kind: str, rows: list[dict[str, F]], activation: str) -> qexpr.Layer:
    cls = KINDS.get(kind, qexpr.LinearLayer)
    params = {
        key: np.array(
            [[r[key]] for r in rows]
            if key in cls.neuron_type().matrices
            else [r[key] for r in rows],
            dtype=object,
        )
        for key in rows[0]
    }
    return cls(**params, activation=activation)


@st.composite
def networks(draw: st.DrawFn) -> qexpr.Network:
    """A ReLU first layer of 1-12 neurons, then a quadratic or linear output layer (or none)."""
    kind = draw(st.sampled_from(["quadratic", "compact", "linear"]))
    width = draw(st.integers(1, 12))
    first = _layer(kind, [draw(neurons(kind)) for _ in range(width)], "relu")
    tail = draw(st.sampled_from(["none", "linear", "quadratic"]))
    if tail == "none":
        return qexpr.Network(1, (first,))
    outputs = draw(st.integers(1, 2))
    mixing = st.sampled_from([F(0), F(1), F(-1), F(2, 7), F(10**6)])
    draw_matrix = lambda: np.array(  # noqa: E731
        [[draw(mixing) for _ in range(width)] for _ in range(outputs)], dtype=object
    )
    draw_vector = lambda: np.array([draw(mixing) for _ in range(outputs)], dtype=object)  # noqa: E731
    if tail == "linear":
        out = qexpr.LinearLayer(w=draw_matrix(), b=draw_vector(), activation="identity")
    else:
        out = qexpr.QuadraticLayer(
            wr=draw_matrix(),
            br=draw_vector(),
            wg=draw_matrix(),
            bg=draw_vector(),
            wb=draw_matrix(),
            c=draw_vector(),
            activation="identity",
        )
    return qexpr.Network(1, (first, out))


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        (x.left, x.right, x.outputs, x.pattern) == (y.left, y.right, y.outputs, y.pattern)
        for x, y in zip(a, b)
    )


@given(networks(), st.sampled_from([None, (F(-1), F(1)), (F(0), 1 + TINY), (-TINY, F(10**6))]))
def test_first_layer_cells_equal_the_exact_engine(net, domain):
    assert only_first_layer_relu(net)
    assert _same(first_layer_cells(net, domain), exact_cells(net, domain))


@pytest.mark.parametrize("kind", ["quadratic", "relu", "compact"])
@pytest.mark.parametrize("exact", [True, False])
def test_random_networks_equal_the_exact_engine(kind, exact):
    net = qexpr.random_network(kind, [1, 40, 2], seed=3, exact=exact)
    for domain in (None, (F(-1, 3), F(2))):
        assert _same(first_layer_cells(net, domain), exact_cells(net, domain))


def test_the_hybrid_engine_takes_this_path_without_the_float_engine(monkeypatch):
    """No float run: a float engine that fails would leave everything to the exact engine."""

    def refuse(*args):
        raise AssertionError("the float engine ran")

    monkeypatch.setattr(_certify, "float_cells", refuse)
    monkeypatch.setattr(_certify, "linear_cells", refuse)
    net = qexpr.random_network("quadratic", [1, 30, 1], seed=0, exact=False)
    result = _certify.hybrid_cells(net)
    assert result.exact_cells == 0
    assert _same(result.cells, exact_cells(net))


def test_deeper_relu_layers_do_not_take_this_path():
    net = qexpr.random_network("quadratic", [1, 3, 3, 1], seed=0)
    assert not only_first_layer_relu(net)
