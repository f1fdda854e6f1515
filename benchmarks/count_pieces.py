"""Benchmark: counting pieces of one-input networks.

Compares, on the same networks and interval, in one process:

* qexpr float mode and exact mode (in process);
* ``qexpr count-pieces --mode float`` as a whole command (start-up included);
* a dense-sampling baseline: numpy evaluation on a grid fine enough to see every breakpoint
  the exact engine finds (over the hull of the exact region boundaries plus a margin of 1,
  spacing half the smallest gap between them, at most ``MAX_GRID`` points), counting
  activation-pattern changes;
* Regioncam (``regioncam.Regioncam1D``, Rust, float32) on the ReLU networks, shallow on
  [-4, 4] and deep (depth >= 4, >= 80 regions) on [-30.5, 30.5]; weights are converted
  (float32 for Regioncam, float64 for qexpr) before timing, and the candidates are timed
  interleaved (minimum over rounds) so that load from elsewhere hits them alike; qexpr is
  timed on one network object (its float64 view of the network is kept while the network
  lives) and on a fresh copy each round (that conversion timed too);
* the certified default (hybrid) against float mode on ReLU networks, with the general
  hybrid engine (``qexpr.spline._certify.hybrid_cells``, the default before the
  piecewise-linear engine) as the old baseline, in the same process.

Run: ``.venv/bin/python benchmarks/count_pieces.py`` (a few minutes on 2 cores);
``benchmarks/count_pieces.py relu`` runs only the ReLU sections.
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


def interleaved_best(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Per candidate, the smallest wall time over ``rounds`` rounds that call each once."""
    best = dict.fromkeys(fns, math.inf)
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


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


def regioncam_layers(net: qexpr.Network) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """The weights as Regioncam takes them (float32, in × out), converted once."""
    return [
        (
            np.ascontiguousarray(layer.w.T, dtype=np.float32),
            np.ascontiguousarray(layer.b, dtype=np.float32),
            layer.activation == "relu",
        )
        for layer in net.to_float().layers
    ]


def regioncam_regions(layers: list[tuple[np.ndarray, np.ndarray, bool]], size: float) -> int:
    """Regions of a ReLU network on [-size/2, size/2] by Regioncam1D (float32)."""
    import regioncam

    rc = regioncam.Regioncam1D(size)
    for w, b, relu in layers:
        rc.linear(w, b)
        if relu:
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
    regioncam_rows()
    certified_rows()


#: Regioncam rows: (widths, seed, half-width of the segment).
REGIONCAM = [
    ([1, 16, 16, 1], 0, 4.0),
    ([1, 32, 32, 32, 1], 0, 4.0),
    ([1, 64, 64, 64, 1], 0, 4.0),
    ([1, 16, 16, 16, 16, 1], 11, 30.5),
    ([1, 16, 16, 16, 16, 16, 16, 1], 0, 30.5),
    ([1, 32, 32, 32, 32, 1], 0, 30.5),
    ([1, 64, 64, 64, 64, 1], 0, 30.5),
]


def regioncam_rows(rounds: int = 200) -> None:
    """qexpr float mode (and the certified default) against Regioncam1D, in process.

    ``float`` counts on one network object, as a caller counting it on several domains
    would: qexpr keeps its float64 view of a network (copies, absolute values, bias rows,
    input scale) while the network lives, which plays the part of Regioncam's weights
    converted before timing. ``new net`` counts a fresh copy each round (made before
    timing), so that conversion is timed too.
    """
    print("\nReLU networks against Regioncam1D (float32), ms, best of interleaved rounds:")
    print(
        f"{'network':<28}{'segment':>9}{'regions':>8}{'regioncam':>10}{'float':>8}"
        f"{'ratio':>7}{'new net':>9}{'ratio':>7}{'hybrid':>9}{'ratio':>7}"
    )
    for widths, seed, half in REGIONCAM:
        net = qexpr.random_network("relu", widths, seed=seed, exact=False)
        layers, domain = regioncam_layers(net), (-half, half)
        fresh = iter([qexpr.Network(net.input_dim, net.layers) for _ in range(rounds)])
        fns = {
            "regioncam": lambda la=layers, h=half: regioncam_regions(la, 2 * h),
            "float": lambda n=net, d=domain: qexpr.count_pieces(n, "float", d),
            "new net": lambda f=fresh, d=domain: qexpr.count_pieces(next(f), "float", d),
        }
        best = interleaved_best(fns, rounds)
        t_hybrid, hybrid = best_time(lambda n=net, d=domain: qexpr.count_pieces(n, "auto", d), 5)
        rc, fl = regioncam_regions(layers, 2 * half), qexpr.count_pieces(net, "float", domain)
        name = f"relu {'-'.join(map(str, widths))} s{seed}"
        note = "" if rc == fl.activation_regions else f"  (regioncam: {rc})"
        if hybrid.activation_regions != fl.activation_regions:
            note += f"  (certified: {hybrid.activation_regions})"
        base = best["regioncam"]
        print(
            f"{name:<28}{f'±{half}':>9}{fl.activation_regions:>8}{base * 1e3:>10.3f}"
            f"{best['float'] * 1e3:>8.3f}{best['float'] / base:>7.1f}"
            f"{best['new net'] * 1e3:>9.3f}{best['new net'] / base:>7.1f}"
            f"{t_hybrid * 1e3:>9.2f}{t_hybrid / base:>7.0f}{note}"
        )


#: Certified against float rows: (widths, seed); whole real line.
CERTIFIED = [
    ([1, 32, 32, 1], 1),
    ([1, 16, 16, 16, 16, 1], 11),
    ([1, 32, 32, 32, 32, 1], 0),
    ([1, 128, 128, 128, 1], 1),
]


def certified_rows() -> None:
    """The certified default on ReLU networks: new (piecewise-linear engine) and old
    (general hybrid engine) against float mode, same process, whole line."""
    from qexpr.spline._certify import hybrid_cells

    print("\nReLU networks, whole line: certified default against float mode, s:")
    print(
        f"{'network':<28}{'regions':>8}{'float':>9}{'hybrid':>9}{'/float':>8}"
        f"{'old hybrid':>11}{'/float':>8}{'exact cells':>12}"
    )
    for widths, seed in CERTIFIED:
        net = qexpr.random_network("relu", widths, seed=seed, exact=False)
        fns = {
            "float": lambda n=net: qexpr.count_pieces(n, "float"),
            "hybrid": lambda n=net: qexpr.count_pieces(n, "auto"),
        }
        best = interleaved_best(fns, 5)
        t_old, old = best_time(lambda n=net: hybrid_cells(n), 1)
        new = qexpr.count_pieces(net)
        same = [c.left for c in old.cells] == [c.left for c in new.spline.cell_list]
        name = f"relu {'-'.join(map(str, widths))} s{seed}"
        print(
            f"{name:<28}{new.activation_regions:>8}{best['float']:>9.4f}{best['hybrid']:>9.3f}"
            f"{best['hybrid'] / best['float']:>8.1f}{t_old:>11.2f}{t_old / best['float']:>8.0f}"
            f"{new.exact_cells:>12}{'' if same else '  (old cells differ)'}"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["relu"]:
        regioncam_rows()
        certified_rows()
    else:
        main()
