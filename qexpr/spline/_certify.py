"""The hybrid engine: float cells, every decision certified in exact arithmetic.

The float engine proposes breakpoints ``x_1 < … < x_m``. Around each we put a rational
*transition* ``I_i = [x_i - δ_i, x_i + δ_i]`` (``δ_i`` a quarter of the distance to the nearest
neighbour or domain end); between them lie the closed *cores* ``J_0, …, J_m`` (rational or
infinite ends). Each pre-activation polynomial is rebuilt exactly (``flint.fmpq_poly``) from
the weights as stored (a float64 is a rational, so "certified" means true for the network
as stored), and a decision is *certified* only by these exact tests:

* **no root** on a closed interval: the polynomial is nonzero at its finite ends and its
  Descartes transform (the Möbius map of the open interval onto (0, ∞)) has no sign
  variation — Descartes' rule of signs then proves there is no root;
* **one simple root** in a transition: nonzero ends and exactly one sign variation (the
  rule proves exactly one root, counted with multiplicity).

A core is certified when, layer by layer, every ReLU pre-activation (built with the states
already certified on the core) is identically zero (inactive) or has no root on the core;
its state (active where > 0, read exactly at a rational point) is then constant on the core,
so the next layer's polynomials hold on the whole core. A transition between two certified
cores is certified when their patterns differ in exactly one neuron, whose polynomial has
one simple root in the transition, and every other ReLU pre-activation, built with the
left and with the right state of that neuron, has no root there (the breakpoint is that
root, an exact :class:`RealAlgebraic`); or when the patterns agree and no pre-activation has
a root there (the float engine proposed a cut that does not exist).

Everything else — a proposal in the wrong place, two neurons switching at one point, a
tangent (even) root, roots closer than the float engine could tell apart, a float run that
failed — is *uncertain* and is re-solved by the exact engine on the union of the uncertain
stretches (cores and transitions) around it; the ends of that union are ends of certified
cores, where no pre-activation vanishes. The answer is therefore exact everywhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np

from qexpr._network import Network
from qexpr._progress import Progress, tracked
from qexpr.spline._algebraic import RealAlgebraic, RootCache, _primitive, descartes_bound
from qexpr.spline._exact import ExactCell, exact_cells, exact_weights, layer_polys
from qexpr.spline._first_layer import first_layer_cells, only_first_layer_relu
from qexpr.spline._float import float_cells
from qexpr.spline._linear import is_piecewise_linear, linear_cells

__all__ = ["hybrid_cells", "proposed_breakpoints"]

Poly = flint.fmpq_poly
#: A stretch end: a rational (flint) or None for -∞/+∞.
End = flint.fmpq | None
_ZERO = flint.fmpq_poly([])
_X = flint.fmpq_poly([0, 1])


def _q(value: Fraction) -> flint.fmpq:
    return flint.fmpq(value.numerator, value.denominator)


def _fraction(value: End) -> Fraction | None:
    return None if value is None else Fraction(int(value.p), int(value.q))


def _sign(value: flint.fmpq) -> int:
    return (value > 0) - (value < 0)


def _nonzero_ends(z: Poly, lo: End, hi: End) -> bool:
    return all(z(e) != 0 for e in (lo, hi) if e is not None)


def constant_sign(z: Poly, lo: End, hi: End) -> int | None:
    """The sign of ``z`` on the closed interval ``[lo, hi]`` when it is proved constant.

    0 for the zero polynomial, ±1 when ``z`` provably has no root there, ``None`` when no
    proof was found (there may or may not be a root).
    """
    if z.degree() < 2:
        return _affine_sign(_affine_root(z), lo, hi)
    if lo is None and hi is None:
        middle: End = flint.fmpq(0)
        pieces = [(None, middle), (middle, None)]
    else:
        pieces = [(lo, hi)]
    for a, b in pieces:
        if not _nonzero_ends(z, a, b) or descartes_bound(z, a, b) != 0:
            return None
    point = next((e for e in (lo, hi) if e is not None), flint.fmpq(0))
    return _sign(z(point))


#: An affine ``z = a + b x`` as (root -a/b or None for a constant, sign of b or of a).
AffineRoot = tuple[flint.fmpq | None, int]


def _affine_root(z: Poly) -> AffineRoot:
    coeffs = z.coeffs()
    if len(coeffs) < 2:
        return None, _sign(coeffs[0]) if coeffs else 0
    a, b = coeffs
    return -a / b, _sign(b)


def _affine_sign(affine: AffineRoot, lo: End, hi: End) -> int | None:
    """:func:`constant_sign` of an affine polynomial given its root (the sign of b is the
    sign to the right of the root)."""
    root, sign = affine
    if root is None:
        return sign
    if lo is not None and root < lo:
        return sign
    if hi is not None and root > hi:
        return -sign
    return None


@dataclass(frozen=True)
class _Quadratic:
    """``z = a + b x + c x²`` (c ≠ 0): sign of c, its vertex ``-b / 2c``, sign of b² - 4ac."""

    poly: Poly
    lead: int
    vertex: flint.fmpq
    discriminant: int

    @classmethod
    def of(cls, z: Poly) -> _Quadratic:
        a, b, c = z.coeffs()
        return cls(z, _sign(c), -b / (2 * c), _sign(b * b - 4 * a * c))

    def sign(self, lo: End, hi: End) -> int | None:
        """:func:`constant_sign` on ``[lo, hi]``, exactly, from the shape of the parabola.

        Both ends of one sign and between the roots: no root (the roots bound an interval).
        Both outside the roots: no root unless the interval holds the vertex (it would then
        straddle both roots).
        """
        if self.discriminant < 0:
            return self.lead
        holds_vertex = (lo is None or lo <= self.vertex) and (hi is None or self.vertex <= hi)
        if self.discriminant == 0:
            return None if holds_vertex else self.lead
        left, right = (self.lead if e is None else _sign(self.poly(e)) for e in (lo, hi))
        if left != right or left == 0:
            return None
        return None if left == self.lead and holds_vertex else left


def _shape(z: Poly) -> AffineRoot | _Quadratic | None:
    """What :meth:`_Walker.signs` memoises: roots of affine, shapes of quadratic polynomials."""
    degree = z.degree()
    return _affine_root(z) if degree < 2 else _Quadratic.of(z) if degree == 2 else None


def _shape_sign(z: Poly, shape: AffineRoot | _Quadratic | None, lo: End, hi: End) -> int | None:
    if shape is None:
        return constant_sign(z, lo, hi)
    if isinstance(shape, _Quadratic):
        return shape.sign(lo, hi)
    return _affine_sign(shape, lo, hi)


def _one_simple_root(z: Poly, lo: flint.fmpq, hi: flint.fmpq) -> bool:
    return not z.is_zero() and _nonzero_ends(z, lo, hi) and descartes_bound(z, lo, hi) == 1


@dataclass(frozen=True)
class _Core:
    """A certified core: ReLU states per layer (``()`` for other layers) and the outputs."""

    states: tuple[tuple[bool, ...], ...]
    outputs: tuple[Poly, ...]

    @property
    def pattern(self) -> tuple[bool, ...]:
        return tuple(itertools.chain.from_iterable(self.states))


class _Walker:
    """Exact pre-activations of a network, layer by layer, on an interval."""

    def __init__(self, net: Network) -> None:
        self.layers = net.layers
        self.weights = [exact_weights(layer) for layer in net.layers]
        self._memo: dict[tuple[tuple[bool, ...], ...], list[Poly]] = {}
        self._shapes: dict[tuple[tuple[bool, ...], ...], list] = {}

    def polys(self, states: tuple[tuple[bool, ...], ...]) -> list[Poly]:
        """Pre-activations of layer ``len(states)`` given the states of the layers before it
        (memoised: neighbouring stretches share most of their states)."""
        if states not in self._memo:
            k = len(states)
            h = [_X] if k == 0 else self._next(k - 1, self.polys(states[:-1]), states[-1])
            self._memo[states] = layer_polys(self.layers[k], self.weights[k], h)
        return self._memo[states]

    def signs(self, states: tuple[tuple[bool, ...], ...], lo: End, hi: End) -> list[int | None]:
        """:func:`constant_sign` of each pre-activation of layer ``len(states)``; the roots of
        affine and the shapes of quadratic ones are computed once per ``states`` (memoised),
        then only compared."""
        if states not in self._shapes:
            self._shapes[states] = [_shape(z) for z in self.polys(states)]
        return [
            _shape_sign(z, shape, lo, hi)
            for z, shape in zip(self.polys(states), self._shapes[states])
        ]

    def outputs(self, states: tuple[tuple[bool, ...], ...]) -> tuple[Poly, ...]:
        """The network's outputs given the states of every layer."""
        k = len(states) - 1
        return tuple(self._next(k, self.polys(states[:-1]), states[-1]))

    def _next(self, k: int, zs: list[Poly], states: Sequence[bool]) -> list[Poly]:
        activation = self.layers[k].activation
        if activation == "relu":
            return [z if on else _ZERO for z, on in zip(zs, states)]
        if activation == "square":
            return [z * z for z in zs]
        return zs

    def core(self, lo: End, hi: End) -> _Core | None:
        """Certify the states of every ReLU neuron on ``[lo, hi]``, or ``None``."""
        states: tuple[tuple[bool, ...], ...] = ()
        for layer in self.layers:
            here: tuple[bool, ...] = ()
            if layer.activation == "relu":
                signs = self.signs(states, lo, hi)
                if None in signs:
                    return None
                here = tuple(sign > 0 for sign in signs)
            states += (here,)
        return _Core(states, self.outputs(states))

    def transition(self, lo: flint.fmpq, hi: flint.fmpq, left: _Core, right: _Core) -> Poly | None:
        """Certify a transition between two certified cores.

        Returns the polynomial whose one simple root in ``(lo, hi)`` is the only switch, the
        zero polynomial when nothing switches, or ``None`` when neither is proved.
        """
        switched = [
            (k, j)
            for k, (a, b) in enumerate(zip(left.states, right.states))
            for j in range(len(a))
            if a[j] != b[j]
        ]
        if len(switched) > 1:
            return None
        for k, layer in enumerate(self.layers):
            if layer.activation != "relu":
                continue
            for side in {left.states[:k], right.states[:k]}:
                for j, sign in enumerate(self.signs(side, lo, hi)):
                    if (k, j) in switched:
                        continue
                    if sign is None or (sign > 0) != left.states[k][j]:
                        return None
        if not switched:
            return _ZERO
        k, j = switched[0]
        root_poly = self.polys(left.states[:k])[j]
        return root_poly if _one_simple_root(root_poly, lo, hi) else None


