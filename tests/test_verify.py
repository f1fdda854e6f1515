"""``qexpr verify``: JSON shape and exit status, and that a check can fail."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cli import invoke, run_cli

import qexpr.studies._checks as checks
from qexpr._bounds import kind_bounds
from qexpr.studies._verify import verify

CHECK_NAMES = ["random-networks", "constructions", "inclusions", "dimension", "relinear-training"]


@pytest.mark.slow
def test_quick_json_passes_and_writes_a_report(tmp_path):
    result = run_cli("verify", "--quick", "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert set(report) == {"passed", "checks"}
    assert report["passed"] is True
    assert [c["name"] for c in report["checks"]] == CHECK_NAMES
    for check in report["checks"]:
        assert isinstance(check["passed"], bool)
        assert isinstance(check["details"], str) and check["details"]
        assert check["passed"] or not check["skipped"]  # a skipped check never fails
    written = {p.name for p in tmp_path.iterdir()}
    assert {"report.md", "report.json", "pieces_vs_width.png", "chebyshev.png"} <= written
    assert json.loads((tmp_path / "report.json").read_text())["passed"] is True
    assert "random-networks" in (tmp_path / "report.md").read_text()


def _loose_bounds(kind, widths):
    """The real bounds with the pieces bound lowered to 1: random networks must exceed it."""
    return replace(kind_bounds(kind, widths), pieces=1)


def test_a_violated_bound_fails_the_check(monkeypatch):
    import qexpr.studies._verify as verify_module

    monkeypatch.setattr(checks, "kind_bounds", _loose_bounds)
    monkeypatch.setattr(verify_module, "CHECKS", verify_module.CHECKS[:3])  # no training
    report = verify(out=None, quick=True)
    assert report.passed is False
    by_name = {c.name: c for c in report.checks}
    assert by_name["random-networks"].passed is False
    assert "pieces > bound" in by_name["random-networks"].details
    assert by_name["constructions"].passed and by_name["inclusions"].passed
    assert report.to_dict()["passed"] is False


def test_cli_exits_1_when_a_check_fails(monkeypatch, tmp_path):
    import qexpr.studies._verify as verify_module

    def fails(settings):
        return checks.Check("always-fails", False, "FAILED: on purpose")

    monkeypatch.setattr(verify_module, "CHECKS", (("always-fails", fails),))
    result = invoke("verify", "--json", "--out", str(tmp_path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report == {
        "passed": False,
        "checks": [
            {
                "name": "always-fails",
                "passed": False,
                "skipped": False,
                "details": "FAILED: on purpose",
                "seconds": report["checks"][0]["seconds"],
                "figures": [],
            }
        ],
    }


def test_an_exception_is_a_failed_check_not_a_crash(monkeypatch):
    import qexpr.studies._verify as verify_module

    def broken(settings):
        raise ZeroDivisionError("on purpose")

    monkeypatch.setattr(verify_module, "CHECKS", (("broken", broken),))
    report = verify(out=None, quick=True)
    assert not report.passed
    assert report.checks[0].name == "broken"
    assert "ZeroDivisionError: on purpose" in report.checks[0].details


def test_known_shallow_dimensions_formula():
    # symmetric 3x3 matrices of rank <= 2: 6 - 1 = 5; <= 3: all 6. Cubics in 3 variables:
    # 2 cubes span 6, 4 cubes fill the 10-dimensional space.
    assert checks._known_dimension(3, 2, 2) == 5
    assert checks._known_dimension(3, 3, 2) == 6
    assert checks._known_dimension(3, 4, 2) == 6
    assert checks._known_dimension(3, 2, 3) == 6
    assert checks._known_dimension(3, 4, 3) == 10


def _passes(settings):
    return checks.Check("passes", True, "ok")


@pytest.mark.parametrize("flag", ["--progress", "--no-progress", None])
def test_progress_bar_on_stderr_only_when_asked(monkeypatch, flag):
    import qexpr.studies._verify as verify_module

    monkeypatch.setattr(verify_module, "CHECKS", (("first", _passes), ("second", _passes)))
    result = invoke("verify", "--json", *([flag] if flag else []))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"] is True  # stdout stays one JSON object
    if flag == "--progress":
        assert "second" in result.stderr and "2/2" in result.stderr
    else:  # unset: the captured stderr is not a terminal
        assert result.stderr == ""


def test_progress_must_be_a_bool():
    with pytest.raises(TypeError, match="progress"):
        verify(out=None, progress="yes")


def test_width_figure_shows_every_kind_on_integer_ticks():
    from qexpr._kinds import KINDS

    measured = {kind: [n + k for n in checks.FIGURE_WIDTHS] for k, kind in enumerate(KINDS)}
    figure = checks._width_figure(measured, seeds=2)
    (axes,) = figure.axes
    assert list(axes.get_xticks()) == list(checks.FIGURE_WIDTHS)
    assert all(float(tick).is_integer() for tick in axes.get_xticks())
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert sorted(labels) == sorted(f"{k} {what}" for k in KINDS for what in ("bound", "measured"))
    drawn = {line.get_label(): list(line.get_ydata()) for line in axes.get_lines()}
    for kind, counts in measured.items():
        assert drawn[f"{kind} measured"] == counts
