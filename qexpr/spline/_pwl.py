"""The certified piecewise-linear engine: hybrid mode for conventional ReLU networks.

When every layer is affine with ReLU or identity activation (``is_piecewise_linear``),
each neuron is ``z = s x + c`` on every cell. Layer by layer, numpy carries, for all cells
at once, the float64 slopes and intercepts of the layer's inputs *and a radius for each*:
the exact value (for the network as stored: a float64 weight is a rational) lies within
the radius of the float. A dot product of ``n`` terms computed in float64 (any order, FMA
or not) is off by at most ``γ_n Σ|a_i b_i|``, ``γ_n = n u / (1 - n u)``, ``u = 2^-53``, when
no product underflows; so for ``Z = H W + b`` with input radii ``R``::

    |Z - fl(Z)| <= (R + γ_{m+1} |H|) |W| + γ_{m+1} |b|        (times 1 + 2 γ_{m+8}),

the last factor covering the rounding of the bound's own computation. Every value and
radius is checked to lie in ``[2^-600, 2^600]`` (or be 0) and every weight in
``[2^-300, 2^300]``, so products stay in float64's normal range; a cell that leaves the
range is uncertain. A root ``x = -c / s`` (``|s|`` above its radius) has radius
``((|x| r_s + r_c + η) / (|s| - r_s) + u |x| + 2η)`` inflated, ``η = 2^-1074`` covering
underflow; ``c`` exactly 0 (radius 0) gives the exact root 0.

Cell ends are such enclosures too. On a cell, a ReLU neuron is *certified* when

* its slope is certainly nonzero and its root's enclosure lies at or beyond an end's
  enclosure (no sign change on the open cell: the state is the sign on that side), or
  strictly inside the cell, disjoint from the other roots' enclosures (a cut; roots that
  are both exactly 0 coincide);
* or its slope is exactly 0 (radius 0) and its intercept is certainly nonzero, or both are
  exactly 0 (the zero polynomial: inactive, as in the exact engine).

A cell with any other neuron is *uncertain*: it is not cut further, and at the end every
run of uncertain cells is re-solved by the exact engine (:func:`~qexpr.spline._exact.exact_cells`)
between its exact ends. Those ends are true breakpoints (or domain ends), so the cells are
exactly the exact engine's cells.

Whether adjacent cells carry the same polynomial is then decided exactly, on the exact
outputs. The certified cells' exact values are integers times a power of two (a layer's
weights are ``M 2^e``, ``M`` integer): the output slopes and intercepts, and each cut as
the exact rational ``-c / s`` of the neuron that made it. They are computed modulo primes
small enough that one float64 matrix product per layer (BLAS, a block of cells at a time)
is exact, and recovered by the Chinese remainder theorem (:mod:`qexpr.spline._modular`).
Networks whose weights are not all float64 values, or out of range, go to the general
hybrid engine (:func:`~qexpr.spline._certify.hybrid_cells`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from fractions import Fraction

import flint
import numpy as np

from qexpr._network import Layer, Network
from qexpr.spline._algebraic import RealAlgebraic, RootCache
from qexpr.spline._certify import HybridCells, hybrid_cells
from qexpr.spline._exact import ExactCell, exact_cells
from qexpr.spline._modular import BLOCK_VALUES, Integers, Modular

__all__ = ["float_weights", "pwl_cells"]

U = 2.0**-53
#: Absolute error of one float64 operation whose result underflows.
ETA = 2.0**-1074
#: Values and radii outside [LOW, HIGH] (and not 0) make a cell uncertain.
LOW, HIGH = 2.0**-600, 2.0**600
#: Weights outside [W_LOW, W_HIGH] (and not 0) send the network to the general engine.
W_LOW, W_HIGH = 2.0**-300, 2.0**300


def gamma(n: int) -> float:
    """``γ_n = n u / (1 - n u)``: the relative error bound of an ``n``-term float64 sum of
    products."""
    return n * U / (1 - n * U)


def _inflate(n: int) -> float:
    """Factor covering the rounding of a bound computed with ``n``-term sums."""
    return 1 + 2 * gamma(n + 8)


def _exact_floats(array: np.ndarray) -> np.ndarray | None:
    """``array`` as float64 when every entry is exactly a float64 value, else ``None``."""
    if array.dtype == np.float64:
        return array
    try:
        values = np.array([float(v) for v in array.flat]).reshape(array.shape)
    except OverflowError:
        return None
    same = all(Fraction(f) == v for f, v in zip(values.flat, array.flat))
    return values if same else None


def float_weights(layer: Layer) -> tuple[np.ndarray, np.ndarray] | None:
    """``(W, b)`` of a conventional layer as float64 (W is in × out), exactly, with every
    nonzero entry in ``[W_LOW, W_HIGH]``; ``None`` when that does not hold."""
    w_key, b_key = layer.neuron_type().linear_part
    w, b = _exact_floats(getattr(layer, w_key)), _exact_floats(getattr(layer, b_key))
    if w is None or b is None or not (_in_range(w, W_LOW, W_HIGH) and _in_range(b, W_LOW, W_HIGH)):
        return None
    return w.T, b


def _in_range(array: np.ndarray, low: float, high: float) -> bool:
    size = np.abs(array)
    return bool(np.all((size == 0) | ((size >= low) & (size <= high))))


def _bad_rows(*arrays: np.ndarray) -> np.ndarray:
    """Rows with an entry that is nonzero and outside [LOW, HIGH] (or not finite)."""
    size = np.abs(np.hstack(arrays))
    return np.any(~(size <= HIGH) | (size < LOW) & (size != 0), axis=1)


def _rational(value: int, exponent: int) -> flint.fmpq:
    """``value * 2^exponent`` exactly."""
    if exponent >= 0:
        return flint.fmpq(value * 2**exponent)
    return flint.fmpq(value, 2**-exponent)


def _blocks(count: int, width: int) -> list[slice]:
    """Slices of ``count`` rows such that a (rows, ``width``) float64 array of one slice holds
    about ``BLOCK_VALUES`` values."""
    size = max(1, BLOCK_VALUES // max(1, width))
    return [slice(start, min(start + size, count)) for start in range(0, count, size)]


@dataclass(frozen=True)
class _Cells:
    """Float cells: enclosures of the ends (``left[0] <= true left end <= left[1]``, the
    same for ``right``), uncertainty, the layer inputs (slopes and intercepts with radii),
    the states of each layer (None: no ReLU), and where each left end comes from.

    The inputs of cell ``i`` are ``values[:, parent[i]]`` with ``mask[i]`` applied (zero
    where the mask is off), or ``values[:, i]`` when ``parent`` is None: kept unexpanded,
    so wide layers are read a block of cells at a time.
    """

    left: np.ndarray
    right: np.ndarray
    unsure: np.ndarray
    #: (slope, slope radius, intercept, intercept radius) × rows × width.
    values: np.ndarray
    parent: np.ndarray | None
    mask: np.ndarray | None
    masks: list[np.ndarray | None]
    #: (layer, neuron) whose root is each cell's left end; layer -1: the domain's left end.
    origin: np.ndarray
    #: The domain's ends (None: infinite).
    ends: tuple[flint.fmpq | None, flint.fmpq | None]

    def rows(self, part: slice) -> np.ndarray:
        """The inputs (4 × cells × width) of the cells ``part``."""
        if self.parent is None:
            return self.values[:, part]
        return np.where(self.mask[part], self.values[:, self.parent[part]], 0.0)


def _outward(x: np.ndarray, rad: np.ndarray, direction: float) -> np.ndarray:
    """``x ± rad`` rounded outward (``x`` itself where the radius is 0; NaN where it is
    NaN, which no test passes)."""
    return np.where(rad == 0, x, np.nextafter(x + direction * rad, direction * np.inf))


def _pre_activation(
    cells: _Cells, w: np.ndarray, b: np.ndarray, abs_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Slopes and intercepts of a layer's pre-activations with radii (module docstring),
    stacked (4 × cells × width), a block of cells at a time; and the cells made uncertain
    by an input out of range."""
    n = w.shape[0] + 1
    g, inflate = gamma(n), _inflate(n)
    count = len(cells.unsure)
    out = np.empty((4, count, w.shape[1]))
    unsure = cells.unsure.copy()
    for part in _blocks(count, max(w.shape)):
        slope, slope_rad, intercept, intercept_rad = cells.rows(part)
        unsure[part] |= _bad_rows(slope, slope_rad, intercept, intercept_rad)
        np.matmul(slope, w, out=out[0, part])
        out[1, part] = ((slope_rad + g * np.abs(slope)) @ abs_w) * inflate
        out[2, part] = intercept @ w + b
        out[3, part] = ((intercept_rad + g * np.abs(intercept)) @ abs_w + g * np.abs(b)) * inflate
    return out, unsure


