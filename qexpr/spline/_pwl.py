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
from qexpr.spline._modular import Integers, Modular

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


@dataclass(frozen=True)
class _Cells:
    """Float cells: enclosures of the ends (``left[0] <= true left end <= left[1]``, the
    same for ``right``), uncertainty, slopes and intercepts with radii, states."""

    left: np.ndarray
    right: np.ndarray
    unsure: np.ndarray
    slope: np.ndarray
    slope_rad: np.ndarray
    intercept: np.ndarray
    intercept_rad: np.ndarray
    masks: list[np.ndarray]
    #: Exact left end of each cell and the right end of the last (None: infinite).
    ends: list[flint.fmpq | None]


def _outward(x: np.ndarray, rad: np.ndarray, direction: float) -> np.ndarray:
    """``x ± rad`` rounded outward (``x`` itself where the radius is 0; NaN where it is
    NaN, which no test passes)."""
    return np.where(rad == 0, x, np.nextafter(x + direction * rad, direction * np.inf))


def _pre_activation(
    cells: _Cells, w: np.ndarray, b: np.ndarray, abs_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slopes and intercepts of a layer's pre-activations, with radii (module docstring)."""
    n = w.shape[0] + 1
    g, inflate = gamma(n), _inflate(n)
    s = cells.slope @ w
    c = cells.intercept @ w + b
    s_rad = ((cells.slope_rad + g * np.abs(cells.slope)) @ abs_w) * inflate
    c_rad = ((cells.intercept_rad + g * np.abs(cells.intercept)) @ abs_w + g * np.abs(b)) * inflate
    return s, s_rad, c, c_rad


def _decide(
    cells: _Cells, s: np.ndarray, s_rad: np.ndarray, c: np.ndarray, c_rad: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Per (cell, neuron): the root and its enclosure, whether it is inside, the state
    elsewhere, and which cells hold an uncertain neuron."""
    nonzero = np.abs(s) > s_rad
    c_exact_zero = (c == 0) & (c_rad == 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        x = np.where(nonzero, -c / s, np.nan)
        size = np.abs(x)
        rad = ((size * s_rad + c_rad + ETA) / (np.abs(s) - s_rad) + U * size + 2 * ETA) * (
            1 + 16 * U
        )
        rad = np.where(c_exact_zero, 0.0, rad)
        lo, hi = _outward(x, rad, -1.0), _outward(x, rad, 1.0)
    (left_lo, left_hi), (right_lo, right_hi) = cells.left[:, :, None], cells.right[:, :, None]
    below, above = hi <= left_lo, lo >= right_hi
    inside = (lo > left_hi) & (hi < right_lo)
    flat = (s == 0) & (s_rad == 0)
    constant = flat & ((np.abs(c) > c_rad) | c_exact_zero)
    certain = (nonzero & (below | above | inside)) | constant
    state = np.where(nonzero, np.where(below, s > 0, s < 0), flat & (c > 0))
    unsure = cells.unsure | ~np.all(certain, axis=1)
    return x, lo, hi, inside & ~unsure[:, None], state, unsure


def _cuts(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, inside: np.ndarray, unsure: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Sorted cuts of the certified cells: (cell, neuron, enclosure) of each root, whether
    it starts a new cut (roots that are both exactly 0 coincide), and the cells whose roots
    overlap (uncertain)."""
    cell, neuron = np.nonzero(inside)
    xs, los, his = x[cell, neuron], lo[cell, neuron], hi[cell, neuron]
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


def _relu_layer(
    cells: _Cells,
    exact: Modular,
    layer: int,
    pre_activation: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> _Cells:
    """Cut every certain cell at its neurons' roots; states, slopes and ends of the new
    cells, in float with radii and exactly."""
    s, s_rad, c, c_rad = pre_activation
    count = len(cells.unsure)
    x, lo, hi, inside, state, unsure = _decide(cells, s, s_rad, c, c_rad)
    cell, neuron, bounds, new_cut, unsure = _cuts(x, lo, hi, inside, unsure)
    inside = np.zeros_like(inside)
    inside[cell, neuron] = True
    # rank[i, j]: index of neuron j's cut among the distinct cuts of cell i.
    cut_index = np.cumsum(new_cut) - 1
    per_cell = np.bincount(cell[new_cut], minlength=count)
    first = np.cumsum(per_cell) - per_cell
    rank = np.full(s.shape, -1)
    rank[cell, neuron] = cut_index - first[cell]
    parent = np.repeat(np.arange(count), per_cell + 1)
    start = np.cumsum(per_cell + 1) - (per_cell + 1)
    position = np.arange(len(parent)) - start[parent]
    is_cut = position > 0
    cut_of = np.where(is_cut, first[parent] + position - 1, -1)
    # A sentinel at index -1 for the cells whose left end is not a cut.
    cut_bounds = np.hstack([bounds[:, new_cut], np.full((2, 1), np.nan)])
    cut_cell, cut_neuron = cell[new_cut], neuron[new_cut]
    new_left = np.where(is_cut, cut_bounds[:, cut_of], cells.left[:, parent])
    last = np.append(~is_cut[1:], True)
    following = np.minimum(np.arange(len(parent)) + 1, len(parent) - 1)
    new_right = np.where(last, cells.right[:, parent], new_left[:, following])
    right_of_root = position[:, None] > rank[parent]
    mask = np.where(inside[parent], right_of_root == (s[parent] > 0), state[parent])
    zs, zs_exp, zc, zc_exp = exact.pre_activation(layer)
    pairs = exact.integers(np.hstack([zs[:, cut_cell, cut_neuron], zc[:, cut_cell, cut_neuron]]))
    slopes, intercepts = pairs[: len(cut_cell)], pairs[len(cut_cell) :]
    scale = _rational(-1, zc_exp - zs_exp)
    roots = [flint.fmpq(c, s_) * scale for s_, c in zip(slopes, intercepts)]
    ends = [roots[k] if k >= 0 else cells.ends[p] for k, p in zip(cut_of.tolist(), parent.tolist())]
    ends.append(cells.ends[-1])
    exact.set((zs, zs_exp), (zc, zc_exp), parent, mask)
    return _Cells(
        new_left,
        new_right,
        unsure[parent],
        np.where(mask, s[parent], 0.0),
        np.where(mask, s_rad[parent], 0.0),
        np.where(mask, c[parent], 0.0),
        np.where(mask, c_rad[parent], 0.0),
        [m[parent] for m in cells.masks] + [mask],
        ends,
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
    end is beyond float64's range)."""
    if domain is None:
        bounds, ends = [(-np.inf, -np.inf), (np.inf, np.inf)], [None, None]
    else:
        try:
            bounds = [_enclosure(v) for v in domain]
        except OverflowError:
            return None
        ends = [flint.fmpq(v.numerator, v.denominator) for v in domain]
    one, zero = np.ones((1, 1)), np.zeros((1, 1))
    return _Cells(
        np.array(bounds[0])[:, None],
        np.array(bounds[1])[:, None],
        np.zeros(1, dtype=bool),
        one,
        zero,
        zero.copy(),
        zero.copy(),
        [],
        ends,
    )


def _fraction(value: flint.fmpq | None) -> Fraction | None:
    return None if value is None else Fraction(int(value.p), int(value.q))


def _algebraic(value: flint.fmpq | None) -> RealAlgebraic | None:
    return None if value is None else RealAlgebraic.rational(value)


def _exact_outputs(exact: Modular, rows: np.ndarray) -> dict[int, tuple[flint.fmpq_poly, ...]]:
    """The output polynomials ``s x + c`` of the cells ``rows``, exactly: integer
    coefficients over the common denominator ``2^d``."""
    outputs, count = exact.slope.shape[2], len(rows)
    values = [
        exact.rows(v, rows).reshape(len(exact.primes), -1) for v in (exact.slope, exact.intercept)
    ]
    numbers = exact.integers(np.hstack(values))
    slopes, intercepts = numbers[: count * outputs], numbers[count * outputs :]
    d = max(0, -exact.slope_exp, -exact.intercept_exp)
    s_shift, c_shift, denominator = exact.slope_exp + d, exact.intercept_exp + d, 1 << d
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
    exact = Modular([Integers.of(w, b) for w, b in weights])
    with np.errstate(all="ignore"):
        for k, (layer, (w, b)) in enumerate(zip(net.layers, weights)):
            bad = _bad_rows(cells.slope, cells.slope_rad, cells.intercept, cells.intercept_rad)
            cells = replace(cells, unsure=cells.unsure | bad)
            s, s_rad, c, c_rad = _pre_activation(cells, w, b, np.abs(w))
            if layer.activation == "relu":
                cells = _relu_layer(cells, exact, k, (s, s_rad, c, c_rad))
            else:
                zs, zs_exp, zc, zc_exp = exact.pre_activation(k)
                exact.set((zs, zs_exp), (zc, zc_exp))
                cells = replace(cells, slope=s, slope_rad=s_rad, intercept=c, intercept_rad=c_rad)
    return _assemble(net, cells, exact)


def _assemble(net: Network, cells: _Cells, exact: Modular) -> HybridCells:
    """Certified cells as exact cells, runs of uncertain ones re-solved exactly."""
    unsure = cells.unsure.tolist()
    outputs = _exact_outputs(exact, np.nonzero(~cells.unsure)[0])
    count = len(unsure)
    patterns = (
        np.hstack(cells.masks) if cells.masks else np.zeros((count, 0), dtype=bool)
    ).tolist()
    ends = [_algebraic(end) for end in cells.ends]  # one number per end, shared by neighbours
    cache = RootCache()
    result: list[ExactCell] = []
    resolved = 0
    for uncertain, group in itertools.groupby(range(count), key=unsure.__getitem__):
        run = list(group)
        if not uncertain:
            result += [ExactCell(ends[i], ends[i + 1], outputs[i], tuple(patterns[i])) for i in run]
            continue
        stretch = (_fraction(cells.ends[run[0]]), _fraction(cells.ends[run[-1] + 1]))
        solved = exact_cells(net, stretch, cache)
        resolved += len(solved)
        result += solved
    return HybridCells(result, resolved)
