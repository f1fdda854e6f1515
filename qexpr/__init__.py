"""qexpr: expressivity and training of quadratic neural networks.

The core is re-exported here: networks and their layers, the neuron table, the file format,
random networks and constructions, bounds, the spline engine (:mod:`qexpr.spline`), slices
(:mod:`qexpr.slice`), the neurovariety dimension and the certified maximum-pieces search.
Sweeps (:mod:`qexpr.sweep`), the Theorem 2 tables (:mod:`qexpr.dimension`), the studies and
``verify`` (:mod:`qexpr.studies`) and the PyTorch layer (:mod:`qexpr.nn`) live in their
subpackages. ``import qexpr`` loads neither torch, sympy nor python-flint. See
docs/architecture.md.
"""

import importlib
import warnings

from qexpr._bounds import Bound, Bounds, SplineBound, kind_bounds, spline_bound
from qexpr._constructions import (
    chebyshev_network,
    embed_in_quadratic,
    sawtooth_chebyshev_network,
    sawtooth_network,
)
from qexpr._errors import NetworkFormatError, QexprError, QexprTypeError, QexprValueError
from qexpr._io import load_network, network_from_dict, network_to_dict, save_network
from qexpr._kinds import KINDS, Kind
from qexpr._network import CompactLayer, Layer, LinearLayer, Network, QuadraticLayer
from qexpr._neurons import NEURONS, NeuronType, register_neuron
from qexpr._random import random_network
from qexpr.dimension import DimensionResult, PolyNetSpec, make_spec, neurovariety_dimension
from qexpr.slice import (
    ExactSlice,
    GridSlice,
    confirm_regions,
    exact_slice,
    grid_slice,
    plane_network,
)
from qexpr.spline import (
    Cell,
    LineDensity,
    Piece,
    PieceCount,
    Region,
    Spline,
    breakpoint_density,
    count_pieces,
    restrict_to_line,
    spline_form,
)
from qexpr.studies._max_pieces import max_pieces

__version__ = "0.1.0"

#: Names that moved to a subpackage in 0.2; the old spelling warns for one release.
_MOVED = {
    "SweepSummary": "qexpr.sweep",
    "read_sweep": "qexpr.sweep",
    "run_sweep": "qexpr.sweep",
    "JobType": "qexpr.sweep",
    "job_grid": "qexpr.sweep",
    "register_job_type": "qexpr.sweep",
    "Theorem2Row": "qexpr.dimension",
    "theorem2_architectures": "qexpr.dimension",
    "theorem2_markdown": "qexpr.dimension",
    "theorem2_rows": "qexpr.dimension",
    "theorem2_summary": "qexpr.dimension",
    "Check": "qexpr.studies",
    "VerifyReport": "qexpr.studies",
    "verify": "qexpr.studies",
}


def __getattr__(name: str) -> object:
    # python-flint loads only when exact arithmetic is first needed (fast CLI start-up).
    if name == "RealAlgebraic":
        from qexpr.spline._algebraic import RealAlgebraic

        return RealAlgebraic
    if name in _MOVED:
        home = _MOVED[name]
        warnings.warn(
            f"qexpr.{name} moved to {home}.{name}; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module 'qexpr' has no attribute {name!r}")


__all__ = [
    "KINDS",
    "NEURONS",
    "Bound",
    "Bounds",
    "Cell",
    "CompactLayer",
    "DimensionResult",
    "ExactSlice",
    "GridSlice",
    "Kind",
    "Layer",
    "LineDensity",
    "LinearLayer",
    "Network",
    "NetworkFormatError",
    "NeuronType",
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
    "breakpoint_density",
    "chebyshev_network",
    "confirm_regions",
    "count_pieces",
    "embed_in_quadratic",
    "exact_slice",
    "grid_slice",
    "kind_bounds",
    "load_network",
    "make_spec",
    "max_pieces",
    "network_from_dict",
    "network_to_dict",
    "neurovariety_dimension",
    "plane_network",
    "random_network",
    "register_neuron",
    "restrict_to_line",
    "save_network",
    "sawtooth_chebyshev_network",
    "sawtooth_network",
    "spline_bound",
    "spline_form",
]