def _roots(
    s: np.ndarray, s_rad: np.ndarray, c: np.ndarray, c_rad: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (cell, neuron): the root ``-c / s`` (NaN unless ``|s|`` is above its radius)
    and its enclosure."""
    nonzero = np.abs(s) > s_rad
    c_exact_zero = (c == 0) & (c_rad == 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        x = np.where(nonzero, -c / s, np.nan)
        size = np.abs(x)
        rad = ((size * s_rad + c_rad + ETA) / (np.abs(s) - s_rad) + U * size + 2 * ETA) * (
            1 + 16 * U
        )
        rad = np.where(c_exact_zero, 0.0, rad)
        return x, _outward(x, rad, -1.0), _outward(x, rad, 1.0)


def _decide(
    left: np.ndarray, right: np.ndarray, unsure: np.ndarray, pre: np.ndarray
) -> tuple[np.ndarray, ...]:
    """For a block of cells: the roots strictly inside certain cells as (cell, neuron, root,
    enclosure), the state of every neuron where it has no root, and which cells hold an
    uncertain neuron."""
    s, s_rad, c, c_rad = pre
    x, lo, hi = _roots(s, s_rad, c, c_rad)
    nonzero = np.abs(s) > s_rad
    (left_lo, left_hi), (right_lo, right_hi) = left[:, :, None], right[:, :, None]
    below, above = hi <= left_lo, lo >= right_hi
    inside = (lo > left_hi) & (hi < right_lo)
    flat = (s == 0) & (s_rad == 0)
    constant = flat & ((np.abs(c) > c_rad) | ((c == 0) & (c_rad == 0)))
    certain = (nonzero & (below | above | inside)) | constant
    state = np.where(nonzero, np.where(below, s > 0, s < 0), flat & (c > 0))
    unsure = unsure | ~np.all(certain, axis=1)
    cell, neuron = np.nonzero(inside & ~unsure[:, None])
    return cell, neuron, x[cell, neuron], lo[cell, neuron], hi[cell, neuron], state, unsure


def _decide_all(cells: _Cells, pre: np.ndarray, unsure: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`_decide` over every cell, a block at a time."""
    state = np.empty(pre.shape[1:], dtype=bool)
    unsure = unsure.copy()
    found = []
    for part in _blocks(len(unsure), pre.shape[2]):
        cell, neuron, x, lo, hi, state[part], unsure[part] = _decide(
            cells.left[:, part], cells.right[:, part], unsure[part], pre[:, part]
        )
        found.append((cell + part.start, neuron, x, lo, hi))
    cell, neuron, x, lo, hi = (np.concatenate(a) for a in zip(*found))
    return cell, neuron, x, lo, hi, state, unsure


def _cuts(
    cell: np.ndarray,
    neuron: np.ndarray,
    xs: np.ndarray,
    los: np.ndarray,
    his: np.ndarray,
    unsure: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Sorted cuts of the certified cells: (cell, neuron, enclosure) of each root, whether
    it starts a new cut (roots that are both exactly 0 coincide), and the cells whose roots
    overlap (uncertain)."""
    order = np.lexsort((xs, cell))
    cell, neuron, los, his = (a[order] for a in (cell, neuron, los, his))
    same_cell = cell[1:] == cell[:-1]
    point = los == his
    coincide = same_cell & point[1:] & point[:-1] & (los[1:] == los[:-1])
    overlap = same_cell & ~coincide & ~(his[:-1] < los[1:])
    unsure = unsure.copy()
    unsure[cell[1:][overlap]] = True
    keep = ~unsure[cell]
    new_cut = np.ones(len(cell), dtype=bool)
    new_cut[1:] = ~coincide
    cell, neuron, los, his, new_cut = (a[keep] for a in (cell, neuron, los, his, new_cut))
    return cell, neuron, np.stack([los, his]), new_cut, unsure


def _states(
    rank: np.ndarray,
    positive: np.ndarray,
    state: np.ndarray,
    parent: np.ndarray,
    position: np.ndarray,
) -> np.ndarray:
    """The new cells' states: a neuron with a root in the parent cell (``rank >= 0``) is
    active on the side where its slope's sign puts it; the others keep the parent's
    state. A block of cells at a time."""
    mask = np.empty((len(parent), rank.shape[1]), dtype=bool)
    for part in _blocks(len(parent), rank.shape[1]):
        r, p = rank[parent[part]], parent[part]
        mask[part] = np.where(r >= 0, (position[part, None] > r) == positive[p], state[p])
    return mask


def _relu_layer(cells: _Cells, layer: int, pre: np.ndarray, unsure: np.ndarray) -> _Cells:
    """Cut every certain cell at its neurons' roots: ends, states and origins of the new
    cells; their inputs are the parents' pre-activations, masked."""
    count = len(unsure)
    cell, neuron, x, lo, hi, state, unsure = _decide_all(cells, pre, unsure)
    cell, neuron, bounds, new_cut, unsure = _cuts(cell, neuron, x, lo, hi, unsure)
    # rank[i, j]: index of neuron j's cut among the distinct cuts of cell i (-1: none).
    cut_index = np.cumsum(new_cut) - 1
    per_cell = np.bincount(cell[new_cut], minlength=count)
    first = np.cumsum(per_cell) - per_cell
    rank = np.full(pre.shape[1:], -1, dtype=np.int32)
    rank[cell, neuron] = cut_index - first[cell]
    parent = np.repeat(np.arange(count), per_cell + 1)
    start = np.cumsum(per_cell + 1) - (per_cell + 1)
    position = np.arange(len(parent)) - start[parent]
    is_cut = position > 0
    cut_of = np.where(is_cut, first[parent] + position - 1, -1)
    # A sentinel at index -1 for the cells whose left end is not a cut.
    cut_bounds = np.hstack([bounds[:, new_cut], np.full((2, 1), np.nan)])
    cut_neuron = np.append(neuron[new_cut], -1)
    new_left = np.where(is_cut, cut_bounds[:, cut_of], cells.left[:, parent])
    last = np.append(~is_cut[1:], True)
    following = np.minimum(np.arange(len(parent)) + 1, len(parent) - 1)
    new_right = np.where(last, cells.right[:, parent], new_left[:, following])
    mask = _states(rank, pre[0] > 0, state, parent, position)
    origin = np.where(
        is_cut, np.stack([np.full(len(parent), layer), cut_neuron[cut_of]]), cells.origin[:, parent]
    )
    return _Cells(
        new_left,
        new_right,
        unsure[parent],
        pre,
        parent,
        mask,
        [None if m is None else m[parent] for m in cells.masks] + [mask],
        origin,
        cells.ends,
    )


def _enclosure(value: Fraction) -> tuple[float, float]:
    """The nearest float64 values below and above a rational (both ``value`` when it is
    one); OverflowError beyond float64's range."""
    f = float(value)
    if Fraction(f) == value:
        return f, f
    return (f, np.nextafter(f, np.inf)) if Fraction(f) < value else (np.nextafter(f, -np.inf), f)


def _domain_cells(domain: tuple[Fraction, Fraction] | None) -> _Cells | None:
    """The one starting cell: the domain's ends as float64 enclosures (None when a domain
    end is beyond float64's range); its input is ``x`` (slope 1, intercept 0, exact)."""
    if domain is None:
        bounds, ends = [(-np.inf, -np.inf), (np.inf, np.inf)], (None, None)
    else:
        try:
            bounds = [_enclosure(v) for v in domain]
        except OverflowError:
            return None
        ends = tuple(flint.fmpq(v.numerator, v.denominator) for v in domain)
    return _Cells(
        np.array(bounds[0])[:, None],
        np.array(bounds[1])[:, None],
        np.zeros(1, dtype=bool),
        np.array([1.0, 0.0, 0.0, 0.0])[:, None, None],
        None,
        None,
        [],
        np.full((2, 1), -1),
        ends,
    )


def _fraction(value: flint.fmpq | None) -> Fraction | None:
    return None if value is None else Fraction(int(value.p), int(value.q))


def _algebraic(value: flint.fmpq | None) -> RealAlgebraic | None:
    return None if value is None else RealAlgebraic.rational(value)


def _exact_ends(exact: Modular, cells: _Cells, residues: np.ndarray) -> list[flint.fmpq | None]:
    """Every cell's exact left end, and the last cell's right end: the domain's, or the
    root ``-C 2^τ / (S 2^σ)`` of the neuron that made the cut (``residues``: its
    pre-activation's ``S``, ``C`` modulo the primes, primes × 2 × cells)."""
    layer, _ = cells.origin
    cut = np.flatnonzero(layer >= 0)
    numbers = exact.integers(residues[:, :, cut].reshape(len(exact.primes), -1))
    slopes, intercepts = numbers[: len(cut)], numbers[len(cut) :]
    scales = [_rational(-1, tau - sigma) for sigma, tau in exact.exponents]
    ends: list[flint.fmpq | None] = [cells.ends[0]] * len(layer)
    for i, k, s, c in zip(cut.tolist(), layer[cut].tolist(), slopes, intercepts):
        ends[i] = flint.fmpq(c, s) * scales[k]
    return [*ends, cells.ends[1]]


def _exact_outputs(
    exact: Modular, residues: np.ndarray, rows: np.ndarray
) -> dict[int, tuple[flint.fmpq_poly, ...]]:
    """The output polynomials ``s x + c`` of the cells ``rows``, exactly, from their
    residues (primes × 2 × cells × outputs): integer coefficients over the common
    denominator ``2^d``."""
    outputs, count = residues.shape[3], len(rows)
    numbers = exact.integers(residues[:, :, rows].reshape(len(exact.primes), -1))
    slopes, intercepts = numbers[: count * outputs], numbers[count * outputs :]
    slope_exp, intercept_exp = exact.exponents[-1]
    d = max(0, -slope_exp, -intercept_exp)
    s_shift, c_shift, denominator = slope_exp + d, intercept_exp + d, 1 << d
    polys = [
        flint.fmpq_poly([c << c_shift, s << s_shift], denominator)
        for s, c in zip(slopes, intercepts)
    ]
    return {int(row): tuple(polys[i * outputs : (i + 1) * outputs]) for i, row in enumerate(rows)}


def pwl_cells(net: Network, domain: tuple[Fraction, Fraction] | None = None) -> HybridCells:
    """The exact cells of a piecewise-linear one-input network, certified in float64 or
    re-solved exactly (module docstring); the general hybrid engine when the weights are
    not all float64 values in range.

    Parameters and result are those of :func:`~qexpr.spline._certify.hybrid_cells`.
    """
    weights = [float_weights(layer) for layer in net.layers]
    cells = _domain_cells(domain)
    if cells is None or any(w is None for w in weights):
        return hybrid_cells(net, domain)
    with np.errstate(all="ignore"):
        for k, (layer, (w, b)) in enumerate(zip(net.layers, weights)):
            pre, unsure = _pre_activation(cells, w, b, np.abs(w))
            if layer.activation == "relu":
                cells = _relu_layer(cells, k, pre, unsure)
            else:
                cells = replace(
                    cells,
                    unsure=unsure,
                    values=pre,
                    parent=None,
                    mask=None,
                    masks=[*cells.masks, None],
                )
    exact = Modular([Integers.of(w, b) for w, b in weights])
    outputs, ends = exact.scan(cells.masks, cells.origin)
    return _assemble(net, cells, exact, outputs, _exact_ends(exact, cells, ends))


def _assemble(
    net: Network,
    cells: _Cells,
    exact: Modular,
    residues: np.ndarray,
    exact_ends: list[flint.fmpq | None],
) -> HybridCells:
    """Certified cells as exact cells, runs of uncertain ones re-solved exactly."""
    unsure = cells.unsure.tolist()
    outputs = _exact_outputs(exact, residues, np.nonzero(~cells.unsure)[0])
    count = len(unsure)
    relu = [m for m in cells.masks if m is not None]
    patterns = (np.hstack(relu) if relu else np.zeros((count, 0), dtype=bool)).tolist()
    ends = [_algebraic(end) for end in exact_ends]  # one number per end, shared by neighbours
    cache = RootCache()
    result: list[ExactCell] = []
    resolved = 0
    for uncertain, group in itertools.groupby(range(count), key=unsure.__getitem__):
        run = list(group)
        if not uncertain:
            result += [ExactCell(ends[i], ends[i + 1], outputs[i], tuple(patterns[i])) for i in run]
            continue
        stretch = (_fraction(exact_ends[run[0]]), _fraction(exact_ends[run[-1] + 1]))
        solved = exact_cells(net, stretch, cache)
        resolved += len(solved)
        result += solved
    return HybridCells(result, resolved)
