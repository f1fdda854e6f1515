"""Figures: a spline with its pieces, and bounds against measured counts.

matplotlib is imported inside each function with the Agg backend, so importing qexpr (and
starting the command line) stays fast and needs no display.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qexpr.spline._types import Spline

__all__ = [
    "plot_approximation",
    "plot_bounds",
    "plot_exact_regions",
    "plot_exact_slice",
    "plot_slice",
    "plot_spline",
]


class _Figures:
    """What the plots need of ``pyplot`` (``subplots``, ``get_cmap``, ``close``), made with
    :class:`matplotlib.figure.Figure` directly: no backend is selected and no global figure
    registry is touched, so drawing a plot changes nothing in the caller's matplotlib."""

    @staticmethod
    def subplots(*args, figsize: tuple[float, float] | None = None, **kwargs):
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        return fig, fig.subplots(*args, **kwargs)

    @staticmethod
    def get_cmap(name: str):
        import matplotlib

        return matplotlib.colormaps[name]

    @staticmethod
    def close(fig) -> None:
        """Nothing to release: the figure is not registered anywhere."""


def _pyplot() -> _Figures:
    return _Figures()


def _window(form: Spline) -> tuple[float, float]:
    """The domain, or the breakpoints' span widened by a margin (``[-1, 1]`` if none)."""
    if form.domain is not None:
        return float(form.domain[0]), float(form.domain[1])
    points = form.float_breakpoints()
    if points.size == 0:
        return -1.0, 1.0
    lo, hi = float(points.min()), float(points.max())
    margin = max(0.25 * (hi - lo), 0.5)
    return lo - margin, hi + margin


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def spline_y_range(form: Spline, output: int = 0, samples: int = 2000) -> tuple[float, float]:
    """The y-range that shows a spline's breakpoints: its values between the first and last
    breakpoint (the whole window when there are fewer than two), widened by 10%.

    Tails outside it (a degree-64 piece grows fast) are clipped, not allowed to flatten
    the part of the graph where the pieces meet.
    """
    points = form.float_breakpoints()
    points = points[np.isfinite(points)]
    lo, hi = (points.min(), points.max()) if points.size >= 2 else _window(form)
    x = np.concatenate([np.linspace(lo, hi, samples), points])
    y = form(x)[:, output]
    y = y[np.isfinite(y)]
    if y.size == 0:
        return -1.0, 1.0
    bottom, top = float(y.min()), float(y.max())
    margin = 0.1 * (top - bottom) or max(abs(top), 1.0) * 0.1
    return bottom - margin, top + margin


def _status(form: Spline) -> str:
    """What the title says about the numbers: proven or estimated."""
    if form.mode == "exact":
        return "exact"
    return "certified" if form.certified else "float estimate, not certified"


