"""Jacobian of a polynomial network's outputs at sample points, exactly mod p or in float64.

For points :math:`x_1, \\dots, x_N` the *evaluated Jacobian* is the
:math:`(d_h N) \\times P` matrix

.. math:: J_{(k, i), j} = \\partial f_k(x_i; \\theta) / \\partial \\theta_j,

row :math:`(k, i)` at index :math:`k N + i`. It is computed in reverse mode, all outputs and
points at once: the adjoint of layer :math:`l` has shape :math:`(d_h, N, d_l)`. With a
modulus :math:`p` every operation is reduced mod :math:`p` on ``int64``; :math:`p < 2^{26}`
keeps each product below :math:`2^{52}`, so sums of up to :math:`2^{11}` products fit.
Without a modulus the same code runs in float64.
"""

from __future__ import annotations

import numpy as np

from qexpr.dimension._spec import PolyNetSpec

__all__ = ["MAX_MODULUS", "evaluated_jacobian", "symmetry_generators"]

MAX_MODULUS = 2**26
_CHUNK = 2**11  # products of residues < 2^26 summed in int64 without overflow


def _red(a: np.ndarray, p: int | None) -> np.ndarray:
    """``a mod p``, or ``a`` itself in float mode (``p is None``)."""
    return a % p if p else a


def _matmul(a: np.ndarray, b: np.ndarray, p: int | None) -> np.ndarray:
    """:math:`a b \\bmod p`, summing at most ``_CHUNK`` products of residues at a time."""
    if not p:
        return a @ b
    out = np.zeros(a.shape[:-1] + b.shape[-1:], dtype=np.int64)
    for start in range(0, a.shape[-1], _CHUNK):
        out = (out + a[..., start : start + _CHUNK] @ b[start : start + _CHUNK]) % p
    return out


def _power(z: np.ndarray, k: int, p: int | None) -> np.ndarray:
    """:math:`z^k \\bmod p` entrywise (:math:`k \\ge 0`)."""
    out = np.ones_like(z)
    for _ in range(k):
        out = _red(out * z, p)
    return out


def _pre_activation(kind: str, a: np.ndarray, w: dict[str, np.ndarray], p: int | None) -> dict:
    """Intermediate values of one layer at input ``a`` (shape ``(N, n)``); ``z`` is the output."""
    sq = _red(a * a, p)
    if kind == "linear":
        z = _matmul(a, w["W"].T, p) + w.get("b", 0)
        return {"z": _red(z, p)}
    if kind == "compact":
        z = _matmul(a, w["wr"].T, p) + _matmul(sq, w["wb"].T, p) + w.get("br", 0) + w.get("c", 0)
        return {"z": _red(z, p), "sq": sq}
    u = _red(_matmul(a, w["wr"].T, p) + w.get("br", 0), p)
    v = _red(_matmul(a, w["wg"].T, p) + w.get("bg", 0), p)
    z = u * v % p if p else u * v
    z = _red(z + _matmul(sq, w["wb"].T, p) + w.get("c", 0), p)
    return {"z": z, "sq": sq, "u": u, "v": v}


def _outer(g: np.ndarray, a: np.ndarray, p: int | None) -> np.ndarray:
    """Weight gradient :math:`g_{k i s} a_{i t}` as shape ``(K, N, m * n)``."""
    out = _red(g[:, :, :, None] * a[None, :, None, :], p)
    return out.reshape(g.shape[0], g.shape[1], -1)


