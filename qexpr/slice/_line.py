"""Simple roots of a boundary curve on a critical line ``u = α``, without ``Q(α)`` arithmetic.

On a critical line most curves are not involved: their discriminant and their resultants
with the other curves do not vanish at ``α``, so their roots on the line are simple and lie
on no other curve, and (the top coefficient in ``v`` being constant) they have as many real
roots as in the strips on either side. Such roots need no norm: for the known count ``c``
it suffices to find rationals ``t_0 < … < t_c`` where ``curve(α, t)`` has certified signs
(ball evaluation at ``α``'s isolating interval) that alternate: each interval
``(t_{i-1}, t_i)`` holds at least one root (intermediate value theorem), ``c`` of them hold
``c`` roots, so each holds exactly one and there are no others. The ``t_i`` are read off the
roots at the midpoint of ``α``'s interval (first in floating point, as guesses; then
exactly, refining ``α``) until the signs are certified.

A :class:`SimpleRoot` is refined by bisection the same way, and :func:`line_order` sorts
such roots with exact :class:`~qexpr.RealAlgebraic` ones by refining intervals until they
separate (they always do: a simple root lies on no other curve).
"""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction

import flint
import numpy as np

from qexpr.spline._algebraic import RealAlgebraic, RootCache, odd_real_roots, rational_between

__all__ = ["SimpleRoot", "ball", "evaluate", "guessed_roots", "line_order", "simple_roots"]

#: Refinements of ``α`` tried before falling back to the exact norm.
_TRIES = 40
_REFINE_LIMIT = 400


def ball(value: RealAlgebraic) -> flint.arb:
    """An arb ball containing ``value`` (its isolating interval)."""
    lo, hi = value.bounds
    return flint.arb(lo).union(flint.arb(hi))


def evaluate(poly: flint.fmpq_mpoly, u: flint.arb, v: flint.arb) -> flint.arb:
    """Ball enclosure of ``poly(u, v)``."""
    total = flint.arb(0)
    for (i, j), c in poly.to_dict().items():
        total += flint.arb(c) * u**i * v**j
    return total


class _Curve:
    """A curve ``Σ_j c_j(u) v^j`` on the line ``u = α``: signs of ``curve(α, v)`` at rational
    ``v`` from balls ``c_j(α)`` (recomputed when ``α``'s interval shrinks)."""

    __slots__ = ("_balls", "alpha", "coeffs", "curve")

    def __init__(self, curve: flint.fmpq_mpoly, alpha: RealAlgebraic) -> None:
        rows: dict[int, dict[int, flint.fmpq]] = {}
        for (i, j), c in curve.to_dict().items():
            rows.setdefault(int(j), {})[int(i)] = c
        self.curve, self.alpha = curve, alpha
        self.coeffs = [
            flint.arb_poly([row.get(i, 0) for i in range(max(row, default=-1) + 1)])
            for row in (rows.get(j, {}) for j in range(max(rows) + 1))
        ]
        self._balls: tuple = (None, [])

    def sign(self, v: flint.fmpq) -> int:
        """The sign of ``curve(α, v)`` if the current interval of ``α`` certifies it, else 0."""
        bounds = self.alpha.bounds
        if self._balls[0] != bounds:
            u = ball(self.alpha)
            self._balls = (bounds, [c(u) for c in self.coeffs])
        value = flint.arb(0)
        for c in reversed(self._balls[1]):
            value = value * v + c
        return 1 if value > 0 else -1 if value < 0 else 0

    def vanishes(self, v: flint.fmpq) -> bool:
        """Exactly: is ``curve(α, v) = 0``?"""
        coeffs = {int(e[0]): c for e, c in self.curve.subs({"y": v}).to_dict().items()}
        line = flint.fmpq_poly([coeffs.get(i, 0) for i in range(max(coeffs, default=-1) + 1)])
        return (line % flint.fmpq_poly(self.alpha.poly)).is_zero()

    def certified_sign(self, v: flint.fmpq) -> int:
        """The sign of ``curve(α, v)``, refining ``α`` until certified (0 if it is zero)."""
        for _ in range(_REFINE_LIMIT):
            sign = self.sign(v)
            if sign:
                return sign
            if self.vanishes(v):
                return 0
            self.alpha.refine()
        raise ArithmeticError("could not decide a sign on a critical line")  # pragma: no cover


class SimpleRoot:
    """The only root of ``curve(α, ·)`` in the open interval ``(lo, hi)``, a simple root on
    no other curve (its sign changes there; ``sign_lo`` is the sign at ``lo``)."""

    __slots__ = ("curve", "hi", "lo", "sign_lo")

    def __init__(self, curve: _Curve, lo: flint.fmpq, hi: flint.fmpq, sign_lo: int) -> None:
        self.curve, self.lo, self.hi, self.sign_lo = curve, lo, hi, sign_lo

    @property
    def bounds(self) -> tuple[flint.fmpq, flint.fmpq]:
        """Rationals ``lo < root < hi``."""
        return self.lo, self.hi

    def refine(self) -> None:
        """Shrink the interval to one of its thirds-or-halves with a certified sign."""
        for t in ((self.lo + self.hi) / 2, (2 * self.lo + self.hi) / 3):
            sign = self.curve.certified_sign(t)
            if sign:
                self.lo, self.hi = (t, self.hi) if sign == self.sign_lo else (self.lo, t)
                return
        raise ArithmeticError("a simple root has two rational neighbours on its curve")


