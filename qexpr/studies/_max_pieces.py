"""``max_pieces``: search the weights of a one-input architecture for the most pieces.

Theorem 1 as formalised in docs/theory.md proves inclusion (every conventional ReLU
network is a quadratic one) and higher degree; *strictly more pieces* needs a witness.
This search supplies one, with a certificate:

1. **Starts.** The known constructions that fit the widths (``sawtooth_network``,
   ``chebyshev_network``, ``sawtooth_chebyshev_network``, zero-padded to the target widths
   and written with the kind's neurons), then seeded random networks
   (:func:`qexpr.random_network`, float weights) and perturbations of the best so far.
2. **Local search.** A (1+1) evolution strategy on float weights: perturb a random subset of
   weights at a random scale, keep the child when the float engine
   (``count_pieces(mode="float")``) counts at least as much (sideways moves allowed). Counts
   with unresolved pre-activations are discarded.
3. **Certificate.** Whenever a climb beats the best certified value, its weights are rounded
   to rationals with small denominators (``Fraction.limit_denominator``) and counted by the
   exact engine; only exact counts are kept and reported. The reported network is exact and
   its exact count is the reported number.

The conventional ReLU comparison ``relu_max`` is the best proved upper bound on the pieces of
a conventional ReLU network with the same widths (Serra et al. 2018 at ``n0 = 1``, with the
spline recursion); it is the maximum when every hidden width is at least 3 (attained by
``sawtooth_network``). A certified count above it is a proof that the quadratic architecture
computes a function no conventional ReLU network of those widths computes.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from qexpr._bounds import Bounds, kind_bounds
from qexpr._constructions import (
    chebyshev_network,
    embed_in_quadratic,
    sawtooth_chebyshev_network,
    sawtooth_network,
)
from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._io import network_to_dict
from qexpr._kinds import KINDS
from qexpr._network import CompactLayer, Layer, LinearLayer, Network
from qexpr._random import check_widths, random_network
from qexpr.spline._count import PieceCount, count_pieces

__all__ = [
    "OBJECTIVES",
    "MaxPiecesResult",
    "construction_starts",
    "max_pieces",
    "pad_network",
    "save_network_atomically",
    "sawtooth_cut_network",
]

#: What the search maximises: a :class:`~qexpr.PieceCount` attribute.
OBJECTIVES: tuple[str, ...] = ("pieces", "regions", "degree")

#: Denominator limits tried, in order, when a float candidate is rounded to rationals.
DENOMINATORS: tuple[int, ...] = (16, 256, 4096, 2**20)

#: Evaluations per climb before the next restart, and scales of the perturbations.
CLIMB_LENGTH = 150
SCALES = np.array([1.0, 0.1, 0.01, 0.001])

#: Appended to the name of a start whose network was improved by the search.
SEARCHED = " + search"


def _value(count: PieceCount, objective: str) -> int:
    return {
        "pieces": count.pieces,
        "regions": count.activation_regions,
        "degree": count.degree,
    }[objective]


# --- starts: the constructions, written with the kind's neurons -------------------------


def _as_compact(net: Network) -> Network:
    """A conventional network as compact neurons: ``wr = w, br = b, wb = 0, c = 0``."""
    layers = [
        CompactLayer(wr=la.w, br=la.b, wb=la.w * 0, c=la.b * 0, activation=la.activation)
        for la in net.layers
    ]
    return Network(net.input_dim, tuple(layers))


#: How each kind writes a conventional ReLU network (``None``: it cannot).
_FROM_RELU: dict[str, Callable[[Network], Network] | None] = {
    "relu": lambda net: net,
    "quadratic": embed_in_quadratic,
    "compact": _as_compact,
    "square": None,
}

#: Kinds whose neurons hold the products of the Chebyshev constructions.
_HOLDS_PRODUCTS = frozenset({"quadratic"})


def _pad_layer(layer: Layer, rows: int, cols: int) -> Layer:
    """``layer`` with zero neurons (rows) and zero weights on extra inputs (columns) appended."""

    def pad(array: np.ndarray) -> np.ndarray:
        target = (rows, cols)[: array.ndim]
        return np.pad(
            array, [(0, t - n) for t, n in zip(target, array.shape)], constant_values=Fraction(0)
        )

    return layer.map_weights(pad)


def pad_network(net: Network, widths: Sequence[int]) -> Network:
    """``net`` widened to ``widths`` by zero neurons; the output function is unchanged.

    A zero neuron has pre-activation 0 and output 0, and its column in the next layer is zero,
    so every other neuron sees what it saw before. Needs the same depth and widths no smaller.
    """
    widths = tuple(widths)
    same_ends = len(widths) == len(net.widths) and (widths[0], widths[-1]) == (
        net.widths[0],
        net.widths[-1],
    )
    if not same_ends or any(a > b for a, b in zip(net.widths, widths)):
        raise QexprValueError(f"widths: cannot pad widths {net.widths} to {widths}")
    layers = tuple(
        _pad_layer(layer, widths[k + 1], widths[k]) for k, layer in enumerate(net.layers)
    )
    return Network(net.input_dim, layers)


def sawtooth_cut_network(teeth: Sequence[int]) -> Network:
    """Conventional ReLU network, widths ``(1, *teeth, 2, 1)``, with ``3 prod(n_l + 1)`` pieces.

    The sawtooth of ``teeth`` (all >= 3) gives ``u`` sweeping [0, 1] once on each of its
    ``N = prod (n_l + 1)`` teeth; the width-2 layer holds ``relu(1/3 - u)`` and
    ``relu(u - 2/3)`` and the output adds them with weights 1 and 2. On every tooth that is
    three pieces (slopes in u: -1, 0, 2); where two teeth meet, u turns at 0 or 1 and the output
    there is ``1/3 - u`` or ``2 (u - 2/3)`` on both sides, kinked, so no pieces merge:
    ``3 N`` pieces, which is ``prod (n_l + 1)`` over all hidden widths, the Serra bound.
    """
    last = sawtooth_network(teeth).layers[-1]
    third = Fraction(1, 3)
    cut = LinearLayer(
        w=np.array([-last.w[0], last.w[0]], dtype=object),
        b=np.array([third - last.b[0], last.b[0] - 2 * third], dtype=object),
        activation="relu",
    )
    output = LinearLayer(
        w=np.array([[Fraction(1), Fraction(2)]], dtype=object),
        b=np.array([Fraction(0)], dtype=object),
        activation="identity",
    )
    return Network(1, (*sawtooth_network(teeth).layers[:-1], cut, output))


def _fits(construction: Sequence[int], hidden: Sequence[int]) -> bool:
    return len(construction) == len(hidden) and all(a <= b for a, b in zip(construction, hidden))


def construction_starts(kind: str, widths: Sequence[int]) -> list[tuple[str, Network]]:
    """The known constructions that fit ``widths`` (same depth), as networks of ``kind``.

    Hidden widths of a construction may be smaller than the target's (zero neurons pad them);
    the output width must be 1.
    """
    hidden = tuple(widths[1:-1])
    convert = _FROM_RELU[kind]
    if convert is None or widths[-1] != 1 or not hidden:
        return []
    starts: list[tuple[str, Network]] = []
    if min(hidden) >= 3:
        starts.append((f"sawtooth {list(hidden)}", convert(sawtooth_network(hidden))))
    if len(hidden) >= 2 and min(hidden[:-1]) >= 3 and hidden[-1] >= 2:
        name = f"sawtooth {list(hidden[:-1])} + cut"
        starts.append((name, convert(sawtooth_cut_network(hidden[:-1]))))
    if kind in _HOLDS_PRODUCTS:
        depth = len(hidden) + 1
        if _fits((2, *[3] * (depth - 2)), hidden):
            starts.append((f"chebyshev L={depth}", chebyshev_network(depth)))
        for k in range(1, len(hidden)):
            teeth, depth = hidden[:k], len(hidden) - k + 1
            if min(teeth) >= 3 and _fits((*teeth, 2, *[3] * (depth - 2)), hidden):
                name = f"sawtooth {list(teeth)} + chebyshev L={depth}"
                starts.append((name, sawtooth_chebyshev_network(teeth, depth)))
    return [(name, pad_network(net, widths)) for name, net in starts]


# --- the search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """Where each weight array of an architecture sits in a flat float vector."""

    template: Network

    def flatten(self, net: Network) -> np.ndarray:
        return np.concatenate(
            [
                np.asarray(v, dtype=np.float64).ravel()
                for la in net.layers
                for v in la.params.values()
            ]
        )

    def build(self, vector: np.ndarray, number: Callable[[np.ndarray], np.ndarray]) -> Network:
        layers, offset = [], 0
        for la in self.template.layers:
            weights = {}
            for key, array in la.params.items():
                weights[key] = number(vector[offset : offset + array.size].reshape(array.shape))
                offset += array.size
            layers.append(la.replace(**weights))
        return Network(self.template.input_dim, tuple(layers))


def _rational(limit: int) -> Callable[[np.ndarray], np.ndarray]:
    def convert(array: np.ndarray) -> np.ndarray:
        values = [Fraction(float(v)).limit_denominator(limit) for v in array.flat]
        return np.array(values, dtype=object).reshape(array.shape)

    return convert


@dataclass(frozen=True)
class _Candidate:
    value: int
    count: PieceCount
    network: Network
    start: str


def _float_value(shape: _Shape, vector: np.ndarray, objective: str) -> int:
    count = count_pieces(shape.build(vector, np.asarray), mode="float")
    return -1 if count.unresolved else _value(count, objective)


def _certify(
    shape: _Shape, vector: np.ndarray, objective: str, start: str, target: int
) -> _Candidate:
    """Exact counts of ``vector`` rounded to growing denominators, until one reaches ``target``.

    Returns the best of those tried (the smallest denominator among equals).
    """
    best = None
    for limit in DENOMINATORS:
        net = shape.build(vector, _rational(limit))
        count = count_pieces(net, mode="exact")
        if best is None or _value(count, objective) > best.value:
            best = _Candidate(_value(count, objective), count, net, start)
        if best.value >= target:
            break
    return best


def _mutate(vector: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Perturb a random number of random weights by ``scale * N(0, 1) * (|w| + 0.1)``."""
    child = vector.copy()
    size = int(rng.integers(1, vector.size + 1))
    index = rng.choice(vector.size, size=size, replace=False)
    scale = rng.choice(SCALES)
    child[index] += scale * rng.standard_normal(size) * (np.abs(child[index]) + 0.1)
    return child