def root_in(z: Poly, lo: flint.fmpq, hi: flint.fmpq, cache: RootCache) -> RealAlgebraic:
    """The one root of ``z`` in ``(lo, hi)`` (proved simple and unique) as a RealAlgebraic."""
    a, b = RealAlgebraic.rational(lo), RealAlgebraic.rational(hi)
    _, factors = z.factor()
    for factor, multiplicity in factors:
        if multiplicity % 2 == 1 and _sign(factor(lo)) != _sign(factor(hi)):
            return next(r for r in cache.roots(_primitive(factor)) if a < r < b)
    raise ArithmeticError(f"no sign change of {z} in [{lo}, {hi}]")  # pragma: no cover


def proposed_breakpoints(net: Network, domain: tuple[Fraction, Fraction] | None) -> list[Fraction]:
    """The float engine's cell boundaries inside the domain, as exact rationals, increasing.

    A float run that fails (overflow, a non-finite value) proposes nothing; the exact
    engine then solves the whole domain.
    """
    float_domain = None if domain is None else (float(domain[0]), float(domain[1]))
    try:
        with np.errstate(all="ignore"):
            if is_piecewise_linear(net):
                cells = linear_cells(net, float_domain)[0]
            else:
                cells = float_cells(net, float_domain)
    except (np.linalg.LinAlgError, ArithmeticError, ValueError):
        return []
    ends = cells.right[:-1]
    points = sorted({Fraction(float(x)) for x in ends[np.isfinite(ends)]})
    if domain is not None:
        points = [x for x in points if domain[0] < x < domain[1]]
    return points


