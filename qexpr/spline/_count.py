"""``count_pieces``: the spline form of a one-input network and its counts.

This is the library face of ``qexpr count-pieces``: it runs the exact engine
(:mod:`qexpr.spline._exact`) or the float engine (:mod:`qexpr.spline._float`), merges
cells into pieces and activation regions, and reports the counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._network import Network
from qexpr._numbers import fits_float64, parse_vector
from qexpr._progress import Progress
from qexpr.spline._float import (
    FloatCells,
    float_cells,
    local_series,
    output_series,
    piece_windows,
    same_neighbours,
)
from qexpr.spline._linear import AffineLayer, is_piecewise_linear, linear_cells_of, linear_network
from qexpr.spline._scale import input_scale, rescale_input
from qexpr.spline._structure import same_outputs

if TYPE_CHECKING:
    from qexpr.spline._exact import ExactCell

from qexpr.spline._types import (
    Built,
    Cell,
    Objects,
    Piece,
    Region,
    Spline,
    endpoint_to_json,
    group_runs,
)

__all__ = ["PieceCount", "count_pieces", "spline_form"]

Mode = Literal["auto", "exact", "hybrid", "float"]


@dataclass(frozen=True)
class PieceCount:
    """What :func:`count_pieces` measures.

    Attributes
    ----------
    pieces
        Number of maximal intervals on which the output is one polynomial (vector).
    activation_regions
        Number of maximal intervals of constant ReLU activation pattern.
    degree
        Highest degree of any piece (0 for constant or zero pieces).
    breakpoints
        Points between consecutive pieces, increasing, as floats; a breakpoint float64
        cannot hold (beyond 1.8e308 or below 2.2e-308 in magnitude) is a string instead,
        exact ``"p/q"`` when rational (``endpoint_to_json`` in ``qexpr/spline/_types.py``).
    mode
        ``"exact"``, ``"hybrid"`` or ``"float"``: the engine that ran.
    unresolved
        Float mode: how many pre-activations were below float64 resolution (then the counts
        may be wrong). Always 0 in the certified modes (exact, hybrid).
    spline
        The :class:`~qexpr.Spline` itself (exact breakpoints and polynomials when certified).
    """

    pieces: int
    activation_regions: int
    degree: int
    breakpoints: tuple[float | str, ...]
    mode: Literal["exact", "hybrid", "float"]
    unresolved: int
    spline: Spline

    @property
    def certified(self) -> bool:
        """True when every number is proven (exact or hybrid mode)."""
        return self.spline.certified

    @property
    def exact_cells(self) -> int:
        """Cells the exact engine produced (see :class:`~qexpr.Spline`)."""
        return self.spline.exact_cells

    def to_dict(self, *, exact_output: bool = False) -> dict[str, Any]:
        """The JSON-ready summary: :meth:`Spline.to_dict <qexpr.Spline.to_dict>`."""
        return self.spline.to_dict(exact_output=exact_output)


def _check_domain(domain: object, exact: bool) -> tuple[Any, Any] | None:
    if domain is None:
        return None
    pair = None if exact else _float_pair(domain)
    if pair is not None:
        return pair
    if not isinstance(domain, tuple | list):
        raise QexprTypeError(f"domain: expected None or a pair (a, b), got {domain!r}")
    a, b = parse_vector(domain, "domain", 2)
    if not a < b:
        raise QexprValueError(f"domain: expected a < b, got [{domain[0]}, {domain[1]}]")
    if not exact and not (fits_float64(a) and fits_float64(b)):
        raise QexprValueError("domain: beyond float64's range (1.8e308); use mode exact")
    return (a, b) if exact else (float(a), float(b))


def _float_pair(domain: object) -> tuple[float, float] | None:
    """``(a, b)`` for a pair of finite Python floats with ``a < b``, as the general check
    returns it (exactly; ``-0.0`` read as 0 becomes ``0.0``): the fast path of float mode.
    None for anything else."""
    if type(domain) not in (tuple, list) or len(domain) != 2:  # type: ignore[arg-type]
        return None
    a, b = domain  # type: ignore[misc]
    finite = type(a) is float and type(b) is float and math.isfinite(a) and math.isfinite(b)
    return (a + 0.0, b + 0.0) if finite and a < b else None


def _fits_float64(net: Network) -> bool:
    """True when every weight of ``net`` is within float64's range (float mode can run);
    computed once per network (:meth:`~qexpr.Network.derived`)."""
    return net.derived(_weights_fit_float64)


def _weights_fit_float64(net: Network) -> bool:
    arrays = (getattr(layer, key) for layer in net.layers for key in layer.keys)
    return all(a.dtype != object or all(fits_float64(v) for v in a.flat) for a in arrays)


def _certified_spline(
    cells: list[ExactCell],
    mode: Literal["exact", "hybrid"],
    domain: tuple[Fraction, Fraction] | None,
    exact_cells: int,
) -> Spline:
    """A spline from exact cells (from the exact or the hybrid engine)."""
    finest = tuple(
        Cell(c.left, c.right, c.outputs, max(max(p.degree(), 0) for p in c.outputs), c.pattern)
        for c in cells
    )
    pieces = tuple(
        Piece(finest[i].left, finest[j].right, finest[i].polys, finest[i].degree)
        for i, j in group_runs(len(finest), lambda k: finest[k].polys == finest[k + 1].polys)
    )
    regions = tuple(
        Region(finest[i].left, finest[j].right, finest[i].pattern)
        for i, j in group_runs(len(finest), lambda k: finest[k].pattern == finest[k + 1].pattern)
    )
    return Spline(
        mode=mode,
        domain=domain,
        breakpoints=tuple(piece.right for piece in pieces[:-1]),
        degree=max(piece.degree for piece in pieces),
        region_count=len(regions),
        unresolved=0,
        build=Built((pieces, regions, finest)),
        exact_cells=exact_cells,
    )


def _exact_spline(
    net: Network, domain: tuple[Fraction, Fraction] | None, progress: Progress | None
) -> Spline:
    from qexpr.spline._exact import exact_cells

    cells = exact_cells(net, domain, progress=progress)
    return _certified_spline(cells, "exact", domain, len(cells))


def _hybrid_spline(
    net: Network, domain: tuple[Fraction, Fraction] | None, progress: Progress | None
) -> Spline:
    from qexpr.spline._certify import hybrid_cells
    from qexpr.spline._pwl import pwl_cells

    if is_piecewise_linear(net):
        result = pwl_cells(net, domain)  # vectorised: no progress to report
    else:
        result = hybrid_cells(net, domain, progress=progress)
    return _certified_spline(result.cells, "hybrid", domain, result.exact_cells)


@dataclass(frozen=True)
class _LinearSeries:
    """Local series of a piecewise-linear network's outputs: ``slope * x + intercept``."""

    slope: np.ndarray
    intercept: np.ndarray

    def __call__(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        s, c = self.slope[index], self.intercept[index]
        mid, half = ((lo + hi) / 2)[:, None], ((hi - lo) / 2)[:, None]
        return np.stack([s * mid + c, s * half], axis=2)

    def degrees(self) -> np.ndarray:
        """Each cell's output degree: 1 where a slope is not 0, else 0."""
        return np.any(self.slope != 0, axis=1).astype(int)


@dataclass(frozen=True)
class _PolynomialSeries:
    """Local series of a network's outputs with the ReLU states of each cell held fixed,
    and each cell's output degree."""

    net: Network
    masks: tuple[np.ndarray, ...]
    cell_degrees: np.ndarray

    def __call__(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return local_series(self.net, [m[index] for m in self.masks], lo, hi)

    def degrees(self) -> np.ndarray:
        """Each cell's output degree."""
        return self.cell_degrees


@dataclass(frozen=True)
class FloatOutputs:
    """Float cells and their activation patterns (:attr:`FloatCells.patterns`), the
    highest output degree, which neighbours share their output polynomials, how many
    outputs were below resolution, and the cells' local series (with each cell's degree,
    computed when the pieces are built)."""

    cells: FloatCells
    patterns: np.ndarray
    degree: int
    same: np.ndarray
    lost: int
    series: _LinearSeries | _PolynomialSeries | _RescaledSeries


def _linear_outputs(net: Network, domain: tuple[float, float] | None) -> FloatOutputs:
    """Cells, degree, equalities and local series from the piecewise-linear engine."""
    prepared = linear_network(net)
    layers, eps = prepared.layers, prepared.output_eps
    cells, stack, patterns = linear_cells_of(prepared, domain)
    # Differences and envelopes of neighbours' (slope, intercept), one row per pair.
    diff = (stack[:2, :-1] - stack[:2, 1:]).transpose(1, 0, 2)
    env = (stack[2:, :-1] + stack[2:, 1:]).transpose(1, 0, 2)
    same, unproved = same_outputs(diff, env, eps, np.False_)  # no structure asked yet
    if unproved:  # neighbours not proved different: the structure may prove them equal
        structural = _structurally_same(layers, cells.masks, same)
        same, unproved = same_outputs(diff, env, eps, structural)
    degree = int((stack[0] != 0).any())
    series = _LinearSeries(stack[0], stack[1])
    return FloatOutputs(cells, patterns, degree, same, unproved, series)


def _structurally_same(
    layers: Sequence[AffineLayer], masks: tuple[np.ndarray, ...], pairs: np.ndarray
) -> np.ndarray:
    """:func:`~qexpr.spline._float.same_neighbours` on the neighbour pairs marked in
    ``pairs`` only (False elsewhere): structure proves equal only outputs that are equal in
    float64 too, so pairs whose values differ beyond rounding never need it."""
    first = np.flatnonzero(pairs)
    rows = np.stack([first, first + 1], axis=1).ravel()
    structural = np.zeros(len(pairs), dtype=bool)
    structural[first] = same_neighbours(layers, [m[rows] for m in masks])[::2]
    return structural


def _polynomial_outputs(net: Network, domain: tuple[float, float] | None) -> FloatOutputs:
    """Cells, degree, equalities and local series from the general float engine."""
    cells = float_cells(net, domain)
    degrees, same, lost = output_series(net, cells)
    series = _PolynomialSeries(net, cells.masks, degrees)
    return FloatOutputs(cells, cells.patterns, int(degrees.max()), same, lost, series)


@dataclass(frozen=True)
class _RescaledSeries:
    """Local series of the network of ``u = x / scale``: the same Chebyshev series on a
    window ``[lo, hi]`` in x as on ``[lo / scale, hi / scale]`` in u."""

    inner: _LinearSeries | _PolynomialSeries
    scale: float

    def __call__(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return self.inner(index, lo / self.scale, hi / self.scale)

    def degrees(self) -> np.ndarray:
        """Each cell's output degree (rescaling the input keeps degrees)."""
        return self.inner.degrees()


@dataclass(frozen=True)
class _FloatPlan:
    """How float mode runs on a network: the engine, and the exponent k of the exact
    input rescaling with the rescaled network (None when k is 0: the network itself)."""

    engine: Callable[[Network, tuple[float, float] | None], FloatOutputs]
    k: int
    scaled: Network | None


def _float_plan(net: Network) -> _FloatPlan:
    """The network's float plan, made on its first float run (kept with the network)."""
    engine = _linear_outputs if is_piecewise_linear(net) else _polynomial_outputs
    k = input_scale(net)
    return _FloatPlan(engine, k, rescale_input(net, k) if k else None)


def float_outputs(net: Network, domain: tuple[float, float] | None) -> FloatOutputs:
    """The float engine's cells and outputs (the affine fast path for ReLU networks).

    The engine runs on the input rescaled exactly by a power of two when its scale is far
    from 1 (:mod:`qexpr.spline._scale`). Overflow is not an error: non-finite values are
    counted as unresolved.
    """
    plan = net.derived(_float_plan)
    if plan.scaled is None:
        with np.errstate(all="ignore"):
            return plan.engine(net, domain)
    scale = 2.0**plan.k
    if domain is not None:
        domain = (domain[0] / scale, domain[1] / scale)
    with np.errstate(all="ignore"):
        out = plan.engine(plan.scaled, domain)
    cells = replace(out.cells, left=out.cells.left * scale, right=out.cells.right * scale)
    return replace(out, cells=cells, series=_RescaledSeries(out.series, scale))


@dataclass(frozen=True)
class _FloatBuild:
    """Builds a float spline's pieces, regions and cells from :class:`FloatOutputs`."""

    outputs: FloatOutputs

    def _series(self, first: np.ndarray, left: np.ndarray, right: np.ndarray) -> list[tuple]:
        """Chebyshev series of each run's outputs, on an interval fitted to the run."""
        lo, hi = piece_windows(left, right)
        coeffs = self.outputs.series(first, lo, hi)
        return [
            tuple(np.polynomial.Chebyshev(c, domain=[lo[k], hi[k]]) for c in coeffs[k])
            for k in range(len(first))
        ]

    def __call__(self) -> Objects:
        cells, same = self.outputs.cells, self.outputs.same
        degrees = self.outputs.series.degrees()
        patterns = self.outputs.patterns
        same_pattern = np.all(patterns[1:] == patterns[:-1], axis=1)
        count = len(same) + 1
        runs = np.array(group_runs(count, lambda k: bool(same[k])))
        left, right = cells.left[runs[:, 0]], cells.right[runs[:, 1]]
        pieces = tuple(
            Piece(float(left[k]), float(right[k]), polys, int(degrees[i]))
            for k, ((i, _), polys) in enumerate(zip(runs, self._series(runs[:, 0], left, right)))
        )
        regions = tuple(
            Region(float(cells.left[i]), float(cells.right[j]), tuple(map(bool, patterns[i])))
            for i, j in group_runs(count, lambda k: bool(same_pattern[k]))
        )
        every = np.arange(count)
        finest = tuple(
            Cell(float(a), float(b), polys, int(d), tuple(map(bool, pattern)))
            for a, b, polys, d, pattern in zip(
                cells.left,
                cells.right,
                self._series(every, cells.left, cells.right),
                degrees,
                patterns,
            )
        )
        return pieces, regions, finest


def _region_count(patterns: np.ndarray) -> int:
    """1 + how many neighbouring rows of ``patterns`` (cells × neurons, bool) differ; rows
    are compared whole, as bytes."""
    if patterns.shape[1] == 0:
        return 1
    rows = np.ascontiguousarray(patterns).view(np.dtype((np.void, patterns.shape[1])))
    return 1 + int(np.count_nonzero(rows[1:, 0] != rows[:-1, 0]))


def _float_spline(net: Network, domain: tuple[float, float] | None) -> Spline:
    outputs = float_outputs(net, domain)
    cells, same = outputs.cells, outputs.same
    return Spline(
        mode="float",
        domain=domain,
        breakpoints=tuple(cells.right[:-1][~same].tolist()),
        degree=outputs.degree,
        region_count=_region_count(outputs.patterns),
        unresolved=cells.unresolved + outputs.lost,
        build=_FloatBuild(outputs),
    )


def resolve_mode(net: Network, mode: str) -> Literal["exact", "hybrid", "float"]:
    """The engine for a mode: ``"auto"`` is the hybrid engine (certified at every size).

    Float mode is refused, and auto picks exact, when a weight is beyond float64's range.
    """
    if mode not in ("exact", "float", "auto", "hybrid"):
        raise QexprValueError(f"mode: expected auto, exact, hybrid or float, got {mode!r}")
    if mode in ("float", "hybrid") and not _fits_float64(net):
        raise QexprValueError("mode: a weight is beyond float64's range (1.8e308); use exact")
    if mode != "auto":
        return mode  # type: ignore[return-value]
    return "hybrid" if _fits_float64(net) else "exact"


def spline_form(
    net: Network, mode: Mode = "auto", domain: object = None, *, progress: Progress | None = None
) -> Spline:
    """The spline form of a one-input network.

    Parameters
    ----------
    net
        A :class:`~qexpr.Network` with ``input_dim == 1``.
    mode
        ``"auto"`` (the default, the same as ``"hybrid"``): float cells with every decision
        certified in exact arithmetic and uncertain stretches re-solved exactly, so the
        answer is proven at every size; ``"exact"``: rational arithmetic throughout;
        ``"float"``: float64 only, fast, not certified (``unresolved`` counts what float64
        could not decide).
    domain
        ``None`` for the whole real line, or ``(a, b)`` for the closed interval [a, b];
        numbers as in the network format (``"1/3"`` is exact).
    progress
        ``progress(stage, done, total)`` is called as the certified engines advance (exact:
        after each cell of each layer; hybrid: after each stretch certified); float mode
        does not call it. The library never prints.
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    if net.input_dim != 1:
        raise QexprValueError(
            f"net: expected a network with one input, got input_dim {net.input_dim} "
            "(restrict it to a line first)"
        )
    resolved = resolve_mode(net, mode)
    if resolved == "float":
        return _float_spline(net, _check_domain(domain, exact=False))
    engine = _exact_spline if resolved == "exact" else _hybrid_spline
    return engine(net, _check_domain(domain, exact=True), progress)


def count_pieces(
    net: Network, mode: Mode = "auto", domain: object = None, *, progress: Progress | None = None
) -> PieceCount:
    """Count the pieces, activation regions and degree of a one-input network.

    Parameters are those of :func:`spline_form`. Returns a :class:`PieceCount` whose ``spline``
    attribute holds the full piecewise form.

    Examples
    --------
    >>> import qexpr
    >>> net = qexpr.random_network("quadratic", [1, 4, 4, 1], seed=0)
    >>> result = qexpr.count_pieces(net)
    >>> result.pieces, result.degree  # doctest: +SKIP
    """
    form = spline_form(net, mode, domain, progress=progress)
    ends = form.breakpoints
    if form.mode != "float":  # float breakpoints are floats: their own JSON
        ends = tuple(endpoint_to_json(b) for b in ends)
    return PieceCount(
        pieces=len(form.breakpoints) + 1,
        activation_regions=form.region_count,
        degree=form.degree,
        breakpoints=ends,
        mode=form.mode,
        unresolved=form.unresolved,
        spline=form,
    )
