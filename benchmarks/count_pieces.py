"""Benchmark: counting pieces of one-input networks.

Compares, on the same networks and interval, in one process:

* qexpr float mode and exact mode (in process);
* ``qexpr count-pieces --mode float`` as a whole command (start-up included);
* a dense-sampling baseline: numpy evaluation on a grid fine enough to see every breakpoint
  the exact engine finds (spacing half the smallest gap between exact breakpoints),
  counting activation-pattern changes;
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

DOMAIN = (-4.0, 4.0)
CHUNK = 1_000_000
MAX_GRID = 50_000_000


def best_time(func: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def grid_regions(net: qexpr.Network, n_points: int) -> int:
    """Activation regions seen on a uniform grid over DOMAIN (pattern changes + 1)."""
    fnet = net.to_float()
    changes, last = 0, None
    for start in range(0, n_points, CHUNK):
        x = np.linspace(*DOMAIN, n_points)[start : start + CHUNK][:, None]
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


def grid_size(exact: qexpr.PieceCount) -> int:
    """Points needed for spacing half the smallest gap between region boundaries."""
    cuts = sorted(
        {float(r.left) for r in exact.spline.regions if r.left is not None}
        | {float(r.right) for r in exact.spline.regions if r.right is not None}
    )
    gaps = np.diff(cuts)
    gap = gaps.min() if gaps.size else DOMAIN[1] - DOMAIN[0]
    return min(MAX_GRID, int(2 * (DOMAIN[1] - DOMAIN[0]) / gap) + 2)


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
        args += ["--domain", str(DOMAIN[0]), str(DOMAIN[1]), "--json"]
        seconds, _ = best_time(lambda: subprocess.run(args, check=True, capture_output=True))
    return seconds


CASES = [
    ("relu", [1, 16, 16, 1], False),
    ("relu", [1, 32, 32, 32, 1], False),
    ("relu", [1, 64, 64, 64, 1], False),
    ("quadratic", [1, 4, 4, 1], True),
    ("quadratic", [1, 8, 8, 8, 1], True),
    ("compact", [1, 8, 8, 8, 1], True),
]


def main() -> None:
    print(f"domain {DOMAIN}; times are best of 3 (seconds)")
    header = (
        f"{'network':<24}{'regions':>8}{'exact s':>9}{'float s':>9}{'cmd s':>8}"
        f"{'grid pts':>11}{'grid s':>8}{'grid/cmd':>9}{'grid/float':>11}{'rcam s':>9}{'float/rcam':>11}"
    )
    print(header)
    for kind, widths, exact_weights in CASES:
        net = qexpr.random_network(kind, widths, seed=0, exact=exact_weights)
        t_exact, exact = best_time(lambda n=net: qexpr.count_pieces(n, "exact", DOMAIN), 1)
        t_float, fl = best_time(lambda n=net: qexpr.count_pieces(n, "float", DOMAIN))
        assert fl.activation_regions == exact.activation_regions, (fl, exact)
        n_grid = grid_size(exact)
        t_grid, seen = best_time(lambda n=net, g=n_grid: grid_regions(n, g), 1)
        t_cmd = command_time(net)
        rcam = ""
        if kind == "relu":
            t_rc, rc = best_time(lambda n=net: regioncam_regions(n), 5)
            rcam = f"{t_rc:>9.4f}{t_float / t_rc:>11.2f}"
            print(f"  (regioncam regions {rc}, qexpr {exact.activation_regions})")
        name = f"{kind} {'-'.join(map(str, widths))}"
        print(
            f"{name:<24}{exact.activation_regions:>8}{t_exact:>9.3f}{t_float:>9.4f}{t_cmd:>8.3f}"
            f"{n_grid:>11}{t_grid:>8.2f}{t_grid / t_cmd:>9.1f}{t_grid / t_float:>11.0f}{rcam}"
            + (f"  grid saw {seen}" if seen != exact.activation_regions else "")
        )


if __name__ == "__main__":
    main()
