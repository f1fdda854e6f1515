"""``count_pieces``: the spline form of a one-input network and its counts.

This is the library face of ``qexpr count-pieces``: it runs the exact engine
(:mod:`qexpr._exact_spline`) or the float engine (:mod:`qexpr._float_spline`), merges
cells into pieces and activation regions, and reports the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from qexpr._errors import QexprError, QexprTypeError, QexprValueError
from qexpr._exact_spline import exact_cells
from qexpr._float_spline import degree_bounds, effective_degree, float_cells, output_series
from qexpr._network import Network
from qexpr._numbers import parse_number
from qexpr._spline import Piece, Region, Spline, group_runs

__all__ = ["PieceCount", "count_pieces", "spline"]

Mode = Literal["exact", "float", "auto"]

#: ``mode="auto"`` runs the exact engine when the network has at most this many neurons ...
AUTO_MAX_NEURONS = 64
#: ... and its output degree bound is at most this.
AUTO_MAX_DEGREE = 32


@dataclass(frozen=True)
class PieceCount:
    """What :func:`count_pieces` measures.

    Attributes
    ----------
    pieces
        Number of maximal intervals on which the output is one polynomial (vector).
    activation_regions
        Number of maximal intervals of constant ReLU activation pattern.
    degree
        Highest degree of any piece (0 for constant or zero pieces).
    breakpoints
        Points between consecutive pieces, as floats, increasing.
    mode
        ``"exact"`` or ``"float"``: the engine that ran.
    unresolved
        Float mode: how many pre-activations were below float64 resolution (then the counts
        may be wrong; use exact mode). Always 0 in exact mode.
    spline
        The :class:`~qexpr.Spline` itself (exact breakpoints and polynomials in exact mode).
    """

    pieces: int
    activation_regions: int
    degree: int
    breakpoints: tuple[float, ...]
    mode: Literal["exact", "float"]
    unresolved: int
    spline: Spline

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready summary (what ``qexpr count-pieces --json`` prints)."""
        return {
            "pieces": self.pieces,
            "activation_regions": self.activation_regions,
            "degree": self.degree,
            "breakpoints": list(self.breakpoints),
            "mode": self.mode,
            "unresolved": self.unresolved,
        }


def _check_domain(domain: object, exact: bool) -> tuple[Any, Any] | None:
    if domain is None:
        return None
    if not isinstance(domain, tuple | list) or len(domain) != 2:
        raise QexprTypeError(f"domain: expected None or a pair (a, b), got {domain!r}")
    try:
        a, b = (parse_number(v, "domain") for v in domain)
    except QexprError as exc:
        raise type(exc)(str(exc)) from None
    if not a < b:
        raise QexprValueError(f"domain: expected a < b, got [{domain[0]}, {domain[1]}]")
    return (a, b) if exact else (float(a), float(b))


def _exact_spline(net: Network, domain: tuple[Fraction, Fraction] | None) -> Spline:
    cells = exact_cells(net, domain)
    pieces = tuple(
        Piece(
            cells[i].left,
            cells[j].right,
            cells[i].outputs,
            max(max(p.degree(), 0) for p in cells[i].outputs),
        )
        for i, j in group_runs(cells, lambda k: cells[k].outputs == cells[k + 1].outputs)
    )
    regions = tuple(
        Region(cells[i].left, cells[j].right, cells[i].pattern)
        for i, j in group_runs(cells, lambda k: cells[k].pattern == cells[k + 1].pattern)
    )
    return Spline("exact", domain, pieces, regions)


def _float_spline(net: Network, domain: tuple[float, float] | None) -> Spline:
    cells, lost = float_cells(net, domain)
    coeffs, centre, half, same, lost_out = output_series(net, cells)
    degrees = effective_degree(coeffs).max(axis=1)
    pieces = []
    for i, j in group_runs(cells, lambda k: bool(same[k])):
        window = [centre[i] - half[i], centre[i] + half[i]]
        polys = tuple(np.polynomial.Chebyshev(c, domain=window) for c in coeffs[i])
        pieces.append(Piece(cells[i].left, cells[j].right, polys, int(degrees[i])))
    regions = tuple(
        Region(cells[i].left, cells[j].right, cells[i].pattern)
        for i, j in group_runs(cells, lambda k: cells[k].pattern == cells[k + 1].pattern)
    )
    return Spline("float", domain, tuple(pieces), regions, lost + lost_out)


def resolve_mode(net: Network, mode: str) -> Literal["exact", "float"]:
    """``"exact"`` or ``"float"``; ``"auto"`` picks exact for small networks (see constants)."""
    if mode not in ("exact", "float", "auto"):
        raise QexprValueError(f"mode: expected exact, float or auto, got {mode!r}")
    if mode != "auto":
        return mode  # type: ignore[return-value]
    neurons = sum(layer.out_dim for layer in net.layers)
    degree = degree_bounds(net)[-1] * (2 if net.layers[-1].activation == "square" else 1)
    return "exact" if neurons <= AUTO_MAX_NEURONS and degree <= AUTO_MAX_DEGREE else "float"


def spline(net: Network, mode: Mode = "exact", domain: object = None) -> Spline:
    """The spline form of a one-input network.

    Parameters
    ----------
    net
        A :class:`~qexpr.Network` with ``input_dim == 1``.
    mode
        ``"exact"`` (rational arithmetic, exact algebraic breakpoints), ``"float"``
        (float64, batched) or ``"auto"`` (exact when the network is small).
    domain
        ``None`` for the whole real line, or ``(a, b)`` for the closed interval [a, b];
        numbers as in the network format (``"1/3"`` is exact).
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    if net.input_dim != 1:
        raise QexprValueError(
            f"net: expected a network with one input, got input_dim {net.input_dim} "
            "(restrict it to a line first)"
        )
    resolved = resolve_mode(net, mode)
    if resolved == "exact":
        return _exact_spline(net, _check_domain(domain, exact=True))
    return _float_spline(net, _check_domain(domain, exact=False))


def count_pieces(net: Network, mode: Mode = "exact", domain: object = None) -> PieceCount:
    """Count the pieces, activation regions and degree of a one-input network.

    Parameters are those of :func:`spline`. Returns a :class:`PieceCount` whose ``spline``
    attribute holds the full piecewise form.

    Examples
    --------
    >>> import qexpr
    >>> net = qexpr.random_network("quadratic", [1, 4, 4, 1], seed=0)
    >>> result = qexpr.count_pieces(net)
    >>> result.pieces, result.degree  # doctest: +SKIP
    """
    form = spline(net, mode, domain)
    return PieceCount(
        pieces=len(form.pieces),
        activation_regions=len(form.regions),
        degree=form.degree,
        breakpoints=tuple(float(b) for b in form.breakpoints),
        mode=form.mode,
        unresolved=form.unresolved,
        spline=form,
    )
