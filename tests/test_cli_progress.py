"""Progress bars of long commands: on stderr, only on a terminal or with ``--progress``."""

from __future__ import annotations

import json

import pytest
from cli import invoke


@pytest.mark.parametrize("flag", ["--progress", "--no-progress", None])
def test_sweep_progress_only_when_asked(tmp_path, flag):
    out = tmp_path / "r.csv"
    args = ["sweep", "count", "--kinds", "relu", "--widths", "1,2,1", "--seeds", "0-2"]
    result = invoke(
        *args, "--mode", "float", "--out", str(out), "--json", *([flag] if flag else [])
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["done"] == 3  # stdout stays one JSON object
    if flag == "--progress":
        assert "3/3" in result.stderr
    else:  # unset: the captured stderr is not a terminal
        assert result.stderr == ""


#: Long commands with a bar: (arguments, the stage the bar names last, its last total).
LONG_WORK = [
    (
        ("count-pieces", "--kind", "quadratic", "--widths", "1,3,1", "--mode", "exact"),
        "exact layer 2 of 2",
    ),
    (("count-pieces", "--kind", "quadratic", "--widths", "1,3,3,1"), "certify breakpoints"),
    (("count-pieces", "--kind", "quadratic", "--widths", "1,3,1"), "isolate roots"),
    (
        ("count-pieces", "--kind", "relu", "--widths", "2,3,1", "--random-lines", "4"),
        "random lines: 100%",
    ),
    (("dimension", "--kind", "quadratic", "--widths", "3,4,2"), "dimension: 100%"),
    (("bounds", "--kind", "relu", "--widths", "3,4,4,4,1"), "Serra et al. bound: 100%"),
]


@pytest.mark.parametrize(("args", "stage"), LONG_WORK)
@pytest.mark.parametrize("flag", ["--progress", None])
def test_long_work_shows_progress_only_when_asked(args, stage, flag):
    result = invoke(*args, "--json", *([flag] if flag else []))
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # stdout stays one JSON object
    if flag == "--progress":
        assert stage in result.stderr
    else:  # unset: the captured stderr is not a terminal
        assert result.stderr == ""


def test_exact_count_reports_every_cell_and_prints_nothing(capsys):
    """The library reports through the callback only; the last layer's total is the number
    of cells the exact engine made (counted independently by the spline)."""
    import qexpr

    net = qexpr.random_network("quadratic", [1, 4, 1], seed=3)
    reports = []
    result = qexpr.count_pieces(net, mode="exact", progress=lambda *r: reports.append(r))
    cells = result.spline.exact_cells
    assert reports[-cells:] == [("exact layer 2 of 2", k, cells) for k in range(1, cells + 1)]
    assert reports[0] == ("exact layer 1 of 2", 1, 1)  # the whole line, one cell
    assert capsys.readouterr() == ("", "")
