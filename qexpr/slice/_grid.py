"""Grid count of activation regions on a 2-D slice, for any network (quadratic included).

The box is sampled at the centres of a ``resolution × resolution`` grid; each sample gets
the activation pattern of all ReLU neurons, read in float64 with the *magnitude envelope*
of the float engine (:mod:`qexpr.spline._float`): a pre-activation with
``|z| <= RTOL * envelope`` is zero, hence inactive, so a neuron that is exactly 0 on a whole
region (a zero bias behind dead neurons) does not split it by rounding noise. Regions are
the connected components (8-neighbour, so that a sliver running diagonally stays in one
piece) of equal patterns.

How exact: every region found is real (confirmed below), but a region thinner than the
grid step can be missed, or cut in two where it narrows below one cell, and two regions
with the same pattern that touch only at a corner can be joined. So the grid count is
neither a strict lower nor upper bound; the set of patterns it finds is always a subset of
the true ones (for ReLU networks, where each pattern is one convex region, the number of
distinct grid patterns is at most the exact count). :func:`confirm_regions` checks each
region against the exact 1-D engine on the horizontal line through a representative
sample: the exact activation pattern there must equal the grid pattern
(no phantom regions).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from qexpr._errors import QexprValueError
from qexpr._network import Network, apply_activation
from qexpr.slice._plane import check_box, plane_network
from qexpr.spline._float import RTOL, prepare

__all__ = ["GridSlice", "confirm_regions", "grid_slice"]


@dataclass(frozen=True)
class GridSlice:
    """Grid labelling of a slice: ``labels`` (rows = y, columns = x) and ``regions``."""

    box: tuple[Fraction, Fraction, Fraction, Fraction]
    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray
    patterns: np.ndarray
    pre_activations: tuple[np.ndarray, ...]
    regions: int


def _states(net: Network, points: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """ReLU states (points × ReLU neurons) with the envelope tolerance, and the ReLU z's."""
    h, env = points, np.abs(points)
    states, zs = [], []
    for layer in prepare(net):
        z, e = layer.pre_activation(h, env)
        if layer.activation == "relu":
            on = z > RTOL * e
            states.append(on)
            zs.append(np.where(np.abs(z) <= RTOL * e, 0.0, z))
            h, env = np.where(on, z, 0.0), np.where(on, e, 0.0)
        else:
            h, env = apply_activation(layer.activation, z), apply_activation(layer.activation, e)
    if not states:
        return np.zeros((len(points), 0), dtype=bool), zs
    return np.concatenate(states, axis=1), zs


def _label(ids: np.ndarray) -> np.ndarray:
    """Connected components of equal ``ids`` on the grid (8-neighbour)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, cols = ids.shape
    index = np.arange(rows * cols).reshape(rows, cols)
    a_parts, b_parts = [], []
    for first, second in (
        (np.s_[:, :-1], np.s_[:, 1:]),
        (np.s_[:-1, :], np.s_[1:, :]),
        (np.s_[:-1, :-1], np.s_[1:, 1:]),
        (np.s_[:-1, 1:], np.s_[1:, :-1]),
    ):
        same = ids[first] == ids[second]
        a_parts.append(index[first][same])
        b_parts.append(index[second][same])
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(rows * cols, rows * cols))
    _, labels = connected_components(graph, directed=False)
    return labels.reshape(rows, cols)


def grid_slice(
    net: Network, plane: object = None, box: object = None, resolution: int = 256
) -> GridSlice:
    """Count activation regions on a slice by labelling a grid (see the module docstring)."""
    if resolution < 2:
        raise QexprValueError(f"resolution: expected at least 2, got {resolution}")
    two = plane_network(net, plane)
    box = check_box(box)
    x0, x1, y0, y1 = (float(v) for v in box)
    xs = x0 + (np.arange(resolution) + 0.5) * (x1 - x0) / resolution
    ys = y0 + (np.arange(resolution) + 0.5) * (y1 - y0) / resolution
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    states, zs = _states(two, points)
    _, ids = np.unique(states, axis=0, return_inverse=True)
    labels = _label(ids.reshape(resolution, resolution))
    pre = tuple(z.reshape(resolution, resolution, -1) for z in zs)
    return GridSlice(box, xs, ys, labels, states, pre, int(labels.max()) + 1)


def confirm_regions(net: Network, grid: GridSlice, plane: object = None) -> int:
    """How many grid regions the exact 1-D engine confirms (all of them, unless phantom).

    For each region, a representative sample (the one nearest the region's mean) is checked on
    the exact horizontal line through it: the exact activation pattern at that point must equal
    the grid pattern.
    """
    from qexpr.spline._algebraic import RealAlgebraic
    from qexpr.spline._count import spline_form
    from qexpr.spline._restrict import restrict_to_line

    two = plane_network(net, plane)
    cols = grid.labels.shape[1]
    by_row: dict[int, list[tuple[int, int]]] = {}
    for region in range(grid.regions):
        r, c = np.nonzero(grid.labels == region)
        k = int(np.argmin((r - r.mean()) ** 2 + (c - c.mean()) ** 2))
        by_row.setdefault(int(r[k]), []).append((region, int(c[k])))
    x0, x1 = grid.box[0], grid.box[1]
    confirmed = 0
    for row, members in by_row.items():
        y = Fraction(float(grid.ys[row]))
        exact = spline_form(restrict_to_line(two, [0, y], [1, 0]), mode="exact", domain=(x0, x1))
        for _region, col in members:
            x = RealAlgebraic.rational(Fraction(float(grid.xs[col])))
            here = next(reg for reg in exact.region_list if reg.right is None or not reg.right < x)
            confirmed += tuple(here.pattern) == tuple(grid.patterns[row * cols + col])
    return confirmed
