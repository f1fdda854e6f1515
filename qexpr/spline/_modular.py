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

    def residues(self, primes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``M`` (P, m, n) and ``B`` (P, 1, n) modulo each prime, as float64 integers:
        ``mantissa * 2^shift``, with a table of the powers of two modulo each prime."""
        modulus = primes[:, None]
        powers = np.ones((len(primes), int(self.shift.max()) + 1), dtype=np.int64)
        for k in range(1, powers.shape[1]):
            powers[:, k] = powers[:, k - 1] * 2 % primes
        res = (self.mantissa[None, :] % modulus) * powers[:, self.shift] % modulus
        m, n = self.shape
        res = res.astype(np.float64)
        return res[:, : m * n].reshape(-1, m, n), res[:, None, m * n :]


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


class Modular:
    """Exact integer slopes ``S 2^σ`` and intercepts ``C 2^τ`` of every cell, held modulo
    primes ``p < 2^k`` as float64 integers of size at most ``1.5 p``, with
    ``(m + 1) (1.5 p)^2 < 2^52``: a float64 matrix product (BLAS) of residues is then exact
    (every partial sum is an integer below 2^52). Integers are recovered by the Chinese
    remainder theorem."""

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
        self.p = self.primes.astype(np.float64)[:, None, None]
        self.inverse = 1 / self.p
        self.weights = [layer.residues(self.primes) for layer in layers]
        self.exponents = [layer.exponent for layer in layers]
        self.slope, self.slope_exp = np.ones((count, 1, 1)), 0
        self.intercept, self.intercept_exp = np.zeros((count, 1, 1)), 0
        #: The cells' rows are ``values[:, parent] * mask`` (None: the values themselves);
        #: kept unexpanded, so wide layers are gathered a block of cells at a time.
        self.parent: np.ndarray | None = None
        self.mask: np.ndarray | None = None

    def set(
        self,
        slope: tuple[np.ndarray, int],
        intercept: tuple[np.ndarray, int],
        parent: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> None:
        """The new cells: ``(residues, exponent)`` of the slopes and intercepts, as rows
        ``parent`` with ``mask`` applied (all rows as they are when ``parent`` is None)."""
        (self.slope, self.slope_exp), (self.intercept, self.intercept_exp) = slope, intercept
        self.parent, self.mask = parent, mask

    def rows(self, values: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """The residues of some cells, gathered and masked."""
        if self.parent is None:
            return values[:, rows]
        picked = np.take(values, self.parent[rows], axis=1)
        picked *= self.mask[rows]
        return picked

    def _product(self, values: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``rows @ w`` for every cell, a block of cells at a time (bounded memory)."""
        count = len(self.parent) if self.parent is not None else values.shape[1]
        out = np.empty((len(self.primes), count, w.shape[2]))
        block = max(1, BLOCK_VALUES // (len(self.primes) * max(w.shape[1], w.shape[2])))
        for start in range(0, count, block):
            part = slice(start, min(start + block, count))
            np.matmul(self.rows(values, part), w, out=out[:, part])
        return out

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        """A residue of ``x`` of size at most ``1.5 p``, in place, for float64 integers
        ``|x| < 2^52``: ``x - q p`` with ``q`` the quotient ``x / p`` read in float64 and
        rounded (within 1 of the nearest integer; ``q p`` is exact)."""
        q = np.multiply(x, self.inverse)
        np.rint(q, out=q)
        q *= self.p
        x -= q
        return x

    def _power(self, k: int) -> np.ndarray:
        return np.array([pow(2, k, int(p)) for p in self.primes], dtype=np.float64)[:, None, None]

    def pre_activation(self, k: int) -> tuple[np.ndarray, int, np.ndarray, int]:
        """Layer ``k``'s ``(S W, σ + e, C W + b, low + e)`` modulo the primes; the power of
        two that aligns ``C`` with ``b`` is folded into the (small) weight residues."""
        w, b = self.weights[k]
        e = self.exponents[k]
        slope = self._reduce(self._product(self.slope, w))
        low = min(self.intercept_exp, 0)
        lifted = self._reduce(w * self._power(self.intercept_exp - low))
        bias = self._reduce(b * self._power(-low))
        intercept = self._product(self.intercept, lifted)
        intercept += bias
        return slope, self.slope_exp + e, self._reduce(intercept), low + e

    def integers(self, residues: np.ndarray) -> list[int]:
        """The integers (|x| < modulus / 2) with these residues (primes × entries; any
        representatives)."""
        if residues.size == 0:
            return []
        values = (residues.T.astype(np.int64).astype(object) @ self.basis) % self.modulus
        return np.where(values > self.modulus // 2, values - self.modulus, values).tolist()
