"""Benchmark: counting pieces of one-input networks.

Compares, on the same networks and interval, in one process:

* qexpr float mode and exact mode (in process);
* ``qexpr count-pieces --mode float`` as a whole command (start-up included);
* a dense-sampling baseline: numpy evaluation on a grid fine enough to see every breakpoint
  the exact engine finds (over the hull of the exact region boundaries plus a margin of 1,
  spacing half the smallest gap between them, at most ``MAX_GRID`` points), counting
  activation-pattern changes;
* Regioncam (``regioncam.Regioncam1D``, Rust, float32) on the ReLU networks.

Run: ``.venv/bin/python benchmarks/count_pieces.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import qexpr

DOMAIN = (-4.0, 4.0)  # Regioncam's segment, for the ReLU comparison
CHUNK = 1_000_000
MAX_GRID = 100_000_000


def best_time(func: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def grid_regions(net: qexpr.Network, grid: tuple[float, float, int]) -> int:
    """Activation regions seen on a uniform grid ``(lo, hi, points)`` (pattern changes + 1)."""
    fnet = net.to_float()
    if all(layer.activation != "relu" for layer in fnet.layers):
        return 1
    lo, hi, n_points = grid
    step = (hi - lo) / (n_points - 1)
    changes, last = 0, None
    for start in range(0, n_points, CHUNK):
        x = (lo + step * np.arange(start, min(start + CHUNK, n_points)))[:, None]
        states = []
        for layer in fnet.layers:
            z = layer.pre_activation(x)
            if layer.activation == "relu":
                states.append(z > 0)
            x = qexpr._network.apply_activation(layer.activation, z)
        pattern = np.concatenate(states, axis=1)
        if last is not None:
            pattern = np.vstack([last, pattern])
        changes += int(np.count_nonzero(np.any(pattern[1:] != pattern[:-1], axis=1)))
        last = pattern[-1:]
    return changes + 1


def grid_for(exact: qexpr.PieceCount) -> tuple[float, float, int]:
    """A grid over the region boundaries' hull ± 1 with half the smallest gap as spacing."""
    cuts = sorted({float(r.left) for r in exact.spline.region_list if r.left is not None})
    lo, hi = (cuts[0] - 1, cuts[-1] + 1) if cuts else (-1.0, 1.0)
    gaps = np.diff(cuts)
    gap = gaps.min() if gaps.size else hi - lo
    return lo, hi, min(MAX_GRID, int(2 * (hi - lo) / gap) + 2)


def regioncam_regions(net: qexpr.Network) -> int:
    """Regions of a ReLU network on DOMAIN by Regioncam1D (float32)."""
    import regioncam

    rc = regioncam.Regioncam1D(DOMAIN[1] - DOMAIN[0])  # the segment [-size/2, size/2]
    for layer in net.to_float().layers:
        rc.linear(layer.w.T.astype(np.float32), layer.b.astype(np.float32))
        if layer.activation == "relu":
            rc.relu()
    return rc.num_edges


def command_time(net: qexpr.Network) -> float:
    """Wall time of ``qexpr count-pieces NET --mode float --json`` (best of 3)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.json"
        qexpr.save_network(net, path)
        args = [sys.executable, "-m", "qexpr", "count-pieces", str(path), "--mode", "float"]
        seconds, _ = best_time(lambda: subprocess.run([*args, "--json"], check=True))
    return seconds


CASES = [
    ("relu", [1, 16, 16, 1], False),
    ("relu", [1, 32, 32, 32, 1], False),
    ("relu", [1, 64, 64, 64, 1], False),
    ("quadratic", [1, 4, 4, 1], True),
    ("quadratic", [1, 8, 8, 8, 1], True),
    ("compact", [1, 8, 8, 8, 1], True),
    ("square", [1, 8, 8, 8, 1], True),
]


def main() -> None:
    print("Whole line. Times in seconds (best of 3; exact and grid: one run).")
    print(
        f"{'network':<20}{'regions':>8}{'exact':>8}{'float':>8}{'command':>9}{'grid points':>13}"
        f"{'grid':>8}{'grid/command':>13}{'grid/float':>11}"
    )
    for kind, widths, exact_weights in CASES:
        net = qexpr.random_network(kind, widths, seed=0, exact=exact_weights)
        t_exact, exact = best_time(lambda n=net: qexpr.count_pieces(n, "exact"), 1)
        t_float, fl = best_time(lambda n=net: qexpr.count_pieces(n, "float"))
        grid = grid_for(exact)
        t_grid, seen = best_time(lambda n=net, g=grid: grid_regions(n, g), 1)
        t_cmd = command_time(net)
        name = f"{kind} {'-'.join(map(str, widths))}"
        note = "" if seen == exact.activation_regions else f"  (grid saw {seen})"
        if fl.activation_regions != exact.activation_regions:
            note += f"  (float: {fl.activation_regions}, unresolved {fl.unresolved})"
        print(
            f"{name:<20}{exact.activation_regions:>8}{t_exact:>8.3f}{t_float:>8.4f}{t_cmd:>9.3f}"
            f"{grid[2]:>13}{t_grid:>8.2f}{t_grid / t_cmd:>13.1f}{t_grid / t_float:>11.0f}{note}"
        )
    print(f"\nReLU networks on [{DOMAIN[0]}, {DOMAIN[1]}] against Regioncam1D (float32), ms:")
    print(f"{'network':<20}{'regions':>8}{'regioncam':>10}{'qexpr float':>12}{'ratio':>7}")
    for kind, widths, exact_weights in CASES:
        if kind != "relu":
            continue
        net = qexpr.random_network(kind, widths, seed=0, exact=exact_weights)
        t_rc, rc = best_time(lambda n=net: regioncam_regions(n), 50)
        t_float, fl = best_time(lambda n=net: qexpr.count_pieces(n, "float", DOMAIN), 50)
        name = f"{kind} {'-'.join(map(str, widths))}"
        note = "" if rc == fl.activation_regions else f"  (regioncam: {rc})"
        print(
            f"{name:<20}{fl.activation_regions:>8}{t_rc * 1e3:>10.3f}{t_float * 1e3:>12.3f}"
            f"{t_float / t_rc:>7.1f}{note}"
        )


if __name__ == "__main__":
    main()
