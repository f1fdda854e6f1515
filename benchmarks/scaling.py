"""Benchmark: time against number of regions, per engine, with fitted growth exponents.

Random float64 networks (seeded) of growing width: ReLU ``1-n-n-n-1`` and quadratic
``1-n-n-1``. Float and hybrid run up to about 10,000 regions, exact up to about 1,000; a
mode stops growing once one run takes longer than ``LIMIT`` seconds. For each kind and
mode, the exponent ``k`` of ``time ~ regions^k`` is the least-squares slope in log-log.
All regions counts printed for hybrid and exact are certified; float's are estimates.

Run: ``.venv/bin/python benchmarks/scaling.py`` (under about 10 minutes on 2 cores);
``benchmarks/scaling.py relu`` (or ``quadratic``) runs one family.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import qexpr

LIMIT = 60.0
MAX_REGIONS = {"float": 10_000, "hybrid": 10_000, "exact": 1_000}
FAMILIES = {
    "relu": ([4, 8, 16, 32, 64, 96, 128, 192, 256], lambda n: [1, n, n, n, 1]),
    "quadratic": ([2, 4, 8, 16, 32, 64, 96], lambda n: [1, n, n, 1]),
}


def main(kinds: list[str]) -> None:
    for kind in kinds:
        sizes, shape = FAMILIES[kind]
        points: dict[str, list[tuple[int, float]]] = {mode: [] for mode in MAX_REGIONS}
        warm_up = qexpr.random_network(kind, [1, 2, 1], seed=0, exact=False)
        for mode in MAX_REGIONS:  # imports (python-flint) out of the timings
            qexpr.spline_form(warm_up, mode=mode)
        active = set(MAX_REGIONS)
        for n in sizes:
            net = qexpr.random_network(kind, shape(n), seed=0, exact=False)
            for mode in ("float", "hybrid", "exact"):
                if mode not in active:
                    continue
                start = time.perf_counter()
                form = qexpr.spline_form(net, mode=mode)
                seconds = time.perf_counter() - start
                points[mode].append((form.region_count, seconds))
                print(
                    f"{kind:<10}{'-'.join(map(str, shape(n))):<18}{mode:<8}"
                    f"regions {form.region_count:>7}  {seconds:9.3f} s",
                    flush=True,
                )
                if seconds > LIMIT or form.region_count >= MAX_REGIONS[mode]:
                    active.discard(mode)
        for mode, rows in points.items():
            regions, seconds = np.array(rows, dtype=float).T
            keep = seconds > 1e-3
            if keep.sum() >= 2:
                slope = np.polyfit(np.log(regions[keep]), np.log(seconds[keep]), 1)[0]
                print(
                    f"{kind} {mode}: time ~ regions^{slope:.2f} "
                    f"({int(regions.min())} to {int(regions.max())} regions)"
                )


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(FAMILIES)
    unknown = [kind for kind in chosen if kind not in FAMILIES]
    if unknown:
        sys.exit(f"scaling.py: expected families from {', '.join(FAMILIES)}, got {unknown[0]!r}")
    main(chosen)
