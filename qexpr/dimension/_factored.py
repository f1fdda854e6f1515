"""Factorisation upper bound on the dimension of a neurovariety (``docs/theory.md``).

Every neuron's pre-activation is a polynomial of degree at most 2 in its layer input
:math:`a \\in \\mathbb{C}^n`, written with :math:`\\tilde a = (1, a)` as
:math:`p(a) = \\tilde a^\\top M \\tilde a / 2` for a symmetric integer matrix :math:`M`
(:math:`M_{ij}` for :math:`i \\ne j` is the coefficient of :math:`\\tilde a_i \\tilde a_j`,
:math:`M_{ii}` twice that of :math:`\\tilde a_i^2`):

- ``linear``: :math:`M_{0j} = w_j` (:math:`M_{00} = 2b`);
- ``quadratic``: :math:`M = \\tilde u \\tilde v^\\top + \\tilde v \\tilde u^\\top
  + 2\\operatorname{diag}(c, w_b)` with :math:`\\tilde u = (b_r, w_r)`,
  :math:`\\tilde v = (b_g, w_g)`;
- ``compact``: :math:`M_{0j} = w_{r,j}`, :math:`M_{jj} = 2 w_{b,j}` (:math:`M_{00} = 2(b_r + c)`).

The network map factors as :math:`\\theta \\mapsto \\varphi(\\theta) = (M_{l,i})_{l,i} \\mapsto f`.
With :math:`\\Phi = \\overline{\\varphi(\\Theta)}` (a product of per-neuron image closures
:math:`S`), :math:`\\dim V \\le \\dim\\Phi - s`, where :math:`s` is the rank at a random point of
tangent vectors of curves in :math:`\\Phi` along which :math:`f` is constant (substitutions
:math:`a_l \\mapsto A a_l (+ t)` compensated in the next layer).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from qexpr.dimension._rank import modular_rank
from qexpr.dimension._spec import PolyNetSpec

__all__ = ["factored_bound", "factored_point", "factored_tangents", "neuron_dimension"]


def _features(kind: str, n: int, bias: bool) -> list[tuple[int, int]]:
    """Entries :math:`(i, j)`, :math:`i \\le j`, of :math:`M` that the neuron can make nonzero."""
    if kind == "linear":
        out = [(0, j) for j in range(1, n + 1)]
    elif kind == "compact":
        out = [(0, j) for j in range(1, n + 1)] + [(j, j) for j in range(1, n + 1)]
    else:
        out = [(i, j) for i in range(1, n + 1) for j in range(i, n + 1)]
        out += [(0, j) for j in range(1, n + 1)] if bias else []
    return out + ([(0, 0)] if bias else [])


def neuron_dimension(kind: str, n: int, bias: bool) -> int:
    """Upper bound on :math:`\\dim S`, the closure of one neuron's set of pre-activations.

    ``linear`` and ``compact`` neurons fill the linear space of their features
    (:math:`n`, :math:`2n`, plus one constant with biases). A ``quadratic`` neuron is
    :math:`\\operatorname{sym}(\\tilde u \\tilde v^\\top) + \\operatorname{diag}`: its
    :math:`3n\\,(+3)` parameters have the fibre direction :math:`(\\tilde u, -\\tilde v, 0)`
    everywhere, so :math:`\\dim S \\le \\min(3n - 1\\,(+3), \\#\\text{features})`.
    """
    features = len(_features(kind, n, bias))
    if kind == "quadratic":
        return min(3 * n - 1 + (3 if bias else 0), features)
    return features


@cache
def _quadratic_is_dense(n: int, bias: bool, p: int) -> bool:
    """Whether a quadratic neuron's pre-activations are dense in their feature space.

    Certified: the rank mod :math:`p` of the Jacobian of the parameters-to-:math:`M` map at
    random parameters is a lower bound on :math:`\\dim S`; equal to the number of features it
    proves :math:`S` is the whole (irreducible) feature space.
    """
    features = _features("quadratic", n, bias)
    if neuron_dimension("quadratic", n, bias) < len(features):
        return False
    rng = np.random.default_rng([n, int(bias)])
    u, v = rng.integers(1, p, n + 1), rng.integers(1, p, n + 1)
    if not bias:
        u[0] = v[0] = 0
    columns = []
    for k in range(1 if not bias else 0, n + 1):
        e = np.zeros(n + 1, dtype=np.int64)
        e[k] = 1
        columns += [np.outer(e, v) + np.outer(v, e), np.outer(u, e) + np.outer(e, u)]
        columns.append(2 * np.outer(e, e))  # w_b (k >= 1) or c (k = 0)
    jac = np.array([[col[i, j] % p for col in columns] for i, j in features], dtype=np.int64)
    return modular_rank(jac, p) == len(features)


def _is_linear_set(kind: str, n: int, bias: bool, p: int) -> bool:
    """Whether the neuron set :math:`S` is a linear space (closed under sums and scalars)."""
    return kind != "quadratic" or _quadratic_is_dense(n, bias, p)


def _substitution_closed(kind: str, n: int, bias: bool, p: int) -> bool:
    """Whether :math:`S` is closed under every (affine, with biases) substitution of its input."""
    return kind == "linear" or (kind == "quadratic" and _quadratic_is_dense(n, bias, p))


def factored_point(spec: PolyNetSpec, theta: np.ndarray, p: int) -> list[np.ndarray]:
    """:math:`\\varphi(\\theta)`: per layer, the matrices :math:`M` of shape ``(m, n+1, n+1)``."""
    out = []
    for layer, w in enumerate(spec.blocks(theta), start=1):
        kind = spec.layer_neuron(layer)
        m, n = spec.widths[layer], spec.widths[layer - 1]
        zero = np.zeros(m, dtype=np.int64)
        mats = np.zeros((m, n + 1, n + 1), dtype=np.int64)
        if kind == "quadratic":
            u = np.column_stack([w.get("br", zero), w["wr"]])
            v = np.column_stack([w.get("bg", zero), w["wg"]])
            mats += u[:, :, None] * v[:, None, :] % p + v[:, :, None] * u[:, None, :] % p
            mats[:, 0, 0] += 2 * w.get("c", zero)
        else:
            linear = w["W"] if "W" in w else w["wr"]
            mats[:, 0, 1:] += linear
            mats[:, 1:, 0] += linear
            mats[:, 0, 0] += 2 * (w.get("b", zero) + w.get("br", zero) + w.get("c", zero))
        if "wb" in w:
            idx = np.arange(1, n + 1)
            mats[:, idx, idx] += 2 * w["wb"]
        out.append(mats % p)
    return out


def _substitution(mats: np.ndarray, row: int, col: int, factor: int) -> np.ndarray:
    """Tangent of :math:`\\tilde a \\mapsto (I + \\epsilon\\,\\text{factor}\\,E_{row,col})\\tilde a`
    in every pre-activation: :math:`\\text{factor}\\,(E^\\top M + M E)`."""
    out = np.zeros_like(mats)
    out[:, col, :] += factor * mats[:, row, :]
    out[:, :, col] += factor * mats[:, :, row]
    return out


def _kernel(matrix: np.ndarray, rank: int, p: int) -> np.ndarray | None:
    """Basis (columns) of the right kernel of ``matrix`` mod ``p``, or None unless its rank mod
    ``p`` is ``rank`` (a proved upper bound on its generic rank, so that the kernel at this
    point is spanned by polynomial kernel vectors: Cramer's rule on a nonzero minor)."""
    from flint import nmod_mat

    basis, nullity = nmod_mat(matrix.tolist(), p).nullspace()
    if matrix.shape[1] - nullity != rank:
        return None
    return np.array(basis.tolist(), dtype=np.int64)[:, :nullity].reshape(matrix.shape[1], nullity)


def _sym(row: int, col: int, size: int) -> np.ndarray:
    """Coordinates of :math:`E_{row,col} + E_{col,row}`."""
    out = np.zeros((size, size), dtype=np.int64)
    out[row, col] += 1
    out[col, row] += 1
    return out


def _symmetry_tangents(spec, point, layer, p) -> list[dict[int, np.ndarray]]:
    """:math:`GL(d_l)` or torus, and translations, for hidden layer ``layer`` (1-based)."""
    kind, nxt = spec.layer_neuron(layer), spec.layer_neuron(layer + 1)
    n, m, r = spec.widths[layer - 1], spec.widths[layer], spec.r[layer - 1]
    own, after = point[layer - 1], point[layer]
    full = (
        r == 1
        and _is_linear_set(kind, n, spec.bias, p)
        and _substitution_closed(nxt, m, spec.bias, p)
    )
    shift = spec.bias and r == 1 and (nxt != "quadratic" or _quadratic_is_dense(m, True, p))
    vectors = []
    for j in range(m):
        for k in range(m) if full else (j,):
            block = np.zeros_like(own)
            block[j] = own[k]
            after_block = _substitution(after, j + 1, k + 1, -1 if full else -r)
            vectors.append({layer - 1: block, layer: after_block})
        if shift:
            block = np.zeros_like(own)
            block[j, 0, 0] = 2
            vectors.append({layer - 1: block, layer: _substitution(after, j + 1, 0, -1)})
    return vectors


def _bottleneck_tangents(spec, point, layer, p) -> list[dict[int, np.ndarray]]:
    """Fibre directions from linear dependencies, hidden layer ``layer`` (1-based), :math:`r_l = 1`.

    - *dependent outputs*: if :math:`\\sum_j \\ell_j M_{l,j} = 0` then
      :math:`\\ell \\cdot a_l \\equiv 0`, so each next neuron may add :math:`\\ell \\cdot a_l`
      (``linear``, ``compact``) or
      :math:`(\\ell \\cdot a_l)\\,\\tilde a_{l,t}` (dense ``quadratic``);
    - *kernel of the next layer*: if the next layer is ``linear`` with :math:`W k = 0` and
      :math:`S_l` is linear, :math:`M_{l,j} \\mathrel{+}= \\epsilon k_j C` for any feature
      :math:`C`.
    """
    if spec.r[layer - 1] != 1:
        return []
    kind, nxt = spec.layer_neuron(layer), spec.layer_neuron(layer + 1)
    n, m, q = spec.widths[layer - 1], spec.widths[layer], spec.widths[layer + 1]
    own, after = point[layer - 1], point[layer]
    rows, cols = zip(*_features(kind, n, spec.bias), strict=True)
    vectors = []
    coeffs = own[:, list(rows), list(cols)]  # (m, features)
    dependent = _kernel(coeffs.T, min(m, len(rows)), p) if m > len(rows) else None
    if dependent is not None and (nxt != "quadratic" or _quadratic_is_dense(m, spec.bias, p)):
        partners = range(0 if spec.bias else 1, m + 1) if nxt == "quadratic" else (0,)
        for ell in dependent.T:
            tilde = np.concatenate([[0], ell])
            for i in range(q):
                for t in partners:
                    block = np.zeros_like(after)
                    block[i] = np.outer(tilde, np.eye(m + 1, dtype=np.int64)[t])
                    block[i] += block[i].T.copy()
                    vectors.append({layer: block})
    if nxt == "linear" and q < m < len(rows) and _is_linear_set(kind, n, spec.bias, p):
        kernel = _kernel(after[:, 0, 1:], q, p)
        for k in kernel.T if kernel is not None else ():
            for a, b in zip(rows, cols, strict=True):
                block = k[:, None, None] * _sym(a, b, n + 1)[None]
                vectors.append({layer - 1: block})
    return vectors


def factored_tangents(
    spec: PolyNetSpec, point: list[np.ndarray], p: int
) -> list[dict[int, np.ndarray]]:
    """Tangent vectors at ``point`` of curves in :math:`\\Phi` along which the outputs are constant.

    Each vector maps a layer index (0-based) to its nonzero block, shaped like ``point[l]``.
    For hidden layer :math:`l` with activation :math:`z^{r}`:

    - :math:`r = 1`, :math:`S_l` linear and :math:`S_{l+1}` closed under linear substitution:
      :math:`GL(d_l)`, :math:`M_{l,j} \\mathrel{+}= \\epsilon M_{l,k}` and
      :math:`a_j \\mapsto a_j - \\epsilon a_k` in layer :math:`l+1`;
    - otherwise the torus: :math:`M_{l,j} \\mapsto \\lambda M_{l,j}`, :math:`a_j \\mapsto
      \\lambda^{-r} a_j` in layer :math:`l+1`;
    - biases, :math:`r = 1` and :math:`S_{l+1}` closed under translating one input (``linear``,
      ``compact``, linear, dense ``quadratic``): constant of neuron :math:`j` plus
      :math:`\\epsilon`, :math:`a_j \\mapsto a_j - \\epsilon` in layer :math:`l+1`;
    - the bottleneck directions of :func:`_bottleneck_tangents`.
    """
    vectors = []
    for layer in range(1, spec.depth):
        vectors += _symmetry_tangents(spec, point, layer, p)
        vectors += _bottleneck_tangents(spec, point, layer, p)
    return [{key: block % p for key, block in vec.items()} for vec in vectors]


def _coordinates(spec: PolyNetSpec, vectors: list[dict[int, np.ndarray]]) -> np.ndarray:
    """Matrix (one column per vector) of the feature entries of every neuron."""
    index = [
        tuple(
            zip(
                *_features(spec.layer_neuron(layer), spec.widths[layer - 1], spec.bias), strict=True
            )
        )
        for layer in range(1, spec.depth + 1)
    ]
    sizes = [spec.widths[layer + 1] * len(rows) for layer, (rows, _) in enumerate(index)]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    out = np.zeros((offsets[-1], len(vectors)), dtype=np.int64)
    for col, vec in enumerate(vectors):
        for layer, block in vec.items():
            rows, cols = index[layer]
            out[offsets[layer] : offsets[layer + 1], col] = block[:, rows, cols].ravel()
    return out


def factored_bound(spec: PolyNetSpec, theta: np.ndarray, p: int) -> tuple[int, int]:
    """:math:`(\\sum_{\\text{neurons}} \\dim S, s)`; :math:`\\dim V \\le` their difference.

    ``theta`` are random residues mod ``p``; :math:`s` is the rank mod ``p`` of
    :func:`factored_tangents` at :math:`\\varphi(\\theta)`, a lower bound on their generic rank.
    """
    dim_phi = sum(
        spec.widths[layer]
        * neuron_dimension(spec.layer_neuron(layer), spec.widths[layer - 1], spec.bias)
        for layer in range(1, spec.depth + 1)
    )
    tangents = factored_tangents(spec, factored_point(spec, theta, p), p)
    return dim_phi, modular_rank(_coordinates(spec, tangents), p)
