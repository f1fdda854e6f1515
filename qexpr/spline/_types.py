"""The spline form of a one-input network: pieces, activation regions, breakpoints, degree.

A :class:`Spline` is built from the cells of either engine (exact or float). Adjacent cells
whose output polynomials are equal merge into one :class:`Piece`; adjacent cells whose
activation patterns are equal merge into one :class:`Region`.

* ``piece_list``: maximal intervals on which the output (vector) is one polynomial (vector).
* ``region_list``: maximal intervals on which the activation pattern of all ReLU neurons
  (active where the pre-activation is > 0) is constant.
* ``breakpoints``: the points between consecutive pieces.
* ``degree``: the highest degree of any piece (a constant or zero piece has degree 0).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Literal

import numpy as np

from qexpr._errors import QexprValueError
from qexpr._numbers import number_to_json, scientific

__all__ = ["Built", "Cell", "Piece", "Region", "Spline", "endpoint_to_json"]

Endpoint = "RealAlgebraic | float | None"


@dataclass(frozen=True)
class Piece:
    """A maximal interval ``(left, right)`` on which the output is one polynomial vector.

    In exact mode ``left``/``right`` are :class:`RealAlgebraic` (``None`` for ±∞) and
    ``polys`` are ``flint.fmpq_poly`` (coefficients low → high); in float mode they are
    floats (±inf) and :class:`numpy.polynomial.Chebyshev` series.
    """

    left: Endpoint
    right: Endpoint
    polys: tuple[Any, ...]
    degree: int

    def coefficients(self, output: int = 0) -> list[Fraction] | list[float]:
        """Monomial coefficients (low → high) of one output's polynomial on this piece."""
        poly = self.polys[output]
        if isinstance(poly, np.polynomial.Chebyshev):
            return list(poly.convert(kind=np.polynomial.Polynomial).coef[: self.degree + 1])
        return [Fraction(int(c.p), int(c.q)) for c in poly.coeffs()] or [Fraction(0)]

    def __reduce__(self) -> tuple:
        """Pickle support: exact polynomials travel as coefficient pairs ``(p, q)``."""
        values = [getattr(self, f.name) for f in dataclasses.fields(self)]
        values[2] = tuple(_pack_poly(poly) for poly in self.polys)
        return _rebuild_piece, (type(self), tuple(values))


def _pack_poly(poly: Any) -> Any:
    """A picklable stand-in for a ``flint.fmpq_poly`` (Chebyshev series pickle as they are)."""
    if isinstance(poly, np.polynomial.Chebyshev):
        return poly
    return tuple((int(c.p), int(c.q)) for c in poly.coeffs())


def _unpack_poly(packed: Any) -> Any:
    if isinstance(packed, np.polynomial.Chebyshev):
        return packed
    import flint

    return flint.fmpq_poly([flint.fmpq(p, q) for p, q in packed])


def _rebuild_piece(cls: type[Piece], values: tuple) -> Piece:
    values = list(values)
    values[2] = tuple(_unpack_poly(packed) for packed in values[2])
    return cls(*values)


@dataclass(frozen=True)
class Cell(Piece):
    """A maximal interval on which every ReLU neuron keeps its state, with its polynomial.

    The finest subdivision: pieces are runs of cells with equal polynomials, regions runs of
    cells with equal patterns (two adjacent cells differ in one or the other).
    """

    pattern: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Region:
    """A maximal interval on which every ReLU neuron keeps its state (True = active)."""

    left: Endpoint
    right: Endpoint
    pattern: tuple[bool, ...]


def group_runs(count: int, same: Callable[[int], bool]) -> list[tuple[int, int]]:
    """Split ``range(count)`` into runs ``(first, last)``; ``same(i)`` joins i and i + 1."""
    runs, start = [], 0
    for i in range(count - 1):
        if not same(i):
            runs.append((start, i))
            start = i + 1
    runs.append((start, count - 1))
    return runs


def _float_endpoint(value: Endpoint, default: float) -> float:
    return default if value is None else float_endpoint(value)


def float_endpoint(value: Any) -> float:
    """The nearest float64 of a breakpoint; ±inf beyond float64 range (never an error)."""
    try:
        return float(value)
    except OverflowError:
        return float(np.copysign(np.inf, _sign_of(value)))


def _sign_of(value: Any) -> int:
    lo, hi = value.interval
    return 1 if lo > 0 else -1 if hi < 0 else 0


