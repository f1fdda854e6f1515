"""Work refused up front: memory and time estimated from the widths before anything runs.

These are *estimates* (measured on the float and exact engines, 2-core machine,
2026-11-30), not bounds: a command past a limit stops at once with one line that says
what it would need and what to do instead, rather than growing for minutes and being
killed by the operating system.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from math import comb

#: Memory a command may plan to use (bytes).
MEMORY_LIMIT = 4 * 2**30
#: CPU time a count may plan to use (seconds on the reference machine: 2-core CPU, no GPU).
TIME_LIMIT = 600
#: float64 arrays of shape (cells, points, layer width) the float engine keeps for a ReLU
#: layer (values, envelopes, weights, coefficients, …).
FLOAT_ARRAYS = 5
#: float64 arrays of shape (cells, layer width) the piecewise-linear engine keeps for a ReLU
#: layer (slopes, intercepts, their envelopes, roots, …). Measured (2-core CPU, 2026-11-30):
#: relu 1,3000,1 with float weights (3,001 cells), 623 MB peak RSS; this estimate: 932 MB.
LINEAR_ARRAYS = 8
#: Bytes per (cell, ReLU neuron) of the float engine's states (bool masks and their copies).
MASK_BYTES = 4
#: Bytes per (cell, ReLU neuron) of the certified engines' patterns (Python tuples, 3 copies).
PATTERN_BYTES = 24
#: Bytes per (cell, ReLU neuron) of a float spline's region and cell objects, built for
#: ``--plot``. Measured (2-core CPU, 2026-11-30): quadratic 1,3000,1 in float mode, 305 MB
#: peak RSS without ``--plot``, 420 MB with it (4,105 cells).
OBJECT_BYTES = 10
#: Blocks of cells the float engine evaluates at once (``BLOCK_VALUES`` float64 per array;
#: the float checks of leading terms hold a few). Measured (2-core CPU, 2026-12-01):
#: quadratic 1,2000,1 in float mode peaked at 431–557 MB, 1,10000,1 at 763 MB.
BLOCK_ARRAYS = 20
#: CPU seconds per (cell, point, input) of the float engine. Measured (2-core CPU,
#: 2026-11-30): quadratic 1,10000,1 in float mode, 102 s CPU for the 10^9 that the
#: estimate below gives (475 MB peak RSS).
FLOAT_SECONDS = 1e-7
#: CPU seconds per (cell, neuron) decision of the hybrid engine. Measured (2-core CPU,
#: 2026-11-30): quadratic 1,1000,1 28 s and 1,2000,1 109 s CPU (the CLI's rational weights),
#: 1,2000,1 with float weights 161 s, for the 2.0e6, 8.0e6 and 8.0e6 the estimate gives.
HYBRID_SECONDS = 2e-5
#: Bytes and CPU seconds per (cell, ReLU neuron) of the certified piecewise-linear engine
#: (ReLU networks whose weights are float64 values), over a fixed start (interpreter,
#: imports, the exact scan's blocks and dense weight residues). Measured (2-core CPU,
#: 2026-12-01, exact scan of the cells): relu 1,3000,1 and 1,6000,1 with float weights,
#: 457 MB and 641 MB peak RSS, 2.5 s and 9.7 s CPU, for the 9.0e6 and 3.6e7 pairs the
#: estimate gives (estimates 508 MB and 832 MB, 4.5 s and 18 s).
PWL_START = 400 * 2**20
PWL_BYTES = 12
PWL_SECONDS = 5e-7
#: Bytes and CPU seconds per (cell, neuron) of the hybrid engine on networks whose only
#: ReLU layer is the first (exact roots, no float engine), over a fixed start. Measured
#: (2-core CPU, 2026-12-01): the CLI's quadratic 1,4000,1 and 1,10000,1, 236 MB and
#: 1.08 GB peak RSS, 2.2 s and 5.3 s CPU, for the 3.2e7 and 2.0e8 pairs the estimate gives
#: (estimates 456 MB and 1.8 GB, 1.6 s and 10 s).
FIRST_LAYER_START = 200 * 2**20
FIRST_LAYER_BYTES = 8
FIRST_LAYER_SECONDS = 5e-8
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


@dataclass(frozen=True)
class _Layer:
    """What the estimates read of one layer: estimated cells entering and leaving it,
    Chebyshev points per cell, input width, width, whether it has ReLU neurons."""

    before: int
    after: int
    points: int
    inputs: int
    width: int
    relu: bool


def _layers(net) -> list[_Layer]:
    """Estimated cells entering and leaving each layer: the spline recursion, first two layers.

    The engines start from the two half-lines. Layer 1's n pre-activations of degree d
    add at most n d cut points; in layer 2 each neuron may cut every cell d times (the
    recursion's bound). Deeper layers split far fewer cells than the bound allows
    (measured: 234 regions for quadratic 1,16,16,16,16,1 against a bound above 10^8), so
    only the first two layers count.
    """
    from qexpr.spline._float import degree_bounds
    from qexpr.spline._linear import is_piecewise_linear

    linear = is_piecewise_linear(net)
    cells, inputs, result = 2, net.input_dim, []
    for k, (layer, degree) in enumerate(zip(net.layers, degree_bounds(net))):
        before, relu = cells, layer.activation == "relu"
        if relu and k == 0:
            cells += layer.out_dim * degree
        elif relu and k == 1:
            cells *= 1 + layer.out_dim * degree
        points = 1 if linear else degree + 1
        result.append(_Layer(before, cells, points, inputs, layer.out_dim, relu))
        inputs = layer.out_dim
    return result


def float_bytes(net) -> int:
    """Estimated peak memory of the float engine on ``net`` (bytes).

    The largest ReLU layer's arrays (cells × points × width float64, ``FLOAT_ARRAYS`` of
    them; the piecewise-linear engine keeps ``LINEAR_ARRAYS`` of cells × width), plus
    every cell's ReLU states (``MASK_BYTES`` per cell and neuron) and the blocks of
    cells evaluated at once.
    """
    from qexpr.spline._float import BLOCK_VALUES
    from qexpr.spline._linear import is_piecewise_linear

    layers = _layers(net)
    if is_piecewise_linear(net):
        arrays = max(
            (la.after * la.width * 8 * LINEAR_ARRAYS for la in layers if la.relu), default=0
        )
    else:
        arrays = max(
            (la.before * la.points * la.width * 8 * FLOAT_ARRAYS for la in layers if la.relu),
            default=0,
        )
    widest = max(la.points * max(la.inputs, la.width) for la in layers)
    blocks = BLOCK_ARRAYS * 8 * max(BLOCK_VALUES, widest)
    return arrays + MASK_BYTES * _state_entries(layers) + blocks


def _state_entries(layers: list[_Layer]) -> int:
    """(cell, ReLU neuron) pairs of the finest cells."""
    return layers[-1].after * sum(la.width for la in layers if la.relu)


def float_seconds(net) -> float:
    """Estimated CPU time of the float engine on ``net``: each cell's points through each
    layer (``FLOAT_SECONDS`` per cell, point and input)."""
    return FLOAT_SECONDS * sum(la.after * la.points * la.inputs for la in _layers(net))


def hybrid_seconds(net) -> float:
    """Estimated CPU time of the hybrid engine: one exact decision per cell and neuron
    (``HYBRID_SECONDS`` each), after the float engine."""
    decisions = sum(la.after * la.width for la in _layers(net))
    return HYBRID_SECONDS * decisions + float_seconds(net)


def exact_roots(net) -> int:
    """Roots the exact engine isolates in layer 1 (0 when it has no ReLU)."""
    from qexpr.spline._float import degree_bounds

    first = net.layers[0]
    return first.out_dim * degree_bounds(net)[0] if first.activation == "relu" else 0


def _float_refusal(net, objects: bool = False) -> str | None:
    """Why float mode is refused (memory or time past the limits), or None; ``objects``:
    the spline's pieces, regions and cells are built too (``--plot``)."""
    memory, seconds = float_bytes(net), float_seconds(net)
    memory += OBJECT_BYTES * _state_entries(_layers(net)) if objects else 0
    if memory > MEMORY_LIMIT:
        drawn = objects and float_bytes(net) <= MEMORY_LIMIT
        return (
            f"the float engine would need about {_gigabytes(memory)} of memory "
            f"(limit {_gigabytes(MEMORY_LIMIT)}): "
            + ("drop --plot (the plot holds every cell)" if drawn else "use smaller widths")
        )
    if seconds > TIME_LIMIT:
        return (
            f"the float engine would take about {seconds:.0f} s "
            f"(limit {TIME_LIMIT} s): use smaller widths"
        )
    return None


