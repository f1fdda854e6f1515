"""Exact region maps on 2-D slices for every neuron type: a cylindrical decomposition.

A region is a connected component of constant activation pattern inside the box; two cells
with the same pattern on either side of a curve along which no neuron changes state (a
neuron touching zero, as at a tangent root in the 1-D engine) belong to one region, while
regions touching in a single point stay separate.

**Curves.** Going layer by layer, every ReLU neuron's pre-activation is, for each activation
pattern of the earlier layers that occurs on a 2-D cell, a polynomial in the plane
coordinates ``(x, y)`` with rational coefficients (python-flint ``fmpq_mpoly``); its
irreducible factors are curves. Scope: any depth and degree.

**One decomposition per prefix.** At ReLU layer ``ℓ`` and for each occurring pattern ``π``
of the layers before it (a *prefix*), the curves of ``π`` are the factors of layer ``k``'s
pre-activations for ``π``'s part before layer ``k``, for every ``k ≤ ℓ``, with the four box
edges. They are decomposed (``qexpr.slice._cad``) and only the cells whose sample has prefix
``π`` are kept; kept cells of equal pattern are joined through the decomposition's
adjacencies. This is exact: (i) on a connected open set ``U`` free of ``π``'s curves the
points of prefix ``π`` form an open and closed subset of ``U`` (layer by layer, the
pre-activations that decide the next states are nonzero on ``U``), so a cell has prefix
``π`` everywhere or nowhere and its full pattern is then constant; (ii) at a boundary point
of the set ``S_π`` of prefix ``π``, take the first layer where the two sides differ: the
states before it agree with ``π``, so the point lies on a curve of ``π``; hence each region
(a connected set of constant pattern, so inside ``S_π`` for its prefix) is a union of kept
cells chained by adjacencies with equal patterns, and conversely. The regions are the union
over the prefixes of these components, read off the last ReLU layer.

**Restricted strips.** The prefix ``π`` was found by the previous layer's decomposition
``D'`` for ``π``'s own prefix. With ``D'``'s shear, ``π``'s curves contain ``D'``'s, so
every critical value of ``D'`` is one of the new decomposition's; a new cell lies in one
new strip, hence in one strip of ``D'``, and (connected, free of ``D'``'s curves) in one
sector of it, whose prefix is then ``π``. So only the new strips inside the strips of
``D'`` holding a ``π``-cell can hold one: the other strips, and the critical lines beside
them, are skipped. If that shear is not generic for the new curves, the seeded shears are
tried over the whole box. The discriminants' and pairwise resultants' real roots (keyed by
the sheared curves) and the root isolations and norms are shared by the decompositions of
one call.

**Work limit.** Before a ReLU layer's decompositions start (its prefixes and their curves
are known then) the work is estimated: the sum over the prefixes of ``estimated_work`` (a
Bézout bound on the critical values times the branches per vertical line); beyond
``max_work`` a :class:`~qexpr.QexprValueError` names the layer and the estimate and points
to the grid.

The decompositions themselves are in :mod:`qexpr.slice._cad`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import flint
import numpy as np

from qexpr._errors import QexprValueError
from qexpr._network import Network
from qexpr.slice._cad import (
    _CTX,
    Point,
    _Cache,
    _decompose_generic,
    _Decomposition,
    _fmpq,
    _Hint,
)
from qexpr.slice._plane import check_box, plane_network
from qexpr.spline._algebraic import working_precision

__all__ = ["MAX_WORK", "RegionMap", "estimated_work", "exact_regions"]

#: Default limit of a ReLU layer's summed ``estimated_work`` (at most about 10 minutes at
#: the slowest rate measured, three quadratic layers; see docs/slices.md).
MAX_WORK = 600_000
_PRECISION = 1024


@dataclass(frozen=True)
class RegionMap:
    """Exact activation regions of a network on a box of a plane (certified).

    ``samples[i]`` is a rational point of region ``i`` and ``patterns[i]`` its activation
    pattern (all ReLU neurons in layer order, exact); ``curves`` are the boundary curves in
    plane coordinates (irreducible ``fmpq_mpoly`` in ``x, y``, box edges excluded);
    ``cells`` the number of 2-D cells (sectors) computed by the decompositions of the last
    ReLU layer, all prefixes together (kept or not); ``shears`` the shears ``s`` those
    decompositions used, in order of first use.
    """

    method: ClassVar[str] = "exact"
    certified: ClassVar[bool] = True
    box: tuple[Fraction, Fraction, Fraction, Fraction]
    samples: tuple[tuple[Fraction, Fraction], ...]
    patterns: tuple[tuple[bool, ...], ...]
    curves: tuple[flint.fmpq_mpoly, ...]
    cells: int
    shears: tuple[Fraction, ...]

    @property
    def regions(self) -> int:
        """The number of regions."""
        return len(self.samples)


class _Poly:
    """An ``fmpq_mpoly`` that accepts :class:`~fractions.Fraction` weights (for layer maths)."""

    __slots__ = ("poly",)

    def __init__(self, poly: flint.fmpq_mpoly) -> None:
        self.poly = poly

    @staticmethod
    def lift(value: object) -> flint.fmpq_mpoly | flint.fmpq:
        if isinstance(value, _Poly):
            return value.poly
        return _fmpq(value)

    def __add__(self, other: object) -> _Poly:
        return _Poly(self.poly + _Poly.lift(other))

    __radd__ = __add__

    def __mul__(self, other: object) -> _Poly:
        return _Poly(self.poly * _Poly.lift(other))

    __rmul__ = __mul__


def _as_mpoly(value: object) -> flint.fmpq_mpoly:
    lifted = _Poly.lift(value)
    return lifted if isinstance(lifted, flint.fmpq_mpoly) else _CTX.constant(lifted)


def _pre_activations(layer, inputs: list[flint.fmpq_mpoly]) -> list[flint.fmpq_mpoly]:
    """The layer's pre-activation polynomials, from its own formula (any neuron type)."""
    z = layer.pre_activation(np.array([_Poly(p) for p in inputs], dtype=object))
    return [_as_mpoly(v) for v in z]


