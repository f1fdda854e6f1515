"""Benchmark: modular Jacobian rank versus a sympy symbolic Jacobian, and large networks.

Prints, for small architectures, both dimensions, both times and the speed ratio (same
process), then the time for networks with about 5,000 parameters.
Usage: ``python benchmarks/dimension.py [--skip-large]``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

from qexpr.dimension._dimension import neurovariety_dimension
from qexpr.dimension._spec import make_spec
from qexpr.dimension._sympy_oracle import coefficient_jacobian_rank

SMALL = [
    ("conv", (2, 3, 2, 3, 4), 2),
    ("quadratic", (2, 2, 2, 1), 1),
    ("compact", (3, 2, 2, 1), 1),
    ("conv", (3, 3, 2), 3),
]
LARGE = [
    ("conv", (10, 62, 60, 10), 2),
    ("quadratic", (8, 40, 40, 6), 1),
    ("quadratic", (30, 55, 2), 1),
    ("compact", (12, 60, 30, 8), 1),
]


def best_time(func, repeat: int) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` calls, and the last value."""
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return min(times), value


def small() -> None:
    print("kind widths r | dim ours | dim sympy | t ours (s) | t sympy (s) | ratio")
    for kind, widths, r in SMALL:
        ours_t, ours = best_time(
            partial(neurovariety_dimension, kind, widths, r, float_check=False), 5
        )
        spec = make_spec(kind, widths, r)
        sym_t, sym = best_time(partial(coefficient_jacobian_rank, spec), 1)
        print(
            f"{kind} {widths} {r} | {ours.dimension} | {sym} | {ours_t:.4f} | {sym_t:.2f} "
            f"| {sym_t / ours_t:.0f}x"
        )


def large() -> None:
    print("kind widths r | params | ambient | rows | dim | expected | certified | t (s)")
    for kind, widths, r in LARGE:
        t, res = best_time(partial(neurovariety_dimension, kind, widths, r, float_check=False), 1)
        print(
            f"{kind} {widths} {r} | {res.parameters} | {res.ambient} | "
            f"{res.points * widths[-1]} | {res.dimension} | {res.expected} | {res.certified} "
            f"| {t:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    small()
    if not args.skip_large:
        large()


if __name__ == "__main__":
    main()
