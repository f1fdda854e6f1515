"""The neuron table: every rule that depends on the type of a neuron, in one place.

A neuron type declares its parameters (in the order of the network file format), which of
them are matrices, the degree of its pre-activation in the layer input, its ReLinear
*linear reference* (the values of the quadratic terms at which it equals the conventional
neuron built on its linear part) and its formula. The formula is written once, as a
function of two primitives that each engine supplies:

* ``affine(w, b)`` — ``w x + b`` for the parameter names ``w`` (a matrix) and ``b``;
* ``square(w, c)`` — ``w (x⊙x) + c``.

The results only need elementwise ``+`` and ``*``, so the same formula serves numpy arrays
(float64 or exact :class:`~fractions.Fraction`), polynomials over the rationals, float
values with their magnitude envelope and torch tensors. Engines look neuron types up here
(:data:`NEURONS`) and never compare their names.

==========  ==============================================  ====================  ======
neuron      pre-activation                                  parameters            degree
==========  ==============================================  ====================  ======
linear      ``w x + b`` (the conventional neuron)           w, b                  1
quadratic   ``(wr x + br)(wg x + bg) + wb (x⊙x) + c``       wr, br, wg, bg, wb, c 2
compact     ``wr x + br + wb (x⊙x) + c``                    wr, br, wb, c         2
==========  ==============================================  ====================  ======
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np

from qexpr._errors import QexprValueError

__all__ = ["NEURONS", "NeuronType", "get_neuron", "register_neuron"]

#: ``affine(w, b)`` or ``square(w, c)``: the engine's value for those parameter names.
Primitive = Callable[[str, str], Any]


@dataclass(frozen=True)
class NeuronType:
    """One neuron type: its parameters, degree, linear reference and formula.

    Attributes
    ----------
    name
        The name used in network files (``"neuron"``) and everywhere else.
    keys
        Parameter names in file-format order.
    matrices
        The keys that are matrices (o × m); the others are vectors of length o.
    degree
        Degree of the pre-activation as a polynomial in the layer input (1 or 2).
    linear_part
        ``(w, b)``: the parameters of the conventional neuron inside this one.
    reference
        ReLinear: value of each quadratic term at which the neuron equals the conventional
        neuron on ``linear_part`` (empty for the conventional neuron itself).
    roles
        ReLinear group of each quadratic term: ``"g"`` (the second factor) or ``"b"``
        (the power term).
    combine
        ``combine(affine, square)``: the pre-activation from the two primitives.
    formula
        The pre-activation, for messages and documentation.
    """

    name: str
    keys: tuple[str, ...]
    matrices: frozenset[str]
    degree: int
    linear_part: tuple[str, str]
    combine: Callable[[Primitive, Primitive], Any]
    formula: str
    reference: Mapping[str, Fraction] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference", MappingProxyType(dict(self.reference)))
        object.__setattr__(self, "roles", MappingProxyType(dict(self.roles)))

    def pre_activation(self, affine: Primitive, square: Primitive) -> Any:
        """The pre-activation computed with an engine's primitives (see the module docstring)."""
        return self.combine(affine, square)

    def quadratic_forms(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Each neuron's quadratic form ``Q_j`` (shape o × m × m, symmetric), exactly.

        The pre-activation of neuron j is ``x^T Q_j x`` plus an affine function of x. The
        form is read off the formula itself: ``affine`` is replaced by the exact linear
        functional ``e_i -> w[j, i]`` and ``square`` by ``w[j, i] x_i²``, both carried as
        degree-≤2 coefficient arrays.
        """
        first = params[self.keys[0]]
        o, m = first.shape
        return np.stack([self._form(params, j, m) for j in range(o)]) if o else first

    def _form(self, params: Mapping[str, np.ndarray], j: int, m: int) -> np.ndarray:
        def affine(w: str, b: str) -> _Quadratic:
            return _Quadratic(np.zeros((m, m), dtype=object), params[w][j], params[b][j])

        def square(w: str, c: str) -> _Quadratic:
            return _Quadratic(
                np.diag(params[w][j]).astype(object), np.zeros(m, object), params[c][j]
            )

        return self.combine(affine, square).form


@dataclass(frozen=True)
class _Quadratic:
    """``x^T form x + linear·x + constant`` (form not yet symmetrised), products truncated
    at degree 2: exact for the neuron formulas, whose products are of affine factors."""

    form: np.ndarray
    linear: np.ndarray
    constant: Any

    def __add__(self, other: _Quadratic) -> _Quadratic:
        return _Quadratic(
            self.form + other.form, self.linear + other.linear, self.constant + other.constant
        )

    def __mul__(self, other: _Quadratic) -> _Quadratic:
        outer = np.outer(self.linear, other.linear)
        form = (outer + outer.T) / 2 + self.form * other.constant + other.form * self.constant
        return _Quadratic(
            form,
            self.linear * other.constant + other.linear * self.constant,
            self.constant * other.constant,
        )


_NEURONS: dict[str, NeuronType] = {}

#: Every neuron type by name (read-only view; see :func:`register_neuron`).
NEURONS: Mapping[str, NeuronType] = MappingProxyType(_NEURONS)


def register_neuron(neuron: NeuronType) -> NeuronType:
    """Add a neuron type to :data:`NEURONS` (refused if the name is taken); returns it."""
    if neuron.name in _NEURONS:
        raise QexprValueError(f"neuron: the name {neuron.name!r} is taken")
    _NEURONS[neuron.name] = neuron
    return neuron


def unregister_neuron(name: str) -> None:
    """Remove a neuron type added by :func:`register_neuron` (for tests and plug-ins)."""
    if name in _BUILTIN:
        raise QexprValueError(f"neuron: {name!r} is built in and cannot be removed")
    _NEURONS.pop(name, None)


def get_neuron(name: object) -> NeuronType:
    """The neuron type called ``name``; a :class:`QexprValueError` naming the choices if none."""
    neuron = _NEURONS.get(name) if isinstance(name, str) else None
    if neuron is None:
        raise QexprValueError(f"neuron: expected one of {', '.join(_NEURONS)}, got {name!r}")
    return neuron


_ONE = Fraction(1)
_ZERO = Fraction(0)

register_neuron(
    NeuronType(
        name="linear",
        keys=("w", "b"),
        matrices=frozenset({"w"}),
        degree=1,
        linear_part=("w", "b"),
        combine=lambda affine, square: affine("w", "b"),
        formula="w x + b",
    )
)
register_neuron(
    NeuronType(
        name="quadratic",
        keys=("wr", "br", "wg", "bg", "wb", "c"),
        matrices=frozenset({"wr", "wg", "wb"}),
        degree=2,
        linear_part=("wr", "br"),
        combine=lambda affine, square: affine("wr", "br") * affine("wg", "bg") + square("wb", "c"),
        formula="(wr x + br)(wg x + bg) + wb (x*x) + c",
        reference={"wg": _ZERO, "bg": _ONE, "wb": _ZERO, "c": _ZERO},
        roles={"wg": "g", "bg": "g", "wb": "b", "c": "b"},
    )
)
register_neuron(
    NeuronType(
        name="compact",
        keys=("wr", "br", "wb", "c"),
        matrices=frozenset({"wr", "wb"}),
        degree=2,
        linear_part=("wr", "br"),
        combine=lambda affine, square: affine("wr", "br") + square("wb", "c"),
        formula="wr x + br + wb (x*x) + c",
        reference={"wb": _ZERO, "c": _ZERO},
        roles={"wb": "b", "c": "b"},
    )
)
_BUILTIN = frozenset(_NEURONS)
