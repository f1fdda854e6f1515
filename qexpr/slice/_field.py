"""Polynomials in ``v`` over a real number field ``Q(α)``: gcd and Sturm counts, exactly.

An element of ``Q(α)`` is an ``fmpq_poly`` in ``α`` reduced modulo the minimal polynomial
``p`` (irreducible, so ``Q[α]/(p)`` is a field and Euclid's algorithm works); its sign is
read from the isolating interval of the real root ``α`` (refined until decided; an element
that is not zero modulo ``p`` is not zero). A polynomial in ``v`` is a list of elements,
lowest power first, with a nonzero top coefficient.

:func:`real_root_count` counts the distinct real roots of such a polynomial with a Sturm
sequence (Sturm's theorem holds for coefficients in any subfield of the reals, here
``Q(α)``, given the signs of the leading coefficients).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import flint

from qexpr.spline._algebraic import RealAlgebraic

__all__ = ["Field", "FieldPoly", "derivative", "real_root_count"]

_REFINE_LIMIT = 800

Element = flint.fmpq_poly
FieldPoly = list[flint.fmpq_poly]


@dataclass(frozen=True)
class Field:
    """``Q(α)`` for a real algebraic ``α`` with minimal polynomial ``p``."""

    alpha: RealAlgebraic

    @property
    def p(self) -> flint.fmpq_poly:
        return flint.fmpq_poly(self.alpha.poly)

    def reduce(self, a: Element) -> Element:
        return a % self.p

    def sign(self, a: Element) -> int:
        """The sign of ``a(α)`` (0 only when ``a`` is zero modulo ``p``)."""
        a = self.reduce(a)
        if a.is_zero():
            return 0
        for _ in range(_REFINE_LIMIT):
            lo, hi = self.alpha.interval
            ball = flint.arb(flint.fmpq(lo.numerator, lo.denominator)).union(
                flint.arb(flint.fmpq(hi.numerator, hi.denominator))
            )
            value = flint.arb(0)
            for c in reversed(a.coeffs()):
                value = value * ball + flint.arb(c)
            if value > 0 or value < 0:
                return 1 if value > 0 else -1
            self.alpha.refine()
        raise ArithmeticError("could not decide a sign in a number field")  # pragma: no cover

    def trim(self, f: FieldPoly) -> FieldPoly:
        f = [self.reduce(c) for c in f]
        while f and f[-1].is_zero():
            f.pop()
        return f

    def rem(self, f: FieldPoly, g: FieldPoly) -> FieldPoly:
        """A positive multiple of the remainder of ``f`` by a nonzero ``g``.

        Pseudo-division without inverses in ``Q(α)``: each step multiplies ``f`` by
        ``|lc(g)|`` (the sign read at ``α``), and the result is divided by its positive
        rational content, so the signs of the remainder at every ``v`` are kept (as Sturm's
        theorem needs) and coefficients stay small.
        """
        f = self.trim(f)
        sign = self.sign(g[-1])
        scale = g[-1] * sign
        while len(f) >= len(g):
            top, shift = f[-1] * sign, len(f) - len(g)
            f = [c * scale for c in f]
            for i, c in enumerate(g):
                f[shift + i] = f[shift + i] - top * c
            f = self.trim(f)
        return _primitive(f)

    def gcd(self, f: FieldPoly, g: FieldPoly) -> FieldPoly:
        f, g = self.trim(f), self.trim(g)
        while g:
            f, g = g, self.rem(f, g)
        return f


def _primitive(f: FieldPoly) -> FieldPoly:
    """``f`` divided by the positive rational content of all its coefficients."""
    if not f:
        return f
    lcm = flint.fmpz(1)
    for c in f:
        lcm = lcm * c.denom() // lcm.gcd(c.denom())
    numerators = [flint.fmpz_poly((c * lcm).numer()) for c in f]
    content = flint.fmpz(0)
    for n in numerators:
        content = content.gcd(n.content())
    return [flint.fmpq_poly(n) / content for n in numerators]


def derivative(f: FieldPoly) -> FieldPoly:
    """``d/dv`` of a polynomial in ``v``."""
    return [c * k for k, c in enumerate(f)][1:]


def real_root_count(field: Field, f: FieldPoly) -> int:
    """Distinct real roots of a nonzero polynomial over ``Q(α)`` (Sturm's theorem)."""
    f = field.trim(f)
    if len(f) <= 1:
        return 0
    sequence = [f, field.trim(derivative(f))]
    while True:
        r = field.rem(sequence[-2], sequence[-1])
        if not r:
            break
        sequence.append([-c for c in r])
    lead = [field.sign(s[-1]) for s in sequence]
    at_minus = [s * (-1) ** (len(poly) - 1) for s, poly in zip(lead, sequence)]
    return _changes(at_minus) - _changes(lead)


def _changes(signs: list[int]) -> int:
    signs = [s for s in signs if s]
    return sum(a != b for a, b in itertools.pairwise(signs))
