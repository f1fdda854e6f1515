"""Float spline engine: the cells of a one-input network in float64, batched with numpy.

On a cell, the network with its ReLU states held fixed is a polynomial of known degree
bound D, so each pre-activation of a layer is known from its values at ``N = D + 1``
Chebyshev points of the cell. Those values come from one forward pass over all cells at
once with the states fixed (:func:`forward_fixed`); values become Chebyshev coefficients
and their sign changes are found for all (cell, neuron) pairs together
(:func:`qexpr.spline._chebyshev.sign_changes`). Every step is a numpy operation over all cells:
there is no Python loop over cells or neurons.

The whole line starts as the two half-lines (-∞, 0] and [0, ∞). On ``[a, ∞)`` the map
``x = a + s (1 + t) / (1 - t)`` (s = max(1, |a|)) sends t ∈ (-1, 1) onto the cell, and a
pre-activation ``p`` of degree d becomes the polynomial ``q(t) = p(x(t)) ((1 - t) / 2)^d``
with the same roots; likewise on ``(-∞, b]``. The true degree d (not the bound) is used,
else ``q`` would have a multiple root at t = 1 that rounding scatters into the cell.

Tolerance: next to every value we carry its *magnitude envelope*, the same computation on
absolute values of weights and inputs, which bounds the size of every term that produced
it. A value or coefficient at most ``RTOL`` times its envelope is zero: such a
pre-activation is identically zero (inactive, no roots), such a coefficient does not count
for root finding. Degrees come from leading terms (:mod:`qexpr.spline._structure`). Roots
closer than ``ROOT_TOL`` (in t) are one root of multiplicity the cluster size; only odd
clusters cut a cell. Values below resolution that are not exactly zero, roots too close
to tell apart (see ``AMBIGUOUS_TOL``) or merged with another neuron's or with a cell end,
signs below resolution on a new cell, and degrees or equal neighbours that
:mod:`qexpr.spline._structure` cannot prove are counted as *unresolved*: the counts may
then be wrong, and the result says so (docs/spline-engine.md says which of these checks
are proofs and which are heuristics).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qexpr._network import Layer, Network
from qexpr._neurons import NeuronType
from qexpr.spline._chebyshev import (
    ROOT_TOL,
    chebyshev_points,
    sign_changes,
    values_to_coefficients,
)
from qexpr.spline._structure import (
    leading_terms,
    rounding_bound,
    same_outputs,
    structurally_same,
)

__all__ = ["RTOL", "FloatCells", "float_cells", "output_series"]

#: Relative size (to the magnitude envelope) below which a value counts as zero.
RTOL = 1e-12
#: Where each new cell's ReLU states are read, as fractions of the cell (in t).
_SAMPLES = np.array([0.25, 0.5, 0.75])


def _matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` for x of shape (..., m), as one 2-D product (much faster than batched)."""
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[1])


@dataclass(frozen=True)
class _Enveloped:
    """A float64 value and its magnitude envelope, with the rules of ``+`` and ``*``."""

    value: np.ndarray
    envelope: np.ndarray

    def __add__(self, other: _Enveloped) -> _Enveloped:
        return _Enveloped(self.value + other.value, self.envelope + other.envelope)

    def __mul__(self, other: _Enveloped) -> _Enveloped:
        return _Enveloped(self.value * other.value, self.envelope * other.envelope)


