"""Bound against measured pieces for random networks of the three kinds (exact counts).

For each kind (quadratic ReLU, conventional ReLU, z²) the piece bound of
qexpr.kind_bounds is drawn against the largest exact piece count over a few seeded random
networks (small rational weights), over hidden width (two hidden layers) and over depth
(hidden width 3). Writes docs/figures/bounds_width.png and docs/figures/bounds_depth.png.

    PYTHONPATH=. python benchmarks/bounds_figures.py [--seeds 4]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qexpr import count_pieces, kind_bounds, random_network
from qexpr.studies._plots import plot_bounds

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("quadratic", "relu", "square")


def rows(sweep: dict[int, list[int]], key: str, seeds: int) -> list[dict]:
    out = []
    for kind in KINDS:
        for x, widths in sweep.items():
            measured = max(
                count_pieces(random_network(kind, widths, seed=s), mode="exact").pieces
                for s in range(seeds)
            )
            bound = kind_bounds(kind, widths).pieces
            out.append({"kind": kind, key: x, "bound": bound, "measured": measured})
            print(f"{kind:9s} {widths!s:22s} measured {measured:5d} bound {bound:6d}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    args = parser.parse_args()
    started = time.perf_counter()
    figures = ROOT / "docs" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    width = rows({n: [1, n, n, 1] for n in range(2, 7)}, "hidden width", args.seeds)
    plot_bounds(
        width,
        figures / "bounds_width.png",
        "hidden width",
        "widths 1-n-n-1: bound (dashed) vs max measured pieces over seeds",
    )
    depth = rows({d: [1, *[3] * d, 1] for d in range(1, 5)}, "hidden layers", args.seeds)
    plot_bounds(
        depth,
        figures / "bounds_depth.png",
        "hidden layers",
        "widths 1-3-...-3-1: bound (dashed) vs max measured pieces over seeds",
    )
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
