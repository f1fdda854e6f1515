"""Two-dimensional slices: activation regions of a network on a plane.

* ``_plane`` — the plane and box of a slice (a network with two inputs);
* ``_polygons`` — exact rational polygons for piecewise-linear (conventional ReLU) networks;
* ``_curves`` — exact region maps for every neuron type, within a work estimate (a
  cylindrical decomposition; loads python-flint on first use);
* ``_cad`` — the cylindrical decomposition of plane curves used by ``_curves``;
* ``_field`` — polynomials over a real number field: gcd and Sturm counts;
* ``_line`` — simple roots on a critical line, bracketed by certified signs;
* ``_grid`` — the grid method for every network: an estimate, with regions confirmed
  exactly along lines.
"""

from qexpr.slice._grid import GridSlice, confirm_regions, grid_slice
from qexpr.slice._plane import check_box, plane_network
from qexpr.slice._polygons import ExactSlice, exact_slice

__all__ = [
    "ExactSlice",
    "GridSlice",
    "RegionMap",
    "check_box",
    "confirm_regions",
    "exact_regions",
    "exact_slice",
    "grid_slice",
    "plane_network",
]


def __getattr__(name: str) -> object:
    # python-flint loads only when an exact region map is first needed.
    if name == "RegionMap":
        from qexpr.slice._curves import RegionMap

        return RegionMap
    if name == "exact_regions":
        from qexpr.slice._curves import exact_regions

        return exact_regions
    raise AttributeError(f"module 'qexpr.slice' has no attribute {name!r}")
