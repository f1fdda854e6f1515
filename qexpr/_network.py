"""The network model: immutable layers of linear, quadratic and compact neurons.

A layer maps an input ``x`` of length m to an output of length o. Weight matrices are o×m
(row j holds neuron j's weights), vectors have o entries. The pre-activations are

* linear (conventional):  ``z = w x + b``
* quadratic (Fan et al.): ``z = (wr x + br) * (wg x + bg) + wb (x*x) + c``
* compact:                ``z = wr x + br + wb (x*x) + c``

with products taken elementwise over the o neurons, followed by an activation ``relu``
(``max(z, 0)``), ``square`` (``z**2``) or ``identity``. Weights are exact
(:class:`~fractions.Fraction`, held in object arrays) or float64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import ClassVar, Literal, TypeVar

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._neurons import NEURONS, NeuronType

__all__ = [
    "ACTIVATIONS",
    "CompactLayer",
    "Layer",
    "LinearLayer",
    "Network",
    "QuadraticLayer",
]

Activation = Literal["relu", "square", "identity"]
ACTIVATIONS: tuple[str, ...] = ("relu", "square", "identity")
T = TypeVar("T")


def _as_weights(value: object, name: str, ndim: int) -> np.ndarray:
    """Return a read-only float64 or exact (object array of Fraction) copy of ``value``."""
    array = np.asarray(value)
    if array.ndim != ndim:
        shape = "a matrix" if ndim == 2 else "a vector"
        raise QexprValueError(f"{name}: expected {shape}, got an array of shape {array.shape}")
    if array.dtype.kind in "iu":
        array = np.array([Fraction(int(v)) for v in array.flat], dtype=object).reshape(array.shape)
    elif array.dtype.kind == "f":
        array = array.astype(np.float64)
        if not np.all(np.isfinite(array)):
            raise QexprValueError(f"{name}: expected finite numbers, got NaN or infinity")
    elif array.dtype.kind == "O":
        flat = []
        for v in array.flat:
            if isinstance(v, bool) or not isinstance(v, int | Fraction):
                raise QexprTypeError(
                    f"{name}: expected float64 or exact (int/Fraction) entries, "
                    f"got {type(v).__name__}"
                )
            flat.append(Fraction(v))
        array = np.array(flat, dtype=object).reshape(array.shape)
    else:
        raise QexprTypeError(f"{name}: expected numbers, got an array of dtype {array.dtype}")
    array = array.copy()
    array.flags.writeable = False
    return array


def _zero_like(z: np.ndarray) -> object:
    return Fraction(0) if z.dtype == object else 0.0


def apply_activation(activation: str, z: np.ndarray) -> np.ndarray:
    """Apply ``relu`` (``max(z, 0)``), ``square`` (``z**2``) or ``identity`` elementwise."""
    if activation == "relu":
        return np.where(z > 0, z, _zero_like(z))
    if activation == "square":
        return z * z
    return z


#: Layer class of each neuron type, filled as the classes are defined.
LAYER_TYPES: dict[str, type[Layer]] = {}


@dataclass(frozen=True, eq=False, kw_only=True)
class Layer:
    """Base of the layers; each subclass is one neuron type of :data:`qexpr.NEURONS`.

    Layers are built with keywords only, e.g. ``LinearLayer(w=..., b=..., activation="relu")``;
    weights are copied into read-only arrays and checked for shape and type. A subclass
    sets ``neuron`` (a registered neuron type's name) and declares one field per key; its
    keys, shapes and pre-activation come from the neuron table, and it is added to
    ``LAYER_TYPES`` (what the file reader accepts).
    """

    neuron: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]
    activation: str = "identity"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "neuron" in cls.__dict__:
            cls.keys = NEURONS[cls.neuron].keys
            LAYER_TYPES[cls.neuron] = cls

    @classmethod
    def neuron_type(cls) -> NeuronType:
        """This layer's row of the neuron table."""
        return NEURONS[cls.neuron]

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise QexprValueError(
                f"activation: expected one of {', '.join(ACTIVATIONS)}, got {self.activation!r}"
            )
        matrices = self.neuron_type().matrices
        for key in self.keys:
            ndim = 2 if key in matrices else 1
            object.__setattr__(self, key, _as_weights(getattr(self, key), key, ndim))
        first = self.keys[0]
        out_dim, in_dim = getattr(self, first).shape
        for key in self.keys:
            shape = getattr(self, key).shape
            expected = (out_dim, in_dim) if key in matrices else (out_dim,)
            if shape != expected:
                raise QexprValueError(
                    f"{key}: expected shape {expected} to match {first} {(out_dim, in_dim)}, "
                    f"got {shape}"
                )
        if out_dim == 0 or in_dim == 0:
            raise QexprValueError(f"{first}: expected at least one row and one column")

    @property
    def in_dim(self) -> int:
        """Length m of the layer's input."""
        return getattr(self, self.keys[0]).shape[1]

    @property
    def out_dim(self) -> int:
        """Number o of neurons."""
        return getattr(self, self.keys[0]).shape[0]

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The weights by name, in the order of the network format."""
        return {key: getattr(self, key) for key in self.keys}

    @property
    def is_exact(self) -> bool:
        """True when every weight is an exact rational."""
        return all(getattr(self, key).dtype == object for key in self.keys)

    def replace(self, **changes: object) -> Layer:
        """A copy with some weights or the activation replaced (checked again)."""
        return dataclasses.replace(self, **changes)

    def map_weights(self, func: Callable[[np.ndarray], np.ndarray]) -> Layer:
        """A copy with ``func`` applied to every weight array."""
        return self.replace(**{key: func(getattr(self, key)) for key in self.keys})

    def pre_activation(self, x: np.ndarray) -> np.ndarray:
        """Pre-activations ``z`` for inputs ``x`` of shape (..., m); returns (..., o)."""
        return self.neuron_type().pre_activation(
            lambda w, b: x @ getattr(self, w).T + getattr(self, b),
            lambda w, c: (x * x) @ getattr(self, w).T + getattr(self, c),
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The layer's output ``σ(z)`` for inputs of shape (..., m)."""
        return apply_activation(self.activation, self.pre_activation(x))


@dataclass(frozen=True, eq=False, kw_only=True)
class LinearLayer(Layer):
    """Conventional neurons: ``σ(w x + b)``."""

    neuron: ClassVar[str] = "linear"
    w: np.ndarray
    b: np.ndarray


@dataclass(frozen=True, eq=False, kw_only=True)
class QuadraticLayer(Layer):
    """Quadratic neurons of Fan et al.: ``σ((wr x + br) * (wg x + bg) + wb (x*x) + c)``."""

    neuron: ClassVar[str] = "quadratic"
    wr: np.ndarray
    br: np.ndarray
    wg: np.ndarray
    bg: np.ndarray
    wb: np.ndarray
    c: np.ndarray


@dataclass(frozen=True, eq=False, kw_only=True)
class CompactLayer(Layer):
    """Quadratic neurons without the product term: ``σ(wr x + br + wb (x*x) + c)``."""

    neuron: ClassVar[str] = "compact"
    wr: np.ndarray
    br: np.ndarray
    wb: np.ndarray
    c: np.ndarray


def to_float_array(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def to_exact_array(array: np.ndarray) -> np.ndarray:
    return np.array([Fraction(v) for v in array.flat], dtype=object).reshape(array.shape)


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward network: ``layers`` applied in order to an input of length ``input_dim``.

    Parameters
    ----------
    input_dim
        Length n of the input vector.
    layers
        Non-empty sequence of :class:`LinearLayer`, :class:`QuadraticLayer` or
        :class:`CompactLayer`; each layer's ``in_dim`` is the previous layer's ``out_dim``.
    """

    input_dim: int
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        if isinstance(self.input_dim, bool) or not isinstance(self.input_dim, int | np.integer):
            raise QexprTypeError(f"input_dim: expected a positive integer, got {self.input_dim!r}")
        if self.input_dim < 1:
            raise QexprValueError(f"input_dim: expected a positive integer, got {self.input_dim}")
        layers = tuple(self.layers)
        if not layers:
            raise QexprValueError("layers: expected at least one layer")
        width = self.input_dim
        for k, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise QexprTypeError(f"layers[{k}]: expected a Layer, got {type(layer).__name__}")
            if layer.in_dim != width:
                raise QexprValueError(
                    f"layers[{k}]: expected {width} input columns, got {layer.in_dim}"
                )
            width = layer.out_dim
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "input_dim", int(self.input_dim))

    @property
    def output_dim(self) -> int:
        """Length of the output vector."""
        return self.layers[-1].out_dim

    @property
    def widths(self) -> tuple[int, ...]:
        """``(input_dim, n_1, ..., n_L)``."""
        return (self.input_dim, *(layer.out_dim for layer in self.layers))

    @property
    def is_exact(self) -> bool:
        """True when every weight is an exact rational."""
        return all(layer.is_exact for layer in self.layers)

    def to_float(self) -> Network:
        """The same network with float64 weights (exact weights rounded to nearest)."""
        return Network(self.input_dim, tuple(la.map_weights(to_float_array) for la in self.layers))

    def to_exact(self) -> Network:
        """The same network with exact weights (a float becomes its exact binary value)."""
        return Network(self.input_dim, tuple(la.map_weights(to_exact_array) for la in self.layers))

    def derived(self, make: Callable[[Network], T]) -> T:
        """``make(self)``, computed on the first call and kept with this network.

        A network is immutable (frozen layers, read-only weight arrays), so whatever an
        engine derives from it alone (float64 copies, a plan) stays valid while it lives and
        goes with it. ``make`` is the key: pass a module-level function.
        """
        memo = self.__dict__.setdefault("_derived", {})
        if make not in memo:
            memo[make] = make(self)
        return memo[make]

    @cached_property
    def _float_net(self) -> Network:
        return self.to_float()

    @cached_property
    def _exact_net(self) -> Network:
        return self if self.is_exact else self.to_exact()

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim == 0 or x.shape[-1] != self.input_dim:
            raise QexprValueError(
                f"x: expected shape (..., {self.input_dim}), got an array of shape {x.shape}"
            )

    def evaluate(self, x: Sequence | np.ndarray) -> np.ndarray:
        """Evaluate in float64, vectorised: ``x`` of shape (..., n) gives (..., n_L)."""
        x = np.asarray(x, dtype=np.float64)
        self._check_input(x)
        for layer in self._float_net.layers:
            x = layer(x)
        return x

    def evaluate_exact(self, x: Sequence | np.ndarray) -> np.ndarray:
        """Evaluate in exact rational arithmetic: (..., n) gives an object array (..., n_L)."""
        x = to_exact_array(np.asarray(x, dtype=object))
        self._check_input(x)
        for layer in self._exact_net.layers:
            x = layer(x)
        return x

    def __call__(self, x: Sequence | np.ndarray) -> np.ndarray:
        """Same as :meth:`evaluate`."""
        return self.evaluate(x)
