"""``qexpr slice``: activation regions of a network on a 2-D slice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import (
    JsonFlag,
    check_plot_path,
    examples,
    fail,
    one_line_errors,
    print_json,
)

HELP = """Count the activation regions of a network on a 2-D slice.

A two-input network is sliced in its own input plane; for more inputs give --plane with
three points (comma-separated exact numbers). The box is in plane coordinates (default
[-1, 1]²). A region is a connected component of constant activation pattern; regions
touching in one point are separate.

--method exact (certified): rational polygons for conventional ReLU networks, a cylindrical
decomposition for every other network (any depth) whose estimated work fits the limit
(--max-work); beyond it the network is refused with the estimate. --method grid: an
ESTIMATE (not certified) from a grid labelling, each region confirmed by the exact 1-D
engine; thin regions can be missed or split.
--method auto (default): exact where it applies, else the grid estimate (and it says so).

""" + examples(
    "qexpr slice net2d.json --json",
    "qexpr slice net.json --plane 0,0,0 1,0,0 0,1,0 --box -2 2 -2 2 --plot s.png",
    "qexpr slice net2d.json --method grid --resolution 512",
)

METHODS = ("auto", "exact", "grid")
#: Largest grid side: the grid keeps float64 pre-activations per sample and ReLU neuron
#: (4096² samples: 134 MB per neuron).
MAX_RESOLUTION = 4096


def _pattern_text(pattern: tuple[bool, ...]) -> str:
    return "".join("1" if on else "0" for on in pattern)


def _exact_record(
    net, points, box, seed: int, progress: bool, max_work: int | None
) -> tuple[dict, object]:
    """Certified regions: polygons for piecewise-linear networks, else the curve method."""
    from qexpr.slice import exact_regions
    from qexpr.slice._polygons import exact_slice
    from qexpr.spline._linear import is_piecewise_linear

    if is_piecewise_linear(net):
        result = exact_slice(net, points, box)
        engine, cells = "polygons", len(result.cells)
        samples = [
            (sum(p[0] for p in poly) / len(poly), sum(p[1] for p in poly) / len(poly), pattern)
            for poly, pattern in result.cells
        ]
    else:
        limit = {} if max_work is None else {"max_work": max_work}
        result = exact_regions(net, points, box, seed=seed, progress=progress, **limit)
        engine, cells = "curves", result.cells
        samples = [(x, y, p) for (x, y), p in zip(result.samples, result.patterns)]
    record = {
        "method": "exact",
        "certified": True,
        "engine": engine,
        "regions": result.regions,
        "cells": cells,
        # For polygons each cell is one region (a ReLU pattern's set is convex).
        "samples": [{"x": str(x), "y": str(y), "pattern": _pattern_text(p)} for x, y, p in samples],
    }
    return record, result


@one_line_errors
def command(
    file: Annotated[Path, typer.Argument(help="Network file.", show_default=False)],
    plane: Annotated[
        tuple[str, str, str] | None,
        typer.Option(help="Three points spanning the plane.", metavar="P0 P1 P2"),
    ] = None,
    box: Annotated[
        tuple[str, str, str, str] | None,
        typer.Option(help="Box in plane coordinates.", metavar="XMIN XMAX YMIN YMAX"),
    ] = None,
    method: Annotated[
        str, typer.Option(help="auto (exact where it applies, else grid), exact or grid.")
    ] = "auto",
    resolution: Annotated[int, typer.Option(help="Grid samples per side (grid only).")] = 256,
    seed: Annotated[
        int, typer.Option(help="Seed of the shears tried (exact curves; count independent).")
    ] = 0,
    max_work: Annotated[
        int | None,
        typer.Option(
            help="Refuse an exact curve map once a ReLU layer's estimated work (summed over "
            "its decompositions) exceeds this "
            "(auto then falls back to the grid estimate); default: exact_regions' max_work, "
            "see the slices page.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonFlag = False,
    progress: Annotated[bool, typer.Option(help="tqdm progress bar on stderr.")] = True,
    plot: Annotated[
        Path | None,
        typer.Option(help="Draw the regions (.png/.pdf/.svg); the title says exact or estimate."),
    ] = None,
) -> None:
    from qexpr._errors import QexprValueError
    from qexpr._io import load_network
    from qexpr.slice._grid import confirm_regions, grid_slice
    from qexpr.slice._plane import check_box, plane_network

    if method not in METHODS:
        fail(f"--method: expected auto, exact or grid, got {method!r}")
    if not 2 <= resolution <= MAX_RESOLUTION:
        fail(f"--resolution: expected 2 to {MAX_RESOLUTION}, got {resolution}")
    if seed < 0:
        fail(f"--seed: expected a non-negative integer, got {seed}")
    if max_work is not None and max_work < 0:
        fail(f"--max-work: expected a non-negative integer, got {max_work}")
    check_plot_path(plot)
    net = load_network(file)
    points = None if plane is None else list(plane)
    plane_network(net, points)
    exact_box = check_box(None if box is None else list(box))
    record: dict = {"file": str(file), "box": [str(v) for v in exact_box]}
    result = None
    if method != "grid":
        try:
            exact, result = _exact_record(net, points, exact_box, seed, progress, max_work)
            record.update(exact)
        except QexprValueError as exc:
            if method == "exact":
                raise
            record["exact"] = f"not applicable: {exc}"
    if result is None:
        grid = grid_slice(net, points, exact_box, resolution)
        record.update(method="grid", certified=False, estimate=True, regions=grid.regions)
        record.update(resolution=resolution, confirmed=confirm_regions(net, grid, points))
    if plot is not None:
        from qexpr.studies import _plots

        if result is None:
            _plots.plot_slice(grid, plot, title=str(file))
        elif record["engine"] == "polygons":
            _plots.plot_exact_slice(result, plot, title=str(file))
        else:
            fill = grid_slice(net, points, exact_box, 400)
            _plots.plot_exact_regions(result, plot, title=str(file), grid=fill)
    if as_json:
        print_json(record)
        return
    for key, value in record.items():
        if key == "samples":
            continue
        if key == "regions" and record["method"] == "grid":
            value = f"{value} (grid estimate, not certified)"
        typer.echo(f"{key:<12}{value}")


command.__doc__ = HELP
