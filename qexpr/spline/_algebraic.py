"""Real algebraic numbers for exact breakpoints.

A breakpoint of a one-input network is a real root of a polynomial with rational
coefficients. We hold it as a pair (irreducible polynomial ``f`` with integer coefficients,
isolating interval ``[lo, hi]`` with rational endpoints): ``f`` has exactly one real root in
the interval. A rational number has a linear ``f`` and ``lo == hi``; an irrational one has
``lo < hi`` and ``f(lo) * f(hi) < 0``.

Comparisons are exact. Two numbers with the same irreducible ``f`` are equal exactly when
they are the same root of ``f`` (same index among its real roots, in increasing order);
distinct irreducible polynomials share no root, so their roots differ and bisecting the
intervals until they are disjoint decides the order in finitely many steps.

Roots are isolated with python-flint's certified ``fmpz_poly.complex_roots`` (arb balls;
real roots come back with an exactly zero imaginary part), then checked by a sign change.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from fractions import Fraction
from functools import total_ordering

import flint

__all__ = ["RealAlgebraic", "descartes_bound", "odd_real_roots", "rational_between"]

_PRECISIONS = (64, 128, 256, 512, 1024, 4096)


def _arb_endpoint(value: flint.arb) -> flint.fmpq:
    """The exact rational value of an exact arb (a binary floating-point number)."""
    mantissa, exponent = value.man_exp()
    exponent = int(exponent)
    if exponent >= 0:
        return flint.fmpq(mantissa * 2**exponent)
    return flint.fmpq(mantissa, 2 ** (-exponent))


def _primitive(poly: flint.fmpq_poly) -> flint.fmpz_poly:
    """Integer polynomial with content 1 and positive leading coefficient, same roots."""
    numer = flint.fmpz_poly(poly.numer())
    content = numer.content()
    if numer.leading_coefficient() < 0:
        content = -content
    return flint.fmpz_poly([c // content for c in numer.coeffs()])


def _sign(value: flint.fmpq) -> int:
    return (value > 0) - (value < 0)


@total_ordering
class RealAlgebraic:
    """An exact real algebraic number: a root of an irreducible integer polynomial.

    Build one with :meth:`rational` or obtain them from ``odd_real_roots``. Instances
    are immutable as numbers; the isolating interval only shrinks when comparisons or
    ``float()`` refine it.
    """

    __slots__ = ("_hi", "_index", "_key", "_lo", "_poly", "_sign_lo")

    def __init__(self, poly: flint.fmpz_poly, index: int, lo: flint.fmpq, hi: flint.fmpq) -> None:
        self._poly = poly
        self._key = tuple(int(c) for c in poly.coeffs())
        self._index = index
        self._lo = lo
        self._hi = hi
        self._sign_lo = _sign(poly(lo)) if lo != hi else 0

    @classmethod
    def rational(cls, value: Fraction | int | flint.fmpq) -> RealAlgebraic:
        """The rational number ``value`` as a :class:`RealAlgebraic`."""
        q = (
            flint.fmpq(value.numerator, value.denominator)
            if isinstance(value, Fraction)
            else (flint.fmpq(value))
        )
        poly = flint.fmpz_poly([-q.p, q.q])
        return cls(poly, 0, q, q)

    def __reduce__(self) -> tuple:
        """Pickle support: the polynomial's integer coefficients and the interval's ends."""
        lo, hi = self.interval
        return _rebuild, (self._key, self._index, lo, hi)

    @property
    def poly(self) -> flint.fmpz_poly:
        """The irreducible integer polynomial this number is a root of."""
        return self._poly

    @property
    def bounds(self) -> tuple[flint.fmpq, flint.fmpq]:
        """Rationals ``lo <= self <= hi`` (the current isolating interval, as flint numbers)."""
        return self._lo, self._hi

    @property
    def is_rational(self) -> bool:
        """True for a rational number (a root of a linear polynomial)."""
        return self._poly.degree() == 1

    @property
    def interval(self) -> tuple[Fraction, Fraction]:
        """The current isolating interval ``(lo, hi)`` as fractions."""
        return Fraction(int(self._lo.p), int(self._lo.q)), Fraction(
            int(self._hi.p), int(self._hi.q)
        )

    def as_fraction(self) -> Fraction:
        """The exact value of a rational number; :class:`ValueError` for an irrational one."""
        if not self.is_rational:
            raise ValueError("this algebraic number is irrational")
        return self.interval[0]

    def refine(self) -> None:
        """Halve the isolating interval (a no-op for rational numbers)."""
        if self._lo == self._hi:
            return
        mid = (self._lo + self._hi) / 2
        if _sign(self._poly(mid)) == self._sign_lo:
            self._lo = mid
        else:
            self._hi = mid

    def __float__(self) -> float:
        while self._hi - self._lo > abs(self._lo + self._hi) * flint.fmpq(1, 2**60) + flint.fmpq(
            1, 2**1070
        ):
            self.refine()
        return float(
            Fraction(int(self._lo.p), int(self._lo.q)) / 2
            + Fraction(int(self._hi.p), int(self._hi.q)) / 2
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RealAlgebraic):
            return NotImplemented
        return self._key == other._key and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._key, self._index))

    def __lt__(self, other: RealAlgebraic) -> bool:
        if self == other:
            return False
        while True:
            if self._hi <= other._lo:
                return True
            if other._hi <= self._lo:
                return False
            wider = self if self._hi - self._lo >= other._hi - other._lo else other
            wider.refine()

    def __repr__(self) -> str:
        if self.is_rational:
            return f"RealAlgebraic({self.as_fraction()})"
        return f"RealAlgebraic(root of {self._poly} ≈ {float(self):.17g})"


def _rebuild(key: tuple[int, ...], index: int, lo: Fraction, hi: Fraction) -> RealAlgebraic:
    return RealAlgebraic(
        flint.fmpz_poly(list(key)),
        index,
        flint.fmpq(lo.numerator, lo.denominator),
        flint.fmpq(hi.numerator, hi.denominator),
    )


@contextlib.contextmanager
def working_precision(bits: int) -> Iterator[None]:
    """Run a block with ``flint.ctx.prec = bits``, restoring the caller's precision after."""
    old = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = old


