"""Upper and lower bounds on pieces, linear regions and degree (Theorem 1 toolkit).

Notation: ``widths = (n0, n1, ..., nL)``; in the kind convention of
:func:`qexpr.random_network` layers 1..L-1 are hidden (ReLU, or z² for ``square``) and
layer L is the identity output layer of the same neuron type.

One input (n0 = 1), any network: the *spline recursion* (:func:`spline_bound`)
-------------------------------------------------------------------------------
Let ``d`` bound the degree of a layer's input on every cell (an interval where all ReLU
states are fixed); start with one cell and ``d = 1``. A layer of ``n`` neurons with degree
multiplier ``m`` (1 for conventional neurons, 2 for quadratic/compact ones) has
pre-activations of degree ``D = m d`` on each cell. A ReLU neuron switches only at real roots
of its pre-activation, so a cell where the layer input is not constant splits into at most
``1 + n D`` cells; a cell where the input is constant does not split. We track ``T`` (bound on
all cells) and ``A`` (bound on non-constant cells)::

    ReLU layer, n >= 2:  A' = A (1 + n D),           T' = T + A n D,   d' = D
    ReLU layer, n == 1:  A' = A (floor(D/2) + 1),    T' = T + A D,     d' = D
    z² layer:            A' = A, T' = T,                               d' = 2 D
    identity layer:      A' = A, T' = T,                               d' = D

(for n == 1 the k <= D sign changes leave k + 1 alternating sub-cells, at most
floor(D/2) + 1 of them active; inactive ones are constant). Pieces <= activation regions
<= T and degree <= d after the last layer. Without the n == 1 refinement,
``T = prod over ReLU layers (1 + n_l D_l)``, which for quadratic networks with the identity
output is ``prod_{l<L} (1 + n_l 2^l)`` (:func:`quadratic_product_bound`).

Conventional ReLU networks, n0 >= 1 (linear regions)
----------------------------------------------------
* Zaslavsky (1975): one hidden layer, exact maximum ``sum_{j=0}^{n0} C(n1, j)``.
* Montúfar, Pascanu, Cho, Bengio (2014), lower bound (n_l >= n0):
  ``prod_{l=1}^{L-1} floor(n_l/n0)^{n0} * sum_{j=0}^{n0} C(n_L, j)`` (L hidden layers).
* Montúfar (2017), upper bound: ``prod_{l=1}^{L} sum_{j=0}^{d_l} C(n_l, j)``,
  ``d_l = min(n0, n1, ..., n_l)``.
* Serra, Tjandraatmadja, Ramalingam (2018, "Bounding and counting linear regions of deep
  neural networks", Theorem 1), upper bound: ``sum over J of prod_l C(n_l, j_l)`` with
  ``J = {(j_1..j_L): 0 <= j_l <= min(n0, n1 - j1, ..., n_{l-1} - j_{l-1}, n_l)}``. With
  n0 = 1 every j_l is 0 or 1; a width-1 layer with j_l = 1 forces all later j to 0, and when
  every n_l >= 2 the sum factorises to ``prod (1 + n_l)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb, prod
from typing import Any

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._kinds import KINDS, resolve_kind
from qexpr._network import Layer, Network, to_exact_array
from qexpr._neurons import NEURONS
from qexpr._progress import Progress, tracked
from qexpr._random import check_widths

__all__ = [
    "Bound",
    "Bounds",
    "SplineBound",
    "kind_bounds",
    "montufar2014_lower_bound",
    "montufar2017_bound",
    "quadratic_product_bound",
    "serra_bound",
    "spline_bound",
    "width_one_chain_bound",
    "zaslavsky_bound",
]


@dataclass(frozen=True)
class Bound:
    """One named bound: ``quantity`` (pieces, regions, degree), ``side`` (upper, lower, exact)."""

    name: str
    quantity: str
    side: str
    value: int
    source: str

    def __post_init__(self) -> None:
        if self.side not in ("upper", "lower", "exact"):
            raise QexprValueError(f"side: expected upper, lower or exact, got {self.side!r}")


@dataclass(frozen=True)
class SplineBound:
    """Bounds of the spline recursion for a one-input network: ``pieces`` and ``degree``."""

    pieces: int
    degree: int


@dataclass(frozen=True)
class Bounds:
    """All bounds qexpr knows for a kind and widths.

    ``pieces`` is the best upper bound on pieces (one input) or on linear regions (ReLU,
    several inputs), ``None`` where none is known; ``degree`` is the upper bound on the degree
    of the polynomial pieces.
    """

    kind: str
    widths: tuple[int, ...]
    pieces: int | None
    degree: int
    entries: tuple[Bound, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``qexpr bounds --json`` prints)."""
        return {
            "kind": self.kind,
            "widths": list(self.widths),
            "pieces": self.pieces,
            "degree": self.degree,
            "bounds": [
                {"name": b.name, "quantity": b.quantity, "side": b.side, "value": b.value}
                for b in self.entries
            ],
        }


