"""Device, torchrun environment and TensorBoard logging: one line or the right calls."""

import json
import sys
import types

import pytest
import torch
from cli import train_app
from typer.testing import CliRunner

from qexpr._errors import QexprError
from qexpr.nn._device import env_int, join_world, resolve_device

torch.set_num_threads(1)


@pytest.mark.parametrize("name", ["foo", "cuda:-1", "", "cpu:x", "meta"])
def test_unusable_device_names_are_one_line(name):
    with pytest.raises(QexprError, match="device"):
        resolve_device(name)


def test_cpu_resolves_to_itself():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("text", ["abc", "-1", "1.5"])
def test_garbage_torchrun_variables_are_one_line(monkeypatch, text):
    monkeypatch.setenv("LOCAL_RANK", text)
    with pytest.raises(QexprError, match=r"environment variable LOCAL_RANK: expected an int"):
        env_int("LOCAL_RANK", 0)


def test_incomplete_torchrun_environment_is_one_line(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(QexprError, match="torchrun environment: cannot join the group"):
        join_world(torch.device("cpu"))
    assert not torch.distributed.is_initialized()


def test_no_torchrun_means_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert join_world(torch.device("cpu")) == (0, 1, False)


def test_tensorboard_gets_every_field_per_epoch(tmp_path, monkeypatch):
    calls = []

    class FakeWriter:
        def __init__(self, logdir):
            calls.append(("dir", logdir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, value, step))

        def flush(self):
            calls.append(("flush",))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    app = train_app()
    args = [
        "train",
        "--no-progress",
        "--json",
        "--widths",
        "4",
        "--epochs",
        "2",
        "--tensorboard",
        str(tmp_path / "tb"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [("dir", str(tmp_path / "tb"))]
    for row in rows:
        expected += [(k, v, row["epoch"]) for k, v in row.items() if k != "epoch"] + [("flush",)]
    assert calls == expected
