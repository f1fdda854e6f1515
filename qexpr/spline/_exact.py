"""Exact spline engine: the piecewise-polynomial form of a one-input network.

Layer by layer, every cell (an open interval of the line) carries the polynomials that the
layer's inputs are on that cell, with rational coefficients (``flint.fmpq_poly``). A layer
turns them into pre-activation polynomials ``z_j``. A ReLU neuron switches exactly at the
real roots of odd multiplicity of ``z_j`` inside the cell, so the cell is cut there; on each
sub-cell the sign of ``z_j`` is read at a rational sample point (a neuron is active where
``z_j > 0``; an identically zero ``z_j`` is inactive), and ``relu(z_j)`` is ``z_j`` or 0.
Tangent (even-multiplicity) roots do not cut, and roots shared by several neurons or
layers are recognised as equal, since breakpoints are exact :class:`RealAlgebraic`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from qexpr._network import Layer, Network
from qexpr._progress import Progress, tracked
from qexpr.spline._algebraic import RealAlgebraic, RootCache, odd_real_roots, rational_between

__all__ = ["ExactCell", "exact_cells", "exact_weights", "layer_polys"]

Poly = flint.fmpq_poly
_ZERO = flint.fmpq_poly([])


@dataclass(frozen=True)
class ExactCell:
    """An open interval ``(left, right)`` on which every ReLU neuron keeps its state.

    ``left``/``right`` are ``None`` for -∞/+∞; ``outputs`` are the output polynomials and
    ``pattern`` the states (True = active) of all ReLU neurons in layer order.
    """

    left: RealAlgebraic | None
    right: RealAlgebraic | None
    outputs: tuple[Poly, ...]
    pattern: tuple[bool, ...]


def _fmpq(value: object) -> flint.fmpq:
    q = Fraction(value)
    return flint.fmpq(q.numerator, q.denominator)


def _affine(matrix: flint.fmpq_mat, bias: list[flint.fmpq], inputs: Sequence[Poly]) -> list[Poly]:
    """``matrix @ inputs + bias`` for a vector of polynomials: one rational matrix product
    of the weights with the inputs' coefficient matrix (inputs × coefficients)."""
    width = max(max(p.length() for p in inputs), 1)
    rows = [[*p.coeffs(), *[0] * (width - p.length())] for p in inputs]
    entries = (matrix * flint.fmpq_mat(len(inputs), width, [c for r in rows for c in r])).entries()
    out = []
    for i, b in enumerate(bias):
        coeffs = entries[i * width : (i + 1) * width]
        coeffs[0] += b
        out.append(Poly(coeffs))
    return out


class _PolyVector(list):
    """Polynomials of one layer's neurons, with elementwise ``+`` and ``*`` (what the neuron
    table's formulas need)."""

    def __add__(self, other: list) -> _PolyVector:
        return _PolyVector(a + b for a, b in zip(self, other))

    def __mul__(self, other: list) -> _PolyVector:
        return _PolyVector(a * b for a, b in zip(self, other))


def exact_weights(layer: Layer) -> dict[str, flint.fmpq_mat | list[flint.fmpq]]:
    """A layer's parameters in flint (float weights read exactly): matrices as
    ``fmpq_mat``, vectors as lists of ``fmpq``."""
    matrices = layer.neuron_type().matrices
    weights: dict[str, flint.fmpq_mat | list[flint.fmpq]] = {}
    for key, value in layer.params.items():
        entries = [_fmpq(v) for v in np.asarray(value).ravel()]
        weights[key] = flint.fmpq_mat(*value.shape, entries) if key in matrices else entries
    return weights


def layer_polys(layer: Layer, weights: dict[str, Any], h: Sequence[Poly]) -> list[Poly]:
    """Pre-activation polynomials of ``layer`` given its input polynomials ``h``."""
    squares = [p * p for p in h]
    return layer.neuron_type().pre_activation(
        lambda w, b: _PolyVector(_affine(weights[w], weights[b], h)),
        lambda w, c: _PolyVector(_affine(weights[w], weights[c], squares)),
    )


def _is_active(z: Poly, left: RealAlgebraic | None, right: RealAlgebraic | None) -> bool:
    """Whether ``z > 0`` on a cell where it does not change sign (``z == 0`` is inactive)."""
    if z.is_zero():
        return False
    sample = rational_between(left, right)
    while True:
        value = z(sample)
        if value != 0:
            return value > 0
        # An even-multiplicity root sits at the sample: move toward the right end.
        sample = rational_between(RealAlgebraic.rational(sample), right)


def _inside(root: RealAlgebraic, left: RealAlgebraic | None, right: RealAlgebraic | None) -> bool:
    return (left is None or left < root) and (right is None or root < right)


def _split(
    zs: Sequence[Poly], left: RealAlgebraic | None, right: RealAlgebraic | None, cache: RootCache
) -> list[RealAlgebraic | None]:
    """Cell boundaries after cutting ``(left, right)`` at the sign changes of ``zs``."""
    lo = None if left is None else left.bounds[0]
    hi = None if right is None else right.bounds[1]
    cuts = {
        root for z in zs for root in odd_real_roots(z, cache, lo, hi) if _inside(root, left, right)
    }
    return [left, *sorted(cuts), right]


def exact_cells(
    net: Network,
    domain: tuple[Fraction | None, Fraction | None] | None = None,
    cache: RootCache | None = None,
    *,
    progress: Progress | None = None,
) -> list[ExactCell]:
    """The cells of a one-input network, left to right.

    Parameters
    ----------
    net
        A network with ``input_dim == 1`` (float weights are read as their exact values).
    domain
        ``None`` for the whole line, or ``(a, b)`` with ``a < b`` rational; either end may
        be ``None`` (-∞ or +∞).
    cache
        Root isolations to reuse (and extend) across calls on the same network.
    progress
        ``progress(stage, done, total)``, called after each cell of each layer.

    Returns
    -------
    list of ExactCell
        Consecutive cells covering the domain; every ReLU neuron is either active or
        inactive on the whole of each cell.
    """
    cache = RootCache() if cache is None else cache
    a, b = (None, None) if domain is None else domain
    ends = [None if v is None else RealAlgebraic.rational(Fraction(v)) for v in (a, b)]
    cells: list[tuple] = [(*ends, [Poly([0, 1])], ())]
    for k, layer in enumerate(net.layers):
        weights = exact_weights(layer)
        next_cells = []
        stage = f"exact layer {k + 1} of {len(net.layers)}"
        for left, right, h, pattern in tracked(cells, progress, stage):
            zs = layer_polys(layer, weights, h)
            if layer.activation == "square":
                next_cells.append((left, right, [z * z for z in zs], pattern))
            elif layer.activation == "identity":
                next_cells.append((left, right, zs, pattern))
            else:
                bounds = _split(zs, left, right, cache)
                for lo, hi in itertools.pairwise(bounds):
                    active = tuple(_is_active(z, lo, hi) for z in zs)
                    outs = [z if on else _ZERO for z, on in zip(zs, active)]
                    next_cells.append((lo, hi, outs, pattern + active))
        cells = next_cells
    return [ExactCell(left, right, tuple(h), pattern) for left, right, h, pattern in cells]