def _split_widths(widths: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    widths = check_widths(widths)
    return widths[0], widths[1:]


def serra_bound(n0: int, hidden: Sequence[int], *, progress: Progress | None = None) -> int:
    """Serra et al. (2018), Theorem 1: linear regions of a ReLU net with hidden widths ``hidden``.

    ``sum_{(j_1..j_L) in J} prod_l C(n_l, j_l)`` with
    ``J = {0 <= j_l <= min(n0, n1 - j1, ..., n_{l-1} - j_{l-1}, n_l)}``. Its cost grows as
    ``layers * n0^2`` products of big integers; ``progress`` is called after each layer.
    """
    # below[b] = the sum over the layers after the current one with budget b (a loop, not
    # recursion, so hundreds of layers do not exhaust Python's stack)
    below = [1] * (n0 + 1)
    for n in tracked(tuple(hidden)[::-1], progress, "Serra et al. bound"):
        below = [
            sum(comb(n, j) * below[min(b, n - j)] for j in range(min(b, n) + 1))
            for b in range(n0 + 1)
        ]
    return below[n0]


def montufar2017_bound(n0: int, hidden: Sequence[int]) -> int:
    """Montúfar (2017): ``prod_l sum_{j=0}^{d_l} C(n_l, j)``, ``d_l = min(n0, n1, ..., n_l)``."""
    result, d = 1, n0
    for n in hidden:
        d = min(d, n)
        result *= sum(comb(n, j) for j in range(d + 1))
    return result


def zaslavsky_bound(n0: int, n1: int) -> int:
    """Zaslavsky (1975): ``n1`` hyperplanes in general position cut R^n0 into this many regions.

    ``sum_{j=0}^{n0} C(n1, j)``: the exact maximum for one hidden ReLU layer.
    """
    return sum(comb(n1, j) for j in range(n0 + 1))


def montufar2014_lower_bound(n0: int, hidden: Sequence[int]) -> int | None:
    """Montúfar et al. (2014) lower bound on the maximal number of linear regions.

    ``prod_{l=1}^{L-1} floor(n_l/n0)^{n0} * sum_{j=0}^{n0} C(n_L, j)``; ``None`` unless
    every ``n_l >= n0``.
    """
    hidden = tuple(hidden)
    if not hidden or min(hidden) < n0:
        return None
    return prod((n // n0) ** n0 for n in hidden[:-1]) * zaslavsky_bound(n0, hidden[-1])


def quadratic_product_bound(hidden: Sequence[int]) -> int:
    """``prod_l (1 + n_l 2^l)``: pieces of a one-input quadratic ReLU net (hidden widths n_l)."""
    return prod(1 + n * 2 ** (k + 1) for k, n in enumerate(hidden))


def width_one_chain_bound(layers: int, multiplier: int) -> int:
    """Pieces (and activation regions) of a one-input net whose hidden layers have one neuron.

    ``sum_{k=0}^{L-1} m^k`` for ``L = layers`` layers (L - 1 hidden ReLU neurons, then the
    output layer, any width) whose neurons are polynomials of degree ``m = multiplier`` in
    their one input (1 conventional, 2 quadratic or compact): ``L`` and ``2^L - 1``.

    Proof (docs/theory.md, "width-1 chains"): let ``h_l`` be hidden neuron l's output,
    ``h_0 = x``, and ``N_l`` the number of laps of ``h_l`` (maximal intervals on which it is
    monotone and nowhere constant). ``h_l = relu(q_l(h_{l-1}))`` with ``q_l`` of degree
    ``<= m``; neuron l changes state only where ``q_l(h_{l-1})`` changes sign, which happens
    on no constant stretch of ``h_{l-1}`` and at most ``m`` times on each closed lap (``h_{l-1}``
    is strictly monotone there and ``q_l`` has ``<= m`` roots), so at most ``m N_{l-1}``
    times; and ``relu∘q_l`` has at most ``m`` laps on any interval, so ``N_l <= m N_{l-1}``,
    ``N_0 = 1``. The output layer is a polynomial in ``h_{L-1}`` and adds no state. So there
    are at most ``m + m^2 + ... + m^{L-1}`` state changes, and pieces <= regions <= that + 1.
    """
    if layers < 1 or multiplier < 1:
        raise QexprValueError(
            f"layers, multiplier: expected positive integers, got {layers}, {multiplier}"
        )
    return sum(multiplier**k for k in range(layers))


def _recursion(plan: Sequence[tuple[int, int, str]]) -> SplineBound:
    """The spline recursion (module docstring) over ``(width, multiplier, activation)``."""
    total = active = degree = 1
    for n, multiplier, activation in plan:
        degree *= multiplier
        if activation == "relu":
            if n == 1:
                total, active = total + active * degree, active * (degree // 2 + 1)
            else:
                total, active = total + active * n * degree, active * (1 + n * degree)
        elif activation == "square":
            degree *= 2
    return SplineBound(pieces=total, degree=degree)


def _multiplier(layer: Layer) -> int:
    """1 if every neuron is affine in the layer input (zero quadratic form), else 2.

    Neuron j's quadratic form (for the quadratic neuron ``sym(wr_j wg_j^T) + diag(wb_j)``)
    is read exactly from the neuron table's formula: first its value at one point (cheap;
    a non-zero value proves 2), and only when that is zero the full o × m × m forms.
    """
    neuron = layer.neuron_type()
    if neuron.degree == 1:
        return 1
    params = (layer if layer.is_exact else layer.map_weights(to_exact_array)).params
    if any(v != 0 for v in _quadratic_part_at(neuron, params, _probe(layer.in_dim))):
        return 2  # proved: a form that is non-zero somewhere is non-zero
    return 2 if any(v != 0 for v in neuron.quadratic_forms(params).flat) else 1


def _probe(m: int) -> np.ndarray:
    """A fixed integer point of R^m (a seeded draw; any point proves what it shows)."""
    values = np.random.default_rng(0).integers(-(2**20), 2**20, size=m)
    return np.array([int(v) for v in values], dtype=object)


def _quadratic_part_at(neuron, params: dict[str, np.ndarray], y: np.ndarray) -> np.ndarray:
    """Twice each neuron's quadratic form at ``y``, exactly: ``p(y) + p(-y) - 2 p(0)``.

    ``p`` is the pre-activation (degree <= 2), evaluated from the neuron table's formula in
    O(weights) operations, where :meth:`NeuronType.quadratic_forms` builds o × m × m forms
    (10^8 entries for one neuron on 10,000 inputs).
    """

    def at(x: np.ndarray) -> np.ndarray:
        def affine(w: str, b: str) -> np.ndarray:
            return params[w].dot(x) + params[b]

        def square(w: str, c: str) -> np.ndarray:
            return params[w].dot(x * x) + params[c]

        return neuron.pre_activation(affine, square)

    zero = np.zeros(len(y), dtype=object)
    return at(y) + at(-y) - 2 * at(zero)


def spline_bound(net: Network) -> SplineBound:
    """Upper bounds on the pieces and the degree of a one-input network (the spline recursion).

    Each layer's degree multiplier is read from its weights: 2 if some neuron has a
    non-zero quadratic form ``sym(wr_j wg_j^T) + diag(wb_j)``, else 1.
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    if net.input_dim != 1:
        raise QexprValueError(
            f"net: expected a network with one input, got input_dim {net.input_dim}"
        )
    plan = [(la.out_dim, _multiplier(la), la.activation) for la in net.layers]
    return _recursion(plan)


def _kind_plan(kind: str, hidden: Sequence[int]) -> list[tuple[int, int, str]]:
    neuron, activation = KINDS[kind]
    multiplier = NEURONS[neuron].degree
    return [
        (n, multiplier, activation if k < len(hidden) - 1 else "identity")
        for k, n in enumerate(hidden)
    ]


def kind_bounds(kind: str, widths: Sequence[int], *, progress: Progress | None = None) -> Bounds:
    """Every bound qexpr knows for ``kind`` (quadratic, relu, square, compact) and ``widths``.

    Widths follow :func:`qexpr.random_network`: ``(n0, n1, ..., nL)`` with layer L the
    identity output layer. ``progress(stage, done, total)``, if given, is called after each
    layer of the slow one, Serra et al.'s bound.
    """
    kind = resolve_kind(kind)
    n0, layers = _split_widths(widths)
    hidden = layers[:-1]
    recursion = _recursion(_kind_plan(kind, layers))
    entries = [Bound("degree", "degree", "upper", recursion.degree, "spline recursion")]
    pieces: int | None = None
    if kind == "square":
        pieces = 1
        entries.append(Bound("polynomial", "pieces", "exact", 1, "z² networks are polynomials"))
    elif kind == "relu":
        serra = serra_bound(n0, hidden, progress=progress)
        entries.append(Bound("serra2018", "regions", "upper", serra, "Serra et al. 2018, Thm 1"))
        entries.append(
            Bound(
                "montufar2017",
                "regions",
                "upper",
                montufar2017_bound(n0, hidden),
                "Montúfar 2017",
            )
        )
        lower = montufar2014_lower_bound(n0, hidden)
        if lower is not None:
            entries.append(Bound("montufar2014", "regions", "lower", lower, "Montúfar et al. 2014"))
        if len(hidden) == 1:
            value = zaslavsky_bound(n0, hidden[0])
            entries.append(Bound("zaslavsky", "regions", "exact", value, "Zaslavsky 1975"))
        pieces = serra
        if n0 == 1:
            entries.append(
                Bound("recursion", "pieces", "upper", recursion.pieces, "spline recursion")
            )
            pieces = min(serra, recursion.pieces)
    elif n0 == 1:
        product = quadratic_product_bound(hidden)
        entries.append(Bound("product", "pieces", "upper", product, "prod (1 + n_l 2^l)"))
        entries.append(Bound("recursion", "pieces", "upper", recursion.pieces, "spline recursion"))
        pieces = min(product, recursion.pieces)
        if max(hidden, default=1) == 1:
            chain = width_one_chain_bound(len(layers), 2)
            entries.append(Bound("chain", "pieces", "upper", chain, "width-1 chain: 2^L - 1"))
            pieces = min(pieces, chain)
    return Bounds(kind, (n0, *layers), pieces, recursion.degree, tuple(entries))
