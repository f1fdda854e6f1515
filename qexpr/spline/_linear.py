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


def _affine_layers(net: Network) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Each layer's ``(W, b, relu)``: W (in × out) and b as float64."""
    layers = []
    for layer in net.layers:
        w_key, b_key = layer.neuron_type().linear_part
        w = np.asarray(getattr(layer, w_key), dtype=np.float64).T
        layers.append(
            (w, np.asarray(getattr(layer, b_key), dtype=np.float64), layer.activation == "relu")
        )
    return layers


def _cut(roots: np.ndarray, left: np.ndarray) -> tuple[np.ndarray, int]:
    """New left ends: the old ones and the roots, increasing; roots closer than ``X_TOL``
    (relative) to the previous root are merged, and counted (equal floats may be distinct
    numbers).

    Every root lies inside its cell, at more than ``X_TOL`` from its ends, so one global
    sort orders the roots cell by cell."""
    points = np.sort(roots)
    gap = np.diff(points)
    keep = gap > X_TOL * np.maximum(1.0, np.abs(points[1:]))
    merged = int(np.count_nonzero(~keep))
    return np.sort(np.concatenate([left, points[1:][keep], points[:1]])), merged


def _pre_activation(
    values: np.ndarray, envelope: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Stacked slopes and intercepts ``values @ w + (0, b)`` and their envelopes, entries
    within ``RTOL`` of their envelope set to 0, and how many of those were not 0 (slopes,
    and intercepts whose slope is 0 too)."""
    z = values @ w
    z[1] += b
    env = envelope @ np.abs(w)
    env[1] += np.abs(b)
    small = np.abs(z) <= RTOL * env
    lost = int(np.count_nonzero(small[0] & ((z[0] != 0) | small[1] & (z[1] != 0))))
    z[small] = 0.0
    return z, env, lost


def _split(
    s: np.ndarray, c: np.ndarray, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, int]:
    """Cut the cells at the roots ``-c / s`` inside them: ``(parent, left, right, lost)``
    (``parent`` None when nothing is cut); lost counts roots within ``X_TOL`` of a cell's
    end (an end equal in float64 may still differ) and merged roots."""
    x = np.where(s != 0, -c / s, np.nan)  # NaN compares False below
    margin = X_TOL * np.maximum(1.0, np.abs(x))
    inside = (x > left[:, None] + margin) & (x < right[:, None] - margin)
    distance = np.minimum(np.abs(x - left[:, None]), np.abs(x - right[:, None]))
    lost = int(np.count_nonzero(distance <= margin))
    roots = x[inside]
    if not roots.size:
        return None, left, right, lost
    new_left, merged = _cut(roots, left)
    parent = np.searchsorted(left, new_left, side="right") - 1
    return parent, new_left, np.append(new_left[1:], right[-1]), lost + merged


def linear_cells(
    net: Network, domain: tuple[float, float] | None = None
) -> tuple[FloatCells, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a piecewise-linear one-input network, and its outputs on each cell.

    Returns ``(cells, slope, intercept, slope_env, intercept_env)``: the outputs are
    ``slope * x + intercept`` on each cell (arrays (cells, outputs)), with envelopes.
    Slopes and intercepts travel stacked (2, cells, width), so a layer costs one product
    for the values and one for the envelopes.
    """
    lo, hi = (-np.inf, np.inf) if domain is None else (float(domain[0]), float(domain[1]))
    left, right = np.array([lo]), np.array([hi])
    values = np.array([[[1.0]], [[0.0]]])
    envelope = values.copy()
    masks: list[np.ndarray] = []
    lost = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for w, b, relu in _affine_layers(net):
            z, env, small = _pre_activation(values, envelope, w, b)
            lost += small
            if not relu:
                masks.append(np.zeros((len(left), len(b)), dtype=bool))
                values, envelope = z, env
                continue
            parent, left, right, cut = _split(z[0], z[1], left, right)
            lost += cut
            if parent is not None:
                z, env = z[:, parent], env[:, parent]
                masks = [m[parent] for m in masks]
            mid, _ = sample_interval(left, right)
            value = z[0] * mid[:, None] + z[1]
            resolution = RTOL * (env[0] * np.abs(mid)[:, None] + env[1])
            active = value > resolution
            lost += int(np.count_nonzero((np.abs(value) <= resolution) & (value != 0)))
            masks.append(active)
            values, envelope = np.where(active, z, 0.0), np.where(active, env, 0.0)
    relu_layers = tuple(k for k, la in enumerate(net.layers) if la.activation == "relu")
    cells = FloatCells(left, right, tuple(masks), relu_layers, lost)
    return cells, values[0], values[1], envelope[0], envelope[1]
