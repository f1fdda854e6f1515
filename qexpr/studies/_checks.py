"""The checks of ``qexpr verify`` (:func:`qexpr.studies.verify`), one function per theorem claim.

Every check compares independent computations and passes or fails on its own:

* ``random-networks``: seeded random networks of every kind (quadratic, conventional
  ReLU, z², compact). Exact pieces ≤ the kind's pieces bound (:func:`kind_bounds`) and ≤ the
  recursion on the actual weights (:func:`spline_bound`); exact degree ≤ the degree bound;
  the float engine's counts equal the exact ones and its breakpoints agree to 1e-6 (in its
  documented regime, degree ≤ 8, when float64 resolves the network, which it reports).
* ``constructions``: :func:`sawtooth_network` has ``∏(n_l + 1)`` pieces, :func:`chebyshev_network`
  ``2^L - 1`` pieces of degree ``2^L``, :func:`sawtooth_chebyshev_network` the product of both,
  each counted exactly and compared with the closed formula.
* ``inclusions``: a conventional ReLU and a z² network equal their embedding in quadratic
  neurons (:func:`embed_in_quadratic`), exactly, at rational points and piece by piece.
* ``dimension``: Theorem 2.
  Shallow z² networks ``(d, h, 1)`` have the dimension of symmetric d×d matrices of rank ≤ h,
  ``min(dh - C(h, 2), C(d + 1, 2))``; shallow cubic networks follow Alexander–Hirschowitz,
  ``min(dh, C(d + 2, 3))`` (no exception at these sizes); every measured dimension is ≤ the
  ambient dimension and ≤ the parameter count; quadratic ≥ z² at the same widths.
* ``relinear-training``: a quadratic QMLP with ReLinear does not collapse on digits
  (test accuracy ≥ 0.5, chance is 0.1); standard initialisation is trained alongside for
  contrast (needs the ``train`` extra; skipped without torch).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from qexpr._bounds import kind_bounds, spline_bound
from qexpr._constructions import (
    chebyshev_network,
    embed_in_quadratic,
    sawtooth_chebyshev_network,
    sawtooth_network,
)
from qexpr._kinds import KINDS
from qexpr._random import random_network
from qexpr.spline._count import count_pieces

__all__ = [
    "Check",
    "Settings",
    "check_constructions",
    "check_dimension",
    "check_inclusions",
    "check_random_networks",
    "check_relinear_training",
]


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Attributes
    ----------
    name
        Short identifier, e.g. ``"random-networks"``.
    passed
        Whether every comparison held (``True`` for a skipped check).
    details
        What was compared, with the numbers; for a failure, which comparison failed.
    skipped
        The check could not run (a missing optional module), ``details`` says why.
    seconds
        Wall-clock time of the check.
    figures
        File names of the figures it wrote in the report directory.
    """

    name: str
    passed: bool
    details: str
    skipped: bool = False
    seconds: float = 0.0
    figures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (one entry of ``qexpr verify --json``'s ``checks``)."""
        return {
            "name": self.name,
            "passed": self.passed,
            "skipped": self.skipped,
            "details": self.details,
            "seconds": round(self.seconds, 2),
            "figures": list(self.figures),
        }


@dataclass(frozen=True)
class Settings:
    """How much each check does: the default run, or ``quick`` (for tests)."""

    quick: bool
    seed: int
    out: Path | None
    seeds: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", 2 if self.quick else 8)


def _failures(items: list[str], limit: int = 5) -> str:
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


# -- Theorem 1: random networks of every kind against their bounds ------------------------

#: Widths of the random networks (one input; the last layer is the identity output).
RANDOM_WIDTHS = ((1, 2, 1), (1, 3, 3, 1), (1, 4, 4, 1), (1, 2, 3, 2, 1), (1, 3, 3, 3, 1))
#: Widths (1, n, n, 1) of the pieces-versus-width figure.
FIGURE_WIDTHS = (2, 3, 4, 5, 6)


#: The float engine's documented regime (docs/spline-engine.md): output degree ≤ 8, where
#: it agrees with the exact engine on the counts and to 1e-6 on the breakpoints.
FLOAT_MAX_DEGREE = 8
FLOAT_BREAKPOINT_TOL = 1e-6


def _compare_float(net: Any, exact: Any, label: str, problems: list[str]) -> bool:
    """Float engine vs exact engine on the same network; False if float64 did not resolve."""
    approx = count_pieces(net.to_float(), mode="float")
    if approx.unresolved:
        return False
    counts = ("pieces", "activation_regions", "degree")
    if any(getattr(approx, name) != getattr(exact, name) for name in counts):
        problems.append(
            f"{label}: float (pieces, regions, degree) "
            f"{tuple(getattr(approx, n) for n in counts)}, exact "
            f"{tuple(getattr(exact, n) for n in counts)}"
        )
    elif not np.allclose(
        approx.breakpoints, exact.breakpoints, rtol=FLOAT_BREAKPOINT_TOL, atol=FLOAT_BREAKPOINT_TOL
    ):
        problems.append(f"{label}: float and exact breakpoints differ by more than 1e-6")
    return True


def check_random_networks(settings: Settings) -> Check:
    """Exact counts ≤ bounds, degree ≤ bound, float = exact, on random networks of every kind."""
    problems: list[str] = []
    networks = compared = 0
    largest = {kind: 0.0 for kind in KINDS}
    for kind in KINDS:
        for widths in RANDOM_WIDTHS:
            bounds = kind_bounds(kind, widths)
            for k in range(settings.seeds):
                seed = settings.seed + k
                net = random_network(kind, widths, seed=seed)
                exact = count_pieces(net, mode="exact")
                recursion = spline_bound(net)
                label = f"{kind} {','.join(map(str, widths))} seed {seed}"
                networks += 1
                if not exact.pieces <= min(bounds.pieces, recursion.pieces):
                    problems.append(
                        f"{label}: {exact.pieces} pieces > bound "
                        f"{min(bounds.pieces, recursion.pieces)}"
                    )
                if not exact.degree <= min(bounds.degree, recursion.degree):
                    problems.append(f"{label}: degree {exact.degree} > bound {bounds.degree}")
                if not exact.pieces <= exact.activation_regions:
                    problems.append(f"{label}: more pieces than activation regions")
                if bounds.degree <= FLOAT_MAX_DEGREE:
                    compared += _compare_float(net, exact, label, problems)
                largest[kind] = max(largest[kind], exact.pieces / bounds.pieces)
    figures = _pieces_figure(settings) if settings.out else ()
    tight = ", ".join(f"{kind} {value:.2f}" for kind, value in largest.items())
    details = (
        f"{networks} networks ({len(KINDS)} kinds × {len(RANDOM_WIDTHS)} widths × "
        f"{settings.seeds} seeds); float engine = exact engine (counts; breakpoints to 1e-6) "
        f"on the {compared} of degree ≤ {FLOAT_MAX_DEGREE} that float64 resolved; "
        f"largest pieces/bound: {tight}"
    )
    if problems:
        details = f"FAILED: {_failures(problems)}. {details}"
    return Check("random-networks", not problems, details, figures=figures)


def _pieces_figure(settings: Settings) -> tuple[str, ...]:
    from qexpr.studies._plots import plot_spline

    measured = {
        kind: [
            max(
                count_pieces(random_network(kind, (1, n, n, 1), seed=settings.seed + k)).pieces
                for k in range(settings.seeds)
            )
            for n in FIGURE_WIDTHS
        ]
        for kind in KINDS
    }
    figure = _width_figure(measured, settings.seeds)
    figure.savefig(settings.out / "pieces_vs_width.png", dpi=110)
    form = count_pieces(random_network("quadratic", (1, 4, 4, 1), seed=settings.seed)).spline
    plot_spline(form, settings.out / "spline_quadratic.png", "random quadratic 1,4,4,1")
    return ("pieces_vs_width.png", "spline_quadratic.png")


def _width_figure(measured: dict[str, list[int]], seeds: int) -> Any:
    """Measured (solid) and bound (dashed) pieces of every kind against the width n.

    The widths are integers, so only they are ticks; kinds whose lines coincide (compact
    and quadratic have the same bound) stay apart by their markers.
    """
    from qexpr.studies._plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (kind, counts) in enumerate(measured.items()):
        colour = plt.get_cmap("tab10")(k)
        bounds = [kind_bounds(kind, (1, n, n, 1)).pieces for n in FIGURE_WIDTHS]
        ax.plot(FIGURE_WIDTHS, bounds, "--", color=colour, label=f"{kind} bound")
        ax.plot(
            FIGURE_WIDTHS, counts, "os^v"[k % 4] + "-", color=colour, ms=4, label=f"{kind} measured"
        )
    ax.set_yscale("log")
    ax.set_xticks(FIGURE_WIDTHS)
    ax.set_xlabel("width n")
    ax.set_ylabel("pieces")
    ax.set_title(
        f"pieces of random (1, n, n, 1) networks (max over {seeds} seeds) vs bound",
        fontsize=9,
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


# -- Theorem 1: constructions reach their stated counts -----------------------------------


def check_constructions(settings: Settings) -> Check:
    """Sawtooth ``∏(n_l+1)``, Chebyshev ``2^L - 1`` (degree ``2^L``) and their composition."""
    cases: list[tuple[str, Any, int, int]] = []
    for hidden in ([3], [3, 3], [4, 4]) if settings.quick else ([3], [3, 3], [4, 4], [4, 4, 4]):
        cases.append(
            (f"sawtooth {hidden}", sawtooth_network(hidden), math.prod(n + 1 for n in hidden), 1)
        )
    for depth in (2, 3) if settings.quick else (2, 3, 4, 5):
        cases.append((f"chebyshev L={depth}", chebyshev_network(depth), 2**depth - 1, 2**depth))
    hidden, depth = [3], 2 if settings.quick else 3
    cases.append(
        (
            f"sawtooth {hidden} + chebyshev L={depth}",
            sawtooth_chebyshev_network(hidden, depth),
            math.prod(n + 1 for n in hidden) * (2**depth - 1),
            2**depth,
        )
    )
    problems, found = [], []
    for label, net, pieces, degree in cases:
        result = count_pieces(net, mode="exact")
        bound = spline_bound(net)
        found.append(f"{label}: {result.pieces} pieces, degree {result.degree}")
        if (result.pieces, result.degree) != (pieces, degree):
            problems.append(
                f"{label}: expected {pieces} pieces of degree {degree}, got "
                f"{result.pieces}, {result.degree}"
            )
        if result.pieces > bound.pieces or result.degree > bound.degree:
            problems.append(f"{label}: above its recursion bound {bound}")
    figures: tuple[str, ...] = ()
    if settings.out:
        from qexpr.studies._plots import plot_spline

        form = count_pieces(chebyshev_network(3)).spline
        plot_spline(form, settings.out / "chebyshev.png", "chebyshev_network(3)")
        figures = ("chebyshev.png",)
    details = "; ".join(found)
    if problems:
        details = f"FAILED: {_failures(problems)}. {details}"
    return Check("constructions", not problems, details, figures=figures)


# -- Theorem 1: inclusions ----------------------------------------------------------------


def check_inclusions(settings: Settings) -> Check:
    """ReLU and z² networks equal their quadratic embeddings, exactly."""
    points = [Fraction(p, 7) for p in range(-21, 22, 3)]
    problems, networks = [], 0
    for kind in ("relu", "square"):
        for widths in RANDOM_WIDTHS:
            for k in range(settings.seeds):
                net = random_network(kind, widths, seed=settings.seed + k)
                quad = embed_in_quadratic(net)
                label = f"{kind} {','.join(map(str, widths))} seed {settings.seed + k}"
                networks += 1
                if any(layer.neuron != "quadratic" for layer in quad.layers):
                    problems.append(f"{label}: embedding has non-quadratic layers")
                grid = np.array([[p] for p in points], dtype=object)
                if not np.array_equal(net.evaluate_exact(grid), quad.evaluate_exact(grid)):
                    problems.append(f"{label}: values differ at rational points")
                a, b = count_pieces(net).spline, count_pieces(quad).spline
                if a.breakpoints != b.breakpoints or [p.polys for p in a.piece_list] != [
                    p.polys for p in b.piece_list
                ]:
                    problems.append(f"{label}: spline forms differ")
    details = (
        f"{networks} ReLU and z² networks equal their quadratic embeddings at {len(points)} "
        "rational points and piece by piece (exact breakpoints and polynomials)"
    )
    if problems:
        details = f"FAILED: {_failures(problems)}. {details}"
    return Check("inclusions", not problems, details)


# -- Theorem 2: neurovariety dimensions ---------------------------------------------------

#: (d, h) of the shallow networks with known dimensions.
SHALLOW = ((2, 2), (3, 2), (3, 3), (4, 2), (4, 3), (3, 4))
#: Widths on which quadratic ≥ z² is checked (homogeneous networks).
THEOREM2_WIDTHS = ((2, 2, 1), (2, 2, 2, 1), (3, 2, 1), (3, 3, 2, 1))


def _known_dimension(d: int, h: int, r: int) -> int:
    """Shallow ``(d, h, 1)`` network with activation z^r, no biases (see module docstring)."""
    if r == 2:
        return min(d * h - math.comb(h, 2) if h <= d else math.comb(d + 1, 2), math.comb(d + 1, 2))
    return min(d * h, math.comb(d + r - 1, r))


def check_dimension(settings: Settings) -> Check:
    """Known shallow dimensions, dimension ≤ ambient, and quadratic ≥ z² (Theorem 2)."""
    from qexpr.dimension import neurovariety_dimension as dimension

    problems, found = [], []
    shallow = SHALLOW[:3] if settings.quick else SHALLOW
    for (d, h), r in ((dh, r) for dh in shallow for r in (2, 3)):
        result = dimension("square", (d, h, 1), r=r, seed=settings.seed)
        expected = _known_dimension(d, h, r)
        found.append(f"z^{r} ({d},{h},1): {result.dimension}")
        if result.dimension != expected:
            problems.append(f"z^{r} ({d},{h},1): measured {result.dimension}, known {expected}")
    widths_list = THEOREM2_WIDTHS[:2] if settings.quick else THEOREM2_WIDTHS
    for widths in widths_list:
        quad = dimension("quadratic", widths, r=1, seed=settings.seed)
        conv = dimension("square", widths, r=2, seed=settings.seed)
        label = ",".join(map(str, widths))
        found.append(f"({label}) quadratic {quad.dimension} ≥ z² {conv.dimension}")
        if quad.dimension < conv.dimension:
            problems.append(f"({label}): quadratic {quad.dimension} < z² {conv.dimension}")
        for name, res in (("quadratic", quad), ("z²", conv)):
            if not res.dimension <= min(res.ambient, res.parameters):
                problems.append(
                    f"({label}) {name}: dimension {res.dimension} > ambient "
                    f"{res.ambient} or parameters {res.parameters}"
                )
    details = "; ".join(found)
    if problems:
        details = f"FAILED: {_failures(problems)}. {details}"
    return Check("dimension", not problems, details)


# -- ReLinear training --------------------------------------------------------------------


#: Test accuracy a ReLinear QMLP must reach on digits (chance 0.1; measured 0.72 after the
#: 3 quick epochs, seed 0, on 2026-11-30).
TRAINED_ACCURACY = 0.5


def check_relinear_training(settings: Settings) -> Check:
    """A quadratic QMLP with ReLinear trains on digits (no divergence, no collapse)."""
    if importlib.util.find_spec("torch") is None:
        return Check(
            "relinear-training",
            True,
            "skipped: torch is not installed (the train extra)",
            skipped=True,
        )
    from qexpr.nn import ReLinear, TrainConfig, load_dataset, train

    widths, epochs, seeds = ((32, 32), 3, 1) if settings.quick else ((64, 64, 64, 64), 8, 2)
    data = load_dataset("digits", 0)
    chance = 1.0 / data.num_outputs
    recipes = {
        "ReLinear (sg, γ=1e-3)": ("relinear", ReLinear("sg", gamma_g=1e-3, gamma_b=1e-3)),
        "standard init": ("standard", ReLinear("none")),
    }
    curves: dict[str, list[list[float]]] = {label: [] for label in recipes}
    problems, found = [], []
    for label, (init, recipe) in recipes.items():
        for k in range(seeds):
            config = TrainConfig(
                widths=widths,
                init=init,
                relinear=recipe,
                epochs=epochs,
                lr=0.05,
                seed=settings.seed + k,
            )
            result = train(config, data=data, on_divergence="stop")
            accuracy = [row["test_accuracy"] for row in result.history]
            curves[label].append(accuracy)
            final = accuracy[-1] if accuracy and result.status == "completed" else math.nan
            found.append(f"{label} seed {settings.seed + k}: {result.status}, accuracy {final:.3f}")
            if init == "relinear" and not final >= TRAINED_ACCURACY:
                problems.append(
                    f"{label} seed {settings.seed + k}: {result.status}, accuracy {final:.3f} "
                    f"(expected >= {TRAINED_ACCURACY}; chance is {chance:.2f})"
                )
    figures = (_training_figure(curves, chance, widths, settings.out),) if settings.out else ()
    details = (
        f"QMLP {widths} on digits, {epochs} epochs, lr 0.05: "
        + "; ".join(found)
        + " (standard init is shown for contrast, not checked)"
    )
    if problems:
        details = f"FAILED: {_failures(problems)}. {details}"
    return Check("relinear-training", not problems, details, figures=figures)


def _training_figure(curves: dict, chance: float, widths: tuple, out: Path) -> str:
    from qexpr.studies._plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for colour, (label, runs) in zip(("tab:blue", "tab:red"), curves.items()):
        for k, run in enumerate(runs):
            ax.plot(
                range(1, len(run) + 1), run, "o-", color=colour, label=label if k == 0 else None
            )
    ax.axhline(2 * chance, color="k", ls=":", lw=1, label="collapse threshold (2 × chance)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(f"quadratic QMLP {widths} on digits", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "relinear_training.png", dpi=110)
    plt.close(fig)
    return "relinear_training.png"
