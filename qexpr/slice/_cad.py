"""Cylindrical decomposition of plane curves in a box: cells, samples and adjacencies.

**Decomposition.** A rational shear ``x = u + s v, y = v`` (``s`` from a seeded sequence)
makes every curve's top power of ``v`` a nonzero constant (checked; otherwise the next
``s``), so no curve has a vertical asymptote or contains a vertical line. The critical
values of ``u`` are the real roots of each curve's discriminant in ``v`` and of each pair's
resultant in ``v`` (exact :class:`~qexpr.RealAlgebraic`). Between two consecutive critical
values the curves' real roots in ``v`` are continuous, simple and never meet, so a vertical
line at a rational ``u`` between them gives every 2-D cell of the strip (a sector between
consecutive roots) and a rational sample point, whose pattern is evaluated exactly. At a
critical value ``α`` only the curves it concerns need algebra: a curve whose discriminant
does not vanish at ``α`` has simple roots there, as many as in the strip beside (its top
coefficient in ``v`` is constant); if it meets no other curve on the line either (no
pairwise resultant vanishes at ``α``), its roots are bracketed by certified ball signs
(``qexpr.slice._line``), with no arithmetic in ``Q(α)``. Otherwise a curve's real roots on
the line ``u = α`` come from the norm ``res_u(p(u), f(u, v))`` (``p`` the minimal polynomial
of ``α``), keeping the roots where interval evaluation of ``f`` (at a precision that grows
with its coefficients' bits) cannot exclude zero until their number equals the known count
or, for a curve singular at ``α``, the Sturm count of distinct real roots of ``f(α, v)``
over ``Q(α)`` (``qexpr.slice._field``); the multiple roots are those of ``gcd(f, f_v)`` over
``Q(α)``, selected the same way. At most one real root of a curve on the line may be
multiple (else the next shear): a simple root takes exactly one branch of its curve from
each side (implicit function theorem), the multiple root the rest, so branches map to roots
in order (checked by counting). Two sectors on either side of ``u = α`` are joined when
their limits on the line share an open interval free of curves.

**Restricted strips.** Given a hint (a shear and ``u``-intervals between critical values of
an earlier decomposition with that shear, see :mod:`qexpr.slice._curves`), only the strips
inside the intervals and the critical lines between two such strips are computed.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import flint

from qexpr.slice._field import Field, FieldPoly, derivative, real_root_count
from qexpr.slice._line import (
    SimpleRoot,
    ball,
    evaluate,
    guessed_roots,
    line_order,
    simple_roots,
)
from qexpr.spline._algebraic import (
    RealAlgebraic,
    RootCache,
    odd_real_roots,
    rational_between,
    working_precision,
)

_CTX = flint.fmpq_mpoly_ctx.get(("x", "y"), "lex")
_SHEAR_TRIES = 12
_REFINE_LIMIT = 400
#: Highest degree isolated from float guesses (a Sturm sequence over Q grows fast beyond).
_GUESS_DEGREE = 8

Point = tuple[Fraction, Fraction]


class _NotGeneric(Exception):
    """The shear put the curves in a position the decomposition cannot read; try another."""


def _fmpq(value: object) -> flint.fmpq:
    q = Fraction(value)
    return flint.fmpq(q.numerator, q.denominator)


def _fraction(value: flint.fmpq) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def _dense(coeffs: dict[int, flint.fmpq]) -> flint.fmpq_poly:
    return flint.fmpq_poly([coeffs.get(i, 0) for i in range(max(coeffs, default=-1) + 1)])


def _univariate(poly: flint.fmpq_mpoly, var: int) -> flint.fmpq_poly:
    """A polynomial in one of the two variables as an ``fmpq_poly``."""
    return _dense({int(exps[var]): c for exps, c in poly.to_dict().items()})


def _real_roots(poly: flint.fmpq_poly, cache: RootCache) -> list[RealAlgebraic]:
    """All distinct real roots of a nonzero polynomial, increasing."""
    if poly.degree() < 1:
        return []
    if poly.degree() == 1:
        return [RealAlgebraic.rational(-poly[0] / poly[1])]
    return odd_real_roots(poly // poly.gcd(poly.derivative()), cache)


def _select(
    poly: flint.fmpq_mpoly, alpha: RealAlgebraic, candidates: list, count: int
) -> list[RealAlgebraic]:
    """The ``count`` candidates ``γ`` with ``poly(alpha, γ) = 0`` (the others are excluded by
    interval evaluation; every candidate is a root over some conjugate of ``alpha``).

    The precision and the number of refinements grow with the bits of ``poly``'s largest
    coefficient (the gcd over ``Q(α)`` can have thousands): the evaluation cancels that many.
    """
    height = max(max(int(c.p).bit_length(), int(c.q).bit_length()) for c in poly.coeffs())
    with working_precision(max(flint.ctx.prec, 2 * height + 64)):
        for _ in range(_REFINE_LIMIT + 2 * height):
            u = ball(alpha)
            candidates = [g for g in candidates if evaluate(poly, u, ball(g)).contains(0)]
            if len(candidates) <= count:
                break
            alpha.refine()
            for g in candidates:
                g.refine()
    if len(candidates) != count:
        raise ArithmeticError("roots on a critical line do not match their count")
    return candidates


def _in_v(poly: flint.fmpq_mpoly) -> FieldPoly:
    """``poly(u, v)`` as a list of coefficients of powers of ``v`` (``fmpq_poly`` in ``u``)."""
    rows: dict[int, dict[int, flint.fmpq]] = {}
    for (i, j), c in poly.to_dict().items():
        rows.setdefault(int(j), {})[int(i)] = c
    return [_dense(rows.get(j, {})) for j in range(max(rows) + 1)]


def _from_v(f: FieldPoly) -> flint.fmpq_mpoly:
    return _CTX.from_dict(
        {(i, j): c for j, row in enumerate(f) for i, c in enumerate(row.coeffs()) if c != 0}
    )


def _line_roots(
    curve: flint.fmpq_mpoly, alpha: RealAlgebraic, cache: _Cache
) -> tuple[list[RealAlgebraic], int | None]:
    """The distinct real roots in ``v`` of ``curve(alpha, v)``, and which one is multiple,
    for a rational ``alpha`` or a curve whose discriminant vanishes at ``alpha``.

    At most one real root may be multiple (else :class:`_NotGeneric`).
    """
    if alpha.is_rational:
        line = _univariate(curve.subs({"x": _fmpq(alpha.as_fraction())}), 1)
        roots = _real_roots(line, cache)
        multiple = [r for f, m in line.factor()[1] if m > 1 for r in _real_roots(f, cache)]
    else:
        field = Field(alpha)
        f = _in_v(curve)
        g = field.gcd(f, derivative(f))
        norm = _norm_roots(curve, alpha, cache)
        roots = _select(curve, alpha, norm, real_root_count(field, f))
        count = real_root_count(field, g) if len(g) > 1 else 0
        multiple = _select(_from_v(g), alpha, list(roots), count) if count else []
    if len(multiple) > 1:
        raise _NotGeneric
    return roots, roots.index(multiple[0]) if multiple else None


class _Cache(RootCache):
    """Real roots of irreducible factors (of degree at most ``_GUESS_DEGREE`` isolated from
    float guesses where they certify, :func:`~qexpr.slice._line.guessed_roots`, else by
    :class:`RootCache`), and of the norm of
    each curve per minimal polynomial (shared by the conjugate critical values that are real)."""

    def __init__(self) -> None:
        super().__init__()
        self.norms: dict[tuple[str, tuple[int, ...]], list[RealAlgebraic]] = {}
        self.guessed: dict[tuple[int, ...], list[RealAlgebraic] | None] = {}
        self.critical: dict[tuple[str, ...], list[RealAlgebraic]] = {}

    def discriminant_roots(self, f: flint.fmpq_mpoly, key: str) -> list[RealAlgebraic]:
        """Real roots of a sheared curve's discriminant in ``v`` (cached per curve)."""
        if (key,) not in self.critical:
            self.critical[key,] = _real_roots(_univariate(f.discriminant("y"), 0), self)
        return self.critical[key,]

    def resultant_roots(
        self, f: flint.fmpq_mpoly, g: flint.fmpq_mpoly, keys: tuple[str, str]
    ) -> list[RealAlgebraic]:
        """Real roots of two sheared curves' resultant in ``v`` (cached per pair)."""
        if keys not in self.critical:
            self.critical[keys] = _real_roots(_univariate(f.resultant(g, "y"), 0), self)
        return self.critical[keys]

    def roots(self, factor: flint.fmpz_poly) -> list[RealAlgebraic]:
        if not 2 <= factor.degree() <= _GUESS_DEGREE:
            return super().roots(factor)
        key = tuple(int(c) for c in factor.coeffs())
        if key not in self.guessed:
            self.guessed[key] = guessed_roots(factor)
        found = self.guessed[key]
        return super().roots(factor) if found is None else found


