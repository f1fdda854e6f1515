"""Batched Chebyshev tools: interpolation at Chebyshev points and real roots in (-1, 1).

Small pure functions on arrays whose last axis holds Chebyshev coefficients c_0..c_d
(low → high) of polynomials on [-1, 1]; every function works on a whole batch at once.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "AMBIGUOUS_TOL",
    "IMAG_TOL",
    "ROOT_TOL",
    "SLOPE_TOL",
    "chebyshev_points",
    "effective_degree",
    "sign_changes",
    "values_to_coefficients",
]

#: Real roots closer than this (in t) are one root whose multiplicity is the cluster size;
#: roots closer than this to ±1 are taken to lie on the end of the interval.
ROOT_TOL = 1e-7
#: Eigenvalues with imaginary part at most this are real roots.
IMAG_TOL = 1e-7
#: Roots between ROOT_TOL and this apart, or nearly real, cannot be told apart reliably.
AMBIGUOUS_TOL = 1e-4
#: A root where ``|q'(t)|`` is at most this times the row's magnitude is ill-conditioned:
#: rounding of relative size 1e-15 in the values moves it by more than ``ROOT_TOL``.
SLOPE_TOL = 1e-8


@cache
def chebyshev_points(n: int) -> np.ndarray:
    """The n Chebyshev points of the first kind, ``cos((2k - 1)π / 2n)``, increasing."""
    points = np.cos(np.pi * (np.arange(n, 0, -1) - 0.5) / n)
    points.flags.writeable = False
    return points


@cache
def _transform(n: int) -> np.ndarray:
    matrix = np.linalg.inv(np.polynomial.chebyshev.chebvander(chebyshev_points(n), n - 1)).T
    matrix.flags.writeable = False
    return matrix


def values_to_coefficients(values: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients from values at :func:`chebyshev_points` (last axis)."""
    return values @ _transform(values.shape[-1])


def effective_degree(coeffs: np.ndarray) -> np.ndarray:
    """Index of the last nonzero coefficient along the last axis (0 for zero)."""
    nonzero = coeffs != 0
    n = coeffs.shape[-1]
    return np.where(nonzero.any(axis=-1), n - 1 - np.argmax(nonzero[..., ::-1], axis=-1), 0)


def _colleague(coeffs: np.ndarray) -> np.ndarray:
    """Stacked colleague matrices (B, d, d) of series c_0..c_d with c_d != 0 and d >= 2.

    Their eigenvalues are the roots: ``t T_0 = T_1`` and ``t T_j = (T_{j-1} + T_{j+1}) / 2``
    with ``T_d`` eliminated through the series.
    """
    batch, d = coeffs.shape[0], coeffs.shape[1] - 1
    mat = np.zeros((batch, d, d))
    idx = np.arange(d - 1)
    mat[:, idx, idx + 1] = 0.5
    mat[:, idx + 1, idx] = 0.5
    mat[:, 0, 1] = 1.0
    mat[:, -1, :] -= coeffs[:, :-1] / (2 * coeffs[:, -1:])
    return mat


