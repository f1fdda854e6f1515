"""Networks that attain (or approach) the one-input bounds, and the inclusions of Theorem 1.

* :func:`sawtooth_network`: a conventional ReLU network with hidden widths n_1..n_K, all
  ``>= 3``, with exactly ``prod (n_l + 1)`` pieces (= activation regions), the Serra bound.
  Hidden layer l computes the neurons of a *tooth map* ``G`` with breakpoints
  ``t_k = k/(n+1)``: ``G(t_k)`` alternates 0, 1, 0, ..., the slopes of its n + 1 linear
  pieces alternate in sign, interior slopes are ``±(n+1)``, the right slope ``±(n+1)``, and the
  left slope ``-2(n+1)`` (so ``G(0) = 2``). Neuron k is ``relu(s_k (u - t_k))`` with ``s_3 = -1``
  and ``s_k = +1`` otherwise; ``G = beta + sum_k c_k relu(s_k (u - t_k))`` with ``c_k`` the
  slope change at ``t_k``. The left slope of such a sum is ``-sum_{s_k=-1} c_k = -c_3``, and
  ``c_3 = |slope_2| + |slope_3| = 2(n+1)`` matches. Every piece of G maps onto a superset of
  [0, 1] and all breakpoints lie in (0, 1), so composing multiplies the piece counts, and the
  derivative changes sign at every breakpoint, so no two neighbouring pieces merge. With
  widths 1 or 2 no layer map of this kind exists (the slopes of
  ``sum_k c_k relu(s_k (u - t_k))`` cannot alternate on all n + 1 pieces).
* :func:`chebyshev_network`: a quadratic ReLU network of depth L computing
  ``T_{2^L}(x) + sum_{k=1}^{L-1} relu(T_{2^k}(x))`` exactly (``T_m`` the Chebyshev polynomial;
  a quadratic neuron computes ``T_2(u) = 2u² - 1``, and ``T = relu(T) - relu(-T)`` gives
  ``T_2(T) = 2 (relu(T)² + relu(-T)²) - 1``). The roots of ``T_{2^k}`` are
  ``cos((2j-1) pi / 2^{k+1})``, simple and distinct over k, so there are ``2^L - 2``
  breakpoints, ``2^L - 1`` pieces, and the degree is ``2^L``, the degree bound.
* :func:`embed_in_quadratic`: the inclusions. A conventional neuron ``σ(w x + b)`` is the
  quadratic neuron ``wr = w, br = b, wg = 0, bg = 1, wb = 0, c = 0``; a z² neuron
  ``(w x + b)²`` is the quadratic ReLU neuron ``wr = wg = w, br = bg = b, wb = 0, c = 0``
  because ``relu(z²) = z²``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._network import Layer, LinearLayer, Network, QuadraticLayer

__all__ = [
    "chebyshev_network",
    "embed_in_quadratic",
    "sawtooth_chebyshev_network",
    "sawtooth_network",
    "tooth_map",
]


def _exact(values: object) -> np.ndarray:
    return np.array(values, dtype=object)


def tooth_map(n: int) -> tuple[list[Fraction], list[int], list[Fraction], Fraction]:
    """Breakpoints ``t``, orientations ``s``, coefficients ``c`` and offset ``beta`` of G.

    ``G(u) = beta + sum_k c[k] * relu(s[k] * (u - t[k]))`` (see the module docstring); needs
    ``n >= 3``.
    """
    if n < 3:
        raise QexprValueError(f"width: expected at least 3 neurons for a tooth map, got {n}")
    t = [Fraction(k, n + 1) for k in range(1, n + 1)]
    slopes = [-2 * (n + 1)] + [(-1) ** (k + 1) * (n + 1) for k in range(1, n + 1)]
    c = [Fraction(slopes[k] - slopes[k - 1]) for k in range(1, n + 1)]
    s = [-1 if k == 2 else 1 for k in range(n)]
    beta = -c[2] * (t[2] - t[0])
    return t, s, c, beta


def sawtooth_network(hidden: Sequence[int]) -> Network:
    """Conventional ReLU network, widths ``(1, *hidden, 1)``, with ``prod (n_l + 1)`` pieces.

    All breakpoints lie in (0, 1). Each hidden width must be at least 3.
    """
    hidden = [int(n) for n in hidden]
    if not hidden:
        raise QexprValueError("hidden: expected at least one hidden width")
    layers: list[Layer] = []
    previous = None  # (c, beta) of the previous tooth map: u = c · h + beta
    for n in hidden:
        t, s, c, beta = tooth_map(n)
        if previous is None:
            w = _exact([[Fraction(sk)] for sk in s])
            b = _exact([-sk * tk for sk, tk in zip(s, t)])
        else:
            pc, pbeta = previous
            w = _exact([[sk * ck for ck in pc] for sk in s])
            b = _exact([sk * (pbeta - tk) for sk, tk in zip(s, t)])
        layers.append(LinearLayer(w=w, b=b, activation="relu"))
        previous = (c, beta)
    pc, pbeta = previous
    layers.append(LinearLayer(w=_exact([pc]), b=_exact([pbeta]), activation="identity"))
    return Network(1, tuple(layers))


def _quadratic(rows: int, cols: int, activation: str, **given: object) -> QuadraticLayer:
    """A quadratic layer with every weight zero except those ``given`` (exact)."""
    weights = {
        key: _exact([[Fraction(0)] * cols for _ in range(rows)])
        if key in QuadraticLayer.neuron_type().matrices
        else _exact([Fraction(0)] * rows)
        for key in QuadraticLayer.keys
    }
    weights.update({key: _exact(value) for key, value in given.items()})
    return QuadraticLayer(activation=activation, **weights)


def _pair_rows(width: int) -> tuple[list[Fraction], list[Fraction]]:
    """Rows reading ``(a, b[, s])``: ``2a² + 2b²`` (= 2T²) and ``a + s`` (the next carry)."""
    one = Fraction(1)
    return [2 * one, 2 * one] + [0 * one] * (width - 2), [one, 0 * one] + [one] * (width - 2)


def _chebyshev_layers(a: list[Fraction], beta: Fraction, depth: int) -> list[Layer]:
    """Layers computing the Chebyshev function of ``v = a · h + beta`` (h the layer input)."""
    one, m = Fraction(1), len(a)
    twice = [2 * v for v in a]
    if depth == 1:
        return [
            _quadratic(1, m, "identity", wr=[twice], br=[2 * beta], wg=[a], bg=[beta], c=[-one])
        ]
    layers: list[Layer] = [
        _quadratic(
            2,
            m,
            "relu",
            wr=[twice, [-v for v in twice]],
            br=[2 * beta, -2 * beta],
            wg=[a, a],
            bg=[beta, beta],
            c=[-one, one],
        )
    ]
    width = 2
    for _ in range(2, depth):
        square, sums = _pair_rows(width)
        layers.append(
            _quadratic(
                3,
                width,
                "relu",
                wb=[square, [-v for v in square], [0] * width],
                c=[-one, one, 0],
                wr=[[0] * width, [0] * width, sums],
                bg=[0, 0, one],
            )
        )
        width = 3
    square, sums = _pair_rows(width)
    layers.append(_quadratic(1, width, "identity", wb=[square], c=[-one], wr=[sums], bg=[one]))
    return layers


def _check_depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise QexprValueError(f"depth: expected a positive integer, got {depth!r}")
    return depth


def chebyshev_network(depth: int) -> Network:
    """Quadratic ReLU network computing ``T_{2^L}(x) + sum_{k=1}^{L-1} relu(T_{2^k}(x))``.

    L = depth. Widths ``(1, 2, 3, ..., 3, 1)``: hidden layer 1 holds ``relu(±T_2)``, hidden
    layer l >= 2 holds ``relu(±T_{2^l})`` and a carry ``sum_{k=1}^{l-1} relu(T_{2^k})``
    (non-negative, so the ReLU passes it unchanged). Pieces ``2^L - 1``, degree ``2^L``.
    """
    return Network(1, tuple(_chebyshev_layers([Fraction(1)], Fraction(0), _check_depth(depth))))


def sawtooth_chebyshev_network(hidden: Sequence[int], depth: int) -> Network:
    """The sawtooth (as quadratic neurons) followed by the Chebyshev block on ``v = 2u - 1``.

    Each of the ``N = prod (n_l + 1)`` teeth sweeps v monotonically over a superset of
    [-1, 1], where the Chebyshev block has ``2^L - 2`` breakpoints; at tooth boundaries v is
    -1, 1 or 3, where the block's polynomial has a non-zero derivative, so neighbouring
    pieces differ. Pieces ``N (2^L - 1)``, degree ``2^L``.
    """
    teeth = embed_in_quadratic(sawtooth_network(hidden))
    last = teeth.layers[-1]
    a = [2 * v for v in last.wr[0]]
    beta = 2 * last.br[0] - 1
    return Network(1, (*teeth.layers[:-1], *_chebyshev_layers(a, beta, _check_depth(depth))))


def _embed(layer: Layer) -> QuadraticLayer:
    w, b = (getattr(layer, key) for key in layer.neuron_type().linear_part)
    if layer.activation == "square":
        return QuadraticLayer(wr=w, br=b, wg=w, bg=b, wb=w * 0, c=b * 0, activation="relu")
    quadratic = QuadraticLayer.neuron_type()
    reference = {
        key: (w if key in quadratic.matrices else b) * 0 + value
        for key, value in quadratic.reference.items()
    }
    return QuadraticLayer(wr=w, br=b, activation=layer.activation, **reference)


def embed_in_quadratic(net: Network) -> Network:
    """The same function as a network of quadratic neurons (Theorem 1's inclusions).

    Conventional ReLU/identity layers become ``wr = w, br = b, wg = 0, bg = 1, wb = 0, c = 0``;
    conventional z² layers become quadratic ReLU layers ``wr = wg = w, br = bg = b, wb = 0,
    c = 0`` (``relu(z²) = z²``). Only conventional layers are accepted.
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    for k, layer in enumerate(net.layers):
        if layer.neuron_type().degree != 1:
            raise QexprValueError(
                f"layers[{k}]: expected conventional (linear) neurons, got {layer.neuron}"
            )
    return Network(net.input_dim, tuple(_embed(layer) for layer in net.layers))