def _on_line(
    index: int,
    curve: flint.fmpq_mpoly,
    alpha: RealAlgebraic,
    count: int,
    critical: _Critical,
    cache: _Cache,
) -> tuple[list[RealAlgebraic | SimpleRoot], int | None]:
    """The roots of a curve on the critical line ``u = alpha`` (see :func:`_line_roots`).

    A curve whose discriminant does not vanish at ``alpha`` has ``count`` simple roots there
    (as in the strip beside); when it meets no other curve on the line they are bracketed
    without the norm (:func:`~qexpr.slice._line.simple_roots`), else selected from it.
    """
    if alpha.is_rational or index in critical.singular.get(alpha, ()):
        return _line_roots(curve, alpha, cache)
    if index not in critical.meeting.get(alpha, ()):
        roots = simple_roots(curve, alpha, count, cache)
        if roots is not None:
            return roots, None
    return _select(curve, alpha, _norm_roots(curve, alpha, cache), count), None


def _norm_roots(curve: flint.fmpq_mpoly, alpha: RealAlgebraic, cache: _Cache) -> list:
    """Real roots in ``v`` of ``res_u(p(u), curve(u, v))``: candidates for every conjugate."""
    key = (str(curve), tuple(int(c) for c in alpha.poly.coeffs()))
    if key not in cache.norms:
        p = _CTX.from_dict({(i, 0): int(c) for i, c in enumerate(alpha.poly.coeffs())})
        cache.norms[key] = _real_roots(_univariate(p.resultant(curve, "x"), 1), cache)
    return cache.norms[key]


