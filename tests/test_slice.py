"""2-D slices: exact polygons vs an independent dense grid and Regioncam; grid count checks."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from cli import assert_one_line_error, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

import qexpr
from qexpr.slice import exact_regions
from qexpr.slice._grid import confirm_regions, grid_slice
from qexpr.slice._polygons import exact_slice
from qexpr.studies import _plots


def reference_grid(net: qexpr.Network, resolution: int) -> tuple[int, set]:
    """Components (scipy.ndimage.label, 8-neighbour) and patterns, evaluated independently."""
    from scipy import ndimage

    xs = -1 + (np.arange(resolution) + 0.5) * 2 / resolution
    gx, gy = np.meshgrid(xs, xs)
    h = np.stack([gx.ravel(), gy.ravel()], 1)
    states = []
    for layer in qexpr.network_to_dict(net)["layers"]:
        w = np.array([[float(Fraction(v)) for v in row] for row in layer["w"]])
        z = h @ w.T + np.array([float(Fraction(v)) for v in layer["b"]])
        if layer.get("activation") == "relu":
            states.append(z > 0)
            z = np.maximum(z, 0)
        h = z
    states = np.concatenate(states, axis=1)
    found, ids = np.unique(states, axis=0, return_inverse=True)
    ids = ids.reshape(resolution, resolution)
    patterns = {tuple(bool(v) for v in row) for row in found}
    eight = np.ones((3, 3), dtype=int)
    return sum(ndimage.label(ids == k, structure=eight)[1] for k in range(ids.max() + 1)), patterns


@settings(max_examples=15)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=2), st.integers(0, 2**16))
def test_exact_at_least_dense_grid(hidden, seed):
    net = qexpr.random_network("relu", [2, *hidden, 1], seed=seed)
    exact = exact_slice(net)
    components, patterns = reference_grid(net, 200)
    # Every pattern the grid sees is an exact region; each pattern is one convex region, so
    # the grid can only miss regions (or split slivers thinner than a grid step).
    assert patterns <= {pattern for _, pattern in exact.cells}
    assert len(patterns) <= exact.regions == len(exact.cells)
    assert components >= len(patterns)
    # Polygons tile the box: areas add up to 4.
    area = sum(
        abs(
            sum(
                p[i][0] * p[(i + 1) % len(p)][1] - p[(i + 1) % len(p)][0] * p[i][1]
                for i in range(len(p))
            )
        )
        for p, _ in exact.cells
    )
    assert area == 8


@pytest.mark.parametrize("seed", range(6))
def test_exact_against_regioncam(seed):
    regioncam = pytest.importorskip("regioncam")
    net = qexpr.random_network("relu", [2, 8, 8, 1], seed=seed)
    rc = regioncam.Regioncam(size=1.0)
    for layer in net.to_float().layers:
        rc.linear(layer.w.T.astype(np.float32), layer.b.astype(np.float32))
        if layer.activation == "relu":
            rc.relu()
    # Regioncam works in float32: allow a sliver or two of difference.
    assert abs(exact_slice(net).regions - rc.num_faces) <= 2


def test_cancelling_pre_activation_is_not_split_by_rounding():
    # Three copies of relu(x); the next neuron is x/3 + x/3 - 2x/3 = 0 exactly, but in float64
    # the sum is rounding noise of either sign. It must count as zero: 2 regions, not more.
    third = Fraction(1, 3)
    layers = (
        qexpr.LinearLayer(w=[[1, 0], [1, 0], [1, 0]], b=[0, 0, 0], activation="relu"),
        qexpr.LinearLayer(
            w=np.array([[third, third, -2 * third]], dtype=object), b=[0], activation="relu"
        ),
        qexpr.LinearLayer(w=[[1]], b=[0]),
    )
    net = qexpr.Network(2, layers)
    x = np.linspace(-1, 1, 101)[:, None]
    assert np.any(net.to_float().layers[1].pre_activation(np.maximum(x, 0) * [1, 1, 1]) != 0)
    grid = grid_slice(net, resolution=101)
    assert grid.regions == exact_slice(net).regions == 2
    assert confirm_regions(net, grid) == 2


@pytest.mark.parametrize("kind", ["quadratic", "compact"])
def test_quadratic_grid_regions_confirmed(kind):
    net = qexpr.random_network(kind, [2, 3, 3, 1], seed=7)
    grid = grid_slice(net, resolution=160)
    assert confirm_regions(net, grid) == grid.regions
    # Every pattern the coarse grid saw is seen by a finer one too.
    finer = grid_slice(net, resolution=320)
    assert {tuple(p) for p in grid.patterns} <= {tuple(p) for p in finer.patterns}


def test_plane_through_three_points_equals_two_input_restriction():
    net = qexpr.random_network("relu", [3, 4, 1], seed=2)
    plane = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    direct = qexpr.Network(
        2,
        (
            qexpr.LinearLayer(w=net.layers[0].w[:, :2], b=net.layers[0].b, activation="relu"),
            *net.layers[1:],
        ),
    )
    assert exact_slice(net, plane).regions == exact_slice(direct).regions


def test_cli_slice(tmp_path):
    path = tmp_path / "net.json"
    qexpr.save_network(qexpr.random_network("relu", [2, 5, 5, 1], seed=1), path)
    record = json.loads(run_cli("slice", str(path), "--json").stdout)
    assert record["regions"] == exact_slice(qexpr.load_network(path)).regions
    assert record["method"] == "exact" and record["certified"] is True
    assert len(record["samples"]) == record["regions"]
    qpath = tmp_path / "q.json"
    qexpr.save_network(qexpr.random_network("quadratic", [3, 3, 1], seed=1), qpath)
    out = tmp_path / "s.png"
    args = ["slice", str(qpath), "--plane", "0,0,0", "1,0,0", "0,1,0", "--json", "--plot", str(out)]
    exact = json.loads(run_cli(*args).stdout)
    plane = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert exact["method"] == "exact" and exact["engine"] == "curves" and out.exists()
    assert exact["regions"] == exact_regions(qexpr.load_network(qpath), plane).regions
    grid = json.loads(run_cli(*args, "--method", "grid", "--resolution", "64").stdout)
    assert grid["method"] == "grid" and grid["certified"] is False and grid["estimate"] is True
    assert grid["confirmed"] == grid["regions"]


def test_cli_slice_deep_quadratic_is_exact(tmp_path):
    path = tmp_path / "deep.json"
    net = qexpr.random_network("quadratic", [2, 1, 1, 1, 1], seed=1)
    qexpr.save_network(net, path)
    record = json.loads(run_cli("slice", str(path), "--json", "--no-progress").stdout)
    assert record["method"] == "exact" and record["certified"] is True
    assert record["regions"] == exact_regions(net).regions


def test_cli_slice_beyond_the_work_estimate_falls_back_to_a_named_estimate(tmp_path):
    path = tmp_path / "wide.json"
    qexpr.save_network(qexpr.random_network("quadratic", [2, 200, 1], seed=0), path)
    text = run_cli("slice", str(path), "--json", "--resolution", "4", "--no-progress")
    record = json.loads(text.stdout)
    assert record["method"] == "grid" and record["certified"] is False
    assert "estimated work" in record["exact"]
    text = run_cli("slice", str(path), "--resolution", "4", "--no-progress")
    assert text.returncode == 0 and "grid estimate, not certified" in text.stdout
    refused = run_cli("slice", str(path), "--method", "exact", "--no-progress")
    assert_one_line_error(refused, "estimated work", "grid")


def test_cli_slice_max_work_sets_the_exact_method_limit(tmp_path):
    """A quadratic 2-2-1 slice is exact by default; with --max-work 0 (below any
    decomposition's estimate) auto falls back to the grid and exact refuses."""
    path = tmp_path / "small.json"
    net = qexpr.random_network("quadratic", [2, 2, 1], seed=3)
    qexpr.save_network(net, path)
    exact = json.loads(run_cli("slice", str(path), "--json", "--no-progress").stdout)
    assert exact["method"] == "exact" and exact["regions"] == exact_regions(net).regions
    args = ["slice", str(path), "--max-work", "0", "--no-progress"]
    fallback = json.loads(run_cli(*args, "--json", "--resolution", "8").stdout)
    assert fallback["method"] == "grid" and "estimated work" in fallback["exact"]
    assert_one_line_error(run_cli(*args, "--method", "exact"), "estimated work", "max_work")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--box", "1", "0", "0", "1"], ["box", "XMIN < XMAX"]),
        (["--plane", "0,0", "1,0", "0,1"], ["plane", "3"]),
        (["--method", "fast"], ["--method"]),
        (["--seed", "-1"], ["--seed"]),
        (["--max-work", "-1"], ["--max-work"]),
        (["--plot", "/no/such/dir/x.png"], ["--plot", "/no/such/dir"]),
        (["--plot", "x.txt"], ["--plot", ".png"]),
        (["--resolution", "1"], ["--resolution", "4096"]),
        (["--resolution", "100000"], ["--resolution", "4096"]),
    ],
)
def test_cli_slice_errors(tmp_path, extra, words):
    path = tmp_path / "net.json"
    qexpr.save_network(qexpr.random_network("relu", [3, 2, 1], seed=1), path)
    args = ["slice", str(path), *extra]
    if "--plane" not in extra:
        args += ["--plane", "0,0,0", "1,0,0", "0,1,0"]
    assert_one_line_error(run_cli(*args), *words)


