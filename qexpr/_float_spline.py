"""Float spline engine: the cells of a one-input network in float64, batched with numpy.

On a cell the network with its ReLU states held fixed is a polynomial of known degree
bound, so the pre-activations of a layer are known from their values at ``N = bound + 1``
Chebyshev points of the cell; those values come from one batched forward pass over all
cells with fixed masks. Values become Chebyshev coefficients (a fixed N×N matrix), and the
roots in (-1, 1) are the eigenvalues of the colleague matrices, stacked over all
(cell, neuron) pairs of equal degree and solved in one ``numpy.linalg.eigvals`` call.

The whole line starts as the two half-lines (-∞, 0] and [0, ∞). Unbounded cells use a
Möbius map: on ``[a, ∞)``, ``x = a + s (1 + t) / (1 - t)`` and the
pre-activation ``p`` of degree ≤ D is replaced by the polynomial ``q(t) = p(x(t)) (1 - t)^D``
which has the same roots; likewise on ``(-∞, b]``.

Tolerance: alongside every value we carry its *magnitude envelope*, the same computation
on absolute values of weights and inputs, which bounds the size of every term. A value or
coefficient whose size is at most ``RTOL`` times the envelope is treated as zero: such a
pre-activation is identically zero (inactive, no roots), such a coefficient does not count
for the degree. Real roots closer than ``ROOT_TOL`` (in the cell's coordinate t ∈ [-1, 1])
are one root whose multiplicity is the cluster size; only odd clusters cut the cell.
Values below resolution, and roots between ``ROOT_TOL`` and ``AMBIGUOUS_TOL`` apart (or
nearly real), are counted as *unresolved*: the counts may then be wrong, and the result
says so instead of guessing silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qexpr._network import Layer, Network, apply_activation

__all__ = ["RTOL", "FloatCell", "float_cells"]

RTOL = 1e-12
ROOT_TOL = 1e-7
IMAG_TOL = 1e-7
EDGE_TOL = 1e-9
AMBIGUOUS_TOL = 1e-4


@dataclass(frozen=True)
class FloatCell:
    """An open interval ``(left, right)`` (floats, ±inf allowed) with fixed ReLU states."""

    left: float
    right: float
    masks: tuple[np.ndarray, ...]
    pattern: tuple[bool, ...]


def degree_bounds(net: Network) -> list[int]:
    """Degree bound of each layer's pre-activation as a polynomial in the one input."""
    bounds, degree = [], 1
    for layer in net.layers:
        degree *= 1 if layer.neuron == "linear" else 2
        bounds.append(degree)
        degree *= 2 if layer.activation == "square" else 1
    return bounds


def chebyshev_points(n: int) -> np.ndarray:
    """The n Chebyshev points of the first kind on (-1, 1), increasing."""
    return np.cos(np.pi * (np.arange(n, 0, -1) - 0.5) / n)


def _values_to_coefficients(n: int) -> np.ndarray:
    """Matrix turning values at :func:`chebyshev_points` into Chebyshev coefficients."""
    return np.linalg.inv(np.polynomial.chebyshev.chebvander(chebyshev_points(n), n - 1)).T


