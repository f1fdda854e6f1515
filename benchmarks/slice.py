"""Exact 2-D slices: rational polygons against Regioncam, and exact curves against the grid.

Part 1 (ReLU networks): exact polygons (qexpr) against Regioncam (float32), both region
counts and the time ratio qexpr / Regioncam. Where the counts differ, Regioncam has extra
faces of zero area: float32 slivers where several boundary lines meet in one point.

Part 2 (every neuron type): the exact region map (``exact_regions``, a cylindrical
decomposition) against the grid estimate (``grid_slice`` at 256², plus ``confirm_regions``)
and, on ReLU networks, against the polygons; time ratio exact / baseline, same process,
minimum of ``REPEAT`` runs, and how the exact time grows with the number of regions.

Part 4 (deep quadratic networks): the exact map of random quadratic 2-2-2-1 … 2-8-8-1 and
three-layer 2-3-3-3-1 nets (one decomposition per activation prefix) against the same method
at ``BASELINE`` (one global decomposition per layer, loaded from git into this process), one
run each, the baseline without its work limit and stopped after ``BASELINE_LIMIT`` seconds
(shown as ``>``); it is not run on the rows beyond 2-6-6-1 (``BASELINE_WIDTHS``). ``work`` is
the largest summed ``estimated_work`` of a ReLU layer's decompositions; every row runs without
the work limit, stopped after ``NEW_LIMIT`` seconds, and ``default`` says whether the default
``MAX_WORK`` lets it run or refuses it.
Run: ``python benchmarks/slice.py`` (``python benchmarks/slice.py deep`` for part 4 only).
"""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import regioncam

import qexpr
from qexpr.slice import exact_regions
from qexpr.slice._grid import confirm_regions, grid_slice
from qexpr.slice._polygons import exact_slice

REPEAT = 3
#: The commit whose exact_regions is the baseline of part 4 (one global decomposition per layer).
BASELINE = "ad1beaa"
BASELINE_LIMIT = 300
#: The widest networks the baseline is run on (it took more than 300 s at 2-4-4-1 already).
BASELINE_WIDTHS = 6
NEW_LIMIT = 1200
UNLIMITED = 10**15


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


def baseline_exact_regions():
    """``exact_regions`` of ``_curves.py`` and ``_field.py`` at ``BASELINE``, read from git."""
    root = Path(__file__).resolve().parent.parent
    modules = {}
    for name in ("_field", "_curves"):
        source = subprocess.run(
            ["git", "show", f"{BASELINE}:qexpr/slice/{name}.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        source = source.replace("from qexpr.slice._field import", "from baseline_field import")
        module = types.ModuleType(f"baseline{name}")
        sys.modules[module.__name__] = module
        exec(compile(source, f"{BASELINE}:{name}.py", "exec"), module.__dict__)
        modules[name] = module
    return modules["_curves"].exact_regions


class _Stop(Exception):
    pass


def _alarm(signum, frame):
    raise _Stop


def limited(func, net, limit: int) -> tuple[object, float | None]:
    """``func(net)`` and its time, or ``(None, None)`` after ``limit`` seconds."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        return timed(func, net)
    except _Stop:
        return None, None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


#: Part 4's networks: (widths, seed), random quadratic.
DEEP = [([2, w, w, 1], seed) for w in (2, 3, 4, 6, 8) for seed in (0, 1)]
DEEP += [([2, 3, 3, 3, 1], seed) for seed in (0, 1)]


def deep_quadratic(nets: list[tuple[list[int], int]] = DEEP) -> None:
    from qexpr.slice import _curves

    works: list[int] = []
    check = _curves._check_work

    def spy(decompositions, layer, max_work):
        works.append(check(decompositions, layer, max_work))
        return works[-1]

    _curves._check_work = spy
    old = functools.partial(baseline_exact_regions(), max_work=UNLIMITED)
    print(
        f"\n{'widths':<10}{'seed':>5}{'work':>10}{'regions':>8}{'cells':>7}{'t_new':>9}"
        f"{'t_base':>9}{'ratio':>7}{'default':>9}"
    )
    for widths, seed in nets:
        net = qexpr.random_network("quadratic", widths, seed=seed)
        works.clear()
        name = ",".join(map(str, widths))
        new, t_new = limited(functools.partial(exact_regions, max_work=UNLIMITED), net, NEW_LIMIT)
        if new is None:
            print(
                f"{name:<10}{seed:>5}{max(works):>10.3g}  stopped after {NEW_LIMIT} s", flush=True
            )
            continue
        line = f"{name:<10}{seed:>5}{max(works):>10.3g}{new.regions:>8}{new.cells:>7}{t_new:>9.2f}"
        if max(widths[1:-1]) <= BASELINE_WIDTHS:
            try:
                base, t_old = limited(old, net, BASELINE_LIMIT)
            except ArithmeticError:  # the baseline's own failure, reported as such
                line += f"{'failed':>9}{'':>7}"
            else:
                if base is None:
                    limit = f"{'>' + str(BASELINE_LIMIT):>9}"
                    line += f"{limit}{'>' + f'{BASELINE_LIMIT / t_new:.0f}':>7}"
                else:
                    assert (base.regions, sorted(base.patterns)) == (
                        new.regions,
                        sorted(new.patterns),
                    )
                    line += f"{t_old:>9.2f}{t_old / t_new:>7.1f}"
        else:
            line += f"{'':>16}"
        line += f"{'runs' if max(works) <= _curves.MAX_WORK else 'refused':>9}"
        print(line, flush=True)
    _curves._check_work = check


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
    if sys.argv[1:] != ["deep"]:
        main()
        curves_against_baselines()
    deep_quadratic()
