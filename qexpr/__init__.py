"""qexpr: expressivity and training of quadratic neural networks.

The public API is re-exported here; the implementation lives in private modules.
"""

from qexpr._bounds import Bound, Bounds, SplineBound, kind_bounds, spline_bound
from qexpr._constructions import (
    chebyshev_network,
    embed_in_quadratic,
    sawtooth_chebyshev_network,
    sawtooth_network,
)
from qexpr._count import PieceCount, count_pieces, spline
from qexpr._dimension import DimensionResult, neurovariety_dimension
from qexpr._dimension_table import (
    Theorem2Row,
    theorem2_architectures,
    theorem2_markdown,
    theorem2_rows,
    theorem2_summary,
)
from qexpr._errors import NetworkFormatError, QexprError, QexprTypeError, QexprValueError
from qexpr._io import load_network, network_from_dict, network_to_dict, save_network
from qexpr._network import CompactLayer, Layer, LinearLayer, Network, QuadraticLayer
from qexpr._polynet import PolyNetSpec, make_spec
from qexpr._random import KINDS, random_network
from qexpr._restrict import LineDensity, breakpoint_density, restrict_to_line
from qexpr._slice import ExactSlice, exact_slice, plane_network
from qexpr._slice_grid import GridSlice, confirm_regions, grid_slice
from qexpr._spline import Cell, Piece, Region, Spline
from qexpr._sweep import SweepSummary, read_sweep, run_sweep
from qexpr._sweep_jobs import JobType, job_grid, register_job_type
from qexpr._verify import Check, VerifyReport, verify

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # python-flint loads only when exact arithmetic is first needed (fast CLI start-up).
    if name == "RealAlgebraic":
        from qexpr._algebraic import RealAlgebraic

        return RealAlgebraic
    raise AttributeError(f"module 'qexpr' has no attribute {name!r}")


__all__ = [
    "KINDS",
    "Bound",
    "Bounds",
    "Cell",
    "Check",
    "CompactLayer",
    "DimensionResult",
    "ExactSlice",
    "GridSlice",
    "JobType",
    "Layer",
    "LineDensity",
    "LinearLayer",
    "Network",
    "NetworkFormatError",
    "Piece",
    "PieceCount",
    "PolyNetSpec",
    "QexprError",
    "QexprTypeError",
    "QexprValueError",
    "QuadraticLayer",
    "RealAlgebraic",
    "Region",
    "Spline",
    "SplineBound",
    "SweepSummary",
    "Theorem2Row",
    "VerifyReport",
    "breakpoint_density",
    "chebyshev_network",
    "confirm_regions",
    "count_pieces",
    "embed_in_quadratic",
    "exact_slice",
    "grid_slice",
    "job_grid",
    "kind_bounds",
    "load_network",
    "make_spec",
    "network_from_dict",
    "network_to_dict",
    "neurovariety_dimension",
    "plane_network",
    "random_network",
    "read_sweep",
    "register_job_type",
    "restrict_to_line",
    "run_sweep",
    "save_network",
    "sawtooth_chebyshev_network",
    "sawtooth_network",
    "spline",
    "spline_bound",
    "theorem2_architectures",
    "theorem2_markdown",
    "theorem2_rows",
    "theorem2_summary",
    "verify",
]