def _climb(
    shape: _Shape, vector: np.ndarray, value: int, rng: np.random.Generator, objective: str
) -> Iterator[tuple[np.ndarray, int]]:
    """(1+1) evolution strategy; yields every evaluated child and the current value."""
    for _ in range(CLIMB_LENGTH):
        child = _mutate(vector, rng)
        child_value = _float_value(shape, child, objective)
        if child_value >= value:
            vector, value = child, child_value
        yield vector, value


# --- the result and the driver ---------------------------------------------------------------


def _ceiling(bounds: Bounds, objective: str) -> int | None:
    """The proved upper bound on ``objective`` (pieces and regions share the cell bound)."""
    return bounds.degree if objective == "degree" else bounds.pieces


@dataclass(frozen=True)
class MaxPiecesResult:
    """The best network found, its exact counts, and the bounds beside them.

    ``pieces``, ``activation_regions`` and ``degree`` are exact counts of ``network`` (exact
    weights). ``relu_max`` is the best proved upper bound on the pieces of a conventional
    ReLU network of the same widths (the maximum when every hidden width is >= 3).
    """

    kind: str
    widths: tuple[int, ...]
    objective: str
    network: Network
    pieces: int
    activation_regions: int
    degree: int
    bounds: Bounds
    relu_max: int
    start: str
    evaluations: int
    seconds: float
    seed: int

    @property
    def relu_max_attained(self) -> bool:
        """True when ``relu_max`` is known to be attained, hence the conventional maximum.

        One hidden layer (n distinct breakpoints), every hidden width >= 3
        (:func:`~qexpr.sawtooth_network`), or >= 3 and a last hidden width of 2
        (``sawtooth_cut_network``).
        """
        hidden = self.widths[1:-1]
        return len(hidden) <= 1 or (min(hidden[:-1]) >= 3 and hidden[-1] >= 2)

    @property
    def strictly_more_than_relu(self) -> bool:
        """The certified count exceeds every conventional ReLU network of these widths."""
        return self.pieces > self.relu_max

    @property
    def proven_maximum(self) -> bool:
        """The certified value meets a proved upper bound, so it is the maximum."""
        bound = _ceiling(self.bounds, self.objective)
        value = {"pieces": self.pieces, "regions": self.activation_regions, "degree": self.degree}
        return bound is not None and value[self.objective] >= bound

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what ``qexpr max-pieces --json`` prints)."""
        return {
            "kind": self.kind,
            "widths": list(self.widths),
            "objective": self.objective,
            "pieces": self.pieces,
            "activation_regions": self.activation_regions,
            "degree": self.degree,
            "certified": True,
            "bound_pieces": self.bounds.pieces,
            "bound_degree": self.bounds.degree,
            "proven_maximum": self.proven_maximum,
            "relu_max": self.relu_max,
            "relu_max_attained": self.relu_max_attained,
            "strictly_more_than_relu": self.strictly_more_than_relu,
            "margin": self.pieces - self.relu_max,
            "start": self.start,
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
        }


def _check_arguments(
    kind: object, widths: object, time_limit: object, seed: object, objective: object
) -> tuple[int, ...]:
    if kind not in KINDS:
        raise QexprValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    checked = check_widths(widths)
    if checked[0] != 1:
        raise QexprValueError(f"widths: expected one input (n0 = 1), got n0 = {checked[0]}")
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float):
        raise QexprTypeError(f"time_limit: expected a number of seconds, got {time_limit!r}")
    if not 0 < time_limit < math.inf:
        raise QexprValueError(f"time_limit: expected a positive finite number, got {time_limit}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise QexprValueError(f"seed: expected a non-negative integer, got {seed!r}")
    if objective not in OBJECTIVES:
        raise QexprValueError(
            f"objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}"
        )
    return checked


def max_pieces(
    kind: str,
    widths: Sequence[int],
    *,
    time_limit: float = 20.0,
    seed: int = 0,
    objective: str = "pieces",
    max_evaluations: int | None = None,
    progress: bool = False,
) -> MaxPiecesResult:
    """Search the weights of a one-input architecture for the most pieces, certified exactly.

    Parameters
    ----------
    kind
        ``"quadratic"``, ``"relu"``, ``"square"`` or ``"compact"``
        (as :func:`qexpr.random_network`).
    widths
        ``(1, n1, ..., nL)``: one input, layer L the identity output layer.
    time_limit
        Seconds of search (the constructions are always certified first).
    seed
        Seed of the :class:`numpy.random.Generator` behind every random choice.
    objective
        ``"pieces"``, ``"regions"`` (activation regions) or ``"degree"``.
    max_evaluations
        Stop after this many float evaluations. With the same seed and evaluation budget the
        result is the same on any machine; a time limit alone cuts the same sequence of
        candidates at a machine-dependent point.
    progress
        Show a tqdm bar (stderr) with the best certified value.

    Returns
    -------
    MaxPiecesResult
        The network with the best *exact* count; the search stops early when that count meets
        a proved upper bound.
    """
    widths = _check_arguments(kind, widths, time_limit, seed, objective)
    if max_evaluations is not None and (
        isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int)
    ):
        raise QexprTypeError(f"max_evaluations: expected an integer, got {max_evaluations!r}")
    if max_evaluations is not None and max_evaluations < 0:
        raise QexprValueError(f"max_evaluations: expected >= 0, got {max_evaluations}")
    from tqdm import tqdm

    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    bounds = kind_bounds(kind, widths)
    ceiling = _ceiling(bounds, objective)
    shape = _Shape(random_network(kind, widths, seed=0))
    best: _Candidate | None = None
    constructions = construction_starts(kind, widths)
    for name, net in constructions:
        count = count_pieces(net, mode="exact")
        if best is None or _value(count, objective) > best.value:
            best = _Candidate(_value(count, objective), count, net, name)
    pool = [(name, shape.flatten(net)) for name, net in constructions]
    evaluations, restart = 0, 0
    bar = tqdm(disable=not progress, unit="eval", desc=f"max-pieces {kind}")

    def done() -> bool:
        out_of_time = time.perf_counter() - began >= time_limit
        out_of_budget = max_evaluations is not None and evaluations >= max_evaluations
        met = best is not None and ceiling is not None and best.value >= ceiling
        return out_of_time or out_of_budget or met

    while not done():
        if restart < len(pool):
            name, vector = pool[restart]
        elif restart % 2 and best is not None:
            name, vector = best.start.removesuffix(SEARCHED), shape.flatten(best.network)
        else:
            net = random_network(kind, widths, seed=int(rng.integers(2**32)), exact=False)
            name, vector = "random", shape.flatten(net)
        restart += 1
        evaluations += 1
        start_value = _float_value(shape, vector, objective)
        tried = -1  # the float value last sent to the exact engine in this climb
        for current, value in _climb(shape, vector, start_value, rng, objective):
            evaluations += 1
            bar.update()
            if value > tried and (best is None or value > best.value):
                tried = value
                candidate = _certify(shape, current, objective, name + SEARCHED, value)
                if best is None or candidate.value > best.value:
                    best = candidate
                    bar.set_postfix(best=best.value)
            if done():
                break
    if best is None:  # no evaluation ran (budget 0): certify a seeded random network
        net = random_network(kind, widths, seed=int(rng.integers(2**32)))
        count = count_pieces(net, mode="exact")
        best = _Candidate(_value(count, objective), count, net, "random")
    bar.close()
    return MaxPiecesResult(
        kind=kind,
        widths=widths,
        objective=objective,
        network=best.network,
        pieces=best.count.pieces,
        activation_regions=best.count.activation_regions,
        degree=best.count.degree,
        bounds=bounds,
        relu_max=kind_bounds("relu", widths).pieces,
        start=best.start,
        evaluations=evaluations,
        seconds=time.perf_counter() - began,
        seed=seed,
    )


def save_network_atomically(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` as ``qexpr-network/1`` via a temporary file and ``os.replace``.

    The file gets the permissions a plain ``open(path, "w")`` would (``0o666`` minus the umask).
    """
    import json

    path = Path(path)
    text = json.dumps(network_to_dict(net), indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
