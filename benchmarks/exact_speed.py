"""Benchmark: the exact engine with and without Descartes pre-filtering, and hybrid vs float.

Old and new run in the same process on the same networks:

* *old* (the engine before this change, kept here as the baseline): a layer's affine map is
  a Python loop of ``fmpq_poly`` operations over the weights, and every odd-multiplicity
  factor of every pre-activation is factored and all its real roots isolated (flint
  ``complex_roots``), whatever the cell;
* *new*: one ``fmpq_mat`` product per layer per cell (weights × the inputs' coefficient
  matrix), and a pre-activation (then each factor) that Descartes' rule proves root-free on
  the cell is skipped before factoring/isolating.

Both must give the same breakpoints (checked). Then hybrid (the default mode) against float
on random networks. Prints seconds and ratios.

Run: ``.venv/bin/python benchmarks/exact_speed.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

import qexpr
from qexpr.spline import _exact
from qexpr.spline._algebraic import odd_real_roots

NEW = {name: getattr(_exact, name) for name in ("_split", "_affine", "exact_weights")}


def _old_split(zs, left, right, cache):
    cuts = {
        root for z in zs for root in odd_real_roots(z, cache) if _exact._inside(root, left, right)
    }
    return [left, *sorted(cuts), right]


def _old_affine(matrix, bias, inputs):
    rows = []
    for weights, b in zip(matrix, bias):
        acc = _exact.Poly([b])
        for w, h in zip(weights, inputs):
            if w != 0:
                acc += h * w
        rows.append(acc)
    return rows


def _old_weights(layer):
    return {k: np.vectorize(_exact._fmpq, otypes=[object])(v) for k, v in layer.params.items()}


OLD = {"_split": _old_split, "_affine": _old_affine, "exact_weights": _old_weights}


def _use(engine: dict) -> None:
    for name, fn in engine.items():
        setattr(_exact, name, fn)


def _seconds(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def exact_old_vs_new(kind: str, widths: list[int]) -> None:
    net = qexpr.random_network(kind, widths, seed=0)
    _use(OLD)
    try:
        old, a = _seconds(lambda: qexpr.spline_form(net, mode="exact"))
    finally:
        _use(NEW)
    new, b = _seconds(lambda: qexpr.spline_form(net, mode="exact"))
    assert a.breakpoints == b.breakpoints
    name = f"exact {kind} {'-'.join(map(str, widths))}"
    print(
        f"{name:<36} regions {b.region_count:>6}  old {old:8.2f} s  new {new:8.2f} s  "
        f"speed-up {old / new:6.2f}x",
        flush=True,
    )


def hybrid_vs_float(kind: str, widths: list[int], seed: int) -> None:
    net = qexpr.random_network(kind, widths, seed=seed, exact=False)
    fast, f = _seconds(lambda: qexpr.spline_form(net, mode="float"))
    hybrid, h = _seconds(lambda: qexpr.spline_form(net, mode="hybrid"))
    name = f"{kind} {'-'.join(map(str, widths))} seed {seed}"
    print(
        f"{name:<36} regions {h.region_count:>6} (float {f.region_count:>6})  "
        f"re-solved cells {h.exact_cells:>4}  float {fast:7.3f} s  hybrid {hybrid:7.2f} s  "
        f"ratio {hybrid / fast:8.1f}x",
        flush=True,
    )


def main() -> None:
    for kind, widths in [
        ("quadratic", [1, 4, 4, 4, 4, 4, 1]),
        ("quadratic", [1, 16, 16, 1]),
        ("quadratic", [1, 64, 64, 1]),
        ("relu", [1, 32, 32, 32, 1]),
        ("relu", [1, 128, 128, 128, 1]),
    ]:
        exact_old_vs_new(kind, widths)
    for kind, widths in [
        ("relu", [1, 32, 32, 1]),
        ("relu", [1, 128, 128, 128, 1]),
        ("quadratic", [1, 8, 8, 1]),
        ("quadratic", [1, 32, 32, 1]),
    ]:
        hybrid_vs_float(kind, widths, seed=1)


if __name__ == "__main__":
    main()
