"""Trainer: exact resume, divergence, metrics, datasets, CLI, speed options vs eager."""

import json
import pickle
import random

import numpy as np
import pytest
import torch
from cli import train_app
from strategies import fake_cifar
from typer.testing import CliRunner

from qexpr._errors import QexprError, QexprValueError
from qexpr.nn import (
    Dataset,
    ReLinear,
    TrainConfig,
    TrainingDivergedError,
    _trainer,
    load_dataset,
    train,
)

torch.set_num_threads(1)

SMALL = TrainConfig(widths=(16, 16), epochs=4, batch_size=100, relinear=ReLinear("sg+sw", clip=1.0))


def _same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _drop_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_resume_is_bit_identical_to_uninterrupted(tmp_path):
    full = train(SMALL, checkpoint=tmp_path / "full.pt")
    ckpt = tmp_path / "part.pt"
    train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 2}), checkpoint=ckpt)
    torch.manual_seed(12345)  # disturb the global RNG: the checkpoint must restore it
    resumed = train(SMALL, checkpoint=ckpt, resume=True)
    assert _same_state(full.model.state_dict(), resumed.model.state_dict())
    assert _drop_time(full.history) == _drop_time(resumed.history)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_resume_may_change_only_speed_knobs(tmp_path):
    full = train(SMALL)
    ckpt = tmp_path / "part.pt"
    train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 2}), checkpoint=ckpt)
    moved = {**SMALL.to_dict(), "data_dir": str(tmp_path / "moved"), "deterministic": True}
    resumed = train(TrainConfig.from_dict(moved), checkpoint=ckpt, resume=True)
    assert _same_state(full.model.state_dict(), resumed.model.state_dict())


def test_train_leaves_global_state_alone():
    torch.manual_seed(7)
    before = (torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy())  # noqa: NPY002
    deterministic = torch.are_deterministic_algorithms_enabled()
    train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 1, "deterministic": True}))
    assert torch.equal(torch.get_rng_state(), before[0]) and random.getstate() == before[1]
    assert np.array_equal(np.random.get_state()[1], before[2])  # noqa: NPY002
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_resume_rejects_other_configuration_and_missing_file(tmp_path):
    ckpt = tmp_path / "c.pt"
    train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 1}), checkpoint=ckpt)
    with pytest.raises(QexprError, match=r"different configuration \(lr: 0.05 -> 0.01\)"):
        train(TrainConfig.from_dict({**SMALL.to_dict(), "lr": 0.01}), checkpoint=ckpt, resume=True)
    with pytest.raises(QexprError, match="no such file"):
        train(SMALL, checkpoint=tmp_path / "absent.pt", resume=True)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(QexprError, match="unreadable"):
        train(SMALL, checkpoint=tmp_path / "junk.pt", resume=True)


def test_seeded_runs_repeat_and_seeds_differ():
    a = train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 1}))
    b = train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 1}))
    c = train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 1, "seed": 1}))
    assert _same_state(a.model.state_dict(), b.model.state_dict())
    assert not _same_state(a.model.state_dict(), c.model.state_dict())


def test_divergence_is_detected():
    bad = TrainConfig(widths=(16,), epochs=3, lr=50.0, relinear=ReLinear("none"))
    with pytest.raises(TrainingDivergedError, match="diverged at epoch 1"):
        train(bad)
    result = train(bad, on_divergence="stop")
    assert result.status == "diverged" and "diverged" in result.message and result.history == []


def test_windowed_divergence_check_reports_the_first_bad_step(monkeypatch):
    bad = TrainConfig(widths=(16,), epochs=3, lr=50.0, relinear=ReLinear("none"))
    with pytest.raises(TrainingDivergedError) as every_step:
        train(bad)
    assert every_step.value.step < 7  # so the window below reads it back late
    monkeypatch.setattr(_trainer, "_check_every", lambda device: 7)  # as on an accelerator
    with pytest.raises(TrainingDivergedError) as windowed:
        train(bad)
    assert (windowed.value.epoch, windowed.value.step) == (
        every_step.value.epoch,
        every_step.value.step,
    )
    assert windowed.value.loss == every_step.value.loss


