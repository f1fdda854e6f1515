"""Leading terms: the degree of each pre-activation on a cell and its top coefficient.

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
network as stored (ε from :func:`qexpr.spline._float.rounding_bound`). When the computed
coefficient is larger than that, the degree is proved to be D; otherwise the top terms
may cancel and float64 cannot tell (the float engine counts it as unresolved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qexpr._neurons import NeuronType

__all__ = ["Leading", "leading_terms"]


class _FloatLayer(Protocol):
    """What is read of a float engine layer (:mod:`qexpr.spline._float`)."""

    neuron: NeuronType
    activation: str
    weights: dict[str, np.ndarray]
    abs_weights: dict[str, np.ndarray]


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

    Inputs are grouped by degree (a network has few distinct degrees): one 0/1 matrix
    product finds which outputs each degree reaches, two more sum its top coefficients
    and envelopes; the highest degree reached wins.
    """
    cells = len(h.degree)
    degree = np.full((cells, w.shape[1]), -np.inf)
    coefficient, envelope = np.zeros(degree.shape), np.zeros(degree.shape)
    nonzero = (w != 0).astype(np.float64)
    levels = np.union1d(h.degree[np.isfinite(h.degree)], [0.0])
    for level in levels:
        at = h.degree == level
        reaches = (at.astype(np.float64) @ nonzero) > 0
        c = np.where(at, h.coefficient, 0.0) @ w
        e = np.where(at, h.envelope, 0.0) @ a
        if level == 0:
            reaches, c, e = reaches | (b != 0), c + b, e + np.abs(b)
        degree = np.where(reaches, level, degree)
        coefficient = np.where(reaches, c, coefficient)
        envelope = np.where(reaches, e, envelope)
    return Leading(degree, coefficient, envelope)


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
