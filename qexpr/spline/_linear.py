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

Speed: a layer is a fixed number of numpy calls on small arrays (about 50, counted in the
code; each costs 0.5-2 µs at these sizes, more than its arithmetic on a few thousand
entries), so the slopes, intercepts and their envelopes travel as one stacked array
(4, cells, width) that is multiplied, cut and masked in one call each; the masks of
earlier layers are re-indexed once at the end; the checks for values below resolution
take their slow path only when some value is within ``RTOL`` of its envelope; and each
network's float64 layers are built once while it lives (:func:`linear_network`). Every
change keeps the results bit for bit: each product is the same BLAS call on the same
operands as before, and each comparison the same float64 operation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from qexpr._network import Layer, Network
from qexpr._neurons import NeuronType
from qexpr.spline._float import RTOL, FloatCells
from qexpr.spline._structure import rounding_bound

__all__ = [
    "X_TOL",
    "AffineLayer",
    "LinearNetwork",
    "is_piecewise_linear",
    "linear_cells",
    "linear_cells_of",
    "linear_network",
]

#: Relative distance below which two breakpoints (or a breakpoint and a cell end) coincide.
X_TOL = 1e-9

#: The input's slope, intercept and their envelopes on the first cell: ``x = 1 x + 0``.
_START = np.array([1.0, 0.0, 1.0, 0.0]).reshape(4, 1, 1)
_START.flags.writeable = False


def is_piecewise_linear(net: Network) -> bool:
    """True when every layer is affine in its input (degree-1 neurons: the conventional
    neuron) and every activation is ReLU or identity."""
    return all(la.neuron_type().degree == 1 and la.activation != "square" for la in net.layers)


class AffineLayer(NamedTuple):
    """A layer's float64 weights for this engine: ``matrices`` (4, in, out) holds
    ``(W, W, |W|, |W|)`` (W transposed, in × out) for the stacked product, ``bias`` the
    rows ``(0, b + 0, 0, |b|)`` (4, 1, out) added to it (``+ 0`` turns ``-0.0`` into
    ``0.0``); then the neuron type and the activation.

    ``weights``/``abs_weights`` give W and b and their absolute values under the neuron's
    own names, as :func:`qexpr.spline._float.prepare` does (what
    :func:`~qexpr.spline._structure.rounding_bound` and
    :func:`~qexpr.spline._float.same_neighbours` read).
    """

    matrices: np.ndarray
    bias: np.ndarray
    neuron: NeuronType
    activation: str

    @classmethod
    def of(cls, layer: Layer) -> AffineLayer:
        neuron = layer.neuron_type()
        w_key, b_key = neuron.linear_part
        w = np.asarray(getattr(layer, w_key), dtype=np.float64)  # out × in
        # Stored out × in and viewed transposed, as ``w.T`` itself: the products then run
        # exactly as they did with ``w.T`` (the same BLAS call, the same rounding).
        rows = np.empty((4, *w.shape))
        rows[:2] = w
        np.abs(w, out=rows[2])
        rows[3] = rows[2]
        bias = np.zeros((4, 1, w.shape[0]))
        np.add(np.asarray(getattr(layer, b_key), dtype=np.float64), 0.0, out=bias[1, 0])
        np.abs(bias[1, 0], out=bias[3, 0])
        rows.flags.writeable = bias.flags.writeable = False  # kept with the network
        return cls(rows.transpose(0, 2, 1), bias, neuron, layer.activation)

    @property
    def out_dim(self) -> int:
        """Number of neurons."""
        return self.matrices.shape[2]

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """W (in × out) and b under the neuron's names."""
        w_key, b_key = self.neuron.linear_part
        return {w_key: self.matrices[0], b_key: self.bias[1, 0]}

    @property
    def abs_weights(self) -> dict[str, np.ndarray]:
        """|W| and |b| under the neuron's names."""
        w_key, b_key = self.neuron.linear_part
        return {w_key: self.matrices[2], b_key: self.bias[3, 0]}


class LinearNetwork(NamedTuple):
    """A piecewise-linear network ready for :func:`linear_cells_of`: its layers, the
    rounding bound ε of its outputs' slopes and intercepts
    (:func:`~qexpr.spline._structure.rounding_bound`, two values per series), and the first
    layer's stacked pre-activation on the one starting cell with how many of its values
    were below resolution (the same on every domain; read-only)."""

    layers: tuple[AffineLayer, ...]
    output_eps: float
    first: tuple[np.ndarray, int]


