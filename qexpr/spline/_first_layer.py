"""Exact cells of a one-input network whose only ReLU layer is the first.

Then the first layer's pre-activations ``z_j`` (degree at most 2) do not depend on any
state, and the cells are exactly the intervals between the distinct real roots of odd
multiplicity of the ``z_j`` (no later layer cuts). The hybrid engine solves such networks
without the float engine, in exact arithmetic throughout:

* each ``z_j``'s roots are isolated exactly (:func:`~qexpr.spline._algebraic.odd_real_roots`);
* the roots are sorted by float64 enclosures of their isolating intervals (rounded
  outward, so each holds its root); only roots whose enclosures overlap are compared
  exactly (:class:`~qexpr.spline._algebraic.RealAlgebraic`), and equal roots make one cut;
* the states of the first cell are read exactly at a rational point in it; at each cut the
  neurons whose root it is switch (a simple root changes the sign);
* the outputs are carried from cell to cell: the next layer's sums ``w h + b`` and
  ``w (h⊙h) + c`` change by ``± w_j z_j`` (or ``± w_j z_j²``) for each neuron ``j`` that
  switches, so a cell costs the switches, not the width.

Every number is exact; the result equals the exact engine's cells.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import flint

from qexpr._network import Layer, Network
from qexpr._progress import Progress, tracked
from qexpr.spline._algebraic import RealAlgebraic, RootCache, odd_real_roots
from qexpr.spline._exact import (
    ExactCell,
    _affine,
    _is_active,
    _PolyVector,
    exact_weights,
    layer_polys,
)

__all__ = ["first_layer_cells", "only_first_layer_relu"]

Poly = flint.fmpq_poly
_X = flint.fmpq_poly([0, 1])
_ZERO = flint.fmpq_poly([])


def only_first_layer_relu(net: Network) -> bool:
    """True when the first layer has ReLU activation and no other layer has."""
    first, *rest = net.layers
    return first.activation == "relu" and all(layer.activation != "relu" for layer in rest)


def _float_enclosure(root: RealAlgebraic) -> tuple[float, float]:
    """Float64 values below and above the root's isolating interval (each end rounded to
    nearest by Python's correctly rounded int division, then one step outward; ±inf
    beyond float64's range)."""
    lo, hi = root.bounds
    try:
        down, up = int(lo.p) / int(lo.q), int(hi.p) / int(hi.q)
    except OverflowError:
        return -math.inf, math.inf
    return math.nextafter(down, -math.inf), math.nextafter(up, math.inf)


def _cuts(
    roots: list[tuple[RealAlgebraic, int]],
) -> list[tuple[RealAlgebraic, list[int]]]:
    """Distinct roots in increasing order, each with the neurons that switch there: sorted
    by float enclosures; a run of overlapping enclosures is sorted exactly."""
    keyed = sorted(((*_float_enclosure(r), r, j) for r, j in roots), key=lambda t: t[0])
    runs, start, reach = [], 0, -math.inf
    for i, (lo, hi, _, _) in enumerate(keyed):
        if i > start and lo > reach:
            runs.append(keyed[start:i])
            start = i
        reach = max(reach, hi)
    runs.append(keyed[start:])
    return [
        (root, [j for *_, j in group])
        for run in runs
        for root, group in itertools.groupby(sorted(run, key=lambda t: t[2]), key=lambda t: t[2])
    ]


class _Outputs:
    """The network's outputs on the current cell, carried from cell to cell: the sums the
    second layer's formula reads (``affine(w, b)``, ``square(w, c)``) are kept and
    changed by the switching neurons only."""

    def __init__(self, net: Network, zs: list[Poly], active: list[bool]) -> None:
        self.layers = net.layers[1:]
        self.weights = [exact_weights(layer) for layer in self.layers]
        self.zs = zs
        self.squares = [z * z for z in zs]
        self.active = list(active)
        self.sums: dict[tuple[str, str, str], list[Poly]] = {}

    def _sum(self, kind: str, w: str, b: str) -> _PolyVector:
        key = (kind, w, b)
        if key not in self.sums:
            inputs = self.zs if kind == "affine" else self.squares
            h = [z if on else _ZERO for z, on in zip(inputs, self.active)]
            weights = self.weights[0]
            self.sums[key] = _affine(weights[w], weights[b], h)
        return _PolyVector(self.sums[key])

    def switch(self, j: int) -> None:
        """Neuron ``j`` of the first layer changes state."""
        self.active[j] = not self.active[j]
        sign = 1 if self.active[j] else -1
        weights = self.weights[0]
        for (kind, w, _), values in self.sums.items():
            term = self.zs[j] if kind == "affine" else self.squares[j]
            matrix = weights[w]
            for i in range(len(values)):
                values[i] += term * (sign * matrix[i, j])

    def outputs(self) -> tuple[Poly, ...]:
        """The outputs on the current cell."""
        first: Layer = self.layers[0]
        zs = list(
            first.neuron_type().pre_activation(
                lambda w, b: self._sum("affine", w, b), lambda w, c: self._sum("square", w, c)
            )
        )
        for k, layer in enumerate(self.layers):
            if k > 0:
                zs = layer_polys(layer, self.weights[k], zs)
            if layer.activation == "square":
                zs = [z * z for z in zs]
        return tuple(zs)


def first_layer_cells(
    net: Network,
    domain: tuple[Fraction, Fraction] | None = None,
    *,
    progress: Progress | None = None,
) -> list[ExactCell]:
    """The exact cells of a network for which :func:`only_first_layer_relu` holds (module
    docstring); ``progress`` is called as the first layer's roots are isolated."""
    first = net.layers[0]
    zs = layer_polys(first, exact_weights(first), [_X])
    cache = RootCache()
    ends: tuple[RealAlgebraic | None, RealAlgebraic | None] = (None, None)
    if domain is not None:
        ends = tuple(RealAlgebraic.rational(flint.fmpq(v.numerator, v.denominator)) for v in domain)
    roots = [
        (root, j)
        for j in tracked(range(len(zs)), progress, "isolate roots")
        if not zs[j].is_zero()
        for root in odd_real_roots(zs[j], cache)
        if (ends[0] is None or ends[0] < root) and (ends[1] is None or root < ends[1])
    ]
    cuts = _cuts(roots)
    points = [ends[0], *(root for root, _ in cuts), ends[1]]
    active = [_is_active(z, points[0], points[1]) for z in zs]
    if len(net.layers) == 1:
        return _first_layer_only(zs, points, cuts, active)
    carried = _Outputs(net, zs, active)
    cells = []
    for k, (left, right) in enumerate(itertools.pairwise(points)):
        if k > 0:
            for j in cuts[k - 1][1]:
                carried.switch(j)
        cells.append(ExactCell(left, right, carried.outputs(), tuple(carried.active)))
    return cells


def _first_layer_only(
    zs: list[Poly],
    points: list[RealAlgebraic | None],
    cuts: list[tuple[RealAlgebraic, list[int]]],
    active: list[bool],
) -> list[ExactCell]:
    """Cells of a one-layer network: the outputs are ``relu(z_j)`` themselves."""
    cells = []
    for k, (left, right) in enumerate(itertools.pairwise(points)):
        if k > 0:
            for j in cuts[k - 1][1]:
                active[j] = not active[j]
        outputs = tuple(z if on else _ZERO for z, on in zip(zs, active))
        cells.append(ExactCell(left, right, outputs, tuple(active)))
    return cells
