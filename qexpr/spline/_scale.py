"""Exact rescaling of a one-input network's input by a power of two.

The float engines measure closeness on the input's own scale with absolute constants
(a half-line ``[a, ∞)`` is mapped with scale ``max(1, |a|)``; breakpoints within ``1e-9``
of each other or of a cell end coincide, relative to ``max(1, |x|)``). A network whose
first layer reads ``x`` at a very different scale (``restrict_to_line(net, [0], [1e-12])``:
breakpoints near 10^12) would then merge every breakpoint with the cut at 0. Writing
``x = S u`` with ``S`` a power of two moves the breakpoints to ``u``'s unit scale; the
first layer's weights on ``x`` become ``w S`` and those on ``x²`` become ``w S²``, which is
exact in float64 (barring overflow) and in rationals, so the network in ``u`` is the
same function and its breakpoints are those in ``x`` divided by ``S``, exactly.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from qexpr._network import Network
from qexpr._neurons import NeuronType

__all__ = ["SCALE_EXPONENT", "input_scale", "rescale_input"]

#: Inputs are rescaled only when their scale is beyond 2^±SCALE_EXPONENT (about 10^±3):
#: networks on the unit scale run unchanged.
SCALE_EXPONENT = 10


def _input_powers(neuron: NeuronType) -> dict[str, int]:
    """The power of the input each matrix of a neuron type multiplies (1 or 2)."""
    powers: dict[str, int] = {}

    def affine(w: str, b: str) -> int:
        powers[w] = 1
        return 0

    def square(w: str, c: str) -> int:
        powers[w] = 2
        return 0

    neuron.pre_activation(affine, square)
    return powers


def input_scale(net: Network) -> int:
    """The exponent k of ``S = 2^k``: minus the rounded mean of ``log2 |w|^(1/p)`` over
    the first layer's nonzero weights w on ``x^p``, or 0 when that is within
    :data:`SCALE_EXPONENT` of 0."""
    first = net.layers[0]
    powers = _input_powers(first.neuron_type())
    if all(_near_unit(getattr(first, key), power) for key, power in powers.items()):
        return 0
    logs = [
        math.log2(abs(float(value))) / power
        for key, power in powers.items()
        for value in first.params[key].flat
        if 0 < abs(float(value)) < math.inf
    ]
    k = -round(sum(logs) / len(logs)) if logs else 0
    return k if abs(k) > SCALE_EXPONENT else 0


def _near_unit(weights: np.ndarray, power: int) -> bool:
    """True when every weight is 0 or has ``|w|^(1/power)`` within ``2^±SCALE_EXPONENT``
    of 1 (float64 arrays only): then so is the mean of the logarithms, and the scale
    exponent is 0 without computing them."""
    if weights.dtype != np.float64:
        return False
    size = np.abs(weights)
    bound = 2.0 ** (SCALE_EXPONENT * power)
    if size.max() > bound:
        return False
    return size.min() >= 1 / bound or bool(((size == 0) | (size >= 1 / bound)).all())


def rescale_input(net: Network, k: int) -> Network:
    """The network of ``u`` with ``x = 2^k u`` (the same function, exactly)."""
    if k == 0:
        return net
    first = net.layers[0]
    scale = Fraction(2) ** k

    def times(array: np.ndarray, power: int) -> np.ndarray:
        factor = scale**power if array.dtype == object else float(scale**power)
        return array * factor

    powers = _input_powers(first.neuron_type())
    changed = {key: times(first.params[key], p) for key, p in powers.items()}
    return Network(net.input_dim, (first.replace(**changed), *net.layers[1:]))
