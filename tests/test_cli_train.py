"""``qexpr train``: live per-epoch logs, Ctrl-C hint that resumes, checks before any work."""

import json
import shlex
import sys

import pytest
import torch
from cli import train_app
from typer.testing import CliRunner

import qexpr.nn

torch.set_num_threads(1)


def _invoke(args):
    return CliRunner().invoke(train_app(), ["train", "--no-progress", *args])


def _one_line_error(result, text):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("qexpr: error: ") and text in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_console_line_per_epoch_names_every_logged_quantity():
    result = _invoke(["--widths", "8", "--epochs", "2", "--relinear", "sg+sw", "--clip", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 2"]
    for part in (
        "train loss",
        "test accuracy",
        "lr linear=0.05 g=0.001 b=0.001",
        "grad norm",
        "ReLinear penalty",
        " s",
    ):
        assert all(part in line for line in lines)


def test_a_diverging_run_streams_its_epochs_before_the_error():
    args = ["--widths", "64,64,64,64", "--lr", "0.1", "--gamma-g", "0.1", "--gamma-b", "0.1"]
    result = _invoke([*args, "--epochs", "3", "--json"])
    _one_line_error(result, "training diverged at epoch 2")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["epoch"] for r in rows] == [1]
    assert rows[0]["grad_norm_max"] >= rows[0]["grad_norm"] > 0  # max over steps vs mean


def test_ctrl_c_prints_the_command_that_resumes(tmp_path, monkeypatch):
    args = ["--widths", "8", "--epochs", "4", "--json", "--metrics", str(tmp_path / "m.json")]
    full = _invoke([*args, "--checkpoint", str(tmp_path / "full.pt")])
    assert full.exit_code == 0, full.output
    real = qexpr.nn.train

    def interrupted_after_epoch_2(config, **kwargs):
        def on_epoch(model, row):
            kwargs["on_epoch"](model, row)
            if row["epoch"] == 2:
                raise KeyboardInterrupt

        return real(config, **{**kwargs, "on_epoch": on_epoch})

    ckpt = tmp_path / "run.pt"
    argv = ["train", "--no-progress", *args, "--checkpoint", str(ckpt)]
    monkeypatch.setattr(sys, "argv", ["qexpr", *argv])
    monkeypatch.setattr(qexpr.nn, "train", interrupted_after_epoch_2)
    stopped = CliRunner().invoke(train_app(), argv)
    assert stopped.exit_code == 130 and "Traceback" not in stopped.output
    assert len(stopped.stdout.splitlines()) == 2
    hint = stopped.stderr.strip().split("resume with: ")[1]
    assert f"last checkpoint: {ckpt}" in stopped.stderr and hint.endswith(" --resume")
    monkeypatch.setattr(qexpr.nn, "train", real)
    resumed = CliRunner().invoke(train_app(), shlex.split(hint)[1:])
    assert resumed.exit_code == 0, resumed.output
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    expected = [json.loads(line) for line in full.stdout.splitlines()]
    assert drop(json.loads((tmp_path / "m.json").read_text())) == drop(expected)


def test_ctrl_c_without_checkpoint_says_so(monkeypatch):
    def interrupted(config, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(qexpr.nn, "train", interrupted)
    result = _invoke(["--epochs", "1"])
    assert result.exit_code == 130 and "no checkpoint was written" in result.stderr


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--device", "foo"], "device: expected cpu, cuda, cuda:N or mps, got 'foo'"),
        (["--device", "cuda:-1"], "device"),
        (["--sync-batchnorm"], "sync_batchnorm: needs a CUDA device"),
        (["--data-seed", "-1"], "data_seed: expected an int in [0, 2**32)"),
        (["--seed", str(2**64)], "seed: expected an int in [0, 2**32)"),
    ],
)
def test_bad_device_or_seed_is_one_line_before_any_work(args, text, monkeypatch):
    monkeypatch.setattr(qexpr.nn._trainer, "load_dataset", _no_work)
    _one_line_error(_invoke(["--epochs", "1", *args]), text)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only build")
def test_cuda_on_a_cpu_build_is_one_line(monkeypatch):
    monkeypatch.setattr(qexpr.nn._trainer, "load_dataset", _no_work)
    _one_line_error(_invoke(["--device", "cuda"]), "CUDA is not available")


def _no_work(*args, **kwargs):
    raise AssertionError("work started before the arguments were checked")


def test_bad_output_paths_are_one_line_before_epoch_1(tmp_path, monkeypatch):
    monkeypatch.setattr(qexpr.nn._trainer, "load_dataset", _no_work)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    for option in ("--checkpoint", "--metrics"):
        _one_line_error(_invoke([option, str(tmp_path / "adir")]), "is a directory")
        _one_line_error(_invoke([option, str(tmp_path / "afile" / "x")]), "is a file, not a dir")
    _one_line_error(
        _invoke(["--resume", "--checkpoint", str(tmp_path / "none.pt")]), "no such file"
    )
    _one_line_error(_invoke(["--resume", "--checkpoint", str(tmp_path / "adir")]), "directory")


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("tensorboard") is not None,
    reason="tensorboard is installed",
)
def test_tensorboard_without_the_package_is_one_line(tmp_path):
    _one_line_error(_invoke(["--tensorboard", str(tmp_path / "tb")]), "needs the tensorboard")
