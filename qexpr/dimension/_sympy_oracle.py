"""Symbolic (sympy) polynomial networks: the slow, independent reference for the dimension.

The outputs are built from the neuron definitions, expanded in the monomial basis, and the
coefficient Jacobian :math:`\\partial c_{k, m} / \\partial \\theta_j` is taken symbolically;
its rank over :math:`\\mathbb{Q}` at a random integer :math:`\\theta` lower-bounds
:math:`\\dim V` without any evaluation points. Used by the tests and the benchmark.
"""

from __future__ import annotations

import numpy as np

from qexpr.dimension._spec import PolyNetSpec

__all__ = ["coefficient_jacobian_rank", "symbolic_network", "symbolic_outputs"]


def _neuron(kind: str, w: dict[str, np.ndarray], i: int, a: list):
    """Pre-activation of neuron ``i`` written out from the definition."""

    def lin(name: str):
        return sum(w[name][i, j] * a[j] for j in range(len(a)))

    def bias(name: str):
        return w[name][i] if name in w else 0

    if kind == "linear":
        return lin("W") + bias("b")
    squares = sum(w["wb"][i, j] * a[j] ** 2 for j in range(len(a)))
    if kind == "compact":
        return lin("wr") + squares + bias("br") + bias("c")
    return (lin("wr") + bias("br")) * (lin("wg") + bias("bg")) + squares + bias("c")


def symbolic_outputs(spec: PolyNetSpec, theta: np.ndarray, x: list) -> list:
    """The outputs :math:`f_1, \\dots, f_{d_h}` as sympy expressions (not expanded)."""
    a = list(x)
    for layer, w in enumerate(spec.blocks(theta), start=1):
        kind = spec.layer_neuron(layer)
        pre = [_neuron(kind, w, i, a) for i in range(spec.widths[layer])]
        a = pre if layer == spec.depth else [z ** spec.r[layer - 1] for z in pre]
    return a


def symbolic_network(spec: PolyNetSpec) -> tuple[np.ndarray, tuple, list]:
    """Parameter symbols ``t0..``, input symbols ``x0..`` and the symbolic outputs."""
    import sympy

    theta = np.array(sympy.symbols(f"t0:{spec.parameters}"), dtype=object)
    x = sympy.symbols(f"x0:{spec.widths[0]}")
    return theta, x, symbolic_outputs(spec, theta, list(x))


def coefficient_jacobian_rank(spec: PolyNetSpec, *, seed: int = 0) -> int:
    """Rank over :math:`\\mathbb{Q}` of the coefficient Jacobian at a random integer point.

    Column :math:`j` holds the coefficients of :math:`\\partial f_k / \\partial \\theta_j`
    (differentiated symbolically, then :math:`\\theta` substituted, then expanded in
    :math:`x`) in the monomial basis.
    """
    import sympy
    from flint import fmpz_mat

    theta, x, outputs = symbolic_network(spec)
    rng = np.random.default_rng(seed)
    values = dict(zip(theta, rng.integers(-50, 50, theta.size).tolist(), strict=True))
    columns = []
    for t in theta:
        coeffs: dict[tuple[int, tuple[int, ...]], int] = {}
        for k, f in enumerate(outputs):
            poly = sympy.Poly(sympy.diff(f, t).subs(values), *x)
            coeffs |= {(k, m): int(c) for m, c in poly.terms() if c != 0}
        columns.append(coeffs)
    keys = sorted(set().union(*columns))
    return fmpz_mat([[col.get(key, 0) for col in columns] for key in keys]).rank() if keys else 0
