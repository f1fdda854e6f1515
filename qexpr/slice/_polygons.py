"""Exact 2-D slices of ReLU networks: activation regions as convex polygons, in rationals.

A slice is the restriction of a network to a plane ``x = P0 + s (P1 - P0) + t (P2 - P0)``
(or to its own input when ``input_dim == 2``), over a box ``[s0, s1] × [t0, t1]``. Like the
exact 1-D engine does with intervals, we go layer by layer: every cell is a convex polygon
(vertices as :class:`~fractions.Fraction`) on which the layer input is affine,
``h = M (s, t, 1)``; a ReLU layer's pre-activations are affine too, and the cell is clipped by
each line ``z_j = 0`` in turn. A neuron is active where ``z_j > 0`` (read at the exact
vertex mean of the sub-polygon); an identically zero ``z_j`` is inactive and cuts nothing.
Sub-polygons of zero area are dropped.

Regions are connected components of the set where the full activation pattern is constant:
cells with equal patterns that share an edge of positive length are merged (union-find).
For a ReLU network a pattern's cell set is convex, so in exact arithmetic nothing merges;
the merge is kept as a check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from qexpr._errors import QexprValueError
from qexpr._network import Network
from qexpr.slice._plane import check_box, plane_network

__all__ = ["ExactSlice", "exact_slice"]

Point = tuple[Fraction, Fraction]


def _area2(poly: list[Point]) -> Fraction:
    """Twice the signed area (shoelace)."""
    return sum(
        (
            poly[i][0] * poly[(i + 1) % len(poly)][1] - poly[(i + 1) % len(poly)][0] * poly[i][1]
            for i in range(len(poly))
        ),
        Fraction(0),
    )


def _clip(poly: list[Point], a: Fraction, b: Fraction, c: Fraction) -> tuple[list, list]:
    """Split a convex polygon by ``a s + b t + c``: the parts where it is ``>= 0`` and ``<= 0``."""
    values = [a * x + b * y + c for x, y in poly]
    plus: list[Point] = []
    minus: list[Point] = []
    for i, (p, vp) in enumerate(zip(poly, values)):
        q, vq = poly[(i + 1) % len(poly)], values[(i + 1) % len(poly)]
        if vp >= 0:
            plus.append(p)
        if vp <= 0:
            minus.append(p)
        if vp * vq < 0:
            r = vp / (vp - vq)
            cut = (p[0] + r * (q[0] - p[0]), p[1] + r * (q[1] - p[1]))
            plus.append(cut)
            minus.append(cut)
    return [part for part in (plus, minus) if len(part) >= 3 and _area2(part) != 0]


@dataclass(frozen=True)
class ExactSlice:
    """Exact activation regions of a ReLU network on a box of a plane.

    ``cells`` are the convex polygons (vertex lists) with their patterns; ``regions`` the
    number of connected components with constant pattern.
    """

    box: tuple[Fraction, Fraction, Fraction, Fraction]
    cells: tuple[tuple[tuple[Point, ...], tuple[bool, ...]], ...]
    regions: int


def _cells(net: Network, box: tuple[Fraction, ...]) -> list[tuple[list[Point], np.ndarray, tuple]]:
    x0, x1, y0, y1 = box
    start = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    identity = np.array(
        [[Fraction(1), Fraction(0), Fraction(0)], [Fraction(0), Fraction(1), Fraction(0)]],
        dtype=object,
    )
    cells = [(start, identity, ())]
    for k, layer in enumerate(net.layers):
        if layer.neuron != "linear" or layer.activation == "square":
            raise QexprValueError(
                f"layers[{k}]: exact slices need conventional ReLU or identity layers, got "
                f"{layer.neuron} neurons with {layer.activation} (use the grid count)"
            )
        w = np.vectorize(Fraction, otypes=[object])(layer.w)
        b = np.vectorize(Fraction, otypes=[object])(layer.b)
        next_cells = []
        for poly, m, pattern in cells:
            z = w @ m
            z[:, 2] += b
            if layer.activation == "identity":
                next_cells.append((poly, z, pattern))
                continue
            parts = [poly]
            for a, bb, c in z:
                if a != 0 or bb != 0:
                    parts = [piece for part in parts for piece in _clip(part, a, bb, c)]
            for part in parts:
                sx = sum((p[0] for p in part), Fraction(0)) / len(part)
                sy = sum((p[1] for p in part), Fraction(0)) / len(part)
                active = tuple(bool(a * sx + bb * sy + c > 0) for a, bb, c in z)
                h = z * np.array(active, dtype=object)[:, None]
                next_cells.append((part, h, pattern + active))
        cells = next_cells
    return cells


def _share_edge(p: list[Point], q: list[Point]) -> bool:
    """Whether two convex polygons share a boundary segment of positive length."""
    for i in range(len(p)):
        a, b = p[i], p[(i + 1) % len(p)]
        d = (b[0] - a[0], b[1] - a[1])
        for j in range(len(q)):
            c, e = q[j], q[(j + 1) % len(q)]
            cross_c = d[0] * (c[1] - a[1]) - d[1] * (c[0] - a[0])
            cross_e = d[0] * (e[1] - a[1]) - d[1] * (e[0] - a[0])
            if cross_c != 0 or cross_e != 0:
                continue
            norm = d[0] * d[0] + d[1] * d[1]
            tc = (d[0] * (c[0] - a[0]) + d[1] * (c[1] - a[1])) / norm
            te = (d[0] * (e[0] - a[0]) + d[1] * (e[1] - a[1])) / norm
            if min(max(tc, te), 1) - max(min(tc, te), 0) > 0:
                return True
    return False


def _components(cells: list) -> int:
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, (_, _, pattern) in enumerate(cells):
        groups[pattern].append(i)
    for members in groups.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if find(i) != find(j) and _share_edge(cells[i][0], cells[j][0]):
                    parent[find(i)] = find(j)
    return len({find(i) for i in range(len(cells))})


def exact_slice(net: Network, plane: object = None, box: object = None) -> ExactSlice:
    """Exact activation regions of a conventional ReLU network on a 2-D slice.

    Parameters
    ----------
    net
        A network of conventional neurons with ReLU or identity activations.
    plane
        ``None`` for a two-input network, else three points spanning the plane.
    box
        ``(xmin, xmax, ymin, ymax)`` in plane coordinates (default ``[-1, 1]²``), exact.
    """
    two = plane_network(net, plane)
    box = check_box(box)
    cells = _cells(two, box)
    frozen = tuple((tuple(poly), pattern) for poly, _, pattern in cells)
    return ExactSlice(box, frozen, _components(cells))
