"""Simple roots of a boundary curve on a critical line ``u = α``, without ``Q(α)`` arithmetic.

On a critical line most curves are not involved: their discriminant and their resultants
with the other curves do not vanish at ``α``, so their roots on the line are simple and lie
on no other curve, and (the top coefficient in ``v`` being constant) they have as many real
roots as in the strips on either side. Such roots need no norm: for the known count ``c``
it suffices to find rationals ``t_0 < … < t_c`` where ``curve(α, t)`` has certified signs
(ball evaluation at ``α``'s isolating interval) that alternate: each interval
``(t_{i-1}, t_i)`` holds at least one root (intermediate value theorem), ``c`` of them hold
``c`` roots, so each holds exactly one and there are no others. The ``t_i`` are read off the
roots at a rational ``u`` inside ``α``'s interval, refined until the signs are certified.

A :class:`SimpleRoot` is refined by bisection the same way, and :func:`line_order` sorts
such roots with exact :class:`~qexpr.RealAlgebraic` ones by refining intervals until they
separate (they always do: a simple root lies on no other curve).
"""

from __future__ import annotations

import functools
import itertools

import flint

from qexpr.spline._algebraic import RealAlgebraic, RootCache, odd_real_roots, rational_between

__all__ = ["SimpleRoot", "ball", "evaluate", "line_order", "simple_roots"]

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


def _sign(curve: flint.fmpq_mpoly, alpha: RealAlgebraic, v: flint.fmpq) -> int:
    """The sign of ``curve(α, v)`` if the current interval of ``α`` certifies it, else 0."""
    value = evaluate(curve, ball(alpha), flint.arb(v))
    return 1 if value > 0 else -1 if value < 0 else 0


class SimpleRoot:
    """The only root of ``curve(α, ·)`` in the open interval ``(lo, hi)``, a simple root on
    no other curve (its sign changes there; ``sign_lo`` is the sign at ``lo``)."""

    __slots__ = ("alpha", "curve", "hi", "lo", "sign_lo")

    def __init__(
        self,
        curve: flint.fmpq_mpoly,
        alpha: RealAlgebraic,
        lo: flint.fmpq,
        hi: flint.fmpq,
        sign_lo: int,
    ) -> None:
        self.curve, self.alpha, self.lo, self.hi, self.sign_lo = curve, alpha, lo, hi, sign_lo

    @property
    def bounds(self) -> tuple[flint.fmpq, flint.fmpq]:
        """Rationals ``lo < root < hi``."""
        return self.lo, self.hi

    def refine(self) -> None:
        """Shrink the interval to one of its thirds-or-halves with a certified sign."""
        for t in ((self.lo + self.hi) / 2, (2 * self.lo + self.hi) / 3):
            if _vanishes(self.curve, self.alpha, t):
                continue
            sign = _certified_sign(self.curve, self.alpha, t)
            if sign == self.sign_lo:
                self.lo = t
            else:
                self.hi = t
            return
        raise ArithmeticError("a simple root has two rational neighbours on its curve")


def _vanishes(curve: flint.fmpq_mpoly, alpha: RealAlgebraic, v: flint.fmpq) -> bool:
    """Exactly: is ``curve(α, v) = 0``?"""
    coeffs = {int(e[0]): c for e, c in curve.subs({"y": v}).to_dict().items()}
    line = flint.fmpq_poly([coeffs.get(i, 0) for i in range(max(coeffs, default=-1) + 1)])
    return (line % flint.fmpq_poly(alpha.poly)).is_zero()


def _certified_sign(curve: flint.fmpq_mpoly, alpha: RealAlgebraic, v: flint.fmpq) -> int:
    """The sign of a nonzero ``curve(α, v)``, refining ``α`` until it is certified."""
    for _ in range(_REFINE_LIMIT):
        sign = _sign(curve, alpha, v)
        if sign:
            return sign
        alpha.refine()
    raise ArithmeticError("could not decide a sign on a critical line")  # pragma: no cover


def _roots_at(curve: flint.fmpq_mpoly, u: flint.fmpq, cache: RootCache) -> list[RealAlgebraic]:
    coeffs = {int(e[1]): c for e, c in curve.subs({"x": u}).to_dict().items()}
    line = flint.fmpq_poly([coeffs.get(j, 0) for j in range(max(coeffs, default=-1) + 1)])
    if line.degree() < 1:
        return []
    return odd_real_roots(line // line.gcd(line.derivative()), cache)


def simple_roots(
    curve: flint.fmpq_mpoly, alpha: RealAlgebraic, count: int, cache: RootCache
) -> list[SimpleRoot] | None:
    """The ``count`` real roots of ``curve(α, v)``, increasing, when they are known to be
    simple and ``count`` in number; ``None`` if no certificate was found in ``_TRIES``
    refinements of ``α`` (the caller then uses the exact norm)."""
    if count == 0:
        return []
    for _ in range(_TRIES):
        lo, hi = alpha.bounds
        near = _roots_at(curve, (lo + hi) / 2, cache)
        if len(near) == count:
            cuts = [rational_between(a, b) for a, b in itertools.pairwise([None, *near, None])]
            signs = [_sign(curve, alpha, t) for t in cuts]
            if all(a * b < 0 for a, b in itertools.pairwise(signs)):
                return [SimpleRoot(curve, alpha, a, b, s) for a, b, s in zip(cuts, cuts[1:], signs)]
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