def _canonical(poly: flint.fmpq_mpoly) -> flint.fmpq_mpoly:
    return poly / poly.leading_coefficient()


def _add_curves(curves: dict[str, flint.fmpq_mpoly], zs: Iterable[flint.fmpq_mpoly]) -> None:
    for z in zs:
        if not z.is_constant():
            for factor, _ in z.factor()[1]:
                factor = _canonical(factor)
                curves.setdefault(str(factor), factor)


def estimated_work(degrees: Iterable[int]) -> int:
    """The work estimate of one decomposition: critical lines times branches per line.

    For curves of degrees ``d_i`` (box edges included) the critical values number at most
    ``Σ_i d_i (d_i - 1) + Σ_{i<j} d_i d_j`` (degrees of the discriminants and, by Bézout, of
    the pairwise resultants), and a vertical line meets at most ``Σ_i d_i`` branches. The
    time of a decomposition grows with this product (measured in ``docs/benchmarks.md``).
    """
    degrees = [int(d) for d in degrees]
    total = sum(degrees)
    critical = sum(d * (d - 1) for d in degrees) + (total**2 - sum(d * d for d in degrees)) // 2
    return critical * total


def _check_work(decompositions: list[list[flint.fmpq_mpoly]], layer: int, max_work: int) -> int:
    """The summed ``estimated_work`` of a layer's decompositions (one per prefix, curves with
    the box edges); refused, before any of them starts, beyond ``max_work``."""
    degrees = [[int(c.total_degree()) for c in curves] for curves in decompositions]
    work = sum(estimated_work(d) for d in degrees)
    if work > max_work:
        raise QexprValueError(
            f"layers[{layer}]: {len(degrees)} decompositions of up to "
            f"{max(map(len, degrees))} boundary curves of degree up to {max(map(max, degrees))}, "
            f"estimated work {work:.3g} > max_work {max_work:.3g} (see docs/slices.md); "
            "use method 'grid' (an estimate), a smaller network, or a larger max_work"
        )
    return work


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def _components(cut: _Decomposition, states: list[tuple[bool, ...] | None]) -> list[int]:
    """One cell per component of equal pattern among the kept cells (``states`` not ``None``):
    neighbours in a strip with equal patterns, and cells joined across a critical line (a
    kept cell may be joined only to a kept cell of its pattern, which is checked)."""
    parts = _UnionFind(len(states))
    for a, b in cut.joined:
        if states[a] is not None or states[b] is not None:
            if states[a] != states[b]:
                raise ArithmeticError("cells joined across a critical line differ in pattern")
            parts.union(a, b)
    for a, b in cut.neighbours:
        if states[a] is not None and states[a] == states[b]:
            parts.union(a, b)
    return list(dict.fromkeys(parts.find(i) for i, s in enumerate(states) if s is not None))


