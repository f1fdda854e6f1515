"""Hostile input through the real entry point: one stderr line, exit 2, no traceback, fast.

Each CLI case runs ``qexpr`` (in-process through :func:`cli.invoke`, or in a subprocess
where the process itself matters: umask, stray warnings) and checks the contract of
``CONTRIBUTING.md``; the library cases check the QexprError family. A hypothesis fuzzer
mutates the valid fixture networks (types, shapes, numbers, nesting) and requires either
a count or that one line.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from cli import assert_one_line_error, invoke, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qexpr._errors import QexprError, QexprTypeError, QexprValueError
from qexpr._io import load_network, save_network
from qexpr._numbers import format_integer, parse_number
from qexpr._random import random_network
from qexpr.studies import _verify
from qexpr.studies._checks import Check
from qexpr.sweep._sweep import read_sweep, run_sweep

FIXTURES = Path(__file__).parent / "fixtures"
ONE_INPUT = sorted(p for p in FIXTURES.glob("*-1-*.json"))
#: Wall time any refusal may take (the work it refuses would take minutes or fill memory).
FAST = 20.0


def _network(biases: list[str]) -> dict:
    """``sum_j relu(x + b_j)``: a ReLU breakpoint at ``x = -b_j`` for each bias, by hand."""
    return {
        "format": "qexpr-network/1",
        "input_dim": 1,
        "layers": [
            {"neuron": "linear", "w": [["1"]] * len(biases), "b": biases, "activation": "relu"},
            {"neuron": "linear", "w": [[str(j + 1) for j in range(len(biases))]], "b": ["0"]},
        ],
    }


def _write(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def _refused(*args: str, words: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    start = time.perf_counter()
    result = invoke(*args)
    assert time.perf_counter() - start < FAST
    assert_one_line_error(result, *words)
    assert result.stdout == ""
    return result


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bias", "words"),
    [
        ("1e999999999", ("exponent",)),
        ("-1e-99999999999999999999", ("exponent",)),
        ("1" * 1001, ("digits",)),
        ("1/" + "7" * 1001, ("digits",)),
    ],
)
def test_huge_numbers_are_refused_at_once(tmp_path, bias, words):
    path = _write(tmp_path, "net.json", _network([bias]))
    _refused("count-pieces", path, words=("layer 0", *words))


def test_json_integer_past_pythons_digit_limit(tmp_path):
    text = json.dumps(_network(["0"])).replace('"0"]', "1" + "0" * 5000 + "]", 1)
    _refused("count-pieces", _write(tmp_path, "net.json", text), words=("digits",))


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_is_one_line(tmp_path, depth):
    text = '{"format": "qexpr-network/1", "layers": ' + "[" * depth + "]" * depth + "}"
    _refused("count-pieces", _write(tmp_path, "net.json", text), words=("nested",))


def test_breakpoints_beyond_float_range_are_exact_strings(tmp_path):
    # relu(x - 10^400), relu(x + 10^-400), relu(x - 1/3): breakpoints 10^400, -10^-400, 1/3.
    path = _write(tmp_path, "net.json", _network(["-1e400", "1e-400", "-1/3"]))
    result = invoke("count-pieces", path, "--json", "--mode", "exact")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["breakpoints"] == ["-1/1" + "0" * 400, 1 / 3, "1" + "0" * 400]
    text = invoke("count-pieces", path, "--mode", "exact")
    assert text.returncode == 0 and "1" + "0" * 400 in text.stdout
    assert "-1/1" + "0" * 400 in text.stdout


def test_float_mode_refuses_weights_beyond_float_range(tmp_path):
    path = _write(tmp_path, "net.json", _network(["-1e400"]))
    _refused("count-pieces", path, "--mode", "float", words=("float64", "exact"))


def test_irrational_breakpoint_below_float_range_is_not_zero(tmp_path):
    # relu(x^2 - 10^-801): breakpoints ±10^-400.5 = ±3.16227766016837933...e-401.
    net = {
        "format": "qexpr-network/1",
        "input_dim": 1,
        "layers": [
            {
                "neuron": "quadratic",
                "wr": [["1"]],
                "br": ["0"],
                "wg": [["1"]],
                "bg": ["0"],
                "wb": [["0"]],
                "c": ["-1e-801"],
                "activation": "relu",
            },
            {"neuron": "linear", "w": [["1"]], "b": ["0"]},
        ],
    }
    result = invoke("count-pieces", _write(tmp_path, "n.json", net), "--json", "--mode", "exact")
    points = json.loads(result.stdout)["breakpoints"]
    assert [p[:14] for p in points] == ["-3.16227766016", "3.162277660168"]
    assert all(p.endswith("e-401") for p in points)


@given(st.integers(-(10**40), 10**40), st.integers(0, 30_000), st.integers(0, 10**40))
@settings(max_examples=25, deadline=None)
def test_format_integer_is_exact_past_the_str_limit(head, shift, tail):
    n = head * 10**shift + tail  # up to 30,000 digits, zeros inside the chunks included
    sys.set_int_max_str_digits(0)
    try:
        assert format_integer(n) == str(n)
    finally:
        sys.set_int_max_str_digits(4300)


def test_parse_number_text_agrees_with_fraction():
    for text in ("-1e400", "2.5e-3", ".5", "1/3", "-0.125", "1e1000"):
        assert parse_number(text, "x") == Fraction(text)


# --- bounds -------------------------------------------------------------------------------


# Serra's bound against its definition: tests/test_bounds.py (serra_brute_force).


@pytest.mark.parametrize(("kind", "degree"), [("relu", 1), ("quadratic", 2**400)])
def test_bounds_with_400_layers(kind, degree):
    # 400 layers: ReLU keeps degree 1, each quadratic layer doubles it (by hand).
    widths = ",".join(["3"] * 401)
    result = invoke("bounds", "--kind", kind, "--widths", widths, "--json")
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout)["degree"] == degree
    assert kind in invoke("bounds", "--kind", kind, "--widths", widths).stdout


# --- paths, seeds, several files ----------------------------------------------------------

RANDOM = ("count-pieces", "--kind", "relu", "--widths", "1,3,1")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--save", "{tmp}"], ("--save", "directory")),
        (["--save", "{tmp}/missing/net.json"], ("--save", "does not exist")),
        (["--plot", "{tmp}/spline.txt"], ("--plot", ".txt")),
        (["--plot", "{tmp}/spline"], ("--plot", "no suffix")),
        (["--plot", "{tmp}"], ("--plot",)),
        (["--seed", "-1"], ("--seed",)),
    ],
)
def test_outputs_and_seeds_are_checked_before_work(tmp_path, extra, words):
    # widths 1,10000,1 would count for seconds: the path error must come first
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    _refused("count-pieces", "--kind", "quadratic", "--widths", "1,10000,1", *args, words=words)
    assert sorted(os.listdir(tmp_path)) == []


def test_save_only_after_success(tmp_path):
    out = tmp_path / "net.json"
    _refused("count-pieces", "--kind", "relu", "--widths", "2,3,1", "--save", str(out))
    assert not out.exists()


def test_save_is_atomic_and_honours_the_umask(tmp_path):
    out = tmp_path / "net.json"
    code = "import os, sys; os.umask(0o027); from qexpr.cli.main import main; main()"
    args = [*RANDOM, "--save", str(out), "--json"]
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["net.json"]  # no temporary left behind
    assert load_network(out).layers[0].out_dim == 3


def test_several_files_go_on_past_a_bad_one(tmp_path):
    bad = _write(tmp_path, "bad.json", "{not json")
    good = [str(p) for p in ONE_INPUT[:2]]
    result = invoke("count-pieces", good[0], bad, good[1], "--json")
    assert result.returncode == 2
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == good
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"qexpr: error: {bad}")


@pytest.mark.parametrize("path", [None, 123, b"net.json"])
def test_load_network_refuses_non_paths(path):
    with pytest.raises(QexprTypeError):
        load_network(path)


def test_load_network_refuses_a_directory_and_a_device(tmp_path):
    for path in (tmp_path, "/dev/null"):
        with pytest.raises(QexprValueError, match="regular file"):
            load_network(path)


def test_save_network_refuses_a_directory(tmp_path):
    with pytest.raises(QexprValueError, match="directory"):
        save_network(random_network("relu", [1, 2, 1]), tmp_path)


@pytest.mark.parametrize("widths", [[1, 2.5, 1], [1, 2.0, 1], [1, True, 1], "121", [1, "2", 1]])
def test_random_network_never_coerces_widths(widths):
    with pytest.raises(QexprTypeError):
        random_network("relu", widths)


# --- memory and time refused up front -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("count-pieces", "--kind", "quadratic", "--widths", "1,40000,1"), ("memory",)),
        (("count-pieces", "--kind", "quadratic", "--widths", "1,4,10000,1"), ("memory",)),
        (
            ("count-pieces", "--kind", "quadratic", "--widths", "1,5000,1", "--mode", "exact"),
            ("roots", "--mode float"),
        ),
        (
            ("count-pieces", "--kind", "quadratic", "--widths", "1,1,2000,1"),
            ("would take about", "--mode float"),
        ),
        (
            ("count-pieces", "--kind", "relu", "--widths", "1,10000,1", "--mode", "float"),
            ("memory",),
        ),
        (("count-pieces", "--kind", "relu", "--widths", "1,1000000,1"), ("--widths",)),
        (
            (
                "count-pieces",
                "--kind",
                "quadratic",
                "--widths",
                "1,14000,1",
                "--mode",
                "float",
                "--plot",
                "{tmp}/p.png",
            ),
            ("memory", "drop --plot"),
        ),
        (("count-pieces", "--kind", "relu", "--widths", "1,100000000,1"), ("--widths",)),
        (
            ("count-pieces", "--kind", "relu", "--widths", "2,3,1", "--random-lines", "100000000"),
            ("--random-lines",),
        ),
        (("dimension", "--kind", "square", "--widths", "1000,1000,1"), ("Jacobian",)),
        (("sweep", "count", "--seeds", "0-100000000", "--out", "{tmp}/s.csv"), ("--seeds",)),
        (
            (
                "sweep",
                "count",
                "--kinds",
                "quadratic",
                "--widths",
                "1,40000,1",
                "--out",
                "{tmp}/s.csv",
            ),
            ("memory",),
        ),
        (
            (
                "sweep",
                "dimension",
                "--kinds",
                "square",
                "--widths",
                "1000,1000,1",
                "--out",
                "{tmp}/s.csv",
            ),
            ("Jacobian",),
        ),
        (("count-pieces", "--kind", "relu", "--widths", "1," + "9" * 40 + ",1"), ("--widths",)),
    ],
)
def test_work_past_the_budget_is_refused_up_front(tmp_path, args, words):
    _refused(*(a.replace("{tmp}", str(tmp_path)) for a in args), words=words)
    assert os.listdir(tmp_path) == []


def test_a_fifo_is_refused_not_read(tmp_path):
    fifo = tmp_path / "net.json"
    os.mkfifo(fifo)  # reading it would block until a writer comes
    _refused("count-pieces", str(fifo), words=("regular file",))


# --- sweep ----------------------------------------------------------------------------------


def test_sweep_refuses_a_binary_file_and_a_bad_scheduler(tmp_path):
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    _refused("sweep", "count", "--out", str(binary), "--no-progress", words=("CSV",))
    with pytest.raises(QexprValueError, match="CSV"):
        read_sweep(binary)
    result = run_cli("sweep", "count", "--out", str(tmp_path / "s.csv"), "--scheduler", "garbage")
    assert_one_line_error(result, "scheduler")
    assert not (tmp_path / "s.csv").exists()


def test_sweep_resume_reruns_tampered_rows(tmp_path):
    out = tmp_path / "s.csv"
    jobs = [{"kind": "relu", "widths": (1, 3, 1), "seed": s} for s in range(3)]
    run_sweep("count", jobs, out)
    rows = list(csv.reader(io.StringIO(out.read_text())))
    header, clean = rows[0], copy.deepcopy(rows[1:])
    rows[1][header.index("pieces")] = "abc"
    rows[2][header.index("activation_regions")] = "-1"
    rows[3][header.index("seed")] = "7"  # the key no longer matches its parameters
    with out.open("w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    summary = run_sweep("count", jobs, out)
    assert (summary.invalid, summary.done, summary.skipped) == (3, 3, 0)
    again = {row["key"]: row for row in read_sweep(out)}
    for row in clean:
        recomputed = again[row[0]]
        for name in ("pieces", "activation_regions", "degree", "status"):
            assert recomputed[name] == row[header.index(name)]


# --- verify ---------------------------------------------------------------------------------


def _figure_check(settings):
    if settings.out is not None:
        (settings.out / "figure.png").write_bytes(b"png")
    return Check("fake", True, "ok", figures=("figure.png",) if settings.out else ())


def test_verify_writes_nowhere_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_verify, "CHECKS", (("fake", _figure_check),))
    assert _verify.verify().passed
    assert os.listdir(tmp_path) == []


def test_verify_out_is_renamed_whole_and_replaces_a_previous_report(tmp_path, monkeypatch):
    monkeypatch.setattr(_verify, "CHECKS", (("fake", _figure_check),))
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.json").write_text("{}")
    (out / "stale.png").write_bytes(b"old")
    _verify.verify(out)
    assert sorted(os.listdir(out)) == ["figure.png", "report.json", "report.md"]
    assert os.listdir(tmp_path) == ["report"]
    assert json.loads((out / "report.json").read_text())["passed"] is True


def test_verify_refuses_a_foreign_directory_and_bad_arguments(tmp_path):
    (tmp_path / "thesis.tex").write_text("keep me")
    for kwargs in ({"out": tmp_path}, {"out": 5}, {"seed": -1}, {"quick": "yes"}):
        with pytest.raises(QexprError):
            _verify.verify(**kwargs)
    assert os.listdir(tmp_path) == ["thesis.tex"]


# --- fuzzing the network format -------------------------------------------------------------

HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e999999999", "1/0", "", "nan", "-1e400", "1" * 1200, "0x10", "½"]),
    st.text(max_size=8),
    st.recursive(st.integers(-3, 3), lambda inner: st.lists(inner, max_size=3), max_leaves=6),
    st.dictionaries(st.sampled_from(["neuron", "w", "b", "x"]), st.integers(0, 2), max_size=2),
)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) to a node of a JSON tree."""
    paths = [prefix]
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        paths += _paths(child, (*prefix, key))
    return paths


