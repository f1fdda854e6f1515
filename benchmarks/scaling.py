"""Benchmark: time against number of regions, per engine, with fitted growth exponents.

Random float64 networks (seeded) of growing width ``n``: ReLU ``1-n-n-1`` (to 1-5100-5100-1,
about 10,000 regions), quadratic ``1-n-1`` (to 1-8000-1, about 10,000 regions) and quadratic
``1-n-n-1`` (``quadratic-deep``, to 1-96-96-1). Float and hybrid run up to about 10,000
regions, exact up to about 1,000; a mode stops growing once one run takes longer than
``LIMIT`` seconds. For each kind and mode, the exponents ``k`` of ``time ~ regions^k`` and
of ``time ~ (regions × n)^k`` are least-squares slopes in log-log. All regions counts
printed for hybrid and exact are certified; float's are estimates.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/scaling.py`` (about 6 minutes on
2 cores, 6 GB peak, float mode's); ``benchmarks/scaling.py relu`` (or ``quadratic``,
``quadratic-deep``) runs one family.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import qexpr

LIMIT = 300.0
MAX_REGIONS = {"float": 10_000, "hybrid": 10_000, "exact": 1_000}
#: name: (neuron kind, widths n, hidden layers of width n).
FAMILIES = {
    "relu": ("relu", [4, 16, 64, 256, 512, 1000, 2500, 5100], 2),
    "quadratic": ("quadratic", [4, 16, 64, 256, 1000, 4000, 8000], 1),
    "quadratic-deep": ("quadratic", [2, 4, 8, 16, 32, 64, 96], 2),
}


def _exponent(x: np.ndarray, seconds: np.ndarray) -> float:
    """Least-squares slope of log(seconds) against log(x)."""
    return float(np.polyfit(np.log(x), np.log(seconds), 1)[0])


def main(names: list[str]) -> None:
    for name in names:
        kind, sizes, depth = FAMILIES[name]
        points: dict[str, list[tuple[int, int, float]]] = {mode: [] for mode in MAX_REGIONS}
        warm_up = qexpr.random_network(kind, [1, *[2] * depth, 1], seed=0, exact=False)
        for mode in MAX_REGIONS:  # imports (python-flint) out of the timings
            qexpr.spline_form(warm_up, mode=mode)
        active = set(MAX_REGIONS)
        for n in sizes:
            shape = [1, *[n] * depth, 1]
            net = qexpr.random_network(kind, shape, seed=0, exact=False)
            for mode in ("float", "hybrid", "exact"):
                if mode not in active:
                    continue
                start = time.perf_counter()
                form = qexpr.spline_form(net, mode=mode)
                seconds = time.perf_counter() - start
                points[mode].append((form.region_count, n, seconds))
                print(
                    f"{name:<16}{'-'.join(map(str, shape)):<18}{mode:<8}"
                    f"regions {form.region_count:>7}  {seconds:9.3f} s",
                    flush=True,
                )
                if seconds > LIMIT or form.region_count >= MAX_REGIONS[mode]:
                    active.discard(mode)
        for mode, rows in points.items():
            regions, width, seconds = np.array(rows, dtype=float).T
            keep = seconds > 1e-3
            if keep.sum() >= 2:
                print(
                    f"{name} {mode}: time ~ regions^{_exponent(regions[keep], seconds[keep]):.2f}"
                    f", ~ (regions x width)^"
                    f"{_exponent(regions[keep] * width[keep], seconds[keep]):.2f} "
                    f"({int(regions[keep].min())} to {int(regions[keep].max())} regions); "
                    f"largest three: (regions x width)^"
                    f"{_exponent(regions[-3:] * width[-3:], seconds[-3:]):.2f}"
                )


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(FAMILIES)
    unknown = [kind for kind in chosen if kind not in FAMILIES]
    if unknown:
        sys.exit(f"scaling.py: expected families from {', '.join(FAMILIES)}, got {unknown[0]!r}")
    main(chosen)