def _transitions(
    points: list[Fraction], domain: tuple[Fraction, Fraction] | None
) -> list[tuple[flint.fmpq, flint.fmpq]]:
    """``[x - δ, x + δ]`` around each proposal, δ a quarter of the nearest gap (disjoint)."""
    fences = [None, *points, None] if domain is None else [domain[0], *points, domain[1]]
    result = []
    for before, x, after in zip(fences, fences[1:], fences[2:]):
        gaps = [x - before] if before is not None else []
        gaps += [after - x] if after is not None else []
        delta = min(gaps) / 4 if gaps else max(Fraction(1), abs(x)) / 4
        result.append((_q(x - delta), _q(x + delta)))
    return result


@dataclass(frozen=True)
class HybridCells:
    """The hybrid engine's cells and how many of them the exact engine re-solved."""

    cells: list[ExactCell]
    exact_cells: int


def _merge(segments: list[ExactCell]) -> list[ExactCell]:
    """Join neighbours with equal patterns (a certified core next to a re-solved stretch)."""
    merged = [segments[0]]
    for seg in segments[1:]:
        last = merged[-1]
        if seg.pattern == last.pattern:
            merged[-1] = ExactCell(last.left, seg.right, last.outputs, last.pattern)
        else:
            merged.append(seg)
    return merged