@dataclass(frozen=True)
class _Critical:
    """Critical values of ``u``, increasing, and for each the curves it concerns.

    ``singular[α]``: curves whose discriminant in ``v`` vanishes at ``α`` (a multiple root on
    the line); ``meeting[α]``: curves sharing a root with another curve on the line (the
    pair's resultant vanishes). Every other curve has only simple roots on ``u = α``, none of
    them on another curve.
    """

    values: list[RealAlgebraic]
    singular: dict[RealAlgebraic, set[int]]
    meeting: dict[RealAlgebraic, set[int]]


def _critical_values(curves: list[flint.fmpq_mpoly], cache: _Cache) -> _Critical:
    """Real roots of every discriminant and pairwise resultant in ``v`` (the sheared curves'
    strings key the cache, so the decompositions of one call share them)."""
    singular: dict[RealAlgebraic, set[int]] = {}
    meeting: dict[RealAlgebraic, set[int]] = {}
    keys = [str(f) for f in curves]
    for i, f in enumerate(curves):
        if f.degrees()[1] >= 2:
            for alpha in cache.discriminant_roots(f, keys[i]):
                singular.setdefault(alpha, set()).add(i)
    for (i, f), (j, g) in itertools.combinations(enumerate(curves), 2):
        pair = (keys[i], keys[j]) if keys[i] < keys[j] else (keys[j], keys[i])
        for alpha in cache.resultant_roots(f, g, pair):
            meeting.setdefault(alpha, set()).update((i, j))
    return _Critical(sorted({*singular, *meeting}), singular, meeting)


