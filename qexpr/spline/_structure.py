"""What the float engine proves: its rounding bound, degrees and equal neighbours.

:func:`rounding_bound` bounds the float64 error of a value relative to its magnitude
envelope; :func:`leading_terms` gives each pre-activation's degree on a cell and its top
coefficient; :func:`structurally_same` proves neighbouring cells carry the same outputs,
and :func:`same_outputs` combines it with the rounding bound.

Leading terms: the degree of each pre-activation on a cell and its top coefficient.

With the ReLU states of a cell held fixed, each pre-activation is a polynomial in the one
input. Its *structural degree* D comes from which weights are nonzero and which neurons are
active, never from the weights' values: the input x has degree 1; ``W h + b`` has the
largest degree of an input ``h_j`` with ``W[j, i] != 0`` (0 for a nonzero bias alone,
``-inf`` for the zero polynomial); a product adds degrees, a sum takes the largest; an
inactive ReLU output is ``-inf``; a square doubles. The true degree is at most D.

Beside D we carry the coefficient of ``x^D`` itself, in float64, and its magnitude envelope
(the same computation on absolute values): a product multiplies the two top coefficients,
a sum adds those of the terms of degree D. This is exact algebra on the coefficient of
``x^D``, so the float64 result is within ``ε · envelope`` of the true coefficient of the
network as stored (ε from :func:`rounding_bound`). When the computed
coefficient is larger than that, the degree is proved to be D; otherwise the top terms
may cancel and float64 cannot tell (the float engine counts it as unresolved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qexpr._neurons import NeuronType

__all__ = ["Leading", "leading_terms", "rounding_bound", "same_outputs", "structurally_same"]


class _FloatLayer(Protocol):
    """What is read of a float engine layer (:mod:`qexpr.spline._float`)."""

    neuron: NeuronType
    activation: str
    weights: dict[str, np.ndarray]
    abs_weights: dict[str, np.ndarray]


#: Unit roundoff of float64.
UNIT_ROUNDOFF = 2.0**-53


def rounding_bound(layers: Sequence[_FloatLayer], upto: int, n: int) -> float:
    """ε such that a Chebyshev coefficient of layer ``upto`` from ``n`` values is within
    ``ε · max envelope`` of the exact coefficient of the network as stored.

    The standard bound for an expression of + and × evaluated with at most ``m`` roundings
    along any path: ``|fl(v) - v| <= γ_m · envelope``, ``γ_m = m u / (1 - m u)``
    (u = 2^-53; no overflow or underflow). A layer of fan-in m_k costs at most
    ``m_k + 8`` roundings (the sum, the bias, the product and square terms, the
    squared input and the weight's own rounding to float64). The coefficients are values
    times a matrix whose columns have absolute sums at most 2, computed with ``2 n``
    roundings: ``ε = 2 (γ_m + γ_2n)``, doubled for the envelope's own rounding.
    """
    fan_in = (
        next(v.shape[0] for k, v in la.weights.items() if k in la.neuron.matrices)
        for la in layers[: upto + 1]
    )
    flops = sum(m + 8 for m in fan_in) + 8

    def gamma(k: int) -> float:
        return k * UNIT_ROUNDOFF / (1 - k * UNIT_ROUNDOFF)

    return 4 * (gamma(flops) + gamma(2 * n))


@dataclass(frozen=True)
class Leading:
    """Structural degrees (cells, neurons), ``-inf`` for the zero polynomial, with the
    coefficient of ``x^degree`` and its envelope (both 0 for the zero polynomial)."""

    degree: np.ndarray
    coefficient: np.ndarray
    envelope: np.ndarray

    def __add__(self, other: Leading) -> Leading:
        top = np.maximum(self.degree, other.degree)
        mine, theirs = self.degree == top, other.degree == top
        return Leading(
            top,
            np.where(mine, self.coefficient, 0.0) + np.where(theirs, other.coefficient, 0.0),
            np.where(mine, self.envelope, 0.0) + np.where(theirs, other.envelope, 0.0),
        )

    def __mul__(self, other: Leading) -> Leading:
        return Leading(
            self.degree + other.degree,
            self.coefficient * other.coefficient,
            self.envelope * other.envelope,
        )

    def certain(self, eps: float) -> np.ndarray:
        """Where the degree is proved: zero polynomial, or top coefficient above
        ``eps`` times its envelope."""
        return np.isneginf(self.degree) | (np.abs(self.coefficient) > eps * self.envelope)

    def select(self, keep: np.ndarray) -> Leading:
        """The ReLU outputs: these terms where ``keep``, the zero polynomial elsewhere."""
        return Leading(
            np.where(keep, self.degree, -np.inf),
            np.where(keep, self.coefficient, 0.0),
            np.where(keep, self.envelope, 0.0),
        )


def _affine(h: Leading, w: np.ndarray, a: np.ndarray, b: np.ndarray) -> Leading:
    """Leading terms of ``h @ w + b`` (w (m, o), its absolute values a, bias b (o,)).

    The bias is a term of degree 0; the inputs are grouped by degree (a network has few
    distinct degrees, often one): one 0/1 matrix product finds which outputs each degree
    reaches, two more sum its top coefficients and envelopes; the highest degree wins.
    """
    cells = len(h.degree)
    degree = np.broadcast_to(np.where(b != 0, 0.0, -np.inf), (cells, w.shape[1]))
    coefficient = np.broadcast_to(b, degree.shape)
    envelope = np.broadcast_to(np.abs(b), degree.shape)
    nonzero = (w != 0).astype(np.float64)
    finite = np.isfinite(h.degree)
    levels = np.unique(h.degree[finite])
    for level in levels:
        at = h.degree == level if len(levels) > 1 else finite
        # Terms of other degrees have coefficient and envelope 0 only when alone.
        c = (np.where(at, h.coefficient, 0.0) if len(levels) > 1 else h.coefficient) @ w
        e = (np.where(at, h.envelope, 0.0) if len(levels) > 1 else h.envelope) @ a
        reaches = (at.astype(np.float64) @ nonzero) > 0
        if level == 0:
            c, e = c + coefficient, e + envelope
        degree = np.where(reaches, level, degree)
        coefficient = np.where(reaches, c, coefficient)
        envelope = np.where(reaches, e, envelope)
    return Leading(np.asarray(degree), np.asarray(coefficient), np.asarray(envelope))


def _pre_activation(layer: _FloatLayer, h: Leading) -> Leading:
    """Leading terms of a layer's pre-activations from those of its inputs."""
    w, a = layer.weights, layer.abs_weights
    squared = h * h

    def affine(m: str, b: str) -> Leading:
        return _affine(h, w[m], a[m], w[b])

    def square(m: str, b: str) -> Leading:
        return _affine(squared, w[m], a[m], w[b])

    return layer.neuron.pre_activation(affine, square)


def leading_terms(
    layers: Sequence[_FloatLayer], masks: Sequence[np.ndarray], upto: int, cells: int
) -> Leading:
    """Leading terms (cells, o) of layer ``upto``'s pre-activations on each cell.

    ``masks[k]`` (cells × o_k) are the ReLU states of layer k, as for
    :func:`qexpr.spline._float.forward_fixed`; ``upto = len(layers)`` gives the outputs.
    """
    h = Leading(np.ones((cells, 1)), np.ones((cells, 1)), np.ones((cells, 1)))
    for k, layer in enumerate(layers):
        z = _pre_activation(layer, h)
        if k == upto:
            return z
        if layer.activation == "relu":
            h = z.select(masks[k])
        elif layer.activation == "square":
            h = z * z
        else:
            h = z
    return h


def structurally_same(layers: Sequence[_FloatLayer], masks: Sequence[np.ndarray]) -> np.ndarray:
    """For each pair of adjacent cells, whether their outputs are provably the same
    polynomials from structure alone (states and zero weights, no values).

    A neuron whose state differs between the two cells changes nothing downstream when
    every neuron of the next layer it reaches through a nonzero weight is a ReLU neuron
    inactive in both cells (its output is 0 either way); a differing neuron of the last
    layer reaches the outputs. Neurons of the next layer that differ are checked in turn.
    """
    pairs = max(len(masks[0]) - 1, 0) if masks else 0
    leak = np.zeros(pairs, dtype=bool)
    for k, layer in enumerate(layers):
        if layer.activation != "relu":
            continue
        differ = masks[k][:-1] != masks[k][1:]
        if k + 1 == len(layers):
            leak |= differ.any(axis=1)
            continue
        after = layers[k + 1]
        matrices = [v for key, v in after.weights.items() if key in after.neuron.matrices]
        reach = sum((v != 0).astype(np.float64) for v in matrices)
        fed = (differ.astype(np.float64) @ reach) > 0
        if after.activation == "relu":
            fed &= masks[k + 1][:-1] | masks[k + 1][1:]
        leak |= fed.any(axis=1)
    return ~leak


def same_outputs(
    diff: np.ndarray, envelope: np.ndarray, eps: float, structural: np.ndarray
) -> tuple[np.ndarray, int]:
    """Which neighbours have the same outputs, from differences of their values (or
    coefficients) on one axis-0 row per pair; ``envelope`` bounds the terms of both.

    ``structural`` marks pairs proved equal from structure
    (:func:`structurally_same`). A difference above ``eps`` times
    the envelope proves the polynomials differ (:func:`rounding_bound`). Any other pair is
    read as equal and counted (unresolved): a tiny true difference and rounding look
    alike, even bit for bit (``3/7 + 10^-18`` is ``3/7`` in float64).
    """
    axes = tuple(range(1, diff.ndim))
    differ = np.any(np.abs(diff) > eps * envelope, axis=axes)
    return structural | ~differ, int(np.count_nonzero(~structural & ~differ))