@dataclass(frozen=True)
class _FloatLayer:
    """A layer's float64 weights (matrices transposed) and their absolute values.

    The pre-activation is the neuron table's formula over float primitives that carry the
    magnitude envelope beside each value.
    """

    neuron: NeuronType
    activation: str
    out_dim: int
    weights: dict[str, np.ndarray]
    abs_weights: dict[str, np.ndarray]

    @classmethod
    def of(cls, layer: Layer) -> _FloatLayer:
        neuron = layer.neuron_type()
        weights = {
            key: np.asarray(v, dtype=np.float64).T
            if key in neuron.matrices
            else np.asarray(v, dtype=np.float64)
            for key, v in layer.params.items()
        }
        abs_weights = {key: np.abs(v) for key, v in weights.items()}
        return cls(neuron, layer.activation, layer.out_dim, weights, abs_weights)

    def pre_activation(self, h: np.ndarray, env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pre-activations of inputs ``h`` (…, m) and their envelopes from ``env``."""
        w, a = self.weights, self.abs_weights

        def affine(x: np.ndarray, e: np.ndarray) -> Callable[[str, str], _Enveloped]:
            return lambda m, b: _Enveloped(_matmul(x, w[m]) + w[b], _matmul(e, a[m]) + a[b])

        z = self.neuron.pre_activation(affine(h, env), affine(h * h, env * env))
        return z.value, z.envelope


def prepare(net: Network) -> list[_FloatLayer]:
    """Float64 views of a network's layers for :func:`forward_fixed`."""
    return [_FloatLayer.of(layer) for layer in net.layers]


def degree_bounds(net: Network) -> list[int]:
    """Degree bound of each layer's pre-activation as a polynomial in the one input."""
    bounds, degree = [], 1
    for layer in net.layers:
        degree *= layer.neuron_type().degree
        bounds.append(degree)
        degree *= 2 if layer.activation == "square" else 1
    return bounds


def output_degree_bound(net: Network) -> int:
    """Degree bound of the network's output."""
    return degree_bounds(net)[-1] * (2 if net.layers[-1].activation == "square" else 1)


#: Most float64 values one block of :func:`forward_fixed` holds per array (32 MB): wide
#: layers are evaluated a block of cells at a time, so memory stays bounded.
BLOCK_VALUES = 2**22


def forward_fixed(
    layers: Sequence[_FloatLayer], x: np.ndarray, masks: Sequence[np.ndarray], upto: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values at points ``x`` (cells × points) with the ReLU states held fixed.

    ``masks[k]`` (cells × o_k, bool) holds the states of layer k for each cell. Returns the
    pre-activations of layer ``upto`` and their envelopes, shape (cells, points, o_upto);
    ``upto = len(layers)`` returns the network's outputs instead. Cells are processed in
    blocks of at most :data:`BLOCK_VALUES` values per intermediate array.
    """
    widest = max(layer.out_dim for layer in layers[: upto + 1])
    block = max(1, BLOCK_VALUES // max(1, x.shape[-1] * widest))
    if len(x) <= block:
        return _forward_block(layers, x, masks, upto)
    parts = [
        _forward_block(layers, x[i : i + block], [m[i : i + block] for m in masks], upto)
        for i in range(0, len(x), block)
    ]
    return np.concatenate([z for z, _ in parts]), np.concatenate([e for _, e in parts])


def _forward_block(
    layers: Sequence[_FloatLayer], x: np.ndarray, masks: Sequence[np.ndarray], upto: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`forward_fixed` on one block of cells."""
    h = x[..., None]
    env = np.abs(h)
    for k, layer in enumerate(layers):
        z, e = layer.pre_activation(h, env)
        if k == upto:
            return z, e
        if layer.activation == "relu":
            m = masks[k][:, None, :]
            h, env = np.where(m, z, 0.0), np.where(m, e, 0.0)
        elif layer.activation == "square":
            h, env = z * z, e * e
        else:
            h, env = z, e
    return h, env


def unresolved(values: np.ndarray, envelope: np.ndarray) -> int:
    """How many rows (last axis = points) are below rounding resolution yet not zero."""
    size = np.abs(values).max(axis=-1)
    return int(np.count_nonzero((size > 0) & (size <= RTOL * envelope.max(axis=-1))))


def chebyshev_coefficients(values: np.ndarray, envelope: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients (last axis) with entries below tolerance set to 0."""
    coeffs = values_to_coefficients(values)
    scale = envelope.max(axis=-1, keepdims=True)
    return np.where(np.abs(coeffs) <= RTOL * scale, 0.0, coeffs)


def _to_x(t: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Map t ∈ [-1, 1] (cells × points) onto each cell (rows of ``left``, ``right``)."""
    left, right = left[:, None], right[:, None]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        bounded = (left + right) / 2 + (right - left) / 2 * t
        to_right = left + np.maximum(1.0, np.abs(left)) * (1 + t) / (1 - t)
        to_left = right - np.maximum(1.0, np.abs(right)) * (1 - t) / (1 + t)
    x = np.where(np.isinf(right), to_right, bounded)
    return np.where(np.isinf(left), to_left, x)


def _weights(t: np.ndarray, left: np.ndarray, right: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """Factors (cells, points, neurons) turning p(x(t)) into a polynomial in t."""
    t, degree = t[:, :, None], degree[:, None, :]
    w = np.where(np.isinf(right)[:, None, None], ((1 - t) / 2) ** degree, 1.0)
    return np.where(np.isinf(left)[:, None, None], ((1 + t) / 2) ** degree, w)


def sample_interval(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and half-width of the interval on which each cell's polynomial is sampled.

    A cell's polynomial is defined on the whole line, so the interval need not lie in the
    cell. It is centred in the cell (a half-line ``[a, ∞)``: at ``a + max(1, |a|)``, far
    enough from ``a`` on the input's own scale) and at least as wide as the spread of all
    finite endpoints.
    """
    ends = np.abs(np.concatenate([left, right]))
    spread = float(ends[np.isfinite(ends)].max(initial=0.0))
    with np.errstate(invalid="ignore"):
        to_left = right - np.maximum(1.0, np.abs(right))
        to_right = left + np.maximum(1.0, np.abs(left))
        centre = np.where(
            np.isinf(left), to_left, np.where(np.isinf(right), to_right, (left + right) / 2)
        )
        centre = np.where(np.isinf(left) & np.isinf(right), 0.0, centre)
        width = np.where(np.isinf(left) | np.isinf(right), 1.0, (right - left) / 2)
    return centre, np.maximum(width, max(1.0, spread))


def _samples(
    layers: Sequence[_FloatLayer],
    upto: int,
    n: int,
    window: tuple[np.ndarray, np.ndarray],
    masks: Sequence[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of layer ``upto`` at ``n`` Chebyshev points of each cell's sample interval
    ``window = (centre, half)``: values and envelopes (cells, neurons, n), and the points
    x (cells, n)."""
    centre, half = window
    x = centre[:, None] + half[:, None] * chebyshev_points(n)[None, :]
    values, env = forward_fixed(layers, x, masks, upto)
    return np.moveaxis(values, 1, 2), np.moveaxis(env, 1, 2), x


@dataclass(frozen=True)
class FloatCells:
    """Consecutive open intervals with fixed ReLU states, as arrays over cells.

    ``left``/``right`` (cells,) may be ±inf; ``masks[k]`` (cells, o_k) are the states of
    layer k (all False for layers without ReLU); ``unresolved`` counts pre-activations
    float64 could not resolve.
    """

    left: np.ndarray
    right: np.ndarray
    masks: tuple[np.ndarray, ...]
    relu_layers: tuple[int, ...]
    unresolved: int

    @property
    def patterns(self) -> np.ndarray:
        """States of all ReLU neurons, (cells, neurons) in layer order."""
        parts = [self.masks[k] for k in self.relu_layers]
        return np.hstack(parts) if parts else np.zeros((len(self.left), 0), dtype=bool)


def _split(
    t: np.ndarray, cell: np.ndarray, neuron: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """New cells from cut points ``t`` of ``neuron`` in ``cell``: returns (parent cell, t_lo,
    t_hi, the neuron whose root the left end is or -1 at the parent's own end) for each
    piece, and how many cut points were merged with a neighbour closer than ``ROOT_TOL``.

    A neuron's own roots that close are already one cluster, so a merge joins roots of
    different neurons: float64 cannot tell their order, or whether they are one point.
    """
    cells = np.concatenate([cell, np.arange(count), np.arange(count)])
    points = np.concatenate([t, np.full(count, -1.0), np.full(count, 1.0)])
    owners = np.concatenate([neuron, np.full(2 * count, -1)])
    order = np.lexsort((points, cells))
    cells, points, owners = cells[order], points[order], owners[order]
    distinct = np.ones(len(points), dtype=bool)
    distinct[1:] = (cells[1:] != cells[:-1]) | (points[1:] - points[:-1] > ROOT_TOL)
    distinct |= points == 1.0
    merged = int(np.count_nonzero(~distinct))
    cells, points, owners = cells[distinct], points[distinct], owners[distinct]
    pair = cells[:-1] == cells[1:]
    return cells[:-1][pair], points[:-1][pair], points[1:][pair], owners[:-1][pair], merged


def _unflipped(owner: np.ndarray, states: np.ndarray, unsure: np.ndarray) -> int:
    """How many cuts leave their own neuron in the same state on both sides (both read
    surely): a root of odd multiplicity always flips it, so the computed root is not where
    float64 put it (the true one may lie next to another neuron's) — unresolved. ``owner``
    is :func:`_split`'s; a new cell with ``owner >= 0`` follows its left neighbour."""
    cut = np.nonzero(owner >= 0)[0]
    j = owner[cut]
    same = states[cut, j] == states[cut - 1, j]
    sure = ~unsure[cut, j] & ~unsure[cut - 1, j]
    return int(np.count_nonzero(same & sure))


def _states(z: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ReLU states from values at sample points (cells, samples, neurons).

    A pre-activation keeps its sign on a cell except at even-multiplicity roots, so the
    sign is read where it is largest relative to its envelope. Returns the states and
    where a pre-activation is nonzero but at most ``RTOL`` times its envelope at every
    sample: its sign is below float64's resolution (unresolved).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.where(e > 0, np.abs(z) / e, 0.0)
    best = np.argmax(strength, axis=1)[:, None, :]
    z_best = np.take_along_axis(z, best, axis=1)[:, 0, :]
    e_best = np.take_along_axis(e, best, axis=1)[:, 0, :]
    unsure = (np.abs(z_best) <= RTOL * e_best) & np.any(z != 0, axis=1)
    return z_best > RTOL * e_best, unsure


def _block_states(
    layers: Sequence[_FloatLayer], x: np.ndarray, masks: Sequence[np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_states` of layer ``k`` at sample points ``x`` (cells × samples), a block of
    cells at a time (bounded memory for wide layers)."""
    block = max(1, BLOCK_VALUES // (x.shape[-1] * layers[k].out_dim))
    parts = [
        _states(*forward_fixed(layers, x[i : i + block], [m[i : i + block] for m in masks], k))
        for i in range(0, len(x), block)
    ]
    if not parts:
        empty = np.zeros((0, layers[k].out_dim), dtype=bool)
        return empty, empty
    return np.concatenate([s for s, _ in parts]), np.concatenate([u for _, u in parts])


def degrees(
    layers: Sequence[_FloatLayer], masks: Sequence[np.ndarray], k: int, n: int, cells: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Degrees (cells, neurons) of layer ``k``'s pre-activations from their leading terms
    (:mod:`qexpr.spline._structure`), their signs at -∞ and +∞ (cells, 2, neurons; 0 when
    not proved), and how many are unproved: the top coefficient is within the rounding
    bound of zero (``n`` points per series), so the true degree may be lower. Those report
    the structural degree, an upper bound. Cells are taken a block at a time (bounded
    memory for wide layers)."""
    eps = rounding_bound(layers, k, n)
    block = _block_cells(layers)
    leads = [
        leading_terms(layers, [m[i : i + block] for m in masks], k, min(block, cells - i))
        for i in range(0, cells, block)
    ]
    if not leads:
        o = layers[min(k, len(layers) - 1)].out_dim
        return np.zeros((0, o), dtype=int), np.zeros((0, 2, o), dtype=int), 0
    degree = np.concatenate([np.maximum(lead.degree, 0) for lead in leads]).astype(int)
    sign = np.concatenate([np.sign(lead.coefficient) * lead.certain(eps) for lead in leads])
    signs = np.stack([sign * (-1) ** (degree % 2), sign], axis=1).astype(int)
    return degree, signs, sum(int(np.count_nonzero(~lead.certain(eps))) for lead in leads)


def same_neighbours(layers: Sequence[_FloatLayer], masks: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`qexpr.spline._structure.structurally_same`, a block of cells at a time."""
    block = _block_cells(layers)
    pairs = len(masks[0]) - 1
    parts = [
        structurally_same(layers, [m[i : i + block + 1] for m in masks])
        for i in range(0, pairs, block)
    ]
    return np.concatenate(parts) if parts else np.zeros(max(pairs, 0), dtype=bool)


def _block_cells(layers: Sequence[_FloatLayer]) -> int:
    """Cells per block so that a (cells, widest layer) array holds ``BLOCK_VALUES``."""
    return max(1, BLOCK_VALUES // max(layer.out_dim for layer in layers))


def _at_ends(
    layers: Sequence[_FloatLayer],
    masks: Sequence[np.ndarray],
    k: int,
    left: np.ndarray,
    right: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Layer ``k``'s pre-activations at the finite ends of each cell.

    Returns ``pinned`` (cells × neurons, 2): the value and its envelope are exactly zero at
    the left / right end, so every term vanishes and the end is a root (proved); the
    signs at the ends (cells, 2, neurons): ±1 beyond ``RTOL`` times the envelope, else 0;
    and how many are nonzero there but at most ``RTOL`` times their envelope: a root at or
    next to the end, inside or outside the cell, float64 cannot tell.
    """
    ends = np.stack([left, right], axis=1)
    finite = np.isfinite(ends)
    z, e = forward_fixed(layers, np.where(finite, ends, 0.0), masks, k)
    exact = (e == 0) & finite[:, :, None]
    near = (np.abs(z) <= RTOL * e) & ~exact & finite[:, :, None]
    signs = np.sign(z) * ((np.abs(z) > RTOL * e) & finite[:, :, None])
    pinned = np.moveaxis(exact, 1, 2).reshape(-1, 2)
    return pinned, signs.astype(np.int8), int(np.count_nonzero(near))


def _missed_roots(
    signs: np.ndarray,
    parent: np.ndarray,
    at_end: tuple[np.ndarray, np.ndarray],
    states: np.ndarray,
    unsure: np.ndarray,
    block: int,
) -> int:
    """How many new cells read a state whose proved sign differs from the proved sign at
    an end they share with their parent cell (``signs`` (parents, 2, neurons), ``at_end``
    whether each new cell reaches its parent's left / right end): a root between them was
    missed (an odd number of them). Int8 arrays, ``block`` new cells at a time: a layer of
    10,000 neurons has about 20,000 cells."""
    missed = 0
    for i in range(0, len(parent), block):
        cells = slice(i, i + block)
        inside = states[cells].astype(np.int8) - (~states[cells] & ~unsure[cells])
        for side, reach in enumerate(at_end):
            wrong = signs[parent[cells], side] * inside < 0
            missed += int(np.count_nonzero(wrong & reach[cells, None]))
    return missed


def _x_radius(t: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """How far (in x) a root computed at ``t`` in a cell may lie from the true root.

    A root is trusted to ``ROOT_TOL`` in t (closer roots merge; flatter ones are
    ambiguous, see :func:`qexpr.spline._chebyshev.sign_changes`), so in x to ``ROOT_TOL``
    times the map's slope ``|dx/dt|``: ``(b - a) / 2`` on a bounded cell, ``2 s / (1 ∓ t)²``
    on a half-line, huge far out (t = 1 - 2·10^-6 is x ≈ 10^6 with slope 5·10^11).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = np.where(
            np.isinf(right),
            2 * np.maximum(1.0, np.abs(left)) / (1 - t) ** 2,
            np.where(
                np.isinf(left),
                2 * np.maximum(1.0, np.abs(right)) / (1 + t) ** 2,
                (right - left) / 2,
            ),
        )
    return ROOT_TOL * slope


def _near_found_ends(
    layers: Sequence[_FloatLayer],
    masks: Sequence[np.ndarray],
    k: int,
    ends: tuple[np.ndarray, np.ndarray],
    radius: tuple[np.ndarray, np.ndarray],
) -> int:
    """How many of layer ``k``'s pre-activations may change sign within ``radius`` of a
    cell end computed as an earlier layer's root (:func:`_x_radius`): their signs at
    ``end - r`` and ``end + r`` differ, or one is below resolution (nonzero, at most
    ``RTOL`` times its envelope). The true end may lie on either side of such a root, so
    the root may belong to this cell or the next: float64 cannot tell (unresolved).
    Only ends with ``r > 0`` are evaluated."""
    lost = 0
    for end, r in zip(ends, radius, strict=True):
        cells = np.nonzero((r > 0) & np.isfinite(end))[0]
        if not cells.size:
            continue
        x = end[cells, None] + r[cells, None] * np.array([-1.0, 1.0])
        z, e = forward_fixed(layers, x, [m[cells] for m in masks], k)
        strong = np.abs(z) > RTOL * e
        sign = np.sign(z) * strong
        weak = ~strong & (z != 0)
        lost += int(np.count_nonzero((sign[:, 0] != sign[:, 1]) | weak.any(axis=1)))
    return lost


def float_cells(net: Network, domain: tuple[float, float] | None = None) -> FloatCells:
    """The cells of a one-input network in float64 (see the module docstring).

    Parameters
    ----------
    net
        Network with ``input_dim == 1``.
    domain
        ``None`` for the whole line or ``(a, b)`` with ``a < b``.
    """
    layers = prepare(net)
    bounds = degree_bounds(net)
    if domain is None:
        left, right = np.array([-np.inf, 0.0]), np.array([0.0, np.inf])
    else:
        left, right = np.array([float(domain[0])]), np.array([float(domain[1])])
    masks: list[np.ndarray] = []
    # How far each cell's left / right end may lie from the root it was computed as (0 for
    # the domain's own ends): see _x_radius.
    radius = (np.zeros(len(left)), np.zeros(len(left)))
    lost = 0
    for k, layer in enumerate(layers):
        if layer.activation != "relu":
            masks.append(np.zeros((len(left), layer.out_dim), dtype=bool))
            continue
        n = bounds[k] + 1
        degree = np.zeros((len(left), layer.out_dim), dtype=int)
        pinned, signs, unsure = _at_ends(layers, masks, k, left, right)
        lost += unsure
        ends = np.nonzero(np.isinf(left) | np.isinf(right))[0]
        if ends.size:
            degree[ends], at_infinity, unsure = degrees(
                layers, [m[ends] for m in masks], k, n, ends.size
            )
            infinite = np.isinf(np.stack([left[ends], right[ends]], axis=1))[:, :, None]
            signs[ends] = np.where(infinite, at_infinity, signs[ends])
            lost += unsure
        t = chebyshev_points(n)[None, :]
        z, e = forward_fixed(layers, _to_x(t, left, right), masks, k)
        w = _weights(t, left, right, degree)
        values = np.moveaxis(z * w, 1, 2).reshape(-1, n)
        envelope = np.moveaxis(e * w, 1, 2).reshape(-1, n)
        coeffs = chebyshev_coefficients(values, envelope)
        rows, roots, ambiguous = sign_changes(coeffs, envelope.max(axis=-1), pinned=pinned)
        lost += unresolved(values, envelope) + ambiguous
        lost += _near_found_ends(layers, masks, k, (left, right), radius)
        neuron = rows % layer.out_dim
        parent, t_lo, t_hi, owner, merged = _split(roots, rows // layer.out_dim, neuron, len(left))
        lost += merged
        x_lo = _to_x(t_lo[:, None], left[parent], right[parent])[:, 0]
        x_hi = _to_x(t_hi[:, None], left[parent], right[parent])[:, 0]
        samples = t_lo[:, None] + (t_hi - t_lo)[:, None] * _SAMPLES
        x_samples = _to_x(samples, left[parent], right[parent])
        masks = [m[parent] for m in masks]
        states, unsure = _block_states(layers, x_samples, masks, k)
        masks.append(states)
        lost += int(np.count_nonzero(unsure)) + _unflipped(owner, states, unsure)
        at_end = (t_lo == -1.0, t_hi == 1.0)
        lost += _missed_roots(signs, parent, at_end, states, unsure, _block_cells(layers))
        radius = (
            np.where(t_lo == -1.0, radius[0][parent], _x_radius(t_lo, left[parent], right[parent])),
            np.where(t_hi == 1.0, radius[1][parent], _x_radius(t_hi, left[parent], right[parent])),
        )
        left = np.where(t_lo == -1.0, left[parent], x_lo)
        right = np.where(t_hi == 1.0, right[parent], x_hi)
    # Join neighbours whose states agree in every layer (the start's cut at 0, for one).
    keep = np.ones(len(left), dtype=bool)
    keep[1:] = np.any(np.hstack([m[1:] != m[:-1] for m in masks]), axis=1)
    starts = np.nonzero(keep)[0]
    ends = np.append(starts[1:] - 1, len(left) - 1)
    relu = tuple(k for k, layer in enumerate(layers) if layer.activation == "relu")
    masks = [m[starts] for m in masks]
    return FloatCells(left[starts], right[ends], tuple(masks), relu, lost)


def output_series(net: Network, cells: FloatCells) -> tuple[np.ndarray, np.ndarray, int]:
    """Degree and equality of the output polynomials of each cell.

    Returns ``(degrees, same, unresolved)``: the degree of each cell's output (highest
    over outputs, read on its sample interval); whether each pair of adjacent cells has
    the same output polynomials (within tolerance); and how many outputs were below
    resolution.
    """
    layers = prepare(net)
    n = output_degree_bound(net) + 1
    upto = len(layers)
    window = sample_interval(cells.left, cells.right)
    values, env, x = _samples(layers, upto, n, window, cells.masks)
    other, other_env = forward_fixed(layers, x[:-1], [m[1:] for m in cells.masks], upto)
    other, other_env = np.moveaxis(other, 1, 2), np.moveaxis(other_env, 1, 2)
    same, unproved = same_outputs(
        values[:-1] - other,
        env[:-1] + other_env,
        rounding_bound(layers, upto, n),
        same_neighbours(layers, cells.masks),
    )
    degree, _, unsure = degrees(layers, cells.masks, upto, n, len(cells.left))
    return degree.max(axis=1), same, unresolved(values, env) + unsure + unproved


def piece_windows(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intervals on which pieces' polynomials are represented.

    A bounded piece uses itself. An unbounded piece uses ``[a, a + s]`` (or ``[b - s, b]``)
    with ``s = max(10, 2 * spread)``, spread the largest finite |endpoint|, so evaluation
    over the region where breakpoints lie stays close to the interpolation interval.
    """
    ends = np.abs(np.concatenate([left, right]))
    span = max(10.0, 2 * float(ends[np.isfinite(ends)].max(initial=0.0)))
    with np.errstate(invalid="ignore"):
        lo = np.where(np.isinf(left), right - span, left)
        hi = np.where(np.isinf(right), left + span, right)
    whole = np.isinf(left) & np.isinf(right)
    return np.where(whole, -span / 2, lo), np.where(whole, span / 2, hi)


def local_series(
    net: Network, masks: Sequence[np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Output Chebyshev coefficients (cells, outputs, N) on ``[lo, hi]`` per row of masks."""
    n = output_degree_bound(net) + 1
    x = (lo + hi)[:, None] / 2 + (hi - lo)[:, None] / 2 * chebyshev_points(n)[None, :]
    values, _ = forward_fixed(prepare(net), x, masks, len(net.layers))
    return values_to_coefficients(np.moveaxis(values, 1, 2))