def _isolate(poly: flint.fmpz_poly) -> list[RealAlgebraic]:
    """All real roots of an irreducible integer polynomial, in increasing order."""
    if poly.degree() == 1:
        a0, a1 = poly.coeffs()
        return [RealAlgebraic.rational(flint.fmpq(-int(a0), int(a1)))]
    for prec in _PRECISIONS:
        with working_precision(prec):
            intervals = []
            for root, _ in poly.complex_roots():
                if root.imag.is_zero():
                    intervals.append(
                        (_arb_endpoint(root.real.lower()), _arb_endpoint(root.real.upper()))
                    )
            intervals.sort()
            isolating = all(_sign(poly(lo)) * _sign(poly(hi)) < 0 for lo, hi in intervals) and all(
                a[1] < b[0] for a, b in itertools.pairwise(intervals)
            )
        if isolating:
            return [RealAlgebraic(poly, i, lo, hi) for i, (lo, hi) in enumerate(intervals)]
    raise ArithmeticError(f"could not isolate the real roots of {poly}")  # pragma: no cover


class RootCache:
    """Real roots of irreducible factors, computed once per factor."""

    def __init__(self) -> None:
        self._roots: dict[tuple[int, ...], list[RealAlgebraic]] = {}

    def roots(self, factor: flint.fmpz_poly) -> list[RealAlgebraic]:
        """Real roots of the irreducible primitive ``factor`` in increasing order."""
        key = tuple(int(c) for c in factor.coeffs())
        if key not in self._roots:
            self._roots[key] = _isolate(factor)
        return self._roots[key]


def _variations(poly: flint.fmpq_poly) -> int:
    """Sign changes in the coefficient sequence (zeros skipped)."""
    signs = [c > 0 for c in poly.coeffs() if c != 0]
    return sum(a != b for a, b in itertools.pairwise(signs))


def descartes_bound(z: flint.fmpq_poly, lo: flint.fmpq | None, hi: flint.fmpq | None) -> int:
    """Descartes' bound on the roots of ``z`` in the open interval ``(lo, hi)``.

    The interval is mapped onto (0, ∞) (``x = hi - t``, ``x = lo + t``, or
    ``x = (lo + hi t) / (1 + t)``); the sign variations of the image's coefficients bound its
    positive roots (with multiplicity) from above, with the same parity: 0 proves no root,
    1 exactly one, a simple one. ``lo`` and ``hi`` must not both be ``None`` (infinite).
    """
    if lo is None:
        return _variations(z(flint.fmpq_poly([hi, -1])))
    if hi is None:
        return _variations(z(flint.fmpq_poly([lo, 1])))
    on_unit = z(flint.fmpq_poly([lo, hi - lo]))
    reversed_ = flint.fmpq_poly(on_unit.coeffs()[::-1])
    return _variations(reversed_(flint.fmpq_poly([1, 1])))


def odd_real_roots(
    poly: flint.fmpq_poly,
    cache: RootCache,
    lo: flint.fmpq | None = None,
    hi: flint.fmpq | None = None,
) -> list[RealAlgebraic]:
    """Distinct real roots of odd multiplicity of a nonzero polynomial, in increasing order.

    These are exactly the points where ``poly`` changes sign. With rational ``lo``/``hi``
    (``None`` for ±∞) the result may omit roots outside the open interval ``(lo, hi)``:
    a polynomial or factor that Descartes' rule proves root-free there is not isolated.
    """
    if poly.degree() < 1:
        return []
    bounded = lo is not None or hi is not None
    if bounded and descartes_bound(poly, lo, hi) == 0:
        return []
    _, factors = poly.factor()
    roots = [
        root
        for factor, multiplicity in factors
        if multiplicity % 2 == 1 and not (bounded and descartes_bound(factor, lo, hi) == 0)
        for root in cache.roots(_primitive(factor))
    ]
    return sorted(roots)


def rational_between(left: RealAlgebraic | None, right: RealAlgebraic | None) -> flint.fmpq:
    """A rational strictly between ``left < right`` (``None`` stands for -∞ or +∞)."""
    if left is None and right is None:
        return flint.fmpq(0)
    if left is None:
        return flint.fmpq(right._lo.floor() - 1)
    if right is None:
        return flint.fmpq(left._hi.ceil() + 1)
    while left._hi >= right._lo:
        (left if left._hi - left._lo >= right._hi - right._lo else right).refine()
    return (left._hi + right._lo) / 2