def exact_endpoint(value: Any) -> str | dict[str, Any] | None:
    """A breakpoint as exact JSON: ``"p/q"`` or ``{"poly", "interval"}`` (``None`` for ±∞)."""
    if value is None:
        return None
    if value.is_rational:
        return str(value.as_fraction())
    lo, hi = value.interval
    return {"poly": [str(int(c)) for c in value.poly.coeffs()], "interval": [str(lo), str(hi)]}


Objects = tuple[tuple[Piece, ...], tuple[Region, ...], tuple[Cell, ...]]


@dataclass(frozen=True)
class Built:
    """A spline's ``build`` for objects that are already built (exact and hybrid engines)."""

    objects: Objects

    def __call__(self) -> Objects:
        return self.objects


_RENAMED = {"pieces": "piece_list", "regions": "region_list", "cells": "cell_list"}


def endpoint_to_json(value: Endpoint) -> float | str:
    """A finite breakpoint for output: a float when float64 holds its magnitude, else a string.

    A float passes through. An exact rational becomes :func:`~qexpr._numbers.number_to_json`
    (the exact ``"p/q"`` off float64's normal range). An irrational is located to relative
    precision 2**-60 on its isolating interval; off the range it is written with 17
    significant digits (``"3.1622776601683795e400"``), never ``inf`` or ``0.0``.
    """
    if isinstance(value, float):
        return value
    if value.is_rational:
        return number_to_json(value.as_fraction())
    lo, hi = value.interval
    while lo * hi <= 0 or hi - lo > min(abs(lo), abs(hi)) / 2**60:
        value.refine()
        lo, hi = value.interval
    middle = (lo + hi) / 2
    number = number_to_json(middle)
    return number if isinstance(number, float) else scientific(middle)


