"""The network model: construction checks, evaluation, random constructors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import networks

import qexpr


def test_layer_shapes_are_checked():
    with pytest.raises(qexpr.QexprValueError, match="b: expected shape"):
        qexpr.LinearLayer(w=np.ones((2, 3)), b=np.ones(3))
    with pytest.raises(qexpr.QexprValueError, match="activation"):
        qexpr.LinearLayer(w=np.ones((2, 3)), b=np.ones(2), activation="tanh")
    with pytest.raises(qexpr.QexprValueError, match="finite"):
        qexpr.LinearLayer(w=np.full((1, 1), np.nan), b=np.ones(1))
    with pytest.raises(qexpr.QexprTypeError, match="dtype"):
        qexpr.LinearLayer(w=np.array([["a"]]), b=np.ones(1))
    with pytest.raises(qexpr.QexprValueError, match="input columns"):
        qexpr.Network(2, (qexpr.LinearLayer(w=np.ones((1, 3)), b=np.ones(1)),))
    with pytest.raises(qexpr.QexprValueError, match="at least one layer"):
        qexpr.Network(1, ())


def test_layers_are_immutable():
    layer = qexpr.LinearLayer(w=np.ones((1, 1)), b=np.zeros(1))
    with pytest.raises(ValueError, match="read-only"):
        layer.w[0, 0] = 2.0
    with pytest.raises(AttributeError):
        layer.activation = "relu"


def test_quadratic_neuron_formula_by_hand():
    layer = qexpr.QuadraticLayer(
        wr=[[1, 2]], br=[3], wg=[[-1, 1]], bg=[2], wb=[[5, -1]], c=[7], activation="relu"
    )
    x = np.array([[Fraction(1, 2), Fraction(-1, 3)]], dtype=object)
    r = Fraction(1, 2) + 2 * Fraction(-1, 3) + 3
    g = -Fraction(1, 2) + Fraction(-1, 3) + 2
    z = r * g + 5 * Fraction(1, 4) - Fraction(1, 9) + 7
    assert layer(x)[0, 0] == max(z, 0)
    compact = qexpr.CompactLayer(wr=[[1, 2]], br=[3], wb=[[5, -1]], c=[7], activation="square")
    assert compact(x)[0, 0] == (r + 5 * Fraction(1, 4) - Fraction(1, 9) + 7) ** 2


@given(networks(), st.lists(st.floats(-4, 4), min_size=1, max_size=5))
def test_float_evaluation_matches_exact(net, xs):
    x = np.array(xs)[:, None]
    exact = net.evaluate_exact(np.array([[Fraction(v)] for v in xs], dtype=object))
    got = net.evaluate(x)
    expected = exact.astype(float)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * (1 + np.abs(expected).max()))


def test_evaluate_checks_shape():
    net = qexpr.random_network("relu", [2, 3, 1])
    with pytest.raises(qexpr.QexprValueError, match=r"shape \(\.\.\., 2\)"):
        net.evaluate(np.ones((4, 3)))


@pytest.mark.parametrize("kind", sorted(qexpr.KINDS))
def test_random_network_structure_and_seed(kind):
    a = qexpr.random_network(kind, [1, 4, 4, 1], seed=3)
    b = qexpr.random_network(kind, [1, 4, 4, 1], seed=3)
    c = qexpr.random_network(kind, [1, 4, 4, 1], seed=4)
    assert qexpr.network_to_dict(a) == qexpr.network_to_dict(b) != qexpr.network_to_dict(c)
    neuron, hidden = qexpr.KINDS[kind]
    assert [la.neuron for la in a.layers] == [neuron] * 3
    assert [la.activation for la in a.layers] == [hidden, hidden, "identity"]
    assert a.widths == (1, 4, 4, 1)
    f = qexpr.random_network(kind, [2, 3, 2], seed=0, exact=False)
    assert not f.is_exact and f.widths == (2, 3, 2)


def test_random_network_rejects_bad_arguments():
    with pytest.raises(qexpr.QexprValueError, match="kind"):
        qexpr.random_network("tanh", [1, 2])
    with pytest.raises(qexpr.QexprValueError, match="widths"):
        qexpr.random_network("relu", [1])
    with pytest.raises(qexpr.QexprValueError, match="widths"):
        qexpr.random_network("relu", [1, 0, 1])


def test_count_pieces_rejects_bad_arguments():
    net = qexpr.random_network("relu", [2, 3, 1])
    with pytest.raises(qexpr.QexprValueError, match="one input"):
        qexpr.count_pieces(net)
    one = qexpr.random_network("relu", [1, 3, 1])
    with pytest.raises(qexpr.QexprValueError, match="mode"):
        qexpr.count_pieces(one, mode="fast")
    with pytest.raises(qexpr.QexprValueError, match="a < b"):
        qexpr.count_pieces(one, domain=(1, 1))
    with pytest.raises(qexpr.QexprTypeError, match="domain"):
        qexpr.count_pieces(one, domain=1.0)
    with pytest.raises(qexpr.QexprTypeError, match="Network"):
        qexpr.count_pieces("net.json")
