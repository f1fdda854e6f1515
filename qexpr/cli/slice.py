"""``qexpr slice``: activation regions of a network on a 2-D slice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import fail, one_line_errors, print_json

HELP = """Count the activation regions of a network on a 2-D slice.

A two-input network is sliced in its own input plane; for more inputs give --plane with
three points (comma-separated exact numbers). The box is in plane coordinates (default
[-1, 1]²). Conventional ReLU networks are counted exactly (rational polygons); other
networks on a grid, whose regions are each confirmed by the exact 1-D engine.

Examples:

  qexpr slice net2d.json --json

  qexpr slice net.json --plane 0,0,0 1,0,0 0,1,0 --box -2 2 -2 2 --plot slice.png

  qexpr slice net2d.json --method grid --resolution 512
"""


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
        str, typer.Option(help="auto (exact for conventional ReLU nets), exact or grid.")
    ] = "auto",
    resolution: Annotated[int, typer.Option(help="Grid samples per side.")] = 256,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(help="Draw the regions (PNG): exact polygons, or the grid labels."),
    ] = None,
) -> None:
    from qexpr._io import load_network
    from qexpr.slice._grid import confirm_regions, grid_slice
    from qexpr.slice._polygons import check_box, exact_slice, plane_network

    if method not in ("auto", "exact", "grid"):
        fail(f"--method: expected auto, exact or grid, got {method!r}")
    if resolution < 2:
        fail(f"--resolution: expected at least 2, got {resolution}")
    net = load_network(file)
    points = None if plane is None else list(plane)
    plane_network(net, points)
    exact_box = check_box(None if box is None else list(box))
    piecewise_linear = all(la.neuron == "linear" and la.activation != "square" for la in net.layers)
    if method == "exact" and not piecewise_linear:
        fail("--method exact: needs conventional ReLU/identity layers; use --method grid")
    record = {"file": str(file), "box": [str(v) for v in exact_box]}
    grid = None
    if method == "grid" or (method == "auto" and not piecewise_linear):
        grid = grid_slice(net, points, exact_box, resolution)
        confirmed = confirm_regions(net, grid, points)
        record.update(method="grid", regions=grid.regions, resolution=resolution)
        record["confirmed"] = confirmed
    else:
        result = exact_slice(net, points, exact_box)
        record.update(method="exact", regions=result.regions, cells=len(result.cells))
    if plot is not None:
        from qexpr.studies._plots import plot_exact_slice, plot_slice

        if grid is None:
            plot_exact_slice(result, plot, title=str(file))
        else:
            plot_slice(grid, plot, title=str(file))
    if as_json:
        print_json(record)
    else:
        for key, value in record.items():
            typer.echo(f"{key:<12}{value}")


command.__doc__ = HELP