@dataclass(frozen=True, eq=False)
class Spline:
    """The exact, hybrid or float spline form of a one-input network (see the module docstring).

    The counts are computed eagerly; :attr:`piece_list`, :attr:`region_list` and
    :attr:`cell_list` (Python objects with the polynomials) are built on first access by
    ``build``, a picklable object (a spline crosses process boundaries).

    ``mode`` is the engine that ran: ``"exact"`` (all rational), ``"hybrid"`` (float cells,
    every decision certified in exact arithmetic, uncertain stretches re-solved exactly) or
    ``"float"`` (float64 only). Exact and hybrid splines are proven (:attr:`certified`) and
    hold exact breakpoints (:class:`RealAlgebraic`) and ``flint.fmpq_poly`` pieces.
    ``unresolved`` (float mode) counts the pre-activations float64 could not resolve
    (smaller than rounding noise, or roots too close to tell apart); when it is not 0 the
    float counts may be wrong. It is always 0 when certified. ``exact_cells`` counts the
    cells the exact engine produced (all of them in exact mode, those of re-solved
    stretches in hybrid mode, 0 in float mode).
    """

    mode: Literal["exact", "hybrid", "float"]
    domain: tuple[Fraction, Fraction] | tuple[float, float] | None
    breakpoints: tuple[Endpoint, ...]
    degree: int
    region_count: int
    unresolved: int
    build: Callable[[], tuple[tuple[Piece, ...], tuple[Region, ...], tuple[Cell, ...]]] = field(
        repr=False
    )
    exact_cells: int = 0

    @property
    def certified(self) -> bool:
        """True when every number is proven (exact or hybrid mode)."""
        return self.mode != "float"

    @cached_property
    def _objects(self) -> Objects:
        return self.build()

    @property
    def piece_list(self) -> tuple[Piece, ...]:
        """Maximal intervals on which the output is one polynomial vector, left to right."""
        return self._objects[0]

    @property
    def region_list(self) -> tuple[Region, ...]:
        """Maximal intervals of constant ReLU activation pattern, left to right."""
        return self._objects[1]

    @property
    def cell_list(self) -> tuple[Cell, ...]:
        """Maximal intervals of fixed ReLU states: interval, polynomials, degree, pattern."""
        return self._objects[2]

    def __getattr__(self, name: str) -> Any:
        if name in _RENAMED:
            new = _RENAMED[name]
            warnings.warn(
                f"Spline.{name} is now Spline.{new} (Spline.{name} goes in the next release)",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(self, new)
        raise AttributeError(f"'Spline' object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    @property
    def output_dim(self) -> int:
        """Number of outputs."""
        return len(self.piece_list[0].polys)

    def to_dict(self, *, exact_output: bool = False) -> dict[str, Any]:
        """The JSON-ready summary (what ``qexpr count-pieces --json`` prints).

        Keys: ``pieces``, ``activation_regions``, ``degree``, ``breakpoints`` (floats;
        ±inf or 0 only where a breakpoint is outside float64 range, see below), ``mode``,
        ``unresolved``, ``certified`` and ``exact_cells``. With ``exact_output=True`` (a
        certified spline only) two more: ``exact_breakpoints``, each a rational ``"p/q"``
        or ``{"poly": [integer coefficients, low -> high], "interval": ["p/q", "p/q"]}``
        (the one real root of the irreducible ``poly`` in the closed interval), and
        ``exact_pieces``, each ``{"left", "right", "polys"}`` with exact endpoints (``None``
        for ±∞) and each output's coefficients (low -> high) as ``"p/q"`` strings.
        """
        summary = {
            "pieces": len(self.breakpoints) + 1,
            "activation_regions": self.region_count,
            "degree": self.degree,
            "breakpoints": [endpoint_to_json(b) for b in self.breakpoints],
            "mode": self.mode,
            "unresolved": self.unresolved,
            "certified": self.certified,
            "exact_cells": self.exact_cells,
        }
        if exact_output:
            if not self.certified:
                raise QexprValueError("exact_output: this spline was built in float mode")
            summary["exact_breakpoints"] = [exact_endpoint(b) for b in self.breakpoints]
            summary["exact_pieces"] = [
                {
                    "left": exact_endpoint(piece.left),
                    "right": exact_endpoint(piece.right),
                    "polys": [
                        [str(c) for c in piece.coefficients(j)] for j in range(len(piece.polys))
                    ],
                }
                for piece in self.piece_list
            ]
        return summary

    def float_breakpoints(self) -> np.ndarray:
        """Breakpoints as a float64 array."""
        return self._float_breakpoints.copy()

    @cached_property
    def _float_breakpoints(self) -> np.ndarray:
        """:meth:`float_breakpoints`, converted once (exact breakpoints are slow to round)."""
        return np.array([float_endpoint(b) for b in self.breakpoints], dtype=np.float64)

    def _check_domain(self, x: np.ndarray) -> None:
        if self.domain is not None:
            a, b = float(self.domain[0]), float(self.domain[1])
            if np.any((x < a) | (x > b)):
                raise QexprValueError(f"x: expected points inside the domain [{a}, {b}]")

    def __call__(self, x: Sequence[float] | np.ndarray) -> np.ndarray:
        """Evaluate in float64 at points ``x`` (shape (N,)); returns (N, outputs)."""
        x = np.asarray(x, dtype=np.float64)
        self._check_domain(x)
        index = np.searchsorted(self._float_breakpoints, x)
        out = np.empty((*x.shape, self.output_dim))
        for i in np.unique(index):  # only the pieces x falls in: plots call this per piece
            sel, piece = index == i, self.piece_list[i]
            for j, poly in enumerate(piece.polys):
                if not self.certified:
                    out[sel, j] = poly(x[sel])
                else:
                    coeffs = np.array(piece.coefficients(j), dtype=np.float64)
                    out[sel, j] = np.polynomial.polynomial.polyval(x[sel], coeffs)
        return out

    def evaluate_exact(self, x: Sequence[Fraction | int]) -> list[tuple[Fraction, ...]]:
        """Evaluate an exact spline at rational points, exactly."""
        if not self.certified:
            raise QexprValueError("evaluate_exact: this spline was built in float mode")
        import flint

        from qexpr.spline._algebraic import RealAlgebraic

        values = []
        for point in x:
            q = Fraction(point)
            here = RealAlgebraic.rational(q)
            piece = next(
                p for p in self.piece_list if p.right is None or here < p.right or here == p.right
            )
            arg = flint.fmpq(q.numerator, q.denominator)
            values.append(
                tuple(Fraction(int(v.p), int(v.q)) for v in (f(arg) for f in piece.polys))
            )
        return values

    def _repr_latex_(self) -> str:
        """The piecewise form in LaTeX, for notebooks (float mode rounds to 6 digits)."""
        import sympy

        x = sympy.Symbol("x")

        def expr(coeffs: list) -> sympy.Expr:
            number = sympy.Rational if self.certified else (lambda c: sympy.Float(c, 6))
            return sum((number(c) * x**k for k, c in enumerate(coeffs)), sympy.Integer(0))

        rows = []
        for piece in self.piece_list:
            exprs = [expr(piece.coefficients(j)) for j in range(self.output_dim)]
            body = sympy.latex(exprs[0] if len(exprs) == 1 else sympy.Matrix(exprs))
            lo = _float_endpoint(piece.left, -np.inf)
            hi = _float_endpoint(piece.right, np.inf)
            rows.append(f"{body} & {lo:.6g} \\le x \\le {hi:.6g}")
        return "$\\begin{cases}" + " \\\\ ".join(rows) + "\\end{cases}$"
