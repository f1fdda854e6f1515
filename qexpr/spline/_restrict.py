"""Restrict a network of any input dimension to a line, exactly.

The restriction of ``f: R^n -> R^m`` to the line ``x = p + t v`` is the one-input network
``t -> f(p + t v)``. It is built by putting one identity layer in front of the network::

    x = w t + b,   w = v (an n×1 matrix),   b = p

and leaving every original layer unchanged. This is exact for every neuron type: a quadratic
first layer sees ``x ⊙ x = (p + t v) ⊙ (p + t v)`` through its own ``wb``, which a single
rescaled first layer could not express. The identity layer has neither ReLUs nor quadratic
terms, so pieces, activation regions and degree (and the spline bound) are those of ``f``
along the line.

:func:`breakpoint_density` samples random lines (Hanin and Rolnick, 2019, "Complexity of
linear regions in deep networks"): breakpoints per unit length along seeded random chords.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._network import LinearLayer, Network
from qexpr._numbers import parse_vector
from qexpr._progress import Progress, tracked
from qexpr.spline._count import count_pieces

__all__ = ["LineDensity", "breakpoint_density", "restrict_to_line"]


def restrict_to_line(net: Network, point: object, direction: object) -> Network:
    """The one-input network ``t -> net(point + t * direction)``, exactly.

    Parameters
    ----------
    net
        Any :class:`~qexpr.Network`.
    point, direction
        Vectors of length ``net.input_dim`` (numbers or ``"p/q"`` strings, read exactly, or a
        comma-separated string); ``direction`` must not be zero.

    Returns
    -------
    Network
        ``Network(1, (LinearLayer(w=direction[:, None], b=point), *net.layers))``.
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    p = parse_vector(point, "point", net.input_dim)
    v = parse_vector(direction, "direction", net.input_dim)
    if not any(v):
        raise QexprValueError("direction: expected a non-zero vector")
    first = LinearLayer(
        w=np.array(v, dtype=object)[:, None], b=np.array(p, dtype=object), activation="identity"
    )
    return Network(1, (first, *net.layers))


@dataclass(frozen=True)
class LineDensity:
    """Breakpoints per unit length along random chords (see :func:`breakpoint_density`).

    ``densities[i] = breakpoints_i / length_i`` for chord i; ``mean`` and ``std`` summarise.
    """

    densities: tuple[float, ...]
    breakpoints: tuple[int, ...]
    lengths: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean breakpoints per unit length."""
        return float(np.mean(self.densities))

    @property
    def std(self) -> float:
        """Standard deviation over the chords."""
        return float(np.std(self.densities))


def breakpoint_density(
    net: Network,
    lines: int = 16,
    *,
    seed: int = 0,
    radius: float = 1.0,
    mode: str = "auto",
    progress: Progress | None = None,
) -> LineDensity:
    """Hanin–Rolnick statistic: breakpoints per unit length on seeded random chords.

    Each chord is ``x = p + t v``, ``t ∈ [-1, 1]``, with ``p`` uniform in the cube
    ``[-radius, radius]^n`` and ``v = radius * u`` for ``u`` uniform on the unit sphere (so the
    chord has length ``2 radius``). Numbers are rounded to float64 and then read exactly.
    ``progress(stage, done, total)``, if given, is called after each chord.
    """
    if lines < 1:
        raise QexprValueError(f"lines: expected a positive integer, got {lines}")
    if not radius > 0:
        raise QexprValueError(f"radius: expected a positive number, got {radius}")
    rng = np.random.default_rng(seed)
    counts, lengths = [], []
    for _ in tracked(range(lines), progress, "random lines"):
        p = rng.uniform(-radius, radius, net.input_dim)
        u = rng.standard_normal(net.input_dim)
        v = radius * u / np.linalg.norm(u)
        line = restrict_to_line(net, p.tolist(), v.tolist())
        result = count_pieces(line, mode=mode, domain=(-1, 1))
        counts.append(len(result.breakpoints))
        lengths.append(2 * float(np.linalg.norm(v)))
    densities = tuple(c / s for c, s in zip(counts, lengths))
    return LineDensity(densities, tuple(counts), tuple(lengths))
