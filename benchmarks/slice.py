"""Exact 2-D slices: rational polygons against Regioncam, and exact curves against the grid.

Part 1 (ReLU networks): exact polygons (qexpr) against Regioncam (float32), both region
counts and the time ratio qexpr / Regioncam. Where the counts differ, Regioncam has extra
faces of zero area: float32 slivers where several boundary lines meet in one point.

Part 2 (every neuron type): the exact region map (``exact_regions``, a cylindrical
decomposition) against the grid estimate (``grid_slice`` at 256², plus ``confirm_regions``)
and, on ReLU networks, against the polygons; time ratio exact / baseline, same process,
minimum of ``REPEAT`` runs, and how the exact time grows with the number of regions.
Run: ``python benchmarks/slice.py``.
"""

from __future__ import annotations

import time

import numpy as np
import regioncam

import qexpr
from qexpr.slice import exact_regions
from qexpr.slice._grid import confirm_regions, grid_slice
from qexpr.slice._polygons import exact_slice

REPEAT = 3


def regioncam_faces(net: qexpr.Network) -> tuple[int, int]:
    """Regioncam's faces on [-1, 1]², and how many of them have (float32) zero area."""
    rc = regioncam.Regioncam(size=1.0)
    for layer in net.to_float().layers:
        rc.linear(layer.w.T.astype(np.float32), layer.b.astype(np.float32))
        if layer.activation == "relu":
            rc.relu()
    return rc.num_faces, sum(face.area < 1e-9 for face in rc.faces)


def timed(func, *args):
    start = time.perf_counter()
    value = func(*args)
    return value, time.perf_counter() - start


def best_of(func, *args, repeat: int = REPEAT):
    """The value and the minimum time over ``repeat`` runs."""
    runs = [timed(func, *args) for _ in range(repeat)]
    return runs[0][0], min(t for _, t in runs)


def grid_estimate(net: qexpr.Network) -> int:
    grid = grid_slice(net, resolution=256)
    confirm_regions(net, grid)
    return grid.regions


def curves_against_baselines() -> None:
    print(
        f"\n{'kind':<10}{'widths':<10}{'exact':>7}{'cells':>7}{'grid':>6}{'t_exact':>9}"
        f"{'t_grid':>8}{'ratio':>7}{'t_poly':>8}{'ratio':>7}"
    )
    relu_first = qexpr.random_network("relu", [2, 4, 1], seed=0).layers[0]
    quad = qexpr.random_network("quadratic", [4, 4, 1], seed=0)
    nets = [
        (kind, widths, qexpr.random_network(kind, widths, seed=seed), REPEAT)
        for kind in ("quadratic", "compact")
        for widths in ([2, 2, 1], [2, 4, 1], [2, 8, 1], [2, 12, 1])
        for seed in range(2)
    ]
    nets += [
        ("relu", [2, 8, 8, 1], qexpr.random_network("relu", [2, 8, 8, 1], seed=s), REPEAT)
        for s in (0, 1)
    ]
    nets.append(("relu+quad", [2, 4, 4, 1], qexpr.Network(2, (relu_first, *quad.layers)), REPEAT))
    # Two quadratic layers (quartic boundaries): one run each (2-3-3-1 seed 0 takes minutes).
    nets += [
        ("quadratic", widths, qexpr.random_network("quadratic", widths, seed=seed), 1)
        for widths in ([2, 2, 2, 1], [2, 3, 3, 1])
        for seed in range(2)
    ]
    for kind, widths, net, repeat in nets:
        exact, t_e = best_of(exact_regions, net, repeat=repeat)
        grid, t_g = best_of(grid_estimate, net, repeat=repeat)
        name = ",".join(map(str, widths))
        line = (
            f"{kind:<10}{name:<10}{exact.regions:>7}{exact.cells:>7}{grid:>6}{t_e:>9.3f}"
            f"{t_g:>8.3f}{t_e / t_g:>7.1f}"
        )
        if kind == "relu":
            polygons, t_p = best_of(exact_slice, net)
            assert polygons.regions == exact.regions
            line += f"{t_p:>8.3f}{t_e / t_p:>7.0f}"
        print(line, flush=True)


def main() -> None:
    print(
        f"{'widths':<16}{'qexpr':>8}{'regioncam':>11}{'zero-area':>11}"
        f"{'t_qexpr':>10}{'t_rc':>10}{'ratio':>9}"
    )
    for widths in ([2, 8, 8, 1], [2, 16, 16, 1], [2, 16, 16, 16, 1], [2, 32, 32, 1]):
        for seed in range(2):
            net = qexpr.random_network("relu", widths, seed=seed)
            exact, t_q = timed(exact_slice, net)
            (faces, slivers), t_r = timed(regioncam_faces, net)
            name = ",".join(map(str, widths))
            print(
                f"{name:<16}{exact.regions:>8}{faces:>11}{slivers:>11}"
                f"{t_q:>10.4f}{t_r:>10.4f}{t_q / t_r:>9.0f}"
            )


if __name__ == "__main__":
    main()
    curves_against_baselines()