@dataclass(frozen=True)
class _Strip:
    """The sectors of a vertical strip: cell ids (``None`` outside the box) between branches.

    ``branches[k] = (curve, rank)``: the k-th root from below is the rank-th root of a curve.
    """

    branches: tuple[tuple[int, int], ...]
    cells: tuple[int | None, ...]
    counts: tuple[int, ...]


def _strip(
    curves: list[flint.fmpq_mpoly],
    u: flint.fmpq,
    shear: Fraction,
    box: tuple,
    samples: list,
    cache: _Cache,
) -> _Strip:
    branches = []
    for index, curve in enumerate(curves):
        roots = _real_roots(_univariate(curve.subs({"x": u}), 1), cache)
        branches += [(root, index, rank) for rank, root in enumerate(roots)]
    branches.sort(key=lambda b: b[0])
    values = [None, *(b[0] for b in branches), None]
    cells = []
    for below, above in itertools.pairwise(values):
        v = _fraction(rational_between(below, above))
        x, y = _fraction(u) + shear * v, v
        inside = box[0] < x < box[1] and box[2] < y < box[3]
        cells.append(len(samples) if inside else None)
        if inside:
            samples.append((x, y))
    counts = [0] * len(curves)
    for _, index, _ in branches:
        counts[index] += 1
    return _Strip(tuple((i, r) for _, i, r in branches), tuple(cells), tuple(counts))


def _limits(strip: _Strip, line: list[tuple[list, int | None]], index: dict) -> list[int]:
    """For each branch of the strip, the index of its limit point on the critical line.

    A simple root takes exactly one branch of its curve from each side; the multiple root (at
    most one) takes the rest, so the branches map in order.
    """
    out = []
    for curve, rank in strip.branches:
        roots, multiple = line[curve]
        extra = strip.counts[curve] - len(roots) + (multiple is not None)
        if extra < 0 or (multiple is None and extra != 0):
            raise _NotGeneric
        if multiple is None or rank < multiple:
            k = rank
        else:
            k = multiple if rank < multiple + extra else rank - extra + 1
        out.append(index[roots[k]])
    return out


def _touching(strip: _Strip, limits: list[int], points: int) -> Iterator[tuple[int, int]]:
    """``(interval, cell)``: open intervals of the critical line each inside cell touches."""
    bounds = [-1, *limits, points]
    for k, cell in enumerate(strip.cells):
        if cell is not None:
            for interval in range(bounds[k] + 1, bounds[k + 1] + 1):
                yield interval, cell


def _join_across(
    alpha: RealAlgebraic,
    left: _Strip,
    right: _Strip,
    curves: list,
    critical: _Critical,
    cache: _Cache,
) -> list[tuple[int, int]]:
    """Pairs of cells on either side of ``u = alpha`` sharing an interval free of curves."""
    line = [_on_line(i, f, alpha, left.counts[i], critical, cache) for i, f in enumerate(curves)]
    points = line_order([root for roots, _ in line for root in roots])
    index = {root: k for k, root in enumerate(points)}
    by_interval: dict[int, list[int]] = {}
    for strip in (left, right):
        for interval, cell in _touching(strip, _limits(strip, line, index), len(points)):
            by_interval.setdefault(interval, []).append(cell)
    return [(cells[0], c) for cells in by_interval.values() for c in cells[1:]]


