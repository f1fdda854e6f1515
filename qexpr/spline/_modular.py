"""Exact integer matrix products of a network's slopes and intercepts, modulo primes.

A float64 weight is an integer times a power of two, so a layer's weights are ``M 2^e``
with ``M`` an integer matrix, and the slopes and intercepts of a piecewise-linear
network's cells are integers times powers of two. :class:`Modular` holds them modulo
primes ``p`` small enough that a float64 matrix product of residues is exact
(``(m + 1) (1.5 p)^2 < 2^52``: every partial sum is an integer below 2^52, in any order,
with or without FMA), so each layer costs one BLAS product per prime; integers are
recovered by the Chinese remainder theorem, with enough primes for an a-priori bound on
them. Used by :mod:`qexpr.spline._pwl`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import flint
import numpy as np

__all__ = ["BLOCK_VALUES", "Integers", "Modular"]

#: Most float64 residues one block of cells holds (32 MB): wide layers are multiplied a
#: block of cells at a time.
BLOCK_VALUES = 2**22


@functools.lru_cache(maxsize=16)
def _primes(bits: int, count: int) -> tuple[int, ...]:
    """The ``count`` largest primes below ``2^bits``."""
    found, candidate = [], 2**bits - 1
    while len(found) < count:
        if flint.fmpz(candidate).is_prime():
            found.append(candidate)
        candidate -= 2
    return tuple(found)


@dataclass(frozen=True)
class Integers:
    """A layer's weights as integers times one power of two: ``W = M 2^e``, ``b = B 2^e``.

    Each weight is ``mantissa * 2^(e + shift)`` (``|mantissa| < 2^53``); ``bits`` bounds the
    integers: ``|M|, |B| < 2^bits``.
    """

    mantissa: np.ndarray
    shift: np.ndarray
    exponent: int
    shape: tuple[int, int]
    bits: int

    @classmethod
    def of(cls, w: np.ndarray, b: np.ndarray) -> Integers:
        values = np.concatenate([w.ravel(), b])
        fraction, exponents = np.frexp(values)
        nonzero = values != 0
        powers = exponents.astype(np.int64) - 53
        e = int(powers[nonzero].min()) if nonzero.any() else 0
        shift = np.where(nonzero, powers - e, 0)
        return cls((fraction * 2.0**53).astype(np.int64), shift, e, w.shape, 53 + int(shift.max()))


def _bit_bound(layers: list[Integers]) -> int:
    """A bound ``2^k`` on every integer slope and intercept of every layer (any states):
    ``|S W| < m 2^(s + bits)``, ``|C W 2^(t - low) + B 2^-low| < (m + 1) 2^(...)``."""
    s_bits, c_bits, c_exp, worst = 1, 0, 0, 1
    for layer in layers:
        grow = layer.bits + (layer.shape[0] + 1).bit_length()
        low = min(c_exp, 0)
        s_bits += grow
        c_bits = max(c_bits + c_exp - low, -low) + grow
        c_exp = low + layer.exponent
        worst = max(worst, s_bits, c_bits)
    return worst


#: Most residues of one layer's weights held at once (128 MB): wider layers read the weight
#: rows they need, when they need them.
DENSE_VALUES = 2**24


class Modular:
    """Exact integer slopes ``S 2^σ`` and intercepts ``C 2^τ`` of every cell's neurons, held
    modulo primes ``p < 2^k`` as float64 integers of size at most ``1.5 p``, with
    ``(m + 1) (1.5 p)^2 < 2^52``: a sum of ``m + 1`` products of residues is then exact in
    float64 in any order (every partial sum is an integer below 2^52). Integers are
    recovered by the Chinese remainder theorem.

    :meth:`scan` walks the cells from left to right. Neighbouring cells differ in the
    states of few neurons, so a layer's pre-activations change by the few weight rows of
    the inputs that changed: each layer costs (cells + changed inputs) × width per prime,
    not cells × width × width.
    """

    def __init__(self, layers: list[Integers]) -> None:
        widest = max(layer.shape[0] for layer in layers)
        bits = (52 - 2 - (widest + 1).bit_length()) // 2  # 1.5^2 < 2^2
        count = -(-(_bit_bound(layers) + 2) // (bits - 1))
        primes = _primes(bits, count)
        self.primes = np.array(primes, dtype=np.int64)
        self.modulus = math.prod(primes)
        self.basis = np.array(
            [self.modulus // p * pow(self.modulus // p, -1, p) % self.modulus for p in primes],
            dtype=object,
        )
        self.p = self.primes.astype(np.float64)
        self.inverse = 1 / self.p
        self.layers = layers
        #: ``(σ, τ)`` of each layer's pre-activations, and the powers of two that align the
        #: intercepts: ``C_k = C_{k-1} M 2^(τ_{k-1} - low) + B 2^-low``, ``τ_k = low + e``.
        self.exponents: list[tuple[int, int]] = []
        self.lifts: list[tuple[int, int]] = []
        sigma, tau = 0, 0
        for layer in layers:
            low = min(tau, 0)
            self.lifts.append((tau - low, -low))
            sigma, tau = sigma + layer.exponent, low + layer.exponent
            self.exponents.append((sigma, tau))
        self._dense: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _column(self, values: np.ndarray) -> np.ndarray:
        """The primes, shaped to broadcast against ``values`` (primes first)."""
        return self.p.reshape((-1,) + (1,) * (values.ndim - 1))

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        """A residue of ``x`` of size at most ``1.5 p``, in place, for float64 integers
        ``|x| < 2^52``: ``x - q p`` with ``q`` the quotient ``x / p`` read in float64 and
        rounded (within 1 of the nearest integer; ``q p`` is exact)."""
        p = self._column(x)
        q = np.multiply(x, 1 / p)
        np.rint(q, out=q)
        q *= p
        x -= q
        return x

    def _power(self, k: int) -> np.ndarray:
        return np.array([pow(2, k, int(p)) for p in self.primes], dtype=np.float64)

    def _residues(self, k: int, part: slice, rows: np.ndarray | None = None) -> np.ndarray:
        """Layer ``k``'s integers ``mantissa * 2^shift`` in ``part`` of its flat list (rows
        ``rows`` of it as a matrix when given) modulo the primes, as int64 in [0, p)."""
        layer = self.layers[k]
        modulus = self.primes.reshape(-1, 1, 1)
        powers = np.ones((len(self.primes), int(layer.shift.max()) + 1), dtype=np.int64)
        for j in range(1, powers.shape[1]):
            powers[:, j] = powers[:, j - 1] * 2 % self.primes
        mantissa, shift = layer.mantissa[part], layer.shift[part]
        if rows is not None:
            width = layer.shape[1]
            mantissa, shift = (a.reshape(-1, width)[rows] for a in (mantissa, shift))
        else:
            mantissa, shift = mantissa[None], shift[None]
        return (mantissa[None] % modulus) * powers[:, shift] % modulus

    def _weights(self, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``rows`` of layer ``k``'s ``M`` modulo the primes (primes × rows × width),
        for slopes and lifted for intercepts."""
        if k in self._dense:
            w_s, w_c = self._dense[k]
            return w_s[:, rows], w_c[:, rows]
        m, n = self.layers[k].shape
        res = self._residues(k, slice(0, m * n), rows)
        lift = np.array([pow(2, self.lifts[k][0], int(p)) for p in self.primes])
        modulus = self.primes.reshape(-1, 1, 1)
        return res.astype(np.float64), (res * lift[:, None, None] % modulus).astype(np.float64)

    def _bias(self, k: int) -> np.ndarray:
        """Layer ``k``'s ``B 2^-low`` modulo the primes (primes × width)."""
        m, n = self.layers[k].shape
        b = self._residues(k, slice(m * n, None))[:, 0].astype(np.float64)
        return self._reduce(b * self._power(self.lifts[k][1])[:, None])

    def _product(self, d: np.ndarray, k: int) -> np.ndarray:
        """``d @ M`` (slopes) and ``d @ M 2^lift`` (intercepts) for changes ``d`` (primes ×
        2 × cells × inputs, each below 3 p): the weight rows of the nonzero entries only, or
        one dense product when most entries change and the weights fit. Entries below 3 p."""
        count, (m, n) = d.shape[2], self.layers[k].shape
        out = np.zeros((len(self.primes), 2, count, n))
        cells, inputs = np.nonzero(np.any(d != 0, axis=(0, 1)))
        if len(cells) * 8 >= count * m and len(self.primes) * m * n <= DENSE_VALUES:
            if k not in self._dense:
                self._dense[k] = self._weights(k, np.arange(m))
            w_s, w_c = self._dense[k]
            d = self._reduce(d.copy())
            np.matmul(d[:, 0], w_s, out=out[:, 0])
            np.matmul(d[:, 1], w_c, out=out[:, 1])
            return self._reduce(out)
        chunk = max(1, BLOCK_VALUES // (len(self.primes) * n))
        for start in range(0, len(cells), chunk):
            i, j = cells[start : start + chunk], inputs[start : start + chunk]
            w_s, w_c = self._weights(k, j)
            changes = self._reduce(d[:, :, i, j])[:, :, :, None]
            terms = np.stack([changes[:, 0] * w_s, changes[:, 1] * w_c], 1)
            starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
            out[:, :, i[starts]] += self._reduce(np.add.reduceat(terms, starts, axis=2))
        return out

    def scan(
        self, masks: list[np.ndarray | None], origin: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every cell's outputs, and the pre-activation of the neuron whose root is its left
        end, modulo the primes.

        Parameters
        ----------
        masks
            Per layer, the cells' ReLU states (cells × width), or None (identity).
        origin
            (layer, neuron) of each cell's left end (layer -1: none).

        Returns
        -------
        The outputs' ``S``, ``C`` (primes × 2 × cells × outputs) and the origins' ``S``,
        ``C`` (primes × 2 × cells). Layer ``k``'s pre-activation on cell ``t`` is
        ``A_k[t] = H_{k-1}[t] M_k + bias``, ``H_k = A_k`` masked; it is carried from cell
        to cell as ``A_k[t] = A_k[t - 1] + (H_{k-1}[t] - H_{k-1}[t - 1]) M_k``.
        """
        count, primes = origin.shape[1], len(self.primes)
        widest = max(max(layer.shape) for layer in self.layers)
        outputs = np.empty((primes, 2, count, self.layers[-1].shape[1]))
        ends = np.zeros((primes, 2, count))
        before = [np.zeros((primes, 2, 1, layer.shape[0])) for layer in self.layers]
        carry = [np.zeros((primes, 2, layer.shape[1])) for layer in self.layers]
        for k in range(len(self.layers)):
            carry[k][:, 1] = self._bias(k)
        x = np.zeros((primes, 2, 1, 1))
        x[:, 0] = 1
        size = max(1, BLOCK_VALUES // (2 * primes * widest))
        for start in range(0, count, size):
            part = slice(start, min(start + size, count))
            here = np.arange(part.start, part.stop)
            h = np.broadcast_to(x, (primes, 2, len(here), 1))
            for k, mask in enumerate(masks):
                d = np.diff(h, axis=2, prepend=before[k])
                before[k] = h[:, :, -1:].copy()
                if d.any():
                    a = self._product(d, k)
                    a[:, :, 0] += carry[k]
                    a = self._reduce(np.cumsum(a, axis=2))
                    carry[k] = a[:, :, -1].copy()
                else:  # no input changed: the pre-activations are those of the cell before
                    a = np.broadcast_to(
                        carry[k][:, :, None], (primes, 2, len(here), len(carry[k][0, 0]))
                    )
                cut = np.flatnonzero(origin[0, part] == k)
                ends[:, :, here[cut]] = a[:, :, cut, origin[1, here[cut]]]
                h = a if mask is None else a * mask[part]
            outputs[:, :, part] = h
        return outputs, ends

    def integers(self, residues: np.ndarray) -> list[int]:
        """The integers (|x| < modulus / 2) with these residues (primes × entries; any
        representatives)."""
        if residues.size == 0:
            return []
        values = (residues.T.astype(np.int64).astype(object) @ self.basis) % self.modulus
        return np.where(values > self.modulus // 2, values - self.modulus, values).tolist()
