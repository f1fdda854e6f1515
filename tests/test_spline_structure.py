"""The float engine's error model against exact polynomials (an independent computation).

* leading terms (:mod:`qexpr.spline._structure`): the structural degree bounds the exact
  degree, and where the float top coefficient is above the rounding bound, the degree is
  the exact one and the coefficient is within the bound of the exact leading coefficient;
* the rounding bound (:func:`qexpr.spline._structure.rounding_bound`): float64 values of the
  network with the states of a cell held fixed are within ``ε · envelope`` of the exact
  polynomial's values.

Networks are the adversarial ones (weights over 10^±6, offsets 10^-24, zero weights) and
random ones; cells and polynomials come from the exact engine.
"""

from __future__ import annotations

from fractions import Fraction
from fractions import Fraction as F

import flint
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_spline_adversarial import adversarial_networks

import qexpr
from qexpr.spline._exact import exact_cells
from qexpr.spline._float import forward_fixed, prepare
from qexpr.spline._scale import input_scale, rescale_input
from qexpr.spline._structure import leading_terms, rounding_bound, structurally_same

POINTS = (-3.5, -1.0, -1e-6, 0.0, 0.25, 1.0, 7.0)

random_networks = st.builds(
    lambda kind, widths, seed: qexpr.random_network(kind, widths, seed=seed),
    st.sampled_from(["quadratic", "compact", "relu"]),
    st.sampled_from([[1, 3, 1], [1, 2, 2, 1], [1, 3, 2, 2, 1]]),
    st.integers(0, 1000),
)
networks = st.one_of(adversarial_networks(), random_networks)


def _masks(net: qexpr.Network, pattern: tuple[bool, ...]) -> list[np.ndarray]:
    """Per-layer state arrays (one cell) from a pattern of all ReLU neurons in order."""
    masks, at = [], 0
    for layer in net.layers:
        if layer.activation == "relu":
            masks.append(np.array([pattern[at : at + layer.out_dim]], dtype=bool))
            at += layer.out_dim
        else:
            masks.append(np.zeros((1, layer.out_dim), dtype=bool))
    return masks


def _exact_at(poly: flint.fmpq_poly, x: float) -> Fraction:
    q = Fraction(x)
    value = poly(flint.fmpq(q.numerator, q.denominator))
    return Fraction(int(value.p), int(value.q))


@settings(max_examples=60)
@given(networks)
def test_leading_terms_match_exact_polynomials(net):
    layers = prepare(net)
    eps = rounding_bound(layers, len(layers), 2)
    for cell in exact_cells(net):
        lead = leading_terms(layers, _masks(net, cell.pattern), len(layers), 1)
        certain = lead.certain(eps)[0]
        for j, poly in enumerate(cell.outputs):
            degree = poly.degree()  # -1 for the zero polynomial
            assert max(lead.degree[0, j], -1) >= degree
            if not certain[j]:
                continue
            assert max(lead.degree[0, j], -1) == degree
            if degree >= 0:
                top = poly.coeffs()[-1]
                error = abs(Fraction(lead.coefficient[0, j]) - Fraction(int(top.p), int(top.q)))
                assert error <= Fraction(eps) * Fraction(lead.envelope[0, j])


@settings(max_examples=60)
@given(networks)
def test_float_values_are_within_the_rounding_bound(net):
    layers = prepare(net)
    eps = rounding_bound(layers, len(layers), 2)
    x = np.array([POINTS])
    for cell in exact_cells(net):
        with np.errstate(all="ignore"):
            values, envelope = forward_fixed(layers, x, _masks(net, cell.pattern), len(layers))
        for k, point in enumerate(POINTS):
            for j, poly in enumerate(cell.outputs):
                value, env = values[0, k, j], envelope[0, k, j]
                if not np.isfinite(env):
                    continue  # overflow: outside the model (the engine flags it)
                error = abs(Fraction(value) - _exact_at(poly, point))
                assert error <= Fraction(eps) * Fraction(env)


def _stacked_masks(net: qexpr.Network, patterns: list[tuple[bool, ...]]) -> list[np.ndarray]:
    per_cell = [_masks(net, p) for p in patterns]
    return [np.concatenate(layer) for layer in zip(*per_cell)]


@settings(max_examples=60)
@given(networks)
def test_structurally_same_neighbours_have_equal_exact_polynomials(net):
    cells = exact_cells(net)
    same = structurally_same(prepare(net), _stacked_masks(net, [c.pattern for c in cells]))
    for k, proved in enumerate(same):
        if proved:
            assert cells[k].outputs == cells[k + 1].outputs


def test_structurally_same_sees_a_neuron_behind_a_dead_one():
    # relu(relu(x) - 1): relu(x) switches at 0 where the second neuron is off on both
    # sides (same polynomial 0); at 1 the second neuron switches (different).
    layer = lambda w, b: qexpr.LinearLayer(  # noqa: E731
        w=np.array([[F(w)]], dtype=object), b=np.array([F(b)], dtype=object), activation="relu"
    )
    net = qexpr.Network(1, (layer(1, 0), layer(1, -1)))
    cells = exact_cells(net)
    masks = _stacked_masks(net, [c.pattern for c in cells])
    assert structurally_same(prepare(net), masks).tolist() == [True, False]


@settings(max_examples=40)
@given(networks, st.sampled_from([-40, -11, 11, 40]), st.sampled_from(POINTS))
def test_rescaled_input_is_the_same_function(net, k, u):
    # x = 2^k u: the rescaled network at u equals the network at x, exactly.
    scaled = rescale_input(net, k)
    x = Fraction(u) * Fraction(2) ** k
    assert scaled.evaluate_exact([Fraction(u)]).tolist() == net.evaluate_exact([x]).tolist()


def test_input_scale_reads_the_first_layer():
    net = qexpr.random_network("relu", [1, 4, 1], seed=0)
    assert input_scale(net) == 0  # unit scale: unchanged
    line = qexpr.restrict_to_line(net, [0], ["1e-12"])
    assert input_scale(line) == 40  # 2^40 ≈ 1.1e12
