"""Work refused up front: memory and time estimated from the widths before anything runs.

These are *estimates* (measured on the float and exact engines, 2-core machine,
2026-11-30), not bounds: a command past a limit stops at once with one line that says
what it would need and what to do instead, rather than growing for minutes and being
killed by the operating system.
"""

from __future__ import annotations

from itertools import pairwise
from math import comb

#: Memory a command may plan to use (bytes).
MEMORY_LIMIT = 4 * 2**30
#: float64 arrays of shape (cells, points, width) alive at once in the float engine
#: (``--widths 1,10000,1``: estimate 4.8 GB per array, 24 GB measured before this check).
FLOAT_ARRAYS = 5
#: Roots of layer 1 the exact engine may isolate and sort (1,024 neurons, 2,048 roots: 33 s).
EXACT_ROOTS_LIMIT = 8192
#: Largest random network built (weights).
PARAMETERS_LIMIT = 10**7
#: Most chords of ``--random-lines``.
RANDOM_LINES_LIMIT = 100_000
#: Most jobs in one sweep grid.
JOBS_LIMIT = 1_000_000
#: Largest Jacobian (entries) of ``qexpr dimension`` (int64 or float64: 8 bytes each).
JACOBIAN_LIMIT = 2**26


def _gigabytes(count: float) -> str:
    return f"{count / 2**30:.3g} GB"


def random_parameters(widths: tuple[int, ...]) -> int:
    """Weights of a random network with these widths (5 per input and neuron at most)."""
    return sum(5 * (n_in + 1) * n_out for n_in, n_out in pairwise(widths))


def check_random_size(widths: tuple[int, ...]) -> str | None:
    """Why a random network of ``widths`` is too large to build, or None."""
    parameters = random_parameters(widths)
    if parameters > PARAMETERS_LIMIT:
        return (
            f"--widths: a random network with about {parameters} weights is too large "
            f"(limit {PARAMETERS_LIMIT}): use smaller widths"
        )
    return None


def _cells_before(net) -> list[int]:
    """Estimated cells entering each layer: the spline recursion over the first two layers.

    The engines start from the two half-lines. Layer 1's n pre-activations of degree d
    add at most n d cut points; in layer 2 each neuron may cut every cell d times (the
    recursion's bound). Deeper layers split far fewer cells than the bound allows
    (measured: 234 regions for quadratic 1,16,16,16,16,1 against a bound above 10^8), so
    only the first two layers count.
    """
    from qexpr.spline._float import degree_bounds

    cells, before = 2, []
    for k, (layer, degree) in enumerate(zip(net.layers, degree_bounds(net))):
        before.append(cells)
        if layer.activation == "relu" and k == 0:
            cells += layer.out_dim * degree
        elif layer.activation == "relu" and k == 1:
            cells *= 1 + layer.out_dim * degree
    return before


def float_bytes(net) -> int:
    """Estimated peak memory of the float engine on ``net`` (bytes).

    Per layer: cells x points x input width float64 values, ``FLOAT_ARRAYS`` times; the
    polynomial engine evaluates degree + 1 points per cell, the piecewise-linear engine
    keeps one slope and intercept per cell.
    """
    from qexpr.spline._float import degree_bounds
    from qexpr.spline._linear import is_piecewise_linear

    widths = [net.input_dim, *(layer.out_dim for layer in net.layers)]
    linear = is_piecewise_linear(net)
    return max(
        cells * (1 if linear else degree + 1) * width * 8 * FLOAT_ARRAYS
        for cells, degree, width in zip(_cells_before(net), degree_bounds(net), widths)
    )


def exact_roots(net) -> int:
    """Roots the exact engine isolates in layer 1 (0 when it has no ReLU)."""
    from qexpr.spline._float import degree_bounds

    first = net.layers[0]
    return first.out_dim * degree_bounds(net)[0] if first.activation == "relu" else 0


def check_count(net, mode: str) -> str | None:
    """Why counting ``net`` in ``mode`` ("exact" or "float") is refused, or None."""
    memory = float_bytes(net)
    float_fits = memory <= MEMORY_LIMIT
    if mode == "exact":
        roots = exact_roots(net)
        if roots <= EXACT_ROOTS_LIMIT:
            return None
        seconds = 2 * (roots / 1000) ** 2
        advice = "use --mode float" if float_fits else "use smaller widths"
        return (
            f"the exact engine would sort {roots} roots in layer 1 (estimated {seconds:.0f} s; "
            f"limit {EXACT_ROOTS_LIMIT}): {advice}"
        )
    if float_fits:
        return None
    return (
        f"the float engine would need about {_gigabytes(memory)} of memory "
        f"(limit {_gigabytes(MEMORY_LIMIT)}): use smaller widths"
    )


def check_dimension(kind: str, widths: tuple[int, ...], r, bias: bool) -> str | None:
    """Why ``qexpr dimension`` of this network is refused (Jacobian too large), or None.

    The Jacobian has one column per parameter and about ``min(parameters, ambient)`` rows;
    the ambient dimension is at most ``d_h`` times the monomials of degree <= D in ``d_0``
    variables (D the output degree, read from the same network with one input).
    """
    from qexpr.dimension._spec import make_spec

    spec = make_spec(kind, widths, r, bias=bias)
    degree = int(make_spec(kind, (1, *widths[1:]), r, bias=bias).support.max())
    monomials = comb(widths[0] + degree, degree)
    entries = spec.parameters * min(spec.parameters, widths[-1] * monomials)
    if entries <= JACOBIAN_LIMIT:
        return None
    return (
        f"the Jacobian would have about {entries:.3g} entries ({spec.parameters} parameters; "
        f"limit {JACOBIAN_LIMIT}, {_gigabytes(8 * JACOBIAN_LIMIT)}): use smaller widths"
    )