def _odd_clusters(
    eigenvalues: np.ndarray, pinned: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of the odd-sized clusters of real roots in each row, and ambiguous rows.

    Returns ``(rows, centres, ambiguous)``: one entry per odd cluster strictly inside
    ``(-1 + ROOT_TOL, 1 - ROOT_TOL)``, and a boolean per row. A single root at an end the
    row is proved to vanish at (``pinned``, see :func:`sign_changes`) is that end.
    """
    batch, d = eigenvalues.shape
    imag = np.abs(eigenvalues.imag)
    vals = np.sort(np.where(imag <= IMAG_TOL, eigenvalues.real, np.inf), axis=1)
    finite = np.isfinite(vals)
    with np.errstate(invalid="ignore"):
        gaps = np.diff(vals, axis=1)
        starts = np.ones_like(finite)
        starts[:, 1:] = ~(gaps <= ROOT_TOL)
        close = (gaps > ROOT_TOL) & (gaps <= AMBIGUOUS_TOL) & (np.abs(vals[:, 1:]) < 1)
    group = np.cumsum((starts & finite).ravel()) - 1
    flat = finite.ravel()
    group, values = group[flat], vals.ravel()[flat]
    row_of = np.repeat(np.arange(batch), d)[flat]
    size = np.bincount(group)
    centre = np.bincount(group, weights=values) / np.maximum(size, 1)
    row = np.zeros(size.shape, dtype=int)
    row[group] = row_of
    inside = np.abs(centre) < 1 - ROOT_TOL
    keep = (size % 2 == 1) & inside
    nearly_real = (imag > IMAG_TOL) & (imag <= AMBIGUOUS_TOL) & (np.abs(eigenvalues.real) < 1)
    # A cluster of several roots may be one multiple root or distinct close roots; a root
    # within ROOT_TOL of an end may lie just inside or outside: float64 cannot tell.
    unsure = np.zeros(batch, dtype=bool)
    unsure[row[(size > 1) & inside]] = True
    at_end = (np.abs(centre) >= 1 - ROOT_TOL) & (np.abs(centre) < 1 + ROOT_TOL)
    if pinned is not None:
        at_end &= ~((size == 1) & pinned[row, (centre > 0).astype(int)])
    unsure[row[at_end]] = True
    ambiguous = close.any(axis=1) | nearly_real.any(axis=1) | unsure
    return row[keep], centre[keep], ambiguous


def sign_changes(
    coeffs: np.ndarray, scale: np.ndarray | None = None, *, pinned: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Roots of odd multiplicity in (-1, 1) of a batch of Chebyshev series (rows).

    Returns ``(rows, roots, ambiguous)``: for each sign change the row it belongs to and
    its position t, and the number of rows whose roots cannot be trusted: not finite
    (float64 overflowed), too close to each other, or (given each row's magnitude
    ``scale``) so flat that rounding moves them by more than ``ROOT_TOL``
    (``|q'(t)| <= SLOPE_TOL * scale``). ``pinned`` (rows, 2), if given, marks rows proved
    to vanish at t = -1 and t = 1: a root there is not in doubt. Rows of equal degree share
    one batched eigenvalue solve.
    """
    finite = np.all(np.isfinite(coeffs), axis=-1)
    degrees = np.where(finite, effective_degree(coeffs), 0)  # overflowed rows: no roots, ...
    rows_out, roots_out = [np.empty(0, dtype=int)], [np.empty(0)]
    ambiguous = int(np.count_nonzero(~finite))  # ... and counted as unresolved
    for d in np.unique(degrees[degrees > 0]):
        rows = np.nonzero(degrees == d)[0]
        if d == 1:
            t = -coeffs[rows, 0] / coeffs[rows, 1]
            keep = np.abs(t) < 1 - ROOT_TOL
            at_end = np.abs(np.abs(t) - 1) < ROOT_TOL
            if pinned is not None:  # a root proved to be the end itself is no doubt
                at_end &= ~pinned[rows, (t > 0).astype(int)]
            ambiguous += int(np.count_nonzero(at_end))  # inside or outside: cannot tell
            rows_out.append(rows[keep])
            roots_out.append(t[keep])
            continue
        eigenvalues = np.linalg.eigvals(_colleague(coeffs[rows, : d + 1]))
        found, t, unclear = _odd_clusters(eigenvalues, None if pinned is None else pinned[rows])
        rows_out.append(rows[found])
        roots_out.append(t)
        ambiguous += int(np.count_nonzero(unclear))
    rows, roots = np.concatenate(rows_out), np.concatenate(roots_out)
    if scale is not None and rows.size:
        derivative = np.polynomial.chebyshev.chebder(coeffs, axis=1)[rows]
        slope = np.polynomial.chebyshev.chebval(roots, derivative.T, tensor=False)
        flat = np.abs(slope) <= SLOPE_TOL * scale[rows]
        ambiguous += len(np.unique(rows[flat]))
    return rows, roots, ambiguous
