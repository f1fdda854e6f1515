"""``qexpr count-pieces -`` (standard input) and ``count-pieces run.pt`` (a checkpoint).

Each count through the command line is compared with the same network counted directly:
the file read by :func:`qexpr.load_network`, the model bridged by
:func:`qexpr.nn.to_qexpr_network`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli import assert_one_line_error, invoke, run_cli

import qexpr

FIXTURES = Path(__file__).parent / "fixtures"
ONE_INPUT = ["quadratic-1-3-1.json", "relu-1-4-4-1.json", "square-1-3-3-1.json"]


def _piped(data: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    """``qexpr count-pieces ARGS`` with ``data`` on its standard input."""
    result = subprocess.run(
        [sys.executable, "-m", "qexpr", "count-pieces", *args],
        input=data,
        capture_output=True,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def _without_file(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "file"}


@pytest.mark.parametrize("name", ONE_INPUT)
def test_stdin_counts_as_the_file(name):
    path = FIXTURES / name
    piped = _piped(path.read_bytes(), "-", "--json", "--mode", "exact")
    assert piped.returncode == 0, piped.stderr
    from_file = json.loads(run_cli("count-pieces", str(path), "--json", "--mode", "exact").stdout)
    record = json.loads(piped.stdout)
    assert record["file"] == "-"
    assert _without_file(record) == _without_file(from_file)
    assert record["pieces"] == qexpr.count_pieces(qexpr.load_network(path), mode="exact").pieces


def test_stdin_among_files_and_its_errors():
    path = str(FIXTURES / ONE_INPUT[0])
    both = _piped((FIXTURES / ONE_INPUT[1]).read_bytes(), path, "-", "--json")
    assert both.returncode == 0, both.stderr
    assert [json.loads(line)["file"] for line in both.stdout.splitlines()] == [path, "-"]
    assert_one_line_error(_piped(b"", "-"), "<stdin>", "malformed JSON")
    assert_one_line_error(_piped(b"\xff\xfe", "-"), "<stdin>", "UTF-8")
    assert_one_line_error(_piped(b"{}", "-", "-"), "standard input", "once")


# --- checkpoints ----------------------------------------------------------------------------

torch = pytest.importorskip("torch")
FORMAT = pytest.importorskip("qexpr.nn._checkpoint").FORMAT


def _checkpoint(tmp_path, widths=(3, 2), kind="quadratic", seed=0, **changes):
    """A checkpoint of plain data (config, weights) and the model it holds."""
    from qexpr.nn import QMLP, TrainConfig

    config = TrainConfig(widths=widths, kind=kind, dataset="synthetic-regression", seed=seed)
    torch.manual_seed(seed)
    model = QMLP(1, widths, 1, kind, "standard")  # standard init: curved pieces
    payload = {
        "format": FORMAT,
        "config": {**config.to_dict(), "init": "standard"},
        "model": model.state_dict(),
        "optimizer": {},
        "epoch": 1,
        "history": [{"epoch": 1, "train_loss": 0.5}],
        **changes,
    }
    path = tmp_path / "run.pt"
    torch.save(payload, path)
    return path, model


@pytest.mark.parametrize(
    ("kind", "widths", "seed"),
    [("quadratic", (3, 2), 0), ("compact", (4,), 1), ("relu", (5, 5), 2)],
)
def test_checkpoint_counts_as_the_bridged_model(tmp_path, kind, widths, seed):
    from qexpr.nn import to_qexpr_network

    path, model = _checkpoint(tmp_path, widths, kind, seed)
    result = invoke("count-pieces", str(path), "--json", "--mode", "float")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    direct = qexpr.count_pieces(to_qexpr_network(model), mode="float")
    assert record["pieces"] == direct.pieces
    assert record["degree"] == direct.degree
    assert record["breakpoints"] == list(direct.breakpoints)
    exact = qexpr.count_pieces(to_qexpr_network(model).to_exact(), mode="exact")
    assert record["pieces"] == exact.pieces  # float engine certified against exact


def test_checkpoint_with_a_pickled_object_is_refused_unread(tmp_path):
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "config": {}, "model": Payload()}, path)
    assert_one_line_error(invoke("count-pieces", str(path)), str(path), "refused")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"format": "something/1"}, ["not a", "checkpoint", "something/1"]),
        ({"config": {"widths": [3, 2], "colour": 1}}, ["bad config", "colour"]),
        ({"config": {"model": "qresnet20"}}, ["qresnet20", "only a qmlp"]),
        ({"model": {}}, ["no QMLP layer weights"]),
    ],
)
def test_bad_checkpoints_are_one_line(tmp_path, changes, words):
    path, _ = _checkpoint(tmp_path, **changes)
    assert_one_line_error(invoke("count-pieces", str(path)), str(path), *words)


def test_weights_that_do_not_fit_the_config(tmp_path):
    from qexpr.nn import TrainConfig

    wrong = {**TrainConfig(widths=(4, 2)).to_dict(), "dataset": "synthetic-regression"}
    path, _ = _checkpoint(tmp_path, config=wrong)
    assert_one_line_error(invoke("count-pieces", str(path)), "do not fit")


def test_a_trained_checkpoint_counts_as_the_trained_model(tmp_path):
    from qexpr.nn import TrainConfig, to_qexpr_network, train

    path = tmp_path / "run.pt"
    config = TrainConfig(widths=(3,), dataset="synthetic-regression", epochs=1)
    result = train(config, checkpoint=path, progress=False)
    assert result.status == "completed"
    counted = invoke("count-pieces", str(path), "--json", "--mode", "exact")
    assert counted.returncode == 0, counted.stderr
    direct = qexpr.count_pieces(to_qexpr_network(result.model).to_exact(), mode="exact")
    assert json.loads(counted.stdout)["pieces"] == direct.pieces
