"""qexpr: expressivity and training of quadratic neural networks.

The public API is re-exported here; the implementation lives in private modules.
"""

from qexpr._algebraic import RealAlgebraic
from qexpr._count import PieceCount, count_pieces, spline
from qexpr._errors import NetworkFormatError, QexprError, QexprTypeError, QexprValueError
from qexpr._io import load_network, network_from_dict, network_to_dict, save_network
from qexpr._network import CompactLayer, Layer, LinearLayer, Network, QuadraticLayer
from qexpr._random import KINDS, random_network
from qexpr._spline import Piece, Region, Spline

__version__ = "0.1.0"

__all__ = [
    "KINDS",
    "CompactLayer",
    "Layer",
    "LinearLayer",
    "Network",
    "NetworkFormatError",
    "Piece",
    "PieceCount",
    "QexprError",
    "QexprTypeError",
    "QexprValueError",
    "QuadraticLayer",
    "RealAlgebraic",
    "Region",
    "Spline",
    "count_pieces",
    "load_network",
    "network_from_dict",
    "network_to_dict",
    "random_network",
    "save_network",
    "spline",
]
