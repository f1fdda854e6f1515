"""Benchmark: certified real-root isolation, python-flint vs sympy, at our degrees.

The exact spline engine isolates the real roots of the irreducible factors of
pre-activation polynomials. Two certified options: python-flint's ``complex_roots`` (arb
balls, what qexpr uses) and sympy's ``Poly.intervals`` (Vincent–Collins–Akritas). Both run
here on the same polynomials: the irreducible factors met while counting random quadratic
networks, grouped by degree. Prints the time per factor and the ratio.

Run: ``.venv/bin/python benchmarks/root_isolation.py``
"""

from __future__ import annotations

import time
from collections import defaultdict

import flint
import sympy

import qexpr
from qexpr.spline._algebraic import RootCache, _isolate


def collect_factors() -> dict[int, list[flint.fmpz_poly]]:
    """Irreducible factors of odd multiplicity met by the exact engine, by degree."""
    factors: dict[int, list[flint.fmpz_poly]] = defaultdict(list)
    original = RootCache.roots

    def spy(self: RootCache, factor: flint.fmpz_poly):
        factors[factor.degree()].append(factor)
        return original(self, factor)

    RootCache.roots = spy  # type: ignore[method-assign]
    try:
        for seed in range(6):
            qexpr.count_pieces(qexpr.random_network("quadratic", [1, 6, 6, 6, 1], seed=seed))
    finally:
        RootCache.roots = original  # type: ignore[method-assign]
    return factors


def per_factor(func, polys) -> float:
    start = time.perf_counter()
    for p in polys:
        func(p)
    return (time.perf_counter() - start) / len(polys)


def main() -> None:
    x = sympy.Symbol("x")
    factors = collect_factors()
    print(f"{'degree':>6}{'factors':>9}{'flint µs':>11}{'sympy µs':>11}{'sympy/flint':>13}")
    for degree in sorted(factors):
        polys = factors[degree][:200]
        if degree < 2:
            continue
        as_sympy = [sympy.Poly([int(c) for c in reversed(p.coeffs())], x) for p in polys]
        t_flint = per_factor(_isolate, polys)
        t_sympy = per_factor(lambda p: p.intervals(), as_sympy)
        # Same roots: the same number of real roots per factor.
        assert [len(_isolate(p)) for p in polys] == [len(p.intervals()) for p in as_sympy]
        print(
            f"{degree:>6}{len(polys):>9}{t_flint * 1e6:>11.1f}{t_sympy * 1e6:>11.1f}"
            f"{t_sympy / t_flint:>13.1f}"
        )


if __name__ == "__main__":
    main()