def _exact_cuts(line: _Curve, cache: RootCache) -> list[flint.fmpq]:
    """Rationals around and between the real roots at the rational midpoint of ``α``'s
    interval."""
    lo, hi = line.alpha.bounds
    coeffs = {int(e[1]): c for e, c in line.curve.subs({"x": (lo + hi) / 2}).to_dict().items()}
    at = flint.fmpq_poly([coeffs.get(j, 0) for j in range(max(coeffs, default=-1) + 1)])
    near = odd_real_roots(at // at.gcd(at.derivative()), cache) if at.degree() > 0 else []
    return [rational_between(a, b) for a, b in itertools.pairwise([None, *near, None])]


def _brackets(near: list[float]) -> list[tuple[flint.fmpq, flint.fmpq]] | None:
    """Disjoint rational intervals ``r ± 1e-9 (1 + |r|)`` around increasing float guesses
    (``None`` if two overlap or a guess is not finite); a sign change certifies each."""
    if not all(np.isfinite(near)):
        return None
    out = []
    for r in near:
        delta = 1e-9 * (1 + abs(r))
        lo, hi = (flint.fmpq(*Fraction(r + e).as_integer_ratio()) for e in (-delta, delta))
        if out and out[-1][1] >= lo:
            return None
        out.append((lo, hi))
    return out


def _float_brackets(line: _Curve) -> list[tuple[flint.fmpq, flint.fmpq]] | None:
    """Brackets around float approximations of the real roots on the line (guesses only:
    :func:`simple_roots` certifies the signs there)."""
    u = ball(line.alpha)
    values = [float(c(u).mid()) for c in line.coeffs]
    roots = np.roots(values[::-1])
    return _brackets(sorted(float(r.real) for r in roots if abs(r.imag) <= 1e-9 * (1 + abs(r))))


def simple_roots(
    curve: flint.fmpq_mpoly, alpha: RealAlgebraic, count: int, cache: RootCache
) -> list[SimpleRoot] | None:
    """The ``count`` real roots of ``curve(α, v)``, increasing, when they are known to be
    simple and ``count`` in number; ``None`` if no certificate was found in ``_TRIES``
    refinements of ``α`` (the caller then uses the exact norm)."""
    if count == 0:
        return []
    line = _Curve(curve, alpha)
    guesses = _float_brackets(line)
    if guesses is not None and len(guesses) == count:
        signs = [(line.sign(a), line.sign(b)) for a, b in guesses]
        if all(a * b < 0 for a, b in signs):
            return [SimpleRoot(line, a, b, s) for (a, b), (s, _) in zip(guesses, signs)]
    for _ in range(_TRIES):
        cuts = _exact_cuts(line, cache)
        if len(cuts) == count + 1:
            signs = [line.sign(t) for t in cuts]
            if all(a * b < 0 for a, b in itertools.pairwise(signs)):
                return [SimpleRoot(line, a, b, s) for a, b, s in zip(cuts, cuts[1:], signs)]
        alpha.refine()
    return None


def _compare(a: RealAlgebraic | SimpleRoot, b: RealAlgebraic | SimpleRoot) -> int:
    """-1, 0 or 1 as ``a <, =, > b``; a :class:`SimpleRoot` equals only itself."""
    if a is b:
        return 0
    if isinstance(a, RealAlgebraic) and isinstance(b, RealAlgebraic):
        return (b < a) - (a < b)
    for _ in range(4 * _REFINE_LIMIT):
        (a_lo, a_hi), (b_lo, b_hi) = a.bounds, b.bounds
        if a_hi <= b_lo:
            return -1
        if b_hi <= a_lo:
            return 1
        (a if a_hi - a_lo >= b_hi - b_lo else b).refine()
    raise ArithmeticError("points on a critical line do not separate")  # pragma: no cover


def line_order(points: list[RealAlgebraic | SimpleRoot]) -> list[RealAlgebraic | SimpleRoot]:
    """The distinct points of a critical line, increasing."""
    return sorted(dict.fromkeys(points), key=functools.cmp_to_key(_compare))


def _sturm_count(poly: flint.fmpz_poly) -> int:
    """Distinct real roots of a squarefree polynomial over Q (Sturm's theorem)."""
    sequence = [flint.fmpq_poly(poly), flint.fmpq_poly(poly.derivative())]
    while sequence[-1].degree() > 0:
        sequence.append(-(sequence[-2] % sequence[-1]))
    lead = [1 if s.leading_coefficient() > 0 else -1 for s in sequence if not s.is_zero()]
    at_minus = [s * (-1) ** (p.degree() % 2) for s, p in zip(lead, sequence)]
    return _changes(at_minus) - _changes(lead)


def _changes(signs: list[int]) -> int:
    return sum(a != b for a, b in itertools.pairwise(signs))


def guessed_roots(factor: flint.fmpz_poly) -> list[RealAlgebraic] | None:
    """The real roots of an irreducible integer polynomial of degree at least 2, increasing,
    isolated from float guesses: rationals between them where the exact signs alternate, as
    many intervals as the Sturm count. ``None`` when the guesses do not certify."""
    count = _sturm_count(factor)
    if count == 0:
        return []
    try:
        coeffs = [float(c) for c in reversed(factor.coeffs())]
    except OverflowError:
        return None
    if not all(np.isfinite(coeffs)):
        return None
    roots = np.roots(coeffs)
    near = sorted(float(r.real) for r in roots if abs(r.imag) <= 1e-9 * (1 + abs(r)))
    brackets = _brackets(near) if len(near) == count else None
    if brackets is None or any(factor(a) * factor(b) >= 0 for a, b in brackets):
        return None
    return [RealAlgebraic(factor, i, a, b) for i, (a, b) in enumerate(brackets)]