def _to_x(t: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Map t ∈ (-1, 1) to each cell; cells are rows of ``left``, ``right``."""
    left, right = left[:, None], right[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        bounded = (left + right) / 2 + (right - left) / 2 * t
        scale_r = np.maximum(1.0, np.abs(left))
        scale_l = np.maximum(1.0, np.abs(right))
        to_right = left + scale_r * (1 + t) / (1 - t)
        to_left = right - scale_l * (1 - t) / (1 + t)
    x = np.where(np.isinf(right), to_right, bounded)
    return np.where(np.isinf(left), to_left, x)


def _weight(t: np.ndarray, left: np.ndarray, right: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """Factors (cells, points, neurons) turning p(x(t)) into a polynomial in t.

    ``degree`` (cells, neurons) is each pre-activation's degree; bounded cells get 1.
    """
    t, degree = t[:, :, None], degree[:, None, :]
    w = np.where(np.isinf(right)[:, None, None], ((1 - t) / 2) ** degree, 1.0)
    return np.where(np.isinf(left)[:, None, None], ((1 + t) / 2) ** degree, w)


def _unbounded_degrees(
    net: Network, k: int, left: np.ndarray, right: np.ndarray, masks: list[np.ndarray]
) -> np.ndarray:
    """Degree (cells, neurons) of layer k's pre-activations on the unbounded cells (else 0).

    The Möbius weight must use the true degree d, not the bound D: with D > d the
    polynomial in t has a (D - d)-fold root at the far end, which rounding would scatter
    into spurious roots inside the cell.
    """
    degrees = np.zeros((len(left), net.layers[k].out_dim), dtype=int)
    rows = np.nonzero(np.isinf(left) | np.isinf(right))[0]
    if rows.size:
        n = degree_bounds(net)[k] + 1
        centre, half = _standard_interval(left[rows], right[rows])
        x = centre[:, None] + half[:, None] * chebyshev_points(n)[None, :]
        z, e = forward_fixed(net, x, [m[rows] for m in masks], k)
        coeffs = chebyshev_coefficients(np.moveaxis(z, 1, 2), np.moveaxis(e, 1, 2))
        degrees[rows] = effective_degree(coeffs)
    return degrees


def _pre_activation(layer: Layer, h: np.ndarray, env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activation values and their magnitude envelope for inputs ``h`` (…, m)."""
    p = {key: np.asarray(v, dtype=np.float64) for key, v in layer.params.items()}
    a = {key: np.abs(v) for key, v in p.items()}
    if layer.neuron == "linear":
        return h @ p["w"].T + p["b"], env @ a["w"].T + a["b"]
    z = h @ p["wr"].T + p["br"] + (h * h) @ p["wb"].T + p["c"]
    e = env @ a["wr"].T + a["br"] + (env * env) @ a["wb"].T + a["c"]
    if layer.neuron == "quadratic":
        r, g = h @ p["wr"].T + p["br"], h @ p["wg"].T + p["bg"]
        er, eg = env @ a["wr"].T + a["br"], env @ a["wg"].T + a["bg"]
        z = r * g + (h * h) @ p["wb"].T + p["c"]
        e = er * eg + (env * env) @ a["wb"].T + a["c"]
    return z, e


def forward_fixed(
    net: Network, x: np.ndarray, masks: list[np.ndarray], upto: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values at points ``x`` (cells × points) with the ReLU states held fixed.

    ``masks[k]`` (cells × o_k, bool) holds the states of layer k for each cell (ignored
    unless layer k is ReLU). Returns the pre-activations of layer ``upto`` with their
    envelopes, shape (cells, points, o_upto); ``upto = len(net.layers)`` returns the
    network's outputs instead.
    """
    h = x[..., None]
    env = np.abs(h)
    for k, layer in enumerate(net.layers):
        z, e = _pre_activation(layer, h, env)
        if k == upto:
            return z, e
        if layer.activation == "relu":
            m = masks[k][:, None, :]
            h, env = np.where(m, z, 0.0), np.where(m, e, 0.0)
        else:
            h, env = apply_activation(layer.activation, z), apply_activation(layer.activation, e)
    return h, env


def unresolved(values: np.ndarray, envelope: np.ndarray) -> int:
    """How many rows (last axis = points) are below rounding resolution without being zero.

    Such a polynomial is smaller than ``RTOL`` times the size of the terms that produced
    it: float64 cannot tell its sign or roots, and the engine treats it as zero.
    """
    size = np.abs(values).max(axis=-1)
    return int(np.count_nonzero((size > 0) & (size <= RTOL * envelope.max(axis=-1))))


def chebyshev_coefficients(values: np.ndarray, envelope: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients along the last axis, with entries below tolerance set to 0."""
    n = values.shape[-1]
    coeffs = values @ _values_to_coefficients(n)
    scale = envelope.max(axis=-1, keepdims=True)
    return np.where(np.abs(coeffs) <= RTOL * scale, 0.0, coeffs)


def effective_degree(coeffs: np.ndarray) -> np.ndarray:
    """Index of the last nonzero coefficient (0 for a zero polynomial)."""
    nonzero = coeffs != 0
    n = coeffs.shape[-1]
    return np.where(nonzero.any(axis=-1), n - 1 - np.argmax(nonzero[..., ::-1], axis=-1), 0)


def _colleague(coeffs: np.ndarray) -> np.ndarray:
    """Stacked colleague matrices of Chebyshev series c_0..c_d (rows of ``coeffs``), d ≥ 2."""
    batch, d = coeffs.shape[0], coeffs.shape[1] - 1
    mat = np.zeros((batch, d, d))
    idx = np.arange(d - 1)
    mat[:, idx, idx + 1] = 0.5
    mat[:, idx + 1, idx] = 0.5
    mat[:, 0, 1] = 1.0
    mat[:, -1, :] -= coeffs[:, :-1] / (2 * coeffs[:, -1:])
    return mat


def _ambiguous(roots: np.ndarray) -> bool:
    """Whether roots in the cell are too close to be told apart in float64.

    Near-multiple roots are ill-conditioned (a k-fold cluster moves by about eps^(1/k)),
    so two roots within ``AMBIGUOUS_TOL`` of each other, or a root that is nearly but not
    clearly real, make the cell's count uncertain.
    """
    near = roots[np.abs(roots.real) < 1 + AMBIGUOUS_TOL]
    nearly_real = np.abs(near.imag) <= AMBIGUOUS_TOL
    if np.any(nearly_real & (np.abs(near.imag) > IMAG_TOL)):
        return True
    real = np.sort(near[nearly_real].real)
    gaps = np.diff(real)
    return bool(np.any((gaps > ROOT_TOL) & (gaps <= AMBIGUOUS_TOL)))


def _real_roots(coeffs: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Sign-changing roots in (-1, 1) of each Chebyshev series (rows), increasing.

    Also returns how many rows had roots too close to resolve (see :func:`_ambiguous`).
    """
    degrees = effective_degree(coeffs)
    roots: list[np.ndarray] = [np.empty(0)] * len(coeffs)
    ambiguous = 0
    for d in np.unique(degrees):
        rows = np.nonzero(degrees == d)[0]
        if d == 0:
            continue
        if d == 1:
            found = (-coeffs[rows, 0] / coeffs[rows, 1])[:, None] + 0j
        else:
            found = np.linalg.eigvals(_colleague(coeffs[rows, : d + 1]))
        for row, r in zip(rows, found):
            roots[row] = _odd_clusters(r)
            ambiguous += _ambiguous(r)
    return roots, ambiguous


def _odd_clusters(roots: np.ndarray) -> np.ndarray:
    """Near-real roots grouped by closeness; the centres of odd-sized groups in (-1, 1)."""
    real = np.sort(roots[np.abs(roots.imag) <= IMAG_TOL].real)
    if real.size == 0:
        return real
    groups = np.split(real, np.nonzero(np.diff(real) > ROOT_TOL)[0] + 1)
    centres = np.array([g.mean() for g in groups if len(g) % 2 == 1])
    return centres[(centres > -1 + EDGE_TOL) & (centres < 1 - EDGE_TOL)]


#: Where each new cell's ReLU states are read, as fractions of the cell (in t).
_SAMPLES = np.array([0.25, 0.5, 0.75])


def _samples(bounds_t: list[np.ndarray]) -> np.ndarray:
    """Three sample points (in t) inside each new cell, shape (cells, 3)."""
    lo = np.concatenate([b[:-1] for b in bounds_t])[:, None]
    hi = np.concatenate([b[1:] for b in bounds_t])[:, None]
    return lo + (hi - lo) * _SAMPLES


def _states(z: np.ndarray, e: np.ndarray) -> np.ndarray:
    """ReLU states from values at a cell's sample points (cells, samples, neurons).

    A pre-activation keeps its sign on the cell except at even-multiplicity roots, so the
    sign is read where it is largest relative to its envelope (a sample can sit on a
    tangent root, where the value is 0).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.where(e > 0, np.abs(z) / e, 0.0)
    best = np.argmax(strength, axis=1)[:, None, :]
    z_best = np.take_along_axis(z, best, axis=1)[:, 0, :]
    e_best = np.take_along_axis(e, best, axis=1)[:, 0, :]
    return z_best > RTOL * e_best


def float_cells(
    net: Network, domain: tuple[float, float] | None = None
) -> tuple[list[FloatCell], int]:
    """The cells of a one-input network in float64 (see the module docstring).

    Parameters
    ----------
    net
        Network with ``input_dim == 1``.
    domain
        ``None`` for the whole line or ``(a, b)`` with ``a < b``.

    Returns
    -------
    cells, unresolved
        The cells left to right, and how many (cell, neuron) pre-activations were below
        float64 resolution (see :func:`unresolved`); when that is not 0 the counts may
        be wrong and the exact engine should be used.
    """
    bounds = degree_bounds(net)
    # The whole line starts as two half-lines; merging later removes the cut at 0.
    left = np.array([-np.inf, 0.0]) if domain is None else np.array([float(domain[0])])
    right = np.array([0.0, np.inf]) if domain is None else np.array([float(domain[1])])
    masks: list[np.ndarray] = []
    lost = 0
    for k, layer in enumerate(net.layers):
        if layer.activation != "relu":
            masks.append(np.zeros((len(left), layer.out_dim), dtype=bool))
            continue
        n = bounds[k] + 1
        t = chebyshev_points(n)
        x = _to_x(t[None, :], left, right)
        z, e = forward_fixed(net, x, masks, k)
        w = _weight(t[None, :], left, right, _unbounded_degrees(net, k, left, right, masks))
        values = np.moveaxis(z * w, 1, 2).reshape(-1, n)
        envelope = np.moveaxis(e * w, 1, 2).reshape(-1, n)
        lost += unresolved(values, envelope)
        coeffs = chebyshev_coefficients(values, envelope)
        roots, ambiguous = _real_roots(coeffs)
        lost += ambiguous
        cuts_t = []
        for cell in range(len(left)):
            cell_roots = np.concatenate(roots[cell * layer.out_dim : (cell + 1) * layer.out_dim])
            cell_roots = np.sort(cell_roots)
            if cell_roots.size:
                keep = np.concatenate([[True], np.diff(cell_roots) > ROOT_TOL])
                cell_roots = cell_roots[keep]
            cuts_t.append(np.concatenate([[-1.0], cell_roots, [1.0]]))
        parent = np.repeat(np.arange(len(left)), [len(c) - 1 for c in cuts_t])
        t_samples = _samples(cuts_t)
        x_cuts = [
            _to_x(c[None, :], left[i : i + 1], right[i : i + 1])[0] for i, c in enumerate(cuts_t)
        ]
        new_left = np.concatenate(
            [np.concatenate([[left[i]], xc[1:-1]]) for i, xc in enumerate(x_cuts)]
        )
        new_right = np.concatenate(
            [np.concatenate([xc[1:-1], [right[i]]]) for i, xc in enumerate(x_cuts)]
        )
        masks = [m[parent] for m in masks]
        x_samples = _to_x(t_samples, left[parent], right[parent])
        masks.append(_states(*forward_fixed(net, x_samples, masks, k)))
        left, right = new_left, new_right
    relu = [k for k, layer in enumerate(net.layers) if layer.activation == "relu"]
    cells = [
        FloatCell(
            float(left[i]),
            float(right[i]),
            tuple(m[i] for m in masks),
            tuple(bool(v) for k in relu for v in masks[k][i]),
        )
        for i in range(len(left))
    ]
    return cells, lost


def _standard_interval(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and half-width of the interval on which each cell's polynomial is sampled.

    The polynomial of a cell is defined on the whole line, so the interval need not lie in
    the cell. It is centred in (or next to) the cell and at least as wide as the spread of
    all finite endpoints: on a wide interval the top Chebyshev coefficients are large next
    to rounding noise, so the degree is read reliably.
    """
    finite = np.abs(np.concatenate([left, right]))
    spread = float(finite[np.isfinite(finite)].max(initial=0.0))
    with np.errstate(invalid="ignore"):
        centre = np.where(
            np.isinf(left), right - 1.0, np.where(np.isinf(right), left + 1.0, (left + right) / 2)
        )
        width = np.where(np.isinf(left) | np.isinf(right), 1.0, (right - left) / 2)
    return centre, np.maximum(width, max(1.0, spread))


def output_series(
    net: Network, cells: list[FloatCell]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[bool], int]:
    """Output Chebyshev coefficients of each cell on its standard interval.

    Returns ``(coeffs, centre, half, same, unresolved)``: coefficients (cells, outputs, N)
    with entries below tolerance zeroed, the standard intervals, for each pair of adjacent
    cells whether their output polynomials agree within tolerance, and how many outputs
    were below resolution.
    """
    bounds = degree_bounds(net)
    n = bounds[-1] * (2 if net.layers[-1].activation == "square" else 1) + 1
    left = np.array([c.left for c in cells])
    right = np.array([c.right for c in cells])
    masks = [np.array([c.masks[k] for c in cells]) for k in range(len(net.layers))]
    centre, half = _standard_interval(left, right)
    x = centre[:, None] + half[:, None] * chebyshev_points(n)[None, :]
    values, env = forward_fixed(net, x, masks, len(net.layers))
    coeffs = chebyshev_coefficients(np.moveaxis(values, 1, 2), np.moveaxis(env, 1, 2))
    lost = unresolved(np.moveaxis(values, 1, 2), np.moveaxis(env, 1, 2))
    shifted = [m[1:] for m in masks]
    other, other_env = forward_fixed(net, x[:-1], shifted, len(net.layers))
    diff = np.abs(values[:-1] - other)
    same = np.all(diff <= RTOL * (env[:-1] + other_env), axis=(1, 2))
    return coeffs, centre, half, list(same), lost
