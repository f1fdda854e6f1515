"""Seeded random networks of the four kinds compared in qexpr (see :data:`qexpr.KINDS`).

``kind`` picks the neuron type and the hidden activation; the last layer has the same
neuron type and the identity activation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._kinds import KINDS, resolve_kind
from qexpr._network import LAYER_TYPES, Layer, Network
from qexpr._numbers import check_seed

__all__ = ["check_widths", "random_network"]

#: Denominators of the random exact weights: small rationals p/q with |p| <= 7.
_DENOMINATORS = np.array([1, 2, 3, 4])


def _exact_weights(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    numerators = rng.integers(-7, 8, size=shape)
    denominators = rng.choice(_DENOMINATORS, size=shape)
    values = [Fraction(int(p), int(q)) for p, q in zip(numerators.flat, denominators.flat)]
    return np.array(values, dtype=object).reshape(shape)


def _float_weights(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return rng.standard_normal(shape) / np.sqrt(fan_in)


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Validate ``widths = (n0, n1, ..., nL)``: at least two positive integers.

    Each width must be an integer (``int`` or a numpy integer); a float such as ``2.5``
    or ``2.0``, a bool or a string is refused, never converted.
    """
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence | np.ndarray):
        raise QexprTypeError(f"widths: expected a sequence of integers, got {widths!r}")
    bad = [w for w in widths if isinstance(w, bool) or not isinstance(w, int | np.integer)]
    if bad:
        raise QexprTypeError(f"widths: expected integers, got {bad[0]!r} in {list(widths)!r}")
    result = tuple(int(w) for w in widths)
    if len(result) < 2 or any(w < 1 for w in result):
        raise QexprValueError(f"widths: expected at least two positive integers, got {result}")
    return result


def random_network(
    kind: str, widths: Sequence[int], *, seed: int = 0, exact: bool = True
) -> Network:
    """A random network of the given kind and widths.

    Parameters
    ----------
    kind
        ``"quadratic"``, ``"relu"``, ``"square"`` or ``"compact"`` (see the module docstring).
    widths
        ``(n0, n1, ..., nL)``: input dimension, then each layer's number of neurons.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same network.
    exact
        If true, weights are small rationals ``p/q`` with ``|p| <= 7`` and ``q`` in 1..4;
        otherwise float64 with standard deviation ``1/sqrt(fan_in)``.

    Returns
    -------
    Network
    """
    kind = resolve_kind(kind)
    widths = check_widths(widths)
    seed = check_seed(seed)
    if not isinstance(exact, bool):
        raise QexprTypeError(f"exact: expected True or False, got {exact!r}")
    neuron, hidden_activation = KINDS[kind]
    cls = LAYER_TYPES[neuron]
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for k, (m, o) in enumerate(itertools.pairwise(widths)):
        weights = {}
        for key in cls.keys:
            shape = (o, m) if key in cls.neuron_type().matrices else (o,)
            weights[key] = _exact_weights(rng, shape) if exact else _float_weights(rng, shape, m)
        activation = "identity" if k == len(widths) - 2 else hidden_activation
        layers.append(cls(activation=activation, **weights))
    return Network(widths[0], tuple(layers))
