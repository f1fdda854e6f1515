"""The spline engine: a one-input network as a piecewise-polynomial function.

Layers of this package, from the bottom:

* ``_algebraic`` — exact real algebraic numbers (python-flint root isolation);
* ``_chebyshev`` — float64 Chebyshev values, coefficients and roots;
* ``_exact`` / ``_float`` / ``_linear`` — the three engines that cut the line into cells
  (exact rationals, batched float64 polynomials, the affine fast path for ReLU networks);
* ``_types`` — the results (``Spline``, ``Piece``, ``Cell``, ``Region``);
* ``_count`` — the facade (``count_pieces``, ``spline_form``) that picks an engine;
* ``_restrict`` — lines through networks with several inputs, breakpoint density.

python-flint is imported only when exact arithmetic is first needed. The public names are
re-exported by ``qexpr``. Before 0.2 ``qexpr.spline`` was the function now called
``qexpr.spline_form``; calling the package still works, with a DeprecationWarning.
"""

import sys
import types
import warnings

from qexpr.spline._count import PieceCount, count_pieces, spline_form
from qexpr.spline._restrict import LineDensity, breakpoint_density, restrict_to_line
from qexpr.spline._types import Cell, Piece, Region, Spline


def __getattr__(name: str) -> object:
    if name == "RealAlgebraic":
        from qexpr.spline._algebraic import RealAlgebraic

        return RealAlgebraic
    raise AttributeError(f"module 'qexpr.spline' has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    """``qexpr.spline(net)``, the 0.1 spelling of ``qexpr.spline_form(net)``."""

    def __call__(self, *args: object, **kwargs: object) -> Spline:
        warnings.warn(
            "qexpr.spline(net) is now qexpr.spline_form(net); the old call goes in the next "
            "release",
            DeprecationWarning,
            stacklevel=2,
        )
        return spline_form(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage


__all__ = [
    "Cell",
    "LineDensity",
    "Piece",
    "PieceCount",
    "RealAlgebraic",
    "Region",
    "Spline",
    "breakpoint_density",
    "count_pieces",
    "restrict_to_line",
    "spline_form",
]
