"""Polynomial network architectures: parameter layout, output degrees and ambient dimension.

A network with widths :math:`d = (d_0, \\dots, d_h)` has :math:`h - 1` hidden layers and a
linear output layer :math:`f = W_h a_{h-1} (+ b_h)`. Hidden layer :math:`l` maps
:math:`a_{l-1} \\in \\mathbb{R}^{n}` (:math:`n = d_{l-1}`) to :math:`a_l = z_l^{r_l}` (entrywise)
with pre-activation

- ``square`` (conventional neurons, activation :math:`z^{r}`): :math:`z = W a (+ b)`;
- ``quadratic``: :math:`z = (w_r a + b_r) \\odot (w_g a + b_g) + w_b (a \\odot a) (+ c)`;
- ``compact``: :math:`z = w_r a + w_b (a \\odot a) (+ b_r + c)`.

Without biases (the default, as in Kileel, Trager and Bruna 2019) the conventional and
quadratic networks output forms (homogeneous polynomials). The bias-free *compact*
network keeps its linear term :math:`w_r a`: dropping it would leave :math:`w_b (a \\odot a)`,
a network of squares of coordinates only; so its outputs are polynomials with no constant
term whose monomials have degrees between :math:`\\prod_l r_l` and :math:`\\prod_l 2 r_l`
(not all of them: one compact layer has no cross terms :math:`x_i x_j`). The ambient space
is spanned by the monomials that can occur (:attr:`PolyNetSpec.support`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from math import prod

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._kinds import KINDS as ALL_KINDS
from qexpr._kinds import resolve_kind

__all__ = ["KINDS", "PolyNetSpec", "make_spec"]

#: The polynomial kinds of :mod:`qexpr._kinds` (``relu`` is not a polynomial network).
KINDS = ("square", "quadratic", "compact")

# Parameter blocks of one layer by neuron type: weights are (m, n) matrices, biases (m,).
_WEIGHTS = {
    "quadratic": ("wr", "wg", "wb"),
    "compact": ("wr", "wb"),
    "linear": ("W",),
}
_BIASES = {
    "quadratic": ("br", "bg", "c"),
    "compact": ("br", "c"),
    "linear": ("b",),
}

Block = tuple[int, tuple[int, ...]]  # (offset in the parameter vector, shape)


@dataclass(frozen=True)
class PolyNetSpec:
    """A polynomial network architecture.

    Parameters
    ----------
    kind : {"square", "quadratic", "compact"}
        The architecture (see :data:`qexpr.KINDS`): the hidden layers' neuron type
        (``square``: conventional neurons); the output layer has conventional neurons
        and no activation. ``"conv"``, the old name of ``"square"``, warns.
    widths : tuple of int
        :math:`(d_0, \\dots, d_h)`, at least two positive integers.
    r : tuple of int
        Activation exponents :math:`r_1, \\dots, r_{h-1}` of the hidden layers
        (:math:`\\sigma(z) = z^{r_l}`), each at least 1.
    bias : bool
        Whether every layer has its bias parameters (``b``; ``br, bg, c``; ``br, c``).
    """

    kind: str
    widths: tuple[int, ...]
    r: tuple[int, ...]
    bias: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", resolve_kind(self.kind, KINDS))
        if not isinstance(self.widths, tuple) or not all(
            isinstance(w, int) and not isinstance(w, bool) for w in self.widths
        ):
            raise QexprTypeError(f"widths: expected a tuple of int, got {self.widths!r}")
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise QexprValueError(
                f"widths: expected at least two positive integers, got {self.widths!r}"
            )
        if len(self.r) != len(self.widths) - 2:
            raise QexprValueError(
                f"r: expected {len(self.widths) - 2} exponents (one per hidden layer), "
                f"got {len(self.r)}"
            )
        if any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in self.r):
            raise QexprValueError(f"r: expected integers >= 1, got {self.r!r}")
        if not isinstance(self.bias, bool):
            raise QexprTypeError(f"bias: expected a bool, got {self.bias!r}")

    @property
    def depth(self) -> int:
        """Number of weight layers :math:`h`."""
        return len(self.widths) - 1

    def layer_neuron(self, layer: int) -> str:
        """Neuron type of layer ``layer`` (1-based); the output layer's is ``"linear"``."""
        return "linear" if layer == self.depth else ALL_KINDS[self.kind].neuron

    def layout(self) -> tuple[dict[str, Block], ...]:
        """Offset and shape of every parameter block, layer by layer (index 0 is layer 1)."""
        layers = []
        offset = 0
        for layer in range(1, self.depth + 1):
            n, m = self.widths[layer - 1], self.widths[layer]
            kind = self.layer_neuron(layer)
            blocks: dict[str, Block] = {}
            for name in _WEIGHTS[kind]:
                blocks[name] = (offset, (m, n))
                offset += m * n
            for name in _BIASES[kind] if self.bias else ():
                blocks[name] = (offset, (m,))
                offset += m
            layers.append(blocks)
        return tuple(layers)

    @property
    def parameters(self) -> int:
        """Number of parameters :math:`\\sum_l (\\#\\text{weights}_l + \\#\\text{biases}_l)`."""
        return sum(
            (len(_WEIGHTS[k]) * n + (len(_BIASES[k]) if self.bias else 0)) * m
            for k, n, m in (
                (self.layer_neuron(layer), self.widths[layer - 1], self.widths[layer])
                for layer in range(1, self.depth + 1)
            )
        )

    @cached_property
    def support(self) -> np.ndarray:
        """Exponent vectors (rows) of the monomials that occur in the outputs, sorted.

        With generic parameters every coefficient is a polynomial in :math:`\\theta` with
        nonnegative integer coefficients, so no monomial cancels and the support follows
        from the supports :math:`S` of the layer inputs: a linear map keeps :math:`S`, a
        product of two linear maps or :math:`a \\odot a` gives the Minkowski sum :math:`S + S`,
        :math:`z^r` the :math:`r`-fold sum, a bias adds :math:`0`. Every hidden neuron of a
        layer has the same support; the inputs :math:`x_j` differ (:math:`x_j^2` only gives
        :math:`2 e_j`), which matters for ``compact``.
        """
        d0 = self.widths[0]
        inputs = np.eye(d0, dtype=np.int64)
        support = inputs
        for layer in range(1, self.depth + 1):
            kind = self.layer_neuron(layer)
            squares = 2 * inputs if layer == 1 else _minkowski(support, support)
            if kind == "linear":
                pre = support
            elif kind == "quadratic":
                linear = _with_zero(support) if self.bias else support
                pre = np.concatenate([_minkowski(linear, linear), squares])
            else:
                pre = np.concatenate([support, squares])
            pre = _unique(_with_zero(pre) if self.bias else pre)
            output = layer == self.depth
            support = pre if output else _minkowski_power(pre, self.r[layer - 1])
        return support

    @property
    def monomials(self) -> int:
        """Number of monomials in :attr:`support`."""
        return len(self.support)

    @property
    def ambient(self) -> int:
        """Dimension :math:`d_h \\cdot` :attr:`monomials` of the space the outputs lie in."""
        return self.widths[-1] * self.monomials

    @property
    def hidden_neurons(self) -> int:
        """Number of hidden neurons :math:`\\sum_{l=1}^{h-1} d_l`."""
        return sum(self.widths[1:-1])

    def blocks(self, theta: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Views of the parameter vector ``theta`` as per-layer named blocks."""
        return [
            {
                name: theta[off : off + prod(shape)].reshape(shape)
                for name, (off, shape) in b.items()
            }
            for b in self.layout()
        ]


def _unique(rows: np.ndarray) -> np.ndarray:
    """Distinct rows, sorted."""
    return np.unique(rows, axis=0)


def _with_zero(rows: np.ndarray) -> np.ndarray:
    """``rows`` together with the zero exponent (a constant term)."""
    return np.concatenate([rows, np.zeros((1, rows.shape[1]), dtype=rows.dtype)])


def _minkowski(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Minkowski sum :math:`\\{s + t\\}` of two sets of exponent vectors."""
    return _unique((first[:, None, :] + second[None, :, :]).reshape(-1, first.shape[1]))


def _minkowski_power(rows: np.ndarray, r: int) -> np.ndarray:
    """The :math:`r`-fold Minkowski sum (the support of :math:`z^r`)."""
    out = rows
    for _ in range(r - 1):
        out = _minkowski(out, rows)
    return out


def make_spec(
    kind: str, widths: Sequence[int], r: int | Sequence[int] | None = None, *, bias: bool = False
) -> PolyNetSpec:
    """Build a :class:`PolyNetSpec`, expanding ``r``.

    ``r=None`` means :math:`z^2` for ``square`` and the identity (:math:`r = 1`) for
    ``quadratic`` and ``compact``; an int applies to every hidden layer.
    """
    kind = resolve_kind(kind, KINDS)
    widths = tuple(widths)
    hidden = max(len(widths) - 2, 0)
    if r is None:
        r = 2 if ALL_KINDS[kind].activation == "square" else 1
    if isinstance(r, bool) or not isinstance(r, int | Sequence):
        raise QexprTypeError(f"r: expected an int or a sequence of int, got {r!r}")
    exponents = (r,) * hidden if isinstance(r, int) else tuple(r)
    return PolyNetSpec(kind=kind, widths=widths, r=exponents, bias=bias)