def _hints(cut: _Decomposition, states: list[tuple[bool, ...] | None]) -> dict[tuple, _Hint]:
    """For each pattern of the kept cells, the runs of consecutive strips holding one."""
    strips: dict[tuple[bool, ...], set[int]] = {}
    for k, pattern in zip(cut.strip_of, states):
        if pattern is not None:
            strips.setdefault(pattern, set()).add(k)
    hints = {}
    for pattern, ks in strips.items():
        runs: list[list[int]] = []
        for k in sorted(ks):
            if runs and runs[-1][1] == k - 1:
                runs[-1][1] = k
            else:
                runs.append([k, k])
        intervals = tuple((cut.bounds[a][0], cut.bounds[b][1]) for a, b in runs)
        hints[pattern] = _Hint(cut.shear, intervals)
    return hints


@dataclass
class _Layers:
    """The ReLU layers read so far: ``zs[k]`` maps each occurring pattern of the ReLU layers
    before ``k`` to layer ``k``'s pre-activation polynomials; ``factors`` caches their
    irreducible factors (canonical, by string) per ``(k, prefix)``."""

    zs: list[dict[tuple[bool, ...], list[flint.fmpq_mpoly]]]
    factors: dict[tuple[int, tuple[bool, ...]], dict[str, flint.fmpq_mpoly]]

    def curves(self, prefix: tuple[bool, ...]) -> dict[str, flint.fmpq_mpoly]:
        """The curves of ``prefix`` at the last layer: the factors of every layer's
        pre-activations for the part of ``prefix`` before it (the last layer's for all of it)."""
        curves: dict[str, flint.fmpq_mpoly] = {}
        start = 0
        for k, zs in enumerate(self.zs):
            key = (k, prefix[:start])
            if key not in self.factors:
                self.factors[key] = {}
                _add_curves(self.factors[key], zs[prefix[:start]])
            curves.update(self.factors[key])
            start += len(zs[prefix[:start]])
        return curves

    def states(self, point: Point, prefix: tuple[bool, ...]) -> tuple[bool, ...] | None:
        """Exact ReLU states at a rational point, layer by layer, or ``None`` as soon as they
        leave ``prefix``."""
        q = tuple(_fmpq(v) for v in point)
        states: tuple[bool, ...] = ()
        for zs in self.zs:
            if states != prefix[: len(states)]:
                return None
            states += tuple(bool(z(*q) > 0) for z in zs[states])
        return states if states[: len(prefix)] == prefix else None


@dataclass(frozen=True)
class _Level:
    """What the decompositions of one ReLU layer found: per pattern of the layers so far, its
    pre-activation inputs ``pieces`` for the next layer and its ``hints``; the ``regions``
    (sample, pattern) of the components; the cells and the shears used."""

    pieces: dict[tuple[bool, ...], list[flint.fmpq_mpoly]]
    hints: dict[tuple[bool, ...], _Hint]
    regions: list[tuple[Point, tuple[bool, ...]]]
    cells: int
    shears: tuple[Fraction, ...]


