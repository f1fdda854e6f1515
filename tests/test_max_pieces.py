"""``max_pieces`` and ``qexpr max-pieces``: certified counts against hand-derived maxima."""

from __future__ import annotations

import json
import math
import os
import stat
from fractions import Fraction

import numpy as np
import pytest
from cli import assert_one_line_error, run_cli
from hypothesis import given
from hypothesis import strategies as st

import qexpr
from qexpr._bounds import kind_bounds, width_one_chain_bound
from qexpr.studies import max_pieces
from qexpr.studies._max_pieces import (
    construction_starts,
    pad_network,
    save_network_atomically,
    sawtooth_cut_network,
)

#: Conventional ReLU maxima for one input, by hand: prod (n_l + 1) (Serra et al. 2018).
RELU_MAX = {(1, 3, 1): 4, (1, 2, 2, 1): 9, (1, 3, 3, 1): 16, (1, 4, 4, 1): 25}


def _float_recount(net: qexpr.Network) -> int:
    """The float engine's count of the exact network: an independent check of the exact one."""
    count = qexpr.count_pieces(net.to_float(), mode="float")
    assert count.unresolved == 0
    return count.pieces


@pytest.mark.slow
@pytest.mark.parametrize("widths", [(1, 3, 1), (1, 2, 2, 1), (1, 3, 3, 1)])
def test_quadratic_search_certifies_more_pieces_than_any_relu_network(widths):
    result = max_pieces("quadratic", widths, time_limit=60, seed=0, max_evaluations=400)
    assert result.network.is_exact
    assert result.pieces == qexpr.count_pieces(result.network, mode="exact").pieces
    assert result.pieces == _float_recount(result.network)
    assert result.relu_max == RELU_MAX[widths]
    assert result.pieces > RELU_MAX[widths]
    record = result.to_dict()
    assert record["strictly_more_than_relu"] is True
    assert record["margin"] == result.pieces - RELU_MAX[widths]
    assert record["certified"] is True
    assert result.pieces <= kind_bounds("quadratic", widths).pieces


@pytest.mark.parametrize("widths", [(1, 3, 1), (1, 3, 3, 1), (1, 4, 4, 1)])
def test_relu_search_reaches_the_known_maximum(widths):
    result = max_pieces("relu", widths, time_limit=30, seed=0)
    assert result.pieces == RELU_MAX[widths]
    assert result.proven_maximum
    assert not result.strictly_more_than_relu
    assert _float_recount(result.network) == RELU_MAX[widths]


@pytest.mark.parametrize("teeth", [[3], [4], [5], [3, 3]])
def test_sawtooth_cut_attains_the_product_with_last_width_two(teeth):
    net = sawtooth_cut_network(teeth)
    product = math.prod(n + 1 for n in teeth) * 3
    assert net.widths == (1, *teeth, 2, 1)
    assert qexpr.count_pieces(net, mode="exact").pieces == product
    assert _float_recount(net) == product
    assert kind_bounds("relu", net.widths).pieces == product


@given(st.integers(0, 2**32 - 1), st.booleans())
def test_relu_two_two_never_exceeds_seven_regions(seed, exact):
    # docs/theory.md: a width-2 layer's outputs never alternate in slope over its 3 cells, so
    # each next neuron switches at most twice: 3 + 2 * 2 = 7 < 9 = Serra's bound.
    net = qexpr.random_network("relu", (1, 2, 2, 1), seed=seed, exact=exact)
    assert qexpr.count_pieces(net.to_exact(), mode="exact").activation_regions <= 7


def test_square_kind_is_one_piece_and_proven():
    result = max_pieces("square", (1, 3, 3, 1), time_limit=5, seed=0)
    assert result.pieces == 1
    assert result.proven_maximum


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 2), min_size=2, max_size=2))
def test_padding_keeps_the_function(seed, extra):
    net = qexpr.random_network("quadratic", (1, 2, 2, 1), seed=seed)
    padded = pad_network(net, (1, 2 + extra[0], 2 + extra[1], 1))
    points = np.array([[Fraction(k, 3)] for k in range(-9, 10)], dtype=object)
    assert (padded.evaluate_exact(points) == net.evaluate_exact(points)).all()


@pytest.mark.parametrize("kind", ["quadratic", "compact", "relu"])
def test_constructions_fit_the_widths_and_both_engines_agree(kind):
    starts = construction_starts(kind, (1, 3, 3, 1))
    assert starts
    for name, net in starts:
        assert net.widths == (1, 3, 3, 1), name
        assert qexpr.count_pieces(net, mode="exact").pieces == _float_recount(net), name


