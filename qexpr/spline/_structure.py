"""Structural degrees: the degree a pre-activation has on a cell unless coefficients cancel.

With the ReLU states of a cell held fixed, each pre-activation is a polynomial in the one
input whose degree is at most its *structural degree*, computed from which weights are
nonzero and which neurons are active, never from the weights' values: the input has
degree 1; an affine primitive ``W h + b`` has the largest degree of an input ``h_j`` with
``W[j, i] != 0`` (0 for a nonzero bias alone, ``-inf`` for the zero polynomial); products add
degrees and sums take the largest; an inactive ReLU output is ``-inf``; a square doubles.

The bound is exact arithmetic on the weights as stored (zero tests only), so the true
degree equals it unless the top coefficients cancel. The float engine reads degrees from
coefficients above a rounding tolerance; when it reads less than the structural degree it
cannot tell a cancellation from a tiny coefficient, and says so (``unresolved``).
A structural degree of ``-inf`` proves a pre-activation identically zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qexpr._neurons import NeuronType

__all__ = ["structural_degrees"]


class _FloatLayer(Protocol):
    """What is read of a float engine layer (:mod:`qexpr.spline._float`)."""

    neuron: NeuronType
    activation: str
    weights: dict[str, np.ndarray]


@dataclass(frozen=True)
class _Degree:
    """Degrees (cells, neurons) as floats, ``-inf`` for the zero polynomial: ``+`` takes the
    larger, ``*`` adds (the degree of a product is the sum of the degrees)."""

    value: np.ndarray

    def __add__(self, other: _Degree) -> _Degree:
        return _Degree(np.maximum(self.value, other.value))

    def __mul__(self, other: _Degree) -> _Degree:
        return _Degree(self.value + other.value)


def _affine(degrees: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Structural degree of ``h @ w + b`` for inputs of ``degrees`` (cells, m); w is (m, o).

    One 0/1 matrix product per distinct input degree (a network has few).
    """
    nonzero = (w != 0).astype(np.float64)
    out = np.where(b != 0, 0.0, -np.inf)[None, :].repeat(len(degrees), axis=0)
    for level in np.unique(degrees[np.isfinite(degrees)]):
        reaches = ((degrees == level).astype(np.float64) @ nonzero) > 0
        out = np.where(reaches, np.maximum(out, level), out)
    return out


def _pre_activation(layer: _FloatLayer, degrees: np.ndarray) -> np.ndarray:
    """Structural degrees of a layer's pre-activations from those of its inputs."""
    w = layer.weights

    def affine(m: str, b: str) -> _Degree:
        return _Degree(_affine(degrees, w[m], w[b]))

    def square(m: str, b: str) -> _Degree:
        return _Degree(_affine(2 * degrees, w[m], w[b]))

    return layer.neuron.pre_activation(affine, square).value


def structural_degrees(
    layers: Sequence[_FloatLayer], masks: Sequence[np.ndarray], upto: int, cells: int
) -> np.ndarray:
    """Structural degrees (cells, o) of layer ``upto``'s pre-activations on each cell.

    ``masks[k]`` (cells × o_k) are the ReLU states of layer k, as for
    :func:`qexpr.spline._float.forward_fixed`; ``upto = len(layers)`` gives the outputs.
    """
    degrees = np.ones((cells, 1))
    for k, layer in enumerate(layers):
        z = _pre_activation(layer, degrees)
        if k == upto:
            return z
        if layer.activation == "relu":
            degrees = np.where(masks[k], z, -np.inf)
        elif layer.activation == "square":
            degrees = 2 * z
        else:
            degrees = z
    return degrees
