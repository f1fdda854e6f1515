"""Checkpoints load as plain data only: hostile or damaged files give one line, run nothing."""

import os
import stat

import pytest
import torch

from qexpr._errors import QexprError
from qexpr.nn import ReLinear, TrainConfig, train
from qexpr.nn._checkpoint import check_writable, load_checkpoint

torch.set_num_threads(1)

TINY = TrainConfig(widths=(8,), epochs=1, batch_size=200, relinear=ReLinear("sg"))


class _Evil:
    """Unpickling this with ``weights_only=False`` would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text
    return text


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "good.pt"
    train(TINY, checkpoint=path)
    return path


def test_a_checkpoint_is_plain_data(good):
    payload = torch.load(good, weights_only=True)  # what a user with plain torch would do
    assert payload["epoch"] == 1 and payload["config"] == TINY.to_dict()


def test_malicious_pickle_runs_nothing(tmp_path, good):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    payload = torch.load(good, weights_only=True)
    torch.save({**payload, "history": _Evil(marker)}, evil)
    with pytest.raises(QexprError) as exc_info:
        train(TINY, checkpoint=evil, resume=True)
    assert "refused" in _one_line(exc_info)
    assert not marker.exists()
    with pytest.raises(QexprError):  # a whole-file payload object is refused too
        torch.save(_Evil(marker), evil)
        load_checkpoint(evil)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: p.update(history=[{"epoch": 1, "train_loss": "x"}]), "history row 1"),
        (lambda p: p.update(history=[]), "epoch 1 but 0 history rows"),
        (lambda p: p.update(model=[1, 2]), "'model'"),
        (lambda p: p["model"].pop(next(iter(p["model"]))), "damaged model"),
        (lambda p: p["model"].update({k: v[:1] for k, v in p["model"].items()}), "damaged model"),
        (lambda p: p.update(format="something/9"), "not a qexpr-checkpoint/2"),
        (lambda p: p["config"].update(relinear={"bogus": 1}), "damaged config"),
    ],
)
def test_damaged_checkpoint_is_one_line(tmp_path, good, damage, expected):
    payload = torch.load(good, weights_only=True)
    damage(payload)
    bad = tmp_path / "bad.pt"
    torch.save(payload, bad)
    with pytest.raises(QexprError) as exc_info:
        train(TINY, checkpoint=bad, resume=True)
    assert expected in _one_line(exc_info)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_artefacts_honour_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        train(TINY, checkpoint=tmp_path / "c.pt", metrics_path=tmp_path / "m.csv")
    finally:
        os.umask(old)
    for name in ("c.pt", "m.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask


def test_unwritable_destinations_are_one_line(tmp_path):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    with pytest.raises(QexprError, match="is a directory"):
        check_writable(tmp_path / "adir", "checkpoint")
    with pytest.raises(QexprError, match="afile is a file, not a directory"):
        check_writable(tmp_path / "afile" / "sub" / "c.pt", "checkpoint")
    with pytest.raises(QexprError, match="cannot write there"):
        check_writable("/proc/qexpr-test/c.pt", "checkpoint")
    assert check_writable(tmp_path / "new" / "c.pt", "checkpoint").parent.is_dir()
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == []  # the probe is gone