def test_metrics_files_agree_with_history(tmp_path):
    cfg = TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 2})
    result = train(cfg, metrics_path=tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == result.history
    train(cfg, metrics_path=tmp_path / "m.csv")
    lines = (tmp_path / "m.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert len(lines) == 3 and header[:2] == ["epoch", "train_loss"]
    acc = [float(line.split(",")[header.index("test_accuracy")]) for line in lines[1:]]
    assert acc == [row["test_accuracy"] for row in result.history]


def test_accuracy_is_recomputed_independently():
    result = train(TrainConfig.from_dict({**SMALL.to_dict(), "epochs": 3, "batch_size": 32}))
    data = load_dataset("digits")
    with torch.no_grad():
        pred = result.model.eval()(data.x_test).argmax(1)
    assert result.history[-1]["test_accuracy"] == pytest.approx(
        float((pred == data.y_test).double().mean())
    )
    assert result.history[-1]["test_accuracy"] > 0.5


def test_cifar10_from_a_local_directory(tmp_path):
    fake_cifar(tmp_path / "cifar")
    data = load_dataset("cifar10", data_dir=tmp_path / "cifar")
    assert data.x_train.shape == (40, 3, 32, 32) and data.x_test.shape == (8, 3, 32, 32)
    raw = pickle.loads((tmp_path / "cifar" / "test_batch").read_bytes())
    first = raw[b"data"][0].reshape(3, 32, 32)[0, 0, 0] / 255.0
    assert float(data.x_test[0, 0, 0, 0]) == pytest.approx((first - 0.4914) / 0.2470, rel=1e-5)
    cfg = TrainConfig(
        model="qresnet20",
        dataset="cifar10",
        data_dir=str(tmp_path / "cifar"),
        epochs=1,
        batch_size=20,
    )
    assert len(train(cfg).history) == 1
    (tmp_path / "cifar" / "data_batch_3").unlink()
    with pytest.raises(QexprError, match="data_batch_3 not found"):
        load_dataset("cifar10", data_dir=tmp_path / "cifar")
    with pytest.raises(QexprError, match="does not exist"):
        load_dataset("cifar10", data_dir=tmp_path / "nowhere")


def test_synthetic_datasets():
    reg = load_dataset("synthetic-regression")
    assert reg.task == "regression" and reg.x_train.shape[1] == 1 and reg.y_train.shape[1] == 1
    cls = load_dataset("synthetic-classification")
    assert cls.num_outputs == 2 and set(cls.y_train.tolist()) == {0, 1}
    cfg = TrainConfig(
        dataset="synthetic-regression",
        widths=(16, 16),
        epochs=60,
        batch_size=32,
        optimizer="adam",
        lr=0.01,
    )
    history = train(cfg).history
    assert "test_accuracy" not in history[-1]
    assert history[-1]["test_loss"] < 0.25 * float(reg.y_test.var())  # beats the constant fit


def test_cli_json_lines_and_one_line_errors(tmp_path):
    runner = CliRunner()
    args = ["--widths", "8", "--epochs", "2", "--json", "--metrics", str(tmp_path / "m.json")]
    ok = runner.invoke(train_app(), ["train", "--no-progress", *args])
    assert ok.exit_code == 0, ok.output
    rows = [json.loads(line) for line in ok.stdout.splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert json.loads((tmp_path / "m.json").read_text()) == rows
    for args, text in [
        (["--lr", "80", "--relinear", "none"], "training diverged"),
        (["--dataset", "cifar10", "--model", "qresnet20"], "cifar10: no data directory"),
        (["--widths", "8,x"], "--widths"),
        (["--kind", "cubic"], "kind"),
    ]:
        bad = runner.invoke(train_app(), ["train", "--no-progress", "--epochs", "1", *args])
        assert bad.exit_code == 2, bad.output
        assert bad.stderr.startswith("qexpr: error: ") and text in bad.stderr
        assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.output


def _images(n=48, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, size, size, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return Dataset("fake", x[:32], y[:32], x[32:], y[32:], "classification", 10)


IMG = TrainConfig(model="qresnet20", epochs=1, batch_size=16, lr=0.02)


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_channels_last_matches_eager():
    data = _images()
    eager = train(IMG, data=data)
    cl = train(TrainConfig.from_dict({**IMG.to_dict(), "channels_last": True}), data=data)
    torch.testing.assert_close(_flat(cl.model), _flat(eager.model), rtol=1e-4, atol=1e-5)


def test_bf16_autocast_is_close_to_eager():
    data = _images()
    eager = train(IMG, data=data)
    bf16 = train(TrainConfig.from_dict({**IMG.to_dict(), "bf16": True}), data=data)
    diff = (_flat(bf16.model) - _flat(eager.model)).abs().max()
    assert 0 < float(diff) < 5e-2  # bf16 rounding: close, not equal
    assert bf16.history[0]["test_loss"] == pytest.approx(eager.history[0]["test_loss"], rel=0.1)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_torch_compile_matches_eager():  # the warning comes from torch's own import of inductor
    cfg = TrainConfig(widths=(8,), epochs=1, batch_size=256, relinear=ReLinear("sg"))
    eager = train(cfg)
    compiled = train(TrainConfig.from_dict({**cfg.to_dict(), "compile": "default"}))
    torch.testing.assert_close(_flat(compiled.model), _flat(eager.model), rtol=1e-4, atol=1e-5)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_malicious_cifar_batch_runs_nothing(tmp_path):
    fake_cifar(tmp_path / "cifar")
    marker = tmp_path / "pwned"
    (tmp_path / "cifar" / "test_batch").write_bytes(
        pickle.dumps({b"data": _Payload(str(marker)), b"labels": [0]})
    )
    with pytest.raises(QexprValueError, match="refused to load"):
        load_dataset("cifar10", data_dir=tmp_path / "cifar")
    assert not marker.exists()