def test_cli_slice_wrong_input_dim(tmp_path):
    path = tmp_path / "net.json"
    qexpr.save_network(qexpr.random_network("relu", [3, 2, 1], seed=1), path)
    assert_one_line_error(run_cli("slice", str(path)), "input_dim 3", "plane")


def test_exact_plot_draws_polygons_tiling_the_box(tmp_path, monkeypatch):
    from matplotlib.collections import PolyCollection

    figures = []
    monkeypatch.setattr(_plots, "_save", lambda fig, path: figures.append(fig))
    result = exact_slice(qexpr.random_network("relu", [2, 4, 3, 1], seed=5), box=[-2, 2, -1, 1])
    _plots.plot_exact_slice(result, tmp_path / "e.png")
    (collection,) = [c for c in figures[0].axes[0].collections if isinstance(c, PolyCollection)]
    areas = []
    for path in collection.get_paths():
        x, y = path.vertices[:-1].T  # closed path: last vertex repeats the first
        areas.append(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
    assert sum(areas) == pytest.approx(8.0)  # the polygons tile [-2, 2] x [-1, 1]
    colours = {tuple(c) for c in collection.get_facecolors()}
    assert len(areas) == len(result.cells) and len(colours) == len({p for _, p in result.cells})
    _plots._pyplot().close(figures[0])


def test_cli_slice_plot_exact(tmp_path):
    path, out = tmp_path / "net.json", tmp_path / "e.png"
    qexpr.save_network(qexpr.random_network("relu", [2, 4, 1], seed=1), path)
    result = run_cli("slice", str(path), "--plot", str(out))
    assert result.returncode == 0 and out.stat().st_size > 0


def _titles_and_figures(monkeypatch) -> list:
    figures: list = []
    monkeypatch.setattr(_plots, "_save", lambda fig, path: figures.append(fig))
    return figures


def test_grid_plot_title_says_estimate(tmp_path, monkeypatch):
    figures = _titles_and_figures(monkeypatch)
    grid = grid_slice(qexpr.random_network("quadratic", [2, 2, 1], seed=0), resolution=32)
    _plots.plot_slice(grid, tmp_path / "g.png", title="net")
    title = figures[0].axes[0].get_title()
    assert f"~{grid.regions} regions" in title and "estimate" in title and "exact" not in title
    _plots._pyplot().close(figures[0])


def test_exact_regions_plot_draws_curves_and_one_dot_per_region(tmp_path, monkeypatch):
    figures = _titles_and_figures(monkeypatch)
    result = exact_regions(qexpr.random_network("quadratic", [2, 2, 1], seed=4))
    _plots.plot_exact_regions(result, tmp_path / "e.png", title="net")
    ax = figures[0].axes[0]
    assert f"{result.regions} regions, exact" in ax.get_title()
    (dots,) = ax.collections[-1:]
    assert len(dots.get_offsets()) == result.regions
    _plots._pyplot().close(figures[0])


def test_exact_regions_plot_fill_uses_the_exact_patterns(tmp_path, monkeypatch):
    figures = _titles_and_figures(monkeypatch)
    net = qexpr.random_network("compact", [2, 3, 1], seed=1)
    result = exact_regions(net)
    _plots.plot_exact_regions(result, tmp_path / "f.png", grid=grid_slice(net, resolution=64))
    ax = figures[0].axes[0]
    assert "exact; fill from a float raster" in ax.get_title()
    (image,) = ax.get_images()
    grey = np.all(np.isclose(image.get_array(), 0.5), axis=-1)
    assert not grey.any()  # every pixel's pattern is one of the exact patterns
    _plots._pyplot().close(figures[0])