def _layer_backward(
    kind: str, a: np.ndarray, cache: dict, w: dict[str, np.ndarray], zbar: np.ndarray, p
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of one layer's blocks, shape ``(K, N, size)``, and the input adjoint.

    ``zbar`` is the adjoint of the pre-activation :math:`z`, shape ``(K, N, m)``.
    """
    if kind == "linear":
        return {"W": _outer(zbar, a, p), "b": zbar}, _matmul(zbar, w["W"], p)
    quad_in = 2 * a[None] * _matmul(zbar, w["wb"], p)
    if kind == "compact":
        grads = {"wr": _outer(zbar, a, p), "wb": _outer(zbar, cache["sq"], p)}
        grads |= {"br": zbar, "c": zbar}
        return grads, _red(_matmul(zbar, w["wr"], p) + _red(quad_in, p), p)
    ubar = _red(zbar * cache["v"][None], p)
    vbar = _red(zbar * cache["u"][None], p)
    grads = {"wr": _outer(ubar, a, p), "wg": _outer(vbar, a, p), "wb": _outer(zbar, cache["sq"], p)}
    grads |= {"br": ubar, "bg": vbar, "c": zbar}
    abar = _matmul(ubar, w["wr"], p) + _matmul(vbar, w["wg"], p) + _red(quad_in, p)
    return grads, _red(abar, p)


def evaluated_jacobian(
    spec: PolyNetSpec, theta: np.ndarray, points: np.ndarray, p: int | None
) -> np.ndarray:
    """The :math:`(d_h N) \\times P` Jacobian of the outputs at ``points`` w.r.t. ``theta``.

    Parameters
    ----------
    spec : PolyNetSpec
        The architecture.
    theta : numpy.ndarray
        Parameter vector of length ``spec.parameters`` (residues mod ``p`` as int64, or float64).
    points : numpy.ndarray
        Shape ``(N, d_0)``, same dtype convention.
    p : int or None
        Prime modulus below :data:`MAX_MODULUS`, or None for float64 arithmetic.
    """
    weights = spec.blocks(theta)
    acts, caches = [points], []
    for layer in range(1, spec.depth + 1):
        cache = _pre_activation(spec.layer_neuron(layer), acts[-1], weights[layer - 1], p)
        caches.append(cache)
        r = spec.r[layer - 1] if layer < spec.depth else 1
        acts.append(_power(cache["z"], r, p))
    n_out, n_pts = spec.widths[-1], points.shape[0]
    jac = np.zeros((n_out, n_pts, spec.parameters), dtype=theta.dtype)
    adjoint = np.broadcast_to(np.eye(n_out, dtype=theta.dtype)[:, None, :], (n_out, n_pts, n_out))
    for layer in range(spec.depth, 0, -1):
        r = spec.r[layer - 1] if layer < spec.depth else 1
        slope = _red(r * _power(caches[layer - 1]["z"], r - 1, p), p)
        zbar = _red(adjoint * slope[None], p)
        grads, adjoint = _layer_backward(
            spec.layer_neuron(layer),
            acts[layer - 1],
            caches[layer - 1],
            weights[layer - 1],
            zbar,
            p,
        )
        for name, (off, shape) in spec.layout()[layer - 1].items():
            jac[:, :, off : off + int(np.prod(shape))] = grads[name]
    return jac.reshape(n_out * n_pts, spec.parameters)


def symmetry_generators(spec: PolyNetSpec, theta: np.ndarray, p: int | None) -> np.ndarray:
    """Tangent vectors of known parameter symmetries at ``theta``: a :math:`P \\times S` matrix.

    Each column :math:`g` satisfies :math:`J(\\theta) g = 0` identically (see
    ``docs/theory.md``). Per hidden neuron :math:`i` of layer :math:`l`:

    - *rescaling*: :math:`z_i \\mapsto \\lambda z_i` (all parameters of neuron :math:`i` that
      enter :math:`z_i` linearly: ``W``/``b``; ``wr, br, wb, c``; ``wr, wb, br, c``),
      compensated by :math:`\\lambda^{-r_l}` on column :math:`i` of the next layer's linear
      weights (``W``, ``wr``, ``wg``) and :math:`\\lambda^{-2 r_l}` on ``wb``;
    - ``quadratic``: :math:`(w_r, b_r) \\mapsto t (w_r, b_r)`,
      :math:`(w_g, b_g) \\mapsto (w_g, b_g)/t`;
    - ``compact`` with biases: :math:`b_r \\mapsto b_r + s`, :math:`c \\mapsto c - s`;
    - ``linear`` with :math:`r_l = 1`: the whole :math:`GL(d_l)` acting as
      :math:`W_l \\mapsto A W_l`, :math:`b_l \\mapsto A b_l`,
      :math:`W_{l+1} \\mapsto W_{l+1} A^{-1}`
      (it contains the rescalings);
    - with biases and :math:`r_l = 1`: the shift :math:`a_{l,i} \\mapsto a_{l,i} + s` (via ``b`` or
      ``c``), compensated by the next layer's bias if that layer is ``linear``, and
      by :math:`w_{r} \\mapsto w_r - 2 s w_b`, :math:`b_r \\mapsto b_r - s w_r + s^2 w_b` (column
      :math:`i`, old :math:`w_r`) if it is ``compact``, so that
      :math:`w_r' (a_i + s) + w_b (a_i + s)^2 + b_r' = w_r a_i + w_b a_i^2 + b_r`; to first
      order in :math:`s` this is the tangent :math:`(-2 w_b, -w_r)` built below.
    """
    layout = spec.layout()
    weights = spec.blocks(theta)
    columns: list[np.ndarray] = []

    def new() -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
        g = np.zeros_like(theta)
        columns.append(g)
        return g, spec.blocks(g)

    for layer in range(1, spec.depth):
        kind, nxt_kind, r = (
            spec.layer_neuron(layer),
            spec.layer_neuron(layer + 1),
            spec.r[layer - 1],
        )
        own, nxt = weights[layer - 1], weights[layer]
        for i in range(spec.widths[layer]):
            if kind == "linear" and r == 1:
                for j in range(spec.widths[layer]):
                    _, gb = new()  # A = I + eps E_ij: row i gains row j; column j loses column i
                    gb[layer - 1]["W"][i] = own["W"][j]
                    if spec.bias:
                        gb[layer - 1]["b"][i] = own["b"][j]
                    gb[layer]["W"][:, j] = -nxt["W"][:, i]
            else:
                _, gb = new()
                for name in ("W", "b", "wr", "br", "wb", "c"):
                    if name in layout[layer - 1]:
                        gb[layer - 1][name][i] = own[name][i]
                for name in ("W", "wr", "wg", "wb"):
                    if name in layout[layer]:
                        factor = 2 * r if name == "wb" else r
                        gb[layer][name][:, i] = -factor * nxt[name][:, i]
            if kind == "quadratic":
                _, gb = new()
                for name, sign in (("wr", 1), ("br", 1), ("wg", -1), ("bg", -1)):
                    if name in layout[layer - 1]:
                        gb[layer - 1][name][i] = sign * own[name][i]
            if kind == "compact" and spec.bias:
                _, gb = new()
                gb[layer - 1]["br"][i], gb[layer - 1]["c"][i] = 1, -1
            if spec.bias and r == 1 and nxt_kind != "quadratic":
                _, gb = new()
                gb[layer - 1]["b" if kind == "linear" else "c"][i] = 1
                if nxt_kind == "compact":
                    gb[layer]["wr"][:, i] = -2 * nxt["wb"][:, i]
                    gb[layer]["br"][:] = -nxt["wr"][:, i]
                else:
                    gb[layer]["b"][:] = -nxt["W"][:, i]
    if not columns:
        return np.zeros((theta.size, 0), dtype=theta.dtype)
    return _red(np.stack(columns, axis=1), p)