def _algebraic(end: End) -> RealAlgebraic | None:
    return None if end is None else RealAlgebraic.rational(end)


def hybrid_cells(
    net: Network,
    domain: tuple[Fraction, Fraction] | None = None,
    *,
    progress: Progress | None = None,
) -> HybridCells:
    """The cells of a one-input network, certified or re-solved exactly (module docstring).

    Parameters and result are those of :func:`~qexpr.spline._exact.exact_cells`, plus the
    count of cells the exact engine produced; ``progress`` is called after each core and
    each transition is certified (``progress(stage, done, total)``). A network whose only
    ReLU layer is the first is solved exactly without the float engine
    (:mod:`qexpr.spline._first_layer`; ``progress`` as each neuron's roots are isolated).
    """
    if only_first_layer_relu(net):
        return HybridCells(first_layer_cells(net, domain, progress=progress), 0)
    bounds: tuple[End, End] = (None, None) if domain is None else (_q(domain[0]), _q(domain[1]))
    transitions = _transitions(proposed_breakpoints(net, domain), domain)
    fences = [bounds[0], *itertools.chain.from_iterable(transitions), bounds[1]]
    cores = list(zip(fences[::2], fences[1::2]))
    walker = _Walker(net)
    core_results = [walker.core(lo, hi) for lo, hi in tracked(cores, progress, "certify cells")]
    splits: list[Poly | None] = [
        walker.transition(lo, hi, left, right) if left is not None and right is not None else None
        for (lo, hi), left, right in zip(
            tracked(transitions, progress, "certify breakpoints"), core_results, core_results[1:]
        )
    ]
    cache = RootCache()
    segments: list[ExactCell] = []
    resolved = 0
    # Stretches alternate: core 0, transition 0, core 1, …; a run of uncertain ones is solved
    # exactly as one interval.
    stretches: list[tuple[End, End, object]] = []
    for i, (lo, hi) in enumerate(cores):
        stretches.append((lo, hi, core_results[i]))
        if i < len(transitions):
            stretches.append((*transitions[i], splits[i]))
    for uncertain, group in itertools.groupby(enumerate(stretches), key=lambda s: s[1][2] is None):
        run = list(group)
        if uncertain:
            lo, hi = run[0][1][0], run[-1][1][1]
            solved = exact_cells(net, (_fraction(lo), _fraction(hi)), cache)
            resolved += len(solved)
            segments += solved
            continue
        for index, (lo, hi, result) in run:
            segments += _certified_segments(index, lo, hi, result, stretches, cache)
    return HybridCells(_merge(segments), resolved)


def _certified_segments(
    index: int, lo: End, hi: End, result: object, stretches: list, cache: RootCache
) -> list[ExactCell]:
    """Cells of one certified stretch (a core, or a transition between certified cores)."""
    if isinstance(result, _Core):
        return [ExactCell(_algebraic(lo), _algebraic(hi), result.outputs, result.pattern)]
    left, right = stretches[index - 1][2], stretches[index + 1][2]
    if result.is_zero():
        return [ExactCell(_algebraic(lo), _algebraic(hi), left.outputs, left.pattern)]
    root = root_in(result, lo, hi, cache)
    return [
        ExactCell(_algebraic(lo), root, left.outputs, left.pattern),
        ExactCell(root, _algebraic(hi), right.outputs, right.pattern),
    ]
