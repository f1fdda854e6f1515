"""Exact 2-D slices (qexpr, rational polygons) against Regioncam (float32), same networks.

Prints, per network, both region counts and the time ratio qexpr / Regioncam. Where the
counts differ, Regioncam has extra faces of zero area: float32 slivers where several
boundary lines meet in one point (with small rational weights, lines often cross exactly
at one point, such as the origin when biases are 0). The exact count has no such slivers.
Run: ``python benchmarks/slice.py``.
"""

from __future__ import annotations

import time

import numpy as np
import regioncam

import qexpr
from qexpr.slice._polygons import exact_slice


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