def _save_box(fig, ax, box: tuple[float, ...], title: str, path: str | Path) -> Path:
    """Show exactly the slice's box (equal scales), title it and save the figure."""
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_spline(
    form: Spline, path: str | Path, title: str = "", output: int = 0, xlabel: str = "x"
) -> Path:
    """Draw one output of a spline, each piece in its own colour, breakpoints as dots.

    The y-range is :func:`spline_y_range` (tails clipped so the breakpoints stay visible);
    the title says whether the counts are exact, certified or a float estimate. ``xlabel``
    names the input (``"t"`` along a line ``x = p + t v``). Returns the path of the PNG
    written.
    """
    plt = _pyplot()
    lo, hi = _window(form)
    edges = [lo, *(b for b in form.float_breakpoints() if lo < b < hi), hi]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    colours = plt.get_cmap("tab10")
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        x = np.linspace(a, b, max(8, int(2000 * (b - a) / (hi - lo))))
        ax.plot(x, form(x)[:, output], color=colours(k % 10), lw=1.6)
    inner = np.array(edges[1:-1])
    if inner.size:
        ax.plot(inner, form(inner)[:, output], "k.", ms=5, label=f"{inner.size} breakpoints")
        ax.legend(loc="best", fontsize=8)
    ax.set_ylim(*spline_y_range(form, output))
    ax.set_xlabel(xlabel)
    pieces = len(form.breakpoints) + 1
    ax.set_title(f"{title}  ({pieces} pieces, degree {form.degree}; {_status(form)})", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_bounds(
    rows: Sequence[dict], path: str | Path, x_key: str, title: str, log: bool = True
) -> Path:
    """Bound (dashed) and measured (solid) pieces against ``x_key`` for each kind.

    ``rows`` are dicts with keys ``kind``, ``x_key``, ``bound`` and ``measured``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, kind in enumerate(sorted({row["kind"] for row in rows})):
        mine = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r[x_key])
        xs = [r[x_key] for r in mine]
        colour = plt.get_cmap("tab10")(k)
        ax.plot(xs, [r["bound"] for r in mine], "--", color=colour, label=f"{kind} bound")
        ax.plot(xs, [r["measured"] for r in mine], "o-", color=colour, label=f"{kind} measured")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(x_key)
    ax.set_ylabel("pieces")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_slice(grid, path: str | Path, title: str = "") -> Path:
    """Regions of a grid slice in random colours, with the zero curves of every ReLU neuron.

    The title names the count a grid estimate (not certified).
    """
    plt = _pyplot()
    x0, x1, y0, y1 = (float(v) for v in grid.box)
    colours = np.random.default_rng(0).uniform(0.25, 1.0, (grid.regions, 3))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(
        colours[grid.labels], origin="lower", extent=(x0, x1, y0, y1), interpolation="nearest"
    )
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    for z in grid.pre_activations:
        for j in range(z.shape[-1]):
            if np.any(z[..., j] > 0) and np.any(z[..., j] < 0):
                ax.contour(gx, gy, z[..., j], levels=[0.0], colors="k", linewidths=0.6)
    ax.set_title(f"{title}  (~{grid.regions} regions, grid estimate, not certified)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_exact_slice(result, path: str | Path, title: str = "") -> Path:
    """The exact polygons of an :class:`~qexpr.ExactSlice`, one random colour per pattern."""
    from matplotlib.collections import PolyCollection

    plt = _pyplot()
    x0, x1, y0, y1 = (float(v) for v in result.box)
    patterns = sorted({pattern for _, pattern in result.cells})
    index = {pattern: k for k, pattern in enumerate(patterns)}
    colours = np.random.default_rng(0).uniform(0.25, 1.0, (len(patterns), 3))
    polygons = [[(float(a), float(b)) for a, b in poly] for poly, _ in result.cells]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.add_collection(
        PolyCollection(
            polygons,
            facecolors=[colours[index[pattern]] for _, pattern in result.cells],
            edgecolors="k",
            linewidths=0.5,
        )
    )
    return _save_box(fig, ax, (x0, x1, y0, y1), f"{title}  ({result.regions} regions, exact)", path)


def plot_exact_regions(result, path: str | Path, title: str = "", grid=None) -> Path:
    """An exact :class:`~qexpr.slice.RegionMap`: one dot per region, coloured by its pattern.

    The count in the title is certified; the drawing is not. With ``grid`` (a
    :class:`~qexpr.GridSlice` of the same network and box), every pixel is filled with the
    colour of its float64 pattern (grey for a pattern the exact map does not have); without
    it, the boundary curves are drawn as zero contours of their polynomials in float64 (all
    candidate curves, including pieces along which no neuron changes state).
    """
    plt = _pyplot()
    x0, x1, y0, y1 = (float(v) for v in result.box)
    patterns = sorted(set(result.patterns))
    colours = np.random.default_rng(0).uniform(0.25, 1.0, (len(patterns), 3))
    index = {pattern: k for k, pattern in enumerate(patterns)}
    fig, ax = plt.subplots(figsize=(5, 5))
    if grid is not None:
        fill = np.array(
            [
                colours[index[p]] if p in index else (0.5, 0.5, 0.5)
                for p in (tuple(bool(v) for v in row) for row in grid.patterns)
            ]
        ).reshape(*grid.labels.shape, 3)
        ax.imshow(fill, origin="lower", extent=(x0, x1, y0, y1), interpolation="nearest")
        drawing = "fill from a float raster"
    else:
        gx, gy = np.meshgrid(np.linspace(x0, x1, 600), np.linspace(y0, y1, 600))
        for curve in result.curves:
            z = sum(float(c) * gx ** int(i) * gy ** int(j) for (i, j), c in curve.to_dict().items())
            if np.any(z > 0) and np.any(z < 0):
                ax.contour(gx, gy, z, levels=[0.0], colors="k", linewidths=0.6)
        drawing = "curves drawn in float"
    xs, ys = (np.array([float(p[i]) for p in result.samples]) for i in (0, 1))
    dots = [colours[index[p]] * 0.6 for p in result.patterns]
    ax.scatter(xs, ys, s=14, c=dots, edgecolors="k", linewidths=0.4, zorder=3)
    label = f"{title}  ({result.regions} regions, exact; {drawing})"
    return _save_box(fig, ax, (x0, x1, y0, y1), label, path)


def plot_approximation(fits: Sequence, path: str | Path, title: str = "") -> Path:
    """Test RMSE against parameters (left) and against pieces (right), one colour per kind.

    ``fits`` are :class:`qexpr.studies._approximation.Fit` records of one target; one hidden layer
    is drawn with circles, two or more with squares.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    kinds = list(dict.fromkeys(f.kind for f in fits))
    for k, kind in enumerate(kinds):
        colour = plt.get_cmap("tab10")(k)
        for depth, marker in ((1, "o"), (2, "s")):
            mine = sorted(
                (f for f in fits if f.kind == kind and min(len(f.hidden), 2) == depth),
                key=lambda f: f.parameters,
            )
            if not mine:
                continue
            label = f"{kind}, {depth}{'+' if depth == 2 else ''} hidden"
            errors = [f.test_rmse for f in mine]
            axes[0].plot(
                [f.parameters for f in mine], errors, marker + "-", color=colour, label=label
            )
            axes[1].plot([f.pieces for f in mine], errors, marker, color=colour, label=label)
    for ax, xlabel in zip(axes, ("parameters", "pieces on [-1, 1]")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel("test RMSE")
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