@dataclass(frozen=True)
class _Decomposition:
    """The sectors (rational samples) of the strips computed and their adjacencies.

    ``strip_of[i]`` is the index in ``bounds`` (the critical values on either side) of the
    strip of sample ``i``; ``shear`` is the ``s`` used.
    """

    samples: tuple[Point, ...]
    neighbours: tuple[tuple[int, int], ...]
    joined: tuple[tuple[int, int], ...]
    strip_of: tuple[int, ...]
    bounds: tuple[tuple[RealAlgebraic, RealAlgebraic], ...]
    shear: Fraction


@dataclass(frozen=True)
class _Hint:
    """Where a prefix's cells lie in the decomposition that found them: its shear and the
    disjoint open ``u``-intervals, increasing, made of the strips that hold such a cell."""

    shear: Fraction
    intervals: tuple[tuple[RealAlgebraic, RealAlgebraic], ...]

    def covers(self, u: flint.fmpq) -> bool:
        """Whether the rational ``u`` (never a critical value) lies in one of the intervals."""
        point = RealAlgebraic.rational(u)
        k = bisect.bisect_right([a for a, _ in self.intervals], point) - 1
        return k >= 0 and point < self.intervals[k][1]


def _decompose(
    curves: list[flint.fmpq_mpoly], box: tuple, shear: Fraction, cache: _Cache, within: _Hint | None
) -> _Decomposition:
    """Sectors and adjacencies of the strips inside ``within`` (all strips if ``None``);
    :class:`_NotGeneric` if unreadable."""
    x, y = _CTX.gens()
    s = _fmpq(shear)
    sheared = [f.compose(x + s * y, y) for f in curves]
    if any(f.degrees()[1] != f.total_degree() for f in sheared):
        raise _NotGeneric
    corners = [box[i] - shear * box[j] for i in (0, 1) for j in (2, 3)]
    lo, hi = (RealAlgebraic.rational(c) for c in (min(corners), max(corners)))
    found = _critical_values(sheared, cache)
    critical = [a for a in found.values if not (a < lo or hi < a)]
    samples: list[Point] = []
    strips: list[_Strip | None] = []
    strip_of: list[int] = []
    for a, b in itertools.pairwise(critical):
        u = rational_between(a, b)
        strip = None
        if within is None or within.covers(u):
            strip = _strip(sheared, u, shear, box, samples, cache)
            strip_of += [len(strips)] * (len(samples) - len(strip_of))
        strips.append(strip)
    joined = [
        pair
        for alpha, left, right in zip(critical[1:-1], strips, strips[1:])
        if left is not None and right is not None
        for pair in _join_across(alpha, left, right, sheared, found, cache)
    ]
    neighbours = [
        (a, b)
        for strip in strips
        if strip is not None
        for a, b in itertools.pairwise(strip.cells)
        if a is not None and b is not None
    ]
    return _Decomposition(
        tuple(samples),
        tuple(neighbours),
        tuple(joined),
        tuple(strip_of),
        tuple(itertools.pairwise(critical)),
        shear,
    )


def _shears(seed: int) -> Iterator[Fraction]:
    rng = random.Random(seed)
    for _ in range(_SHEAR_TRIES):
        yield Fraction(rng.choice((-1, 1)) * rng.randint(1, 12), rng.randint(1, 12))


def _decompose_generic(
    curves: list, box: tuple, seed: int, cache: _Cache, hint: _Hint | None
) -> _Decomposition:
    """The decomposition with the hint's shear inside its intervals, else (that shear not
    generic for these curves, or no hint) over the whole box with the seeded shears."""
    if hint is not None:
        try:
            return _decompose(curves, box, hint.shear, cache, hint)
        except _NotGeneric:
            pass
    for shear in _shears(seed):
        try:
            return _decompose(curves, box, shear, cache, None)
        except _NotGeneric:
            continue
    raise ArithmeticError(f"no generic shear found in {_SHEAR_TRIES} tries")  # pragma: no cover
