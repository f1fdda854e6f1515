"""Fast float engine for conventional ReLU networks (piecewise-linear in one input).

When every layer has linear neurons with ReLU or identity activations, each neuron is an
affine function ``s x + c`` on every cell. We carry the slopes and intercepts of a layer's
outputs for all cells at once, so a layer costs two small matrix products, the roots
``x = -c / s`` and one sort, with no re-evaluation of earlier layers:

* pre-activation: ``S_z = S_h W^T``, ``C_z = C_h W^T + b``;
* a neuron switches at ``-C_z / S_z`` when that point lies inside its cell;
* after the cut, ``S_h = mask * S_z`` and ``C_h = mask * C_z`` on each new cell.

The tolerance is that of :mod:`qexpr.spline._float`: a slope or intercept at most ``RTOL``
times its magnitude envelope is zero; roots within ``X_TOL`` (relative) of a cell's end
or of each other coincide.
"""

from __future__ import annotations

import numpy as np

from qexpr._network import Network
from qexpr.spline._float import RTOL, FloatCells, sample_interval

__all__ = ["X_TOL", "is_piecewise_linear", "linear_cells"]

#: Relative distance below which two breakpoints (or a breakpoint and a cell end) coincide.
X_TOL = 1e-9


def is_piecewise_linear(net: Network) -> bool:
    """True when every layer is affine in its input (degree-1 neurons: the conventional
    neuron) and every activation is ReLU or identity."""
    return all(la.neuron_type().degree == 1 and la.activation != "square" for la in net.layers)


def _cut(
    roots: np.ndarray, cell: np.ndarray, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Split cells at roots: returns (parent, new left, new right), left to right, and how
    many roots were merged with a neighbour they do not equal (float64 cannot tell)."""
    count = len(left)
    cells = np.concatenate([cell, np.arange(count)])
    points = np.concatenate([roots, left])
    order = np.lexsort((points, cells))
    cells, points = cells[order], points[order]
    keep = np.ones(len(points), dtype=bool)
    gap = points[1:] - points[:-1]
    keep[1:] = (cells[1:] != cells[:-1]) | (gap > X_TOL * np.maximum(1.0, np.abs(points[1:])))
    merged = int(np.count_nonzero(~keep[1:]))  # equal floats may be distinct numbers
    cells, points = cells[keep], points[keep]
    ends = np.empty_like(points)
    ends[:-1] = points[1:]
    last = np.ones(len(points), dtype=bool)
    last[:-1] = cells[1:] != cells[:-1]
    ends[last] = right[cells[last]]
    return cells, points, ends, merged


def linear_cells(
    net: Network, domain: tuple[float, float] | None = None
) -> tuple[FloatCells, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a piecewise-linear one-input network, and its outputs on each cell.

    Returns ``(cells, slope, intercept, slope_env, intercept_env)``: the outputs are
    ``slope * x + intercept`` on each cell (arrays (cells, outputs)), with envelopes.
    """
    lo, hi = (-np.inf, np.inf) if domain is None else (float(domain[0]), float(domain[1]))
    left, right = np.array([lo]), np.array([hi])
    slope, intercept = np.ones((1, 1)), np.zeros((1, 1))
    slope_env, intercept_env = np.ones((1, 1)), np.zeros((1, 1))
    masks: list[np.ndarray] = []
    lost = 0
    for layer in net.layers:
        w_key, b_key = layer.neuron_type().linear_part
        w = np.asarray(getattr(layer, w_key), dtype=np.float64).T
        b = np.asarray(getattr(layer, b_key), dtype=np.float64)
        s, c = slope @ w, intercept @ w + b
        es, ec = slope_env @ np.abs(w), intercept_env @ np.abs(w) + np.abs(b)
        s_zero, c_zero = np.abs(s) <= RTOL * es, np.abs(c) <= RTOL * ec
        lost += int(np.count_nonzero((s_zero & (s != 0)) | (c_zero & (c != 0) & s_zero)))
        s, c = np.where(s_zero, 0.0, s), np.where(c_zero, 0.0, c)
        if layer.activation != "relu":
            masks.append(np.zeros((len(left), layer.out_dim), dtype=bool))
            slope, intercept, slope_env, intercept_env = s, c, es, ec
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(s != 0, -c / s, np.nan)  # NaN compares False below
        margin = X_TOL * np.maximum(1.0, np.abs(x))
        inside = (x > left[:, None] + margin) & (x < right[:, None] - margin)
        near = (np.abs(x - left[:, None]) <= margin) | (np.abs(x - right[:, None]) <= margin)
        lost += int(np.count_nonzero(near))  # an end equal in float64 may still differ
        cell, _ = np.nonzero(inside)
        parent, left, right, merged = _cut(x[inside], cell, left, right)
        lost += merged
        mid, _ = sample_interval(left, right)
        s, c, es, ec = s[parent], c[parent], es[parent], ec[parent]
        value = s * mid[:, None] + c
        resolution = RTOL * (es * np.abs(mid[:, None]) + ec)
        active = value > resolution
        lost += int(np.count_nonzero((np.abs(value) <= resolution) & (value != 0)))
        masks = [m[parent] for m in masks]
        masks.append(active)
        slope, intercept = np.where(active, s, 0.0), np.where(active, c, 0.0)
        slope_env, intercept_env = np.where(active, es, 0.0), np.where(active, ec, 0.0)
    relu = tuple(k for k, la in enumerate(net.layers) if la.activation == "relu")
    cells = FloatCells(left, right, tuple(masks), relu, lost)
    return cells, slope, intercept, slope_env, intercept_env