@st.composite
def mutated_networks(draw) -> object:
    data = json.loads(draw(st.sampled_from(ONE_INPUT)).read_text())
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            return draw(HOSTILE_VALUES)
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "wrap", "duplicate"]))
        key = path[-1]
        if action == "replace":
            parent[key] = draw(HOSTILE_VALUES)
        elif action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]] * draw(st.integers(1, 2))
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[f"{key}2"] = copy.deepcopy(parent[key])
    return data


@given(mutated_networks(), st.sampled_from(["exact", "float"]))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_network_files_count_or_fail_in_one_line(tmp_path, data, mode):
    path = _write(tmp_path, "fuzz.json", json.dumps(data))
    start = time.perf_counter()
    result = invoke("count-pieces", path, "--json", "--mode", mode)
    assert time.perf_counter() - start < FAST
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        record = json.loads(result.stdout)
        assert record["pieces"] == len(record["breakpoints"]) + 1
    else:
        assert_one_line_error(result)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"seed": -1}, QexprValueError),
        ({"seed": "a"}, QexprTypeError),
        ({"seed": 1.5}, QexprTypeError),
        ({"seed": True}, QexprTypeError),
        ({"exact": 1}, QexprTypeError),
    ],
)
def test_random_network_checks_seed_and_exact(kwargs, error):
    with pytest.raises(error):
        random_network("relu", [1, 2, 1], **kwargs)
