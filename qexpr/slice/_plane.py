"""The plane of a slice and its box: ``(s, t) -> net(P0 + s (P1 - P0) + t (P2 - P0))``.

Shared by every slice method (exact polygons, grid): the plane becomes a first linear layer
with exact weights, so a slice is always the study of a network with two inputs.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._network import LinearLayer, Network
from qexpr._numbers import parse_vector

__all__ = ["DEFAULT_BOX", "check_box", "plane_network"]

DEFAULT_BOX = (Fraction(-1), Fraction(1), Fraction(-1), Fraction(1))


def check_box(box: object) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """Read ``(xmin, xmax, ymin, ymax)`` exactly; the box must have positive area."""
    if box is None:
        return DEFAULT_BOX
    values = parse_vector(box, "box", 4)
    if not (values[0] < values[1] and values[2] < values[3]):
        raise QexprValueError(
            f"box: expected XMIN < XMAX and YMIN < YMAX, got {[str(v) for v in values]}"
        )
    return values  # type: ignore[return-value]


def plane_network(net: Network, plane: object = None) -> Network:
    """The two-input network ``(s, t) -> net(P0 + s (P1 - P0) + t (P2 - P0))``.

    ``plane`` is ``None`` (then ``net`` must have two inputs and is returned) or three points
    of length ``input_dim``.
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    if plane is None:
        if net.input_dim != 2:
            raise QexprValueError(
                f"net: expected a network with two inputs, got input_dim {net.input_dim} "
                "(give a plane through three points)"
            )
        return net
    if not isinstance(plane, list | tuple) or len(plane) != 3:
        raise QexprValueError(f"plane: expected three points, got {plane!r}")
    p0, p1, p2 = (parse_vector(p, "plane", net.input_dim) for p in plane)
    u = [a - b for a, b in zip(p1, p0)]
    v = [a - b for a, b in zip(p2, p0)]
    if _rank(u, v) < 2:
        raise QexprValueError("plane: expected three points not on one line")
    w = np.array([[ui, vi] for ui, vi in zip(u, v)], dtype=object)
    first = LinearLayer(w=w, b=np.array(p0, dtype=object), activation="identity")
    return Network(2, (first, *net.layers))


def _rank(u: list[Fraction], v: list[Fraction]) -> int:
    """Rank of the n×2 matrix [u v] (exact)."""
    if not any(u) and not any(v):
        return 0
    n = len(u)
    if any(u[i] * v[j] - u[j] * v[i] != 0 for i in range(n) for j in range(i + 1, n)):
        return 2
    return 1
