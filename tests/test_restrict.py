"""Line restriction against direct evaluation of the original network."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from cli import assert_one_line_error, run_cli
from hypothesis import given
from hypothesis import strategies as st
from strategies import kinds, rational_points, small_rationals, widths

import qexpr
from qexpr.spline._restrict import breakpoint_density, restrict_to_line

FIXTURES = Path(__file__).parent / "fixtures"


@given(kinds, st.integers(1, 3), st.data())
def test_restriction_equals_direct_evaluation(kind, n, data):
    shape = data.draw(widths(max_depth=3, max_width=3, input_dim=n))
    net = qexpr.random_network(kind, shape, seed=data.draw(st.integers(0, 2**32 - 1)))
    p = data.draw(st.lists(small_rationals, min_size=n, max_size=n))
    v = data.draw(st.lists(small_rationals, min_size=n, max_size=n).filter(any))
    line = restrict_to_line(net, p, v)
    ts = data.draw(rational_points())
    direct = [[pi + t * vi for pi, vi in zip(p, v)] for t in ts]
    expected = net.evaluate_exact(np.array(direct, dtype=object)).tolist()
    assert line.evaluate_exact(np.array(ts, dtype=object)[:, None]).tolist() == expected
    # The exact spline in t agrees too.
    assert [list(r) for r in qexpr.spline_form(line).evaluate_exact(ts)] == expected


def test_cli_line_matches_library():
    path = FIXTURES / "quadratic-2-3-1.json"
    result = run_cli("count-pieces", str(path), "--line", "1/2,-1", "1,2", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    line = restrict_to_line(qexpr.load_network(path), [Fraction(1, 2), -1], [1, 2])
    expected = qexpr.count_pieces(line)
    assert record["pieces"] == expected.pieces and record["breakpoints"] == list(
        expected.breakpoints
    )
    domain = json.loads(
        run_cli(
            "count-pieces", str(path), "--line", "0.5,-1", "1,2", "--domain", "0", "1", "--json"
        ).stdout
    )
    assert all(0 < b < 1 for b in domain["breakpoints"])


def test_density_is_seeded_and_counts_breakpoints():
    net = qexpr.random_network("relu", [2, 6, 6, 1], seed=3)
    a, b = breakpoint_density(net, lines=4, seed=1), breakpoint_density(net, lines=4, seed=1)
    assert a == b and len(a.densities) == 4
    assert a.mean == pytest.approx(sum(a.densities) / 4)
    assert all(d == c / s for d, c, s in zip(a.densities, a.breakpoints, a.lengths))


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (["1,2,3", "1,1"], ["--line", "2"]),
        (["1,x", "1,1"], ["--line", "'x'"]),
        (["0,0", "0,0"], ["non-zero"]),
    ],
)
def test_cli_bad_line(line, words):
    result = run_cli("count-pieces", str(FIXTURES / "quadratic-2-3-1.json"), "--line", *line)
    assert_one_line_error(result, *words)
