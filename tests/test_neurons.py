"""The neuron table: a new neuron type needs its row and its Layer class, nothing else.

The test-only *product* neuron ``(wr x + br)(wg x + bg)`` (Fan's neuron without ``wb`` and
``c``) is registered here and counted by the exact and float engines, bounded, saved and
loaded. Its answers are compared with plain Python arithmetic and with the same function
written as a quadratic layer with ``wb = 0, c = 0``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qexpr
from qexpr._network import LAYER_TYPES, Layer
from qexpr._neurons import NEURONS, NeuronType, register_neuron, unregister_neuron


@pytest.fixture(scope="module")
def product_layer():
    register_neuron(
        NeuronType(
            name="product",
            keys=("wr", "br", "wg", "bg"),
            matrices=frozenset({"wr", "wg"}),
            degree=2,
            linear_part=("wr", "br"),
            combine=lambda affine, square: affine("wr", "br") * affine("wg", "bg"),
            formula="(wr x + br)(wg x + bg)",
            reference={"wg": Fraction(0), "bg": Fraction(1)},
            roles={"wg": "g", "bg": "g"},
        )
    )

    @dataclass(frozen=True, eq=False, kw_only=True)
    class ProductLayer(Layer):
        neuron: ClassVar[str] = "product"
        wr: np.ndarray
        br: np.ndarray
        wg: np.ndarray
        bg: np.ndarray

    yield ProductLayer
    LAYER_TYPES.pop("product")
    unregister_neuron("product")


small = st.fractions(min_value=-3, max_value=3, max_denominator=4)


def _product_network(layer_cls, first: list, second: list) -> qexpr.Network:
    (a, b, c, d), (e, f, g, h) = first, second
    hidden = layer_cls(
        wr=np.array([[a], [e]], dtype=object),
        br=np.array([b, f], dtype=object),
        wg=np.array([[c], [g]], dtype=object),
        bg=np.array([d, h], dtype=object),
        activation="relu",
    )
    out = qexpr.LinearLayer(w=np.array([[1, -2]], dtype=object), b=np.array([0], dtype=object))
    return qexpr.Network(1, (hidden, out))


def _as_quadratic(net: qexpr.Network) -> qexpr.Network:
    hidden, out = net.layers
    zeros = hidden.wr * 0
    biases = hidden.br * 0
    quad = qexpr.QuadraticLayer(
        wr=hidden.wr,
        br=hidden.br,
        wg=hidden.wg,
        bg=hidden.bg,
        wb=zeros,
        c=biases,
        activation="relu",
    )
    return qexpr.Network(1, (quad, out))


@given(st.lists(small, min_size=4, max_size=4), st.lists(small, min_size=4, max_size=4))
def test_product_neuron_counts_like_its_quadratic_twin(product_layer, first, second):
    net = _product_network(product_layer, first, second)
    twin = _as_quadratic(net)
    exact = qexpr.count_pieces(net)
    assert exact.pieces == qexpr.count_pieces(twin).pieces
    assert exact.degree == qexpr.count_pieces(twin).degree
    assert qexpr.spline_bound(net) == qexpr.spline_bound(twin)
    floats = qexpr.count_pieces(net, mode="float")
    assert floats.unresolved > 0 or floats.pieces == exact.pieces


@given(st.lists(small, min_size=4, max_size=4), st.lists(small, min_size=4, max_size=4), small)
def test_product_neuron_evaluates_its_formula(product_layer, first, second, x):
    net = _product_network(product_layer, first, second)
    (a, b, c, d), (e, f, g, h) = first, second
    relu = lambda z: max(z, 0)  # noqa: E731
    expected = relu((a * x + b) * (c * x + d)) - 2 * relu((e * x + f) * (g * x + h))
    assert net.evaluate_exact([x])[0] == expected
    spline = qexpr.spline_form(net)
    assert spline.evaluate_exact([x])[0][0] == expected


def test_product_neuron_round_trips_through_the_file_format(product_layer, tmp_path):
    net = _product_network(product_layer, [1, 0, 1, -1], [Fraction(1, 2), 1, 0, 1])
    qexpr.save_network(net, tmp_path / "p.json")
    back = qexpr.load_network(tmp_path / "p.json")
    assert type(back.layers[0]) is product_layer
    assert (
        back.evaluate_exact([[Fraction(3, 7)]]).tolist()
        == net.evaluate_exact([[Fraction(3, 7)]]).tolist()
    )


def test_quadratic_forms_match_the_formula_by_hand():
    # z = (x1 + 2 x2)(3 x1 - x2) + 5 x1² : form [[3 + 5, (-1 + 6)/2], [(-1 + 6)/2, -2]]
    params = {
        "wr": np.array([[Fraction(1), Fraction(2)]], dtype=object),
        "br": np.array([Fraction(1)], dtype=object),
        "wg": np.array([[Fraction(3), Fraction(-1)]], dtype=object),
        "bg": np.array([Fraction(4)], dtype=object),
        "wb": np.array([[Fraction(5), Fraction(0)]], dtype=object),
        "c": np.array([Fraction(7)], dtype=object),
    }
    form = NEURONS["quadratic"].quadratic_forms(params)[0]
    assert form.tolist() == [[8, Fraction(5, 2)], [Fraction(5, 2), -2]]


def test_neuron_names_are_checked():
    with pytest.raises(qexpr.QexprValueError, match="is taken"):
        register_neuron(NEURONS["linear"])
    with pytest.raises(qexpr.QexprValueError, match="built in"):
        unregister_neuron("quadratic")


def _warns(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    return value


def test_old_spellings_warn_and_mean_the_new_ones():
    from qexpr.dimension import theorem2_rows

    old = _warns(lambda: qexpr.neurovariety_dimension("conv", (2, 2, 1), float_check=False))
    new = qexpr.neurovariety_dimension("square", (2, 2, 1), float_check=False)
    assert (old.dimension, old.expected) == (new.dimension, new.expected)
    relu = qexpr.random_network("relu", (1, 3, 1), seed=4)
    linear = _warns(lambda: qexpr.random_network("linear", (1, 3, 1), seed=4))
    assert (
        linear.evaluate_exact([[Fraction(1, 3)]]).tolist()
        == relu.evaluate_exact([[Fraction(1, 3)]]).tolist()
    )
    (row,) = theorem2_rows([(2, 2, 1)])
    assert _warns(lambda: row.conv) is row.square
    assert _warns(lambda: qexpr.run_sweep) is qexpr.sweep.run_sweep
    assert _warns(lambda: qexpr.spline(relu)).piece_list == qexpr.spline_form(relu).piece_list
