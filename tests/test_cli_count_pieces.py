"""``qexpr count-pieces`` end to end, in a subprocess."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from cli import assert_one_line_error, invoke, run_cli
from hypothesis import given
from hypothesis import strategies as st

import qexpr

FIXTURES = Path(__file__).parent / "fixtures"
ONE_INPUT = ["quadratic-1-3-1.json", "relu-1-4-4-1.json", "square-1-3-3-1.json"]


def test_json_lines_for_several_files():
    paths = [str(FIXTURES / name) for name in ONE_INPUT]
    result = run_cli("count-pieces", *paths, "--json", "--mode", "exact")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == paths
    for record, path in zip(records, paths):
        expected = qexpr.count_pieces(qexpr.load_network(path), mode="exact")
        assert record["pieces"] == expected.pieces
        assert record["activation_regions"] == expected.activation_regions
        assert record["degree"] == expected.degree
        assert record["breakpoints"] == sorted(record["breakpoints"])
        assert len(record["breakpoints"]) == record["pieces"] - 1
        assert record["mode"] == "exact"


def test_relu_fixture_counted_by_hand():
    # relu-1-4-4-1: breakpoints checked against a dense float scan in the property tests;
    # here the piece count equals the number of distinct slopes read off a fine grid.
    result = run_cli("count-pieces", str(FIXTURES / "relu-1-4-4-1.json"), "--json")
    record = json.loads(result.stdout)
    net = qexpr.load_network(FIXTURES / "relu-1-4-4-1.json")
    import numpy as np

    x = np.linspace(-3, 4, 700001)
    y = net.evaluate(x[:, None])[:, 0]
    slopes = np.round(np.diff(y) / np.diff(x), 6)
    runs = 1 + np.count_nonzero(np.abs(np.diff(slopes)) > 1e-3)
    # Every kink shows as a slope change across (at most) two grid steps.
    assert record["pieces"] <= runs <= 2 * record["pieces"] - 1


def test_random_network_save_and_reload(tmp_path):
    out = tmp_path / "net.json"
    result = run_cli(
        "count-pieces",
        "--kind",
        "quadratic",
        "--widths",
        "1,3,3,1",
        "--seed",
        "5",
        "--json",
        "--save",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    again = json.loads(run_cli("count-pieces", str(out), "--json").stdout)
    for key in ("pieces", "activation_regions", "degree", "breakpoints"):
        assert record[key] == again[key]
    assert record["seed"] == 5


def test_float_mode_and_domain():
    result = run_cli(
        "count-pieces",
        str(FIXTURES / "relu-1-4-4-1.json"),
        "--mode",
        "float",
        "--domain",
        "0",
        "1/2",
        "--json",
    )
    record = json.loads(result.stdout)
    assert record["mode"] == "float"
    assert all(0 < b < 0.5 for b in record["breakpoints"])


def test_readable_table():
    result = run_cli("count-pieces", str(FIXTURES / "square-1-3-3-1.json"))
    assert result.returncode == 0
    assert "pieces" in result.stdout and "degree" in result.stdout


def test_help_shows_examples():
    assert "Examples" in run_cli("--help").stdout
    assert "qexpr count-pieces net.json" in run_cli("count-pieces", "--help").stdout


def _help_examples(command: list[str], columns: int) -> list[str]:
    from typer.testing import CliRunner

    from qexpr.cli import main

    main._register()
    result = CliRunner().invoke(
        main.app, [*command, "--help"], prog_name="qexpr", env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == 0
    return [line.strip() for line in result.output.splitlines() if "qexpr " in line]


def test_help_examples_never_wrap():
    # an example re-wrapped at 80 columns would differ from the same help at 250 columns
    from qexpr.cli import main

    main._register()
    for command in [[], *([info.name] for info in main.app.registered_commands)]:
        narrow = _help_examples(command, 80)
        assert narrow == _help_examples(command, 250), command
        assert all(len(line) <= 78 for line in narrow), command


def test_version_matches_the_package():
    result = invoke("--version")
    assert result.returncode == 0
    assert result.stdout.split() == ["qexpr", qexpr.__version__]


def test_json_flag_is_declared_once():
    from qexpr.cli import _common, bounds, count_pieces, dimension, sweep, verify

    for module in (bounds, count_pieces, dimension, sweep, verify):
        parameter = module.command.__wrapped__.__annotations__["as_json"]
        assert parameter in ("JsonFlag", _common.JsonFlag), module.__name__


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["count-pieces", str(FIXTURES / "quadratic-2-3-1.json")], ["input_dim 2"]),
        (["count-pieces", "/nonexistent.json"], ["/nonexistent.json", "cannot read"]),
        (["count-pieces", "--kind", "cubic"], ["kind", "cubic"]),
        (["count-pieces", "--kind", "relu", "--widths", "1,x"], ["--widths"]),
        (["count-pieces", "--kind", "relu", "--mode", "fast"], ["--mode"]),
        (["count-pieces", "--kind", "relu", "--domain", "1", "0"], ["a < b"]),
        (["count-pieces", "--kind", "relu", "--domain", "a", "1"], ["domain", "'a'"]),
        (["count-pieces", "--kind", "relu", "--bogus"], ["--bogus"]),
        (["count-pieces"], ["network file"]),
        (["count-pieces", str(FIXTURES / "relu-1-4-4-1.json"), "--kind", "relu"], ["not both"]),
    ],
)
def test_bad_input_one_line_exit_2(args, words):
    assert_one_line_error(run_cli(*args), *words)


def test_bad_file_names_layer_and_key(tmp_path):
    data = json.loads((FIXTURES / "quadratic-1-3-1.json").read_text())
    data["layers"][1]["wg"] = [[1, 2]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert_one_line_error(run_cli("count-pieces", str(path)), str(path), "layer 1", "'wg'")


def test_random_lines_match_hidden_lines_crossed_by_each_chord(tmp_path):
    # One hidden ReLU layer in the plane: a chord has one breakpoint per neuron whose line
    # w·x + b = 0 it crosses (float weights: no ties, no zero output weight). The chords
    # are drawn as documented in qexpr.breakpoint_density.
    import numpy as np

    net = qexpr.random_network("relu", [2, 7, 1], seed=4, exact=False)
    path = tmp_path / "net.json"
    qexpr.save_network(net, path)
    result = run_cli(
        "count-pieces", str(path), "--random-lines", "12", "--seed", "3", "--radius", "2", "--json"
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    rng = np.random.default_rng(3)
    w, b = net.layers[0].w, net.layers[0].b
    expected = []
    for _ in range(12):
        p = rng.uniform(-2, 2, 2)
        u = rng.standard_normal(2)
        v = 2 * u / np.linalg.norm(u)
        roots = -(w @ p + b) / (w @ v)
        expected.append(int(np.sum(np.abs(roots) < 1)))
    assert record["breakpoints"] == expected
    assert record["mean_density"] == pytest.approx(np.mean(expected) / 4)
    assert record["std_density"] == pytest.approx(np.std(expected) / 4)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--random-lines", "0"], ["--random-lines", "positive"]),
        (["--random-lines", "-3"], ["--random-lines"]),
        (["--random-lines", "x"], ["--random-lines"]),
        (["--random-lines", "2", "--radius", "0"], ["--radius"]),
        (["--random-lines", "2", "--radius", "nan"], ["--radius"]),
        (["--random-lines", "2", "--line", "0,0", "1,0"], ["--line"]),
        (["--random-lines", "2", "--domain", "0", "1"], ["--domain"]),
    ],
)
def test_random_lines_bad_values(extra, words):
    result = run_cli("count-pieces", "--kind", "relu", "--widths", "2,3,1", *extra)
    assert_one_line_error(result, *words)


def test_plot_along_a_line_labels_t(tmp_path, monkeypatch):
    from qexpr.studies import _plots

    labels = []

    def save(fig, path):
        labels.append(fig.axes[0].get_xlabel())
        _plots._pyplot().close(fig)

    monkeypatch.setattr(_plots, "_save", save)
    net = qexpr.random_network("relu", [2, 3, 1], seed=0)
    line = qexpr.restrict_to_line(net, "0,0", "1,1")
    _plots.plot_spline(qexpr.spline_form(line), tmp_path / "a.png", xlabel="t")
    _plots.plot_spline(
        qexpr.spline_form(qexpr.random_network("relu", [1, 3, 1])), tmp_path / "b.png"
    )
    assert labels == ["t", "x"]


# --- breakpoints that print apart, widths as a list, --plot of one output -------------------


def _relu_with_breakpoints(biases: list[str], outputs: int = 1) -> dict:
    """One hidden ReLU neuron max(x + b, 0) per bias b (exact text): breakpoints at -b."""
    return {
        "format": "qexpr-network/1",
        "input_dim": 1,
        "layers": [
            {
                "neuron": "linear",
                "w": [["1"]] * len(biases),
                "b": list(biases),
                "activation": "relu",
            },
            {
                "neuron": "linear",
                "w": [["1"] * len(biases)] * outputs,
                "b": ["0"] * outputs,
                "activation": "identity",
            },
        ],
    }


@pytest.mark.parametrize(
    "biases",
    [
        ["-1", "-1000000001/1000000000", "-1000000002/1000000000"],  # apart at the 10th digit
        ["0", "-1/1000000000000", "1/1000000000000"],  # around zero
        ["-3/10", "-300000000000001/1000000000000000", "-7/3"],
    ],
)
def test_breakpoints_print_apart(tmp_path, biases):
    path = tmp_path / "close.json"
    path.write_text(json.dumps(_relu_with_breakpoints(biases)))
    text = run_cli("count-pieces", str(path), "--mode", "exact")
    assert text.returncode == 0, text.stderr
    (line,) = [line for line in text.stdout.splitlines() if line.startswith("breakpoints")]
    printed = line.removeprefix("breakpoints").strip().split(", ")
    exact = sorted(-Fraction(b) for b in biases)  # max(x + b, 0) breaks at x = -b
    assert len(set(printed)) == len(printed) == len(exact)
    for shown, point in zip(printed, exact):
        assert shown != "-0"
        assert abs(float(shown) - point) <= 1e-5 * max(1, abs(point))


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=12))
def test_format_points_tells_different_floats_apart(points):
    from qexpr.cli.count_pieces import _format_points

    points = sorted(set(points))
    printed = _format_points(tuple(points))
    assert len(set(printed)) == len(points)
    for shown, point in zip(printed, points):
        assert shown != "-0"
        assert math.isclose(float(shown), point, rel_tol=1e-5, abs_tol=1e-300)


def test_widths_are_a_list_of_int_in_every_json():
    count = json.loads(
        invoke("count-pieces", "--kind", "relu", "--widths", "1,3,2,1", "--json").stdout
    )
    bounds = json.loads(invoke("bounds", "--kind", "relu", "--widths", "1,3,2,1", "--json").stdout)
    dimension = json.loads(
        invoke("dimension", "--kind", "square", "--widths", "2,3,1", "--json").stdout
    )
    maximum = json.loads(
        invoke(
            "max-pieces", "--kind", "relu", "--widths", "1,3,2,1", "--evaluations", "5", "--json"
        ).stdout.splitlines()[-1]
    )
    for record in (count, bounds, dimension, maximum):
        widths = record["widths"]
        assert isinstance(widths, list) and all(type(w) is int for w in widths), record
    assert count["widths"] == bounds["widths"] == maximum["widths"] == [1, 3, 2, 1]


def test_plot_of_several_outputs_needs_output(tmp_path):
    path = tmp_path / "two.json"
    path.write_text(json.dumps(_relu_with_breakpoints(["-1", "1"], outputs=2)))
    figure = tmp_path / "f.png"
    refused = invoke("count-pieces", str(path), "--plot", str(figure))
    assert_one_line_error(refused, "--output K", "2")
    assert not figure.exists()
    assert_one_line_error(
        invoke("count-pieces", str(path), "--plot", str(figure), "--output", "2"),
        "--output",
        "0 to 1",
    )
    assert_one_line_error(invoke("count-pieces", str(path), "--output", "1"), "--output", "--plot")
    drawn = invoke("count-pieces", str(path), "--plot", str(figure), "--output", "1")
    assert drawn.returncode == 0, drawn.stderr
    assert figure.read_bytes().startswith(b"\x89PNG")


def _quadratic_neurons(constants: list[str]) -> dict:
    """Quadratic ReLU neurons max(x·x - c, 0), summed: breakpoints at ±√c."""
    n = len(constants)
    return {
        "format": "qexpr-network/1",
        "input_dim": 1,
        "layers": [
            {
                "neuron": "quadratic",
                "wr": [["1"]] * n,
                "br": ["0"] * n,
                "wg": [["1"]] * n,
                "bg": ["0"] * n,
                "wb": [["0"]] * n,
                "c": [f"-{c}" for c in constants],
                "activation": "relu",
            },
            {"neuron": "linear", "w": [["1"] * n], "b": ["0"], "activation": "identity"},
        ],
    }


@pytest.mark.parametrize(
    ("network", "exact"),
    [
        # rational breakpoints 1 and 1 + 1e-20: the same float64
        (
            _relu_with_breakpoints(["-1", "-100000000000000000001/100000000000000000000"]),
            [Decimal(1), Decimal("1.00000000000000000001")],
        ),
        # ±√2 and ±√(2 + 1e-30), 3.5e-31 apart: irrational and the same float64
        (_quadratic_neurons(["2", f"{2 * 10**30 + 1}/{10**30}"]), None),
    ],
)
def test_breakpoints_closer_than_float64_print_apart(tmp_path, network, exact):
    path = tmp_path / "closer.json"
    path.write_text(json.dumps(network))
    text = run_cli("count-pieces", str(path), "--mode", "exact")
    assert text.returncode == 0, text.stderr
    (line,) = [line for line in text.stdout.splitlines() if line.startswith("breakpoints")]
    printed = line.removeprefix("breakpoints").strip().split(", ")
    if exact is None:  # the roots, computed here with 60 digits
        context = Context(prec=60)
        roots = [context.sqrt(Decimal(2)), context.sqrt(context.add(2, Decimal("1e-30")))]
        exact = sorted([*map(context.minus, roots), *roots])
    assert len(set(printed)) == len(printed) == len(exact)
    for shown, point in zip(printed, exact):
        digits = len(shown.lstrip("-").replace(".", "").lstrip("0"))
        assert abs(Decimal(shown) - point) <= abs(point) * Decimal(10) ** (1 - digits)


def test_exact_output_gives_exact_breakpoints(tmp_path):
    # relu(x^2 - 2): breakpoints ±sqrt(2), irrational, each an integer polynomial and an
    # isolating interval with rational ends that contains it.
    net = qexpr.Network(
        1,
        (
            qexpr.QuadraticLayer(
                wr=[[Fraction(1)]],
                br=[Fraction(0)],
                wg=[[Fraction(1)]],
                bg=[Fraction(0)],
                wb=[[Fraction(0)]],
                c=[Fraction(-2)],
                activation="relu",
            ),
            qexpr.LinearLayer(w=[[Fraction(1)]], b=[Fraction(0)]),
        ),
    )
    path = tmp_path / "net.json"
    qexpr.save_network(net, path)
    record = json.loads(invoke("count-pieces", str(path), "--json", "--exact-output").stdout)
    assert record["certified"] is True and record["pieces"] == 3
    for point, sign in zip(record["exact_breakpoints"], (-1, 1)):
        lo, hi = (Fraction(v) for v in point["interval"])
        assert [int(c) for c in point["poly"]] in ([-2, 0, 1], [2, 0, -1])
        assert lo <= sign * Decimal(2).sqrt() <= hi and lo * hi > 0


def test_hybrid_and_exact_modes_agree_and_float_cannot_give_exact_output(tmp_path):
    path = tmp_path / "net.json"
    qexpr.save_network(qexpr.random_network("quadratic", [1, 3, 3, 1], seed=3), path)
    hybrid = json.loads(invoke("count-pieces", str(path), "--json", "--mode", "hybrid").stdout)
    exact = json.loads(invoke("count-pieces", str(path), "--json", "--mode", "exact").stdout)
    assert (hybrid["pieces"], hybrid["degree"]) == (exact["pieces"], exact["degree"])
    result = invoke("count-pieces", str(path), "--json", "--mode", "float", "--exact-output")
    assert_one_line_error(result, "--exact-output")


#: Runs ``qexpr ARGS`` in this process, then writes its peak resident memory (MB) on stderr.
# The child's own peak resident set: VmHWM of its address space (ru_maxrss can carry the
# parent's resident set over an exec, e.g. a large pytest process).
_PEAK_RSS = """
import sys
from qexpr.cli.main import main
try:
    main()