def _certified_advice(net) -> str:
    """What to do instead of a refused certified count: float mode if it fits."""
    if _float_refusal(net) is None:
        return f"use --mode float (an estimate, not certified; about {float_seconds(net):.0f} s)"
    return "use smaller widths"


def _runs_pwl(net) -> bool:
    """Whether the hybrid mode runs the certified piecewise-linear engine on ``net``."""
    from qexpr.spline._linear import is_piecewise_linear
    from qexpr.spline._pwl import float_weights

    return is_piecewise_linear(net) and all(float_weights(la) is not None for la in net.layers)


def _certified_cost(net, mode: str) -> tuple[float, float]:
    """Estimated memory (bytes) and CPU time (seconds) of a certified count."""
    from qexpr.spline._first_layer import only_first_layer_relu

    entries = _state_entries(_layers(net))
    if mode == "hybrid" and _runs_pwl(net):
        return PWL_START + PWL_BYTES * entries, PWL_SECONDS * entries
    if mode == "hybrid" and only_first_layer_relu(net):
        return FIRST_LAYER_START + FIRST_LAYER_BYTES * entries, FIRST_LAYER_SECONDS * entries
    return float_bytes(net) + PATTERN_BYTES * entries, hybrid_seconds(net)


def check_count(net, mode: str, *, objects: bool = False) -> str | None:
    """Why counting ``net`` in ``mode`` ("exact", "hybrid" or "float") is refused, or None;
    ``objects``: the spline's pieces, regions and cells will be built (``--plot``).

    Every number here is an estimate from the widths (see the constants' measurements);
    the exact engine does at least the hybrid engine's work, and also sorts every root of
    layer 1.
    """
    if mode == "float":
        return _float_refusal(net, objects)
    roots = exact_roots(net)
    if mode == "exact" and roots > EXACT_ROOTS_LIMIT:
        seconds = 2 * (roots / 1000) ** 2
        return (
            f"the exact engine would sort {roots} roots in layer 1 (estimated {seconds:.0f} s; "
            f"limit {EXACT_ROOTS_LIMIT}): {_certified_advice(net)}"
        )
    engine = "exact" if mode == "exact" else "certified (hybrid)"
    memory, seconds = _certified_cost(net, mode)
    if memory > MEMORY_LIMIT:
        return (
            f"the {engine} engine would need about {_gigabytes(memory)} of memory "
            f"(limit {_gigabytes(MEMORY_LIMIT)}): {_certified_advice(net)}"
        )
    if seconds > TIME_LIMIT:
        return (
            f"the {engine} engine would take about {seconds:.0f} s "
            f"(limit {TIME_LIMIT} s): {_certified_advice(net)}"
        )
    return None


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