def _relu_level(
    layers: _Layers,
    jobs: dict[tuple[bool, ...], list[flint.fmpq_mpoly]],
    hints: dict[tuple[bool, ...], _Hint | None],
    box: tuple,
    seed: int,
    cache: _Cache,
    bar: object,
) -> _Level:
    """One decomposition per prefix (its curves in ``jobs``), keeping the cells of that prefix."""
    pieces, found, regions, cells, shears = {}, {}, [], 0, {}
    width = len(next(iter(layers.zs[-1].values())))
    for prefix, curves in jobs.items():
        cut = _decompose_generic(curves, box, seed, cache, hints.get(prefix))
        states = [layers.states(point, prefix) for point in cut.samples]
        regions += [(cut.samples[r], states[r]) for r in _components(cut, states)]
        found.update(_hints(cut, states))
        z = layers.zs[-1][prefix]
        for pattern in found.keys() - pieces.keys():
            on = pattern[len(pattern) - width :]
            pieces[pattern] = [f if a else _CTX.constant(0) for f, a in zip(z, on)]
        cells += len(cut.samples)
        shears.setdefault(cut.shear, None)
        bar.update()
    return _Level(pieces, found, regions, cells, tuple(shears))


def exact_regions(
    net: Network,
    plane: object = None,
    box: object = None,
    *,
    seed: int = 0,
    progress: bool = False,
    max_work: int = MAX_WORK,
) -> RegionMap:
    """Exact activation regions of a network of any neuron type on a 2-D slice.

    Parameters
    ----------
    net
        Any network (see the module docstring for the work limit); float weights are read
        as their exact values.
    plane
        ``None`` for a two-input network, else three points spanning the plane.
    box
        ``(xmin, xmax, ymin, ymax)`` in plane coordinates (default ``[-1, 1]²``), exact.
    seed
        Seeds the sequence of shears tried (the result does not depend on it).
    progress
        Show a tqdm progress bar over the decompositions of each ReLU layer (on stderr).
    max_work
        Refuse (:class:`~qexpr.QexprValueError`, naming the layer and the estimate) a ReLU
        layer whose decompositions' summed ``estimated_work`` exceeds this, before
        computing them.

    Returns
    -------
    RegionMap
        One rational sample point and the exact pattern per region.
    """
    from tqdm import tqdm

    for name, value in (("seed", seed), ("max_work", max_work)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise QexprValueError(f"{name}: expected a non-negative integer, got {value!r}")
    two = plane_network(net, plane).to_exact()
    box = check_box(box)
    offset = len(two.layers) - len(net.layers)
    edges = {
        str(e): e
        for e in (g - _fmpq(v) for g, v in zip(_CTX.gens() * 2, (box[0], box[2], box[1], box[3])))
    }
    pieces = {(): list(_CTX.gens())}
    hints: dict[tuple[bool, ...], _Hint | None] = {}
    layers = _Layers([], {})
    curves: dict[str, flint.fmpq_mpoly] = {}
    cache = _Cache()
    level = None
    with working_precision(_PRECISION):
        for index, layer in enumerate(two.layers):
            zs = {prefix: _pre_activations(layer, h) for prefix, h in pieces.items()}
            if layer.activation != "relu":
                square = layer.activation == "square"
                pieces = {p: [z * z if square else z for z in z_] for p, z_ in zs.items()}
                continue
            layers.zs.append(zs)
            own = {prefix: layers.curves(prefix) for prefix in zs}
            for found in own.values():
                curves.update(found)
            jobs = {prefix: list({**c, **edges}.values()) for prefix, c in own.items()}
            _check_work(list(jobs.values()), index - offset, max_work)
            desc = f"slice layers[{index - offset}]"
            with tqdm(
                total=len(jobs), desc=desc, disable=not progress, leave=False, delay=1
            ) as bar:
                level = _relu_level(layers, jobs, hints, box, seed, cache, bar)
            pieces, hints = level.pieces, level.hints
        if level is None:
            cut = _decompose_generic(list(edges.values()), box, seed, cache, None)
            level = _Level({}, {}, [(cut.samples[0], ())], len(cut.samples), (cut.shear,))
    return RegionMap(
        box=box,
        samples=tuple(sample for sample, _ in level.regions),
        patterns=tuple(pattern for _, pattern in level.regions),
        curves=tuple(c for key, c in curves.items() if key not in edges),
        cells=level.cells,
        shears=level.shears,
    )