finally:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(peak // 1024, file=sys.stderr)
"""


def _run_with_peak(args: list[str]) -> tuple[dict, int]:
    """The command's JSON record and its process's peak resident memory (MB)."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *args, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), int(result.stderr.strip().splitlines()[-1])


def test_a_wide_quadratic_layer_counts_in_bounded_memory():
    """1,2000,1 quadratic in float mode: 421-431 MB peak measured (2-core CPU, 2026-12-01); the
    degree bound once built 2000 x 2000 exact forms here (about 1 GB, and 10^8 entries at
    width 10,000: 20 GB). The budget's estimate must cover the measured peak, not by far."""
    args = ["count-pieces", "--kind", "quadratic", "--widths", "1,2000,1", "--mode", "float"]
    record, peak = _run_with_peak(args)
    assert record["bound_pieces"] == 2 * 2000 + 1  # 2 roots per neuron, one ReLU layer
    assert record["pieces"] <= 2 * 2000 + 1
    assert peak < 1024  # 421-431 MB measured; the goal is 2 GB at five times the width
    from qexpr.cli._budget import float_bytes

    net = qexpr.random_network("quadratic", [1, 2000, 1], seed=0)
    assert peak * 2**20 <= float_bytes(net) < 4 * peak * 2**20  # the budget's estimate


def _distinct_roots(layer: qexpr.QuadraticLayer) -> set[tuple]:
    """The distinct real roots of odd multiplicity of a one-input quadratic layer's neurons,
    by hand: ``a x^2 + b x + c`` from the neuron's formula, a rational root as ``("q", r)``,
    an irrational ``p ± sqrt(q)`` as ``("r", p, q, ±1)`` (a unique form for non-square q)."""

    def square_root(q: Fraction) -> Fraction | None:
        p, r = math.isqrt(q.numerator), math.isqrt(q.denominator)
        return Fraction(p, r) if Fraction(p * p, r * r) == q else None

    roots: set[tuple] = set()
    for j in range(layer.out_dim):
        wr, br, wg, bg, wb, c = (
            Fraction(v[j, 0] if v.ndim == 2 else v[j])
            for v in (layer.wr, layer.br, layer.wg, layer.bg, layer.wb, layer.c)
        )
        a, b, c0 = wr * wg + wb, wr * bg + br * wg, br * bg + c
        if a == 0:
            roots |= {("q", -c0 / b)} if b != 0 else set()
            continue
        p, q = -b / (2 * a), (b * b - 4 * a * c0) / (4 * a * a)
        if q > 0:  # q == 0: a double root, no sign change
            s = square_root(q)
            roots |= {("q", p + k * s) if s is not None else ("r", p, q, k) for k in (1, -1)}
    return roots


def test_a_wide_quadratic_layer_is_certified_by_default_in_bounded_memory():
    """1,4000,1 quadratic in the default (certified) mode: only the first layer has ReLU, so
    the hybrid engine isolates its roots exactly, without the float engine (236 MB peak,
    2.2 s measured on the 2-core CPU, 2026-12-01). The budget's estimate must cover the
    measured peak, not by far; the certified count has one region more than the layer's
    distinct roots, found by hand from each neuron's discriminant."""
    args = ["count-pieces", "--kind", "quadratic", "--widths", "1,4000,1"]
    record, peak = _run_with_peak(args)
    assert record["mode"] == "hybrid" and record["certified"] is True
    net = qexpr.random_network("quadratic", [1, 4000, 1], seed=0)
    assert record["activation_regions"] == 1 + len(_distinct_roots(net.layers[0]))
    from qexpr.cli._budget import _certified_cost

    assert peak * 2**20 <= _certified_cost(net, "hybrid")[0] < 4 * peak * 2**20


def test_the_budget_lets_a_wide_first_layer_run_certified():
    """The certified default's estimates for quadratic 1,10000,1 (1.08 GB and 5.3 s
    measured) are within the limits: no up-front refusal (the general hybrid engine's
    estimate, per-neuron checks in Python on every stretch, was 5.5 GB, about 47 min)."""
    from qexpr.cli._budget import check_count

    net = qexpr.random_network("quadratic", [1, 10000, 1], seed=0)
    assert check_count(net, "hybrid") is None
