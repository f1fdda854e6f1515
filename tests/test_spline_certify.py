"""The hybrid engine's exact sign tests against root isolation (an independent method)."""

from __future__ import annotations

from fractions import Fraction

import flint
from hypothesis import assume, given
from hypothesis import strategies as st

from qexpr.spline._algebraic import RealAlgebraic, RootCache, _primitive
from qexpr.spline._certify import _Quadratic, constant_sign

small = st.builds(Fraction, st.integers(-6, 6), st.integers(1, 3))
ends = st.one_of(st.none(), small)


def _q(value: Fraction) -> flint.fmpq:
    return flint.fmpq(value.numerator, value.denominator)


def _root_inside(z: flint.fmpq_poly, lo, hi) -> bool:
    """Whether ``z`` has a real root (any multiplicity) in [lo, hi], by root isolation."""
    cache = RootCache()
    _, factors = z.factor()
    a = None if lo is None else RealAlgebraic.rational(lo)
    b = None if hi is None else RealAlgebraic.rational(hi)
    return any(
        (a is None or not root < a) and (b is None or not b < root)
        for factor, _ in factors
        for root in cache.roots(_primitive(factor))
    )


def _sign_at_a_point(z: flint.fmpq_poly, lo, hi) -> int:
    point = lo if lo is not None else hi if hi is not None else Fraction(0)
    value = z(_q(point))
    return (value > 0) - (value < 0)


@given(st.lists(small, min_size=1, max_size=5), ends, ends)
def test_constant_sign_is_sound(coeffs, lo, hi):
    assume(lo is None or hi is None or lo < hi)
    z = flint.fmpq_poly([_q(c) for c in coeffs])
    assume(not z.is_zero())
    sign = constant_sign(z, *(None if e is None else _q(e) for e in (lo, hi)))
    if sign is not None:  # proved: no root there, and that sign everywhere
        assert not _root_inside(z, lo, hi)
        assert sign == _sign_at_a_point(z, lo, hi)


@given(small, small, small.filter(bool), ends, ends)
def test_quadratic_shape_decides_exactly(a, b, c, lo, hi):
    assume(lo is None or hi is None or lo < hi)
    z = flint.fmpq_poly([_q(a), _q(b), _q(c)])
    sign = _Quadratic.of(z).sign(*(None if e is None else _q(e) for e in (lo, hi)))
    assert (sign is None) == _root_inside(z, lo, hi)
    if sign is not None:
        assert sign == _sign_at_a_point(z, lo, hi)