def linear_network(net: Network) -> LinearNetwork:
    """A piecewise-linear network for :func:`linear_cells_of`, built once per network and
    kept with it (:meth:`~qexpr.Network.derived`): repeated counts on one network (domains,
    benchmarks) convert nothing."""
    return net.derived(_linear_network)


def _linear_network(net: Network) -> LinearNetwork:
    layers = tuple(AffineLayer.of(layer) for layer in net.layers)
    stack, lost = _pre_activation(_START, layers[0])
    stack.flags.writeable = False
    return LinearNetwork(layers, rounding_bound(layers, len(layers), 2), (stack, lost))


def _cut(roots: np.ndarray, left: np.ndarray) -> tuple[np.ndarray, int]:
    """New left ends: the old ones and the roots, increasing; roots closer than ``X_TOL``
    (relative) to the previous root are merged, and counted (equal floats may be distinct
    numbers).

    Every root lies inside its cell, at more than ``X_TOL`` from its ends, so one global
    sort orders the roots cell by cell. ``roots`` is sorted in place. When the smallest
    gap exceeds ``X_TOL`` times the largest ``max(1, |root|)``, no root is merged and the
    root-by-root test is skipped."""
    roots.sort()
    later = roots[1:]
    merged = 0
    if later.size:
        gap = later - roots[:-1]
        largest = max(1.0, abs(float(roots[0])), abs(float(roots[-1])))
        if not gap.min() > X_TOL * largest:
            keep = gap > X_TOL * np.maximum(1.0, np.abs(later))
            merged = len(keep) - int(np.count_nonzero(keep))
            later = later[keep]
    new_left = np.concatenate((left, later, roots[:1]))
    new_left.sort()
    return new_left, merged


def _pre_activation(stack: np.ndarray, layer: AffineLayer) -> tuple[np.ndarray, int]:
    """Stacked slopes, intercepts and their envelopes of a layer's pre-activations,
    ``(S, C, |S|, |C|) -> (S W, C W + b, |S| |W|, |C| |W| + |b|)`` (4, cells, out), slopes
    and intercepts within ``RTOL`` of their envelope set to 0; and how many of those were
    not 0 (slopes, and intercepts whose slope is 0 too).

    One batched product: each of the four is its own matrix product, as it would be
    alone. Adding the bias rows turns ``-0.0`` into ``0.0`` and changes nothing else, so
    afterwards every slope or intercept below resolution is already ``0.0`` unless it is
    nonzero, and only then must entries be set to 0."""
    out = np.matmul(stack, layer.matrices)
    out += layer.bias
    z = out[:2]
    small = np.abs(z) <= RTOL * out[2:]
    if not small.any():
        return out, 0
    flagged = small & (z != 0)
    if not flagged.any():  # only zeros (all 0.0, none -0.0): nothing to set
        return out, 0
    np.copyto(z, 0.0, where=small)  # rare: a nonzero value below resolution
    return out, int(np.count_nonzero(flagged[0] | small[0] & flagged[1]))


def _roots(z: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, int]:
    """The roots ``x = -c / s`` inside the cells (more than ``X_TOL`` relative from both
    ends), and how many roots lie within ``X_TOL`` of a cell's end (an end equal in
    float64 may still differ); a zero slope has no root (NaN, which compares False)."""
    s, c = z
    x = -c / s
    if not s.all():
        x[s == 0] = np.nan
    margin = np.abs(x)
    np.maximum(margin, 1.0, out=margin)
    margin *= X_TOL
    ends = np.empty((2, *x.shape))
    ends[0], ends[1] = left[:, None], right[:, None]
    inside = (x > ends[0] + margin) & (x < ends[1] - margin)
    distance = np.subtract(x, ends, out=ends)
    np.abs(distance, out=distance)
    near = np.minimum(distance[0], distance[1]) <= margin
    return x.ravel().compress(inside.ravel()), int(np.count_nonzero(near))


