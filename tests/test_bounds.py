"""Bounds against measured counts, and the bound formulas against each other."""

from __future__ import annotations

import json
import math
from itertools import product

import numpy as np
import pytest
from cli import assert_one_line_error, run_cli
from hypothesis import given
from hypothesis import strategies as st
from strategies import networks, widths

import qexpr
from qexpr._bounds import (
    kind_bounds,
    montufar2014_lower_bound,
    montufar2017_bound,
    quadratic_product_bound,
    serra_bound,
    spline_bound,
    zaslavsky_bound,
)


def serra_brute_force(n0: int, hidden: list[int]) -> int:
    """Serra et al.'s sum written out over the whole box of index vectors."""
    total = 0
    for js in product(*(range(n + 1) for n in hidden)):
        budget, ok = n0, True
        for j, n in zip(js, hidden):
            if j > min(budget, n):
                ok = False
                break
            budget = min(budget, n - j)
        if ok:
            total += math.prod(math.comb(n, j) for j, n in zip(js, hidden))
    return total


@given(st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_serra_formula_against_brute_force_and_other_bounds(n0, hidden):
    serra = serra_bound(n0, hidden)
    assert serra == serra_brute_force(n0, hidden)
    assert serra <= montufar2017_bound(n0, hidden)
    lower = montufar2014_lower_bound(n0, hidden)
    if lower is not None:
        assert lower <= serra
    if len(hidden) == 1:
        assert serra == zaslavsky_bound(n0, hidden[0]) == montufar2017_bound(n0, hidden)


@given(st.lists(st.integers(2, 9), min_size=1, max_size=5))
def test_serra_one_input_is_product_when_widths_at_least_two(hidden):
    assert serra_bound(1, hidden) == math.prod(n + 1 for n in hidden)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_spline_recursion_equals_serra_for_relu_one_input(hidden):
    net = qexpr.random_network("relu", [1, *hidden, 1], seed=0)
    assert spline_bound(net).pieces == serra_bound(1, hidden)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_recursion_below_product_for_quadratic(hidden):
    bounds = kind_bounds("quadratic", [1, *hidden, 1])
    assert bounds.pieces <= quadratic_product_bound(hidden)
    if min(hidden) >= 2:
        assert bounds.pieces == quadratic_product_bound(hidden)


@given(networks(max_depth=3, max_width=3))
def test_measured_counts_within_bounds(net):
    result = qexpr.count_pieces(net, mode="exact")
    bound = spline_bound(net)
    assert result.pieces <= result.activation_regions <= bound.pieces
    assert result.degree <= bound.degree


@given(st.sampled_from(sorted(qexpr.KINDS)), widths(max_depth=3, max_width=3), st.data())
def test_kind_bounds_cover_random_networks(kind, shape, data):
    seed = data.draw(st.integers(0, 2**32 - 1))
    net = qexpr.random_network(kind, shape, seed=seed)
    result = qexpr.count_pieces(net, mode="exact")
    bounds = kind_bounds(kind, shape)
    assert result.pieces <= bounds.pieces
    assert result.degree <= bounds.degree


@pytest.mark.parametrize(
    ("kind", "shape", "degree"),
    [("square", [1, 3, 3, 1], 4), ("quadratic", [1, 3, 3, 1], 8), ("relu", [1, 3, 1], 1)],
)
def test_degree_bound_is_measured_on_random_networks(kind, shape, degree):
    # Independent of the bound code: the exact engine's degree of generic random networks.
    measured = max(
        qexpr.count_pieces(qexpr.random_network(kind, shape, seed=s)).degree for s in [0, 1, 2]
    )
    assert measured == degree == kind_bounds(kind, shape).degree


def test_bounds_cli_json():
    result = run_cli("bounds", "--kind", "quadratic", "--widths", "1,4,4,1", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["pieces"] == 9 * 17 and record["degree"] == 8
    assert {b["name"] for b in record["bounds"]} >= {"product", "recursion", "degree"}
    relu = json.loads(run_cli("bounds", "--kind", "relu", "--widths", "3,8,8,1", "--json").stdout)
    assert relu["pieces"] == serra_brute_force(3, [8, 8])
    assert "serra2018" in run_cli("bounds", "--kind", "relu", "--widths", "1,2,1").stdout


def test_count_pieces_reports_tightness():
    record = json.loads(
        run_cli("count-pieces", "--kind", "relu", "--widths", "1,3,3,1", "--json").stdout
    )
    assert record["bound_pieces"] == 16 and record["bound_degree"] == 1
    assert record["tightness"] == record["pieces"] / 16


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["bounds", "--kind", "cubic"], ["kind", "cubic"]),
        (["bounds", "--widths", "1,0"], ["--widths"]),
    ],
)
def test_bounds_cli_errors(args, words):
    assert_one_line_error(run_cli(*args), *words)


def _bounds_text_and_json(kind, widths):
    text = run_cli("bounds", "--kind", kind, "--widths", widths)
    record = json.loads(run_cli("bounds", "--kind", kind, "--widths", widths, "--json").stdout)
    assert text.returncode == 0, text.stderr
    return text.stdout.splitlines(), record


@pytest.mark.parametrize(
    ("kind", "widths", "best"),
    [
        ("relu", "3,8,8,1", "regions"),  # only region bounds: the best one counts regions
        ("relu", "1,2,1", "pieces"),  # one input: the recursion bounds pieces
        ("square", "3,4,1", "pieces"),  # a polynomial: one piece, whatever the inputs
        ("quadratic", "1,4,4,1", "pieces"),
    ],
)
def test_bounds_text_columns_line_up_and_name_the_quantity(kind, widths, best):
    lines, record = _bounds_text_and_json(kind, widths)
    table = lines[lines.index("") + 1 :]
    header, rows = table[0], table[1:]
    assert len(rows) == len(record["bounds"])
    for row, entry in zip(rows, record["bounds"]):
        # every column starts under its header; the value column ends under "value"
        for column in ("side", "counts", "source"):
            start = header.index(column)
            assert row[start - 2 : start] == "  " and row[start] != " ", (row, column)
        value_end = header.index("value") + len("value")
        assert row[:value_end].split()[-1] == str(entry["value"])
        assert row.split()[:3] == [entry["name"], entry["side"], entry["quantity"]]
    (line,) = [line for line in lines if line.startswith("best upper bound on ")]
    assert line.split() == ["best", "upper", "bound", "on", best, str(record["pieces"])]
    other = "pieces" if best == "regions" else "regions"
    assert not any(f"bound on {other}" in line for line in lines)


@given(networks(max_width=6), st.lists(st.integers(-50, 50), min_size=6, max_size=6))
def test_quadratic_part_at_a_point_is_the_form_at_that_point(net, point):
    """The cheap probe of ``spline_bound`` (O(weights)) against ``y^T Q_j y`` from the full
    o × m × m forms of the neuron table."""
    from qexpr._bounds import _quadratic_part_at

    for layer in net.layers:
        neuron = layer.neuron_type()
        if neuron.degree == 1:
            continue
        y = np.array(point[: layer.in_dim], dtype=object)
        forms = neuron.quadratic_forms(layer.params)
        assert list(_quadratic_part_at(neuron, layer.params, y)) == [2 * y @ q @ y for q in forms]
