"""The spline form of a one-input network: pieces, activation regions, breakpoints, degree.

A :class:`Spline` is built from the cells of either engine (exact or float). Adjacent cells
whose output polynomials are equal merge into one :class:`Piece`; adjacent cells whose
activation patterns are equal merge into one :class:`Region`.

* ``pieces``: maximal intervals on which the output (vector) is one polynomial (vector).
* ``regions``: maximal intervals on which the activation pattern of all ReLU neurons
  (active where the pre-activation is > 0) is constant.
* ``breakpoints``: the points between consecutive pieces.
* ``degree``: the highest degree of any piece (a constant or zero piece has degree 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qexpr._errors import QexprValueError
from qexpr._numbers import number_to_json, scientific

if TYPE_CHECKING:
    pass

__all__ = ["Cell", "Piece", "Region", "Spline", "endpoint_to_json"]

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
    return default if value is None else float(value)


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
    """The exact or float spline form of a one-input network (see the module docstring).

    The counts are computed eagerly; :attr:`pieces` and :attr:`regions` (Python objects
    with the polynomials) are built on first access. ``unresolved`` (float mode) counts
    the pre-activations float64 could not resolve (smaller than rounding noise, or roots
    too close to tell apart); when it is not 0 the float counts may be wrong and exact
    mode should be used. It is always 0 in exact mode.
    """

    mode: Literal["exact", "float"]
    domain: tuple[Fraction, Fraction] | tuple[float, float] | None
    breakpoints: tuple[Endpoint, ...]
    degree: int
    region_count: int
    unresolved: int
    build: Callable[[], tuple[tuple[Piece, ...], tuple[Region, ...], tuple[Cell, ...]]] = field(
        repr=False
    )

    @cached_property
    def _objects(self) -> tuple[tuple[Piece, ...], tuple[Region, ...], tuple[Cell, ...]]:
        return self.build()

    @property
    def pieces(self) -> tuple[Piece, ...]:
        """Maximal intervals on which the output is one polynomial vector, left to right."""
        return self._objects[0]

    @property
    def regions(self) -> tuple[Region, ...]:
        """Maximal intervals of constant ReLU activation pattern, left to right."""
        return self._objects[1]

    @property
    def cells(self) -> tuple[Cell, ...]:
        """Maximal intervals of fixed ReLU states: interval, polynomials, degree, pattern."""
        return self._objects[2]

    @property
    def output_dim(self) -> int:
        """Number of outputs."""
        return len(self.pieces[0].polys)

    def float_breakpoints(self) -> np.ndarray:
        """Breakpoints as a float64 array."""
        return np.array([float(b) for b in self.breakpoints], dtype=np.float64)

    def _check_domain(self, x: np.ndarray) -> None:
        if self.domain is not None:
            a, b = float(self.domain[0]), float(self.domain[1])
            if np.any((x < a) | (x > b)):
                raise QexprValueError(f"x: expected points inside the domain [{a}, {b}]")

    def __call__(self, x: Sequence[float] | np.ndarray) -> np.ndarray:
        """Evaluate in float64 at points ``x`` (shape (N,)); returns (N, outputs)."""
        x = np.asarray(x, dtype=np.float64)
        self._check_domain(x)
        index = np.searchsorted(self.float_breakpoints(), x)
        out = np.empty((*x.shape, self.output_dim))
        for i, piece in enumerate(self.pieces):
            sel = index == i
            for j, poly in enumerate(piece.polys):
                if self.mode == "float":
                    out[sel, j] = poly(x[sel])
                else:
                    coeffs = np.array(piece.coefficients(j), dtype=np.float64)
                    out[sel, j] = np.polynomial.polynomial.polyval(x[sel], coeffs)
        return out

    def evaluate_exact(self, x: Sequence[Fraction | int]) -> list[tuple[Fraction, ...]]:
        """Evaluate an exact spline at rational points, exactly."""
        if self.mode != "exact":
            raise QexprValueError("evaluate_exact: this spline was built in float mode")
        import flint

        from qexpr.spline._algebraic import RealAlgebraic

        values = []
        for point in x:
            q = Fraction(point)
            here = RealAlgebraic.rational(q)
            piece = next(
                p for p in self.pieces if p.right is None or here < p.right or here == p.right
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
            number = sympy.Rational if self.mode == "exact" else (lambda c: sympy.Float(c, 6))
            return sum((number(c) * x**k for k, c in enumerate(coeffs)), sympy.Integer(0))

        rows = []
        for piece in self.pieces:
            exprs = [expr(piece.coefficients(j)) for j in range(self.output_dim)]
            body = sympy.latex(exprs[0] if len(exprs) == 1 else sympy.Matrix(exprs))
            lo = _float_endpoint(piece.left, -np.inf)
            hi = _float_endpoint(piece.right, np.inf)
            rows.append(f"{body} & {lo:.6g} \\le x \\le {hi:.6g}")
        return "$\\begin{cases}" + " \\\\ ".join(rows) + "\\end{cases}$"