# --- width-1 chains -----------------------------------------------------------------------


@pytest.mark.parametrize("layers", [1, 2, 3, 4, 5])
def test_chain_bound_formula_and_the_other_bounds(layers):
    widths = (1, *[1] * layers)
    assert width_one_chain_bound(layers, 2) == 2**layers - 1
    assert width_one_chain_bound(layers, 1) == layers == kind_bounds("relu", widths).pieces
    entries = {b.name: b.value for b in kind_bounds("quadratic", widths).entries}
    assert entries["chain"] <= entries["recursion"] <= entries["product"]
    assert kind_bounds("quadratic", widths).pieces == 2**layers - 1


@given(
    st.sampled_from(["quadratic", "compact"]),
    st.integers(2, 5),
    st.integers(1, 2),
    st.integers(0, 2**32 - 1),
)
def test_width_one_chains_stay_within_the_chain_bound(kind, layers, outputs, seed):
    widths = (1, *[1] * (layers - 1), outputs)
    net = qexpr.random_network(kind, widths, seed=seed)
    count = qexpr.count_pieces(net, mode="exact")
    bound = width_one_chain_bound(layers, 2)
    assert count.activation_regions <= bound
    assert count.pieces <= count.activation_regions


def test_chain_bound_is_attained_for_three_layers():
    result = max_pieces("quadratic", (1, 1, 1, 1), time_limit=60, seed=0, max_evaluations=3000)
    assert result.pieces == 7 == width_one_chain_bound(3, 2)
    assert result.proven_maximum
    assert _float_recount(result.network) == 7


# --- reproducibility and bad input --------------------------------------------------------


def test_same_seed_and_budget_give_the_same_network():
    runs = [
        max_pieces("quadratic", (1, 2, 1, 1), time_limit=60, seed=3, max_evaluations=60)
        for _ in range(2)
    ]
    points = [[Fraction(k, 4)] for k in range(-12, 13)]
    assert runs[0].pieces == runs[1].pieces
    assert (runs[0].network.evaluate_exact(points) == runs[1].network.evaluate_exact(points)).all()


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"kind": "cubic"}, "kind"),
        ({"widths": (2, 3, 1)}, "one input"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": math.inf}, "time_limit"),
        ({"seed": -1}, "seed"),
        ({"objective": "area"}, "objective"),
        ({"max_evaluations": -1}, "max_evaluations"),
    ],
)
def test_bad_arguments_raise_qexpr_errors(arguments, words):
    given_arguments = {"kind": "quadratic", "widths": (1, 3, 1), "time_limit": 1.0, **arguments}
    kind, widths = given_arguments.pop("kind"), given_arguments.pop("widths")
    with pytest.raises(qexpr.QexprError, match=words):
        max_pieces(kind, widths, **given_arguments)


def test_atomic_save_round_trips_and_honours_the_umask(tmp_path):
    path = tmp_path / "net.json"
    net = sawtooth_cut_network([3])
    old = os.umask(0o027)
    try:
        save_network_atomically(net, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]
    x = [[Fraction(k, 5)] for k in range(-10, 11)]
    assert (qexpr.load_network(path).evaluate_exact(x) == net.evaluate_exact(x)).all()


# --- the command ----------------------------------------------------------------------------


def test_cli_json_save_and_recount(tmp_path):
    out = tmp_path / "best.json"
    result = run_cli(
        "max-pieces",
        "--kind",
        "quadratic",
        "--widths",
        "1,3,1",
        "--time",
        "20",
        "--save",
        str(out),
        "--json",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    keys = {"pieces", "activation_regions", "degree", "bound_pieces", "relu_max", "seconds"}
    assert keys <= set(record)
    assert record["certified"] is True
    recount = qexpr.count_pieces(qexpr.load_network(out), mode="exact")
    assert record["pieces"] == recount.pieces
    assert record["strictly_more_than_relu"] == (recount.pieces > RELU_MAX[(1, 3, 1)])


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--time", "0"], "--time"),
        (["--time", "nan"], "--time"),
        (["--seed", "-2"], "--seed"),
        (["--objective", "area"], "--objective"),
        (["--widths", "1,x"], "--widths"),
        (["--widths", "3,3,1"], "one input"),
        (["--kind", "cubic"], "kind"),
        (["--save", "/nonexistent-dir/best.json"], "--save"),
    ],
)
def test_cli_bad_input_is_one_line(arguments, words):
    assert_one_line_error(run_cli("max-pieces", *arguments), words)