def _centres(left: np.ndarray, right: np.ndarray, *, bounded: bool) -> np.ndarray:
    """Where each cell's states are read: :func:`qexpr.spline._float.sample_interval`'s
    centre (the middle of a bounded cell; ``a + max(1, |a|)`` on ``[a, ∞)``, likewise on
    ``(-∞, b]``; 0 on the whole line). On the whole line (``bounded`` False) the first
    cell starts at -∞ and the last ends at +∞; every other cell is bounded."""
    mid = (left + right) / 2
    if bounded:
        return mid
    if len(mid) == 1:
        mid[0] = 0.0
        return mid
    first, last = float(right[0]), float(left[-1])
    mid[0] = first - max(1.0, abs(first))
    mid[-1] = last + max(1.0, abs(last))
    return mid


def linear_cells(
    net: Network, domain: tuple[float, float] | None = None
) -> tuple[FloatCells, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a piecewise-linear one-input network, and its outputs on each cell.

    Returns ``(cells, slope, intercept, slope_env, intercept_env)``: the outputs are
    ``slope * x + intercept`` on each cell (arrays (cells, outputs)), with envelopes.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        cells, stack, _ = linear_cells_of(linear_network(net), domain)
    return cells, stack[0], stack[1], stack[2], stack[3]


def linear_cells_of(
    net: LinearNetwork, domain: tuple[float, float] | None = None
) -> tuple[FloatCells, np.ndarray, np.ndarray]:
    """:func:`linear_cells` from :func:`linear_network`, for callers that already hold
    it: the cells, the outputs' slopes, intercepts and their envelopes stacked
    (4, cells, outputs), and the cells' activation patterns (cells, ReLU neurons; the
    ReLU layers' masks are column blocks of it, as :attr:`FloatCells.patterns` gives).

    Slopes, intercepts and their envelopes travel stacked (4, cells, width), so a layer
    costs one batched product; the patterns so far travel as one array, cut with the
    cells and widened by each ReLU layer's states. Divisions by zero are expected: call
    it under ``np.errstate(divide="ignore", invalid="ignore")``, as :func:`linear_cells`
    does.
    """
    bounded = domain is not None
    lo, hi = (float(domain[0]), float(domain[1])) if bounded else (-np.inf, np.inf)
    left, right = np.array([lo]), np.array([hi])
    stack, lost = net.first  # the first layer's pre-activation: the same on every domain
    patterns = np.zeros((1, 0), dtype=bool)
    columns: list[tuple[int, int] | None] = []  # each layer's block of patterns
    for k, layer in enumerate(net.layers):
        if k:
            stack, small = _pre_activation(stack, layer)
            lost += small
        if layer.activation != "relu":
            columns.append(None)
            continue
        roots, near = _roots(stack[:2], left, right)
        lost += near
        if roots.size:
            new_left, merged = _cut(roots, left)
            lost += merged
            parent = left[1:].searchsorted(new_left, "right")  # new_left >= left[0]
            left, right = new_left, np.concatenate((new_left[1:], right[-1:]))
            stack = stack.take(parent, axis=1)
            if patterns.shape[1]:
                patterns = patterns.take(parent, axis=0)
        active, weak = _states(stack, _centres(left, right, bounded=bounded))
        lost += weak
        stack = np.where(active, stack, 0.0)
        start = patterns.shape[1]
        patterns = np.concatenate((patterns, active), axis=1) if start else active
        columns.append((start, patterns.shape[1]))
    masks = tuple(
        np.zeros((len(left), layer.out_dim), dtype=bool)
        if block is None
        else patterns[:, block[0] : block[1]]
        for layer, block in zip(net.layers, columns)
    )
    relu_layers = tuple(k for k, block in enumerate(columns) if block is not None)
    return FloatCells(left, right, masks, relu_layers, lost), stack, patterns


def _states(stack: np.ndarray, mid: np.ndarray) -> tuple[np.ndarray, int]:
    """ReLU states at the cells' centres ``mid``: active where ``s mid + c`` exceeds
    ``RTOL`` times its envelope; and how many values are nonzero yet within that bound."""
    value = stack[0] * mid[:, None]
    value += stack[1]
    resolution = stack[2] * np.abs(mid)[:, None]
    resolution += stack[3]
    resolution *= RTOL
    active = value > resolution
    weak = np.abs(value) <= resolution
    if weak.any():  # rare but for zeros
        return active, int(np.count_nonzero(weak & (value != 0)))
    return active, 0
