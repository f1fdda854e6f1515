"""Reference recipe: crop-flip against a loop, MultiStepLR against torch's, resume across both."""

import json

import pytest
import torch
from cli import train_app
from hypothesis import given
from hypothesis import strategies as st
from strategies import fake_cifar
from typer.testing import CliRunner

from qexpr._errors import QexprError
from qexpr.nn import Dataset, ReLinear, TrainConfig, train
from qexpr.nn._config import RECIPES
from qexpr.nn._schedule import augment_plan, crop_flip, lr_factor

torch.set_num_threads(1)


def _loop_crop_flip(x, offsets, flips, pad=4):
    out = torch.empty_like(x)
    h, w = x.shape[2:]
    for i in range(len(x)):
        padded = torch.zeros(x.shape[1], h + 2 * pad, w + 2 * pad)
        padded[:, pad : pad + h, pad : pad + w] = x[i]
        dy, dx = (int(v) for v in offsets[i])
        crop = padded[:, dy : dy + h, dx : dx + w]
        out[i] = crop.flip(2) if flips[i] else crop
    return out


@given(st.integers(0, 2**31), st.integers(1, 6), st.integers(1, 9), st.integers(1, 9))
def test_crop_flip_equals_a_loop(seed, n, h, w):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, h, w, generator=g)
    offsets = torch.randint(0, 9, (n, 2), generator=g)
    flips = torch.randint(0, 2, (n,), generator=g)
    assert torch.equal(crop_flip(x, offsets, flips), _loop_crop_flip(x, offsets, flips))


def test_augment_plan_is_a_function_of_seed_and_epoch():
    a, b, c = augment_plan(0, 3, 50), augment_plan(0, 3, 50), augment_plan(0, 4, 50)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], c[0])
    assert int(a[0].min()) >= 0 and int(a[0].max()) <= 8 and set(a[1].tolist()) <= {0, 1}


@pytest.mark.parametrize("milestones", [(), (1,), (2, 3), (100, 150)])
def test_lr_factor_matches_torch_multisteplr(milestones):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(milestones))
    for epoch in range(200):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * lr_factor(milestones, epoch))
        opt.step()
        sched.step()


def _images(n=48, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, size, size, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return Dataset("fake", x[:32], y[:32], x[32:], y[32:], "classification", 10)


SG = ReLinear("sg", gamma_g=1e-3, gamma_b=1e-3)
AUG = TrainConfig(
    model="qresnet20",
    epochs=3,
    batch_size=16,
    lr=0.05,
    milestones=(2,),
    augment="crop-flip",
    relinear=SG,
)


def test_schedule_applies_to_every_group_and_resume_crosses_it(tmp_path):
    data = _images()
    full = train(AUG, data=data)
    lrs = [(row["lr_linear"], row["lr_g"], row["lr_b"]) for row in full.history]
    assert lrs[:2] == [(0.05, 1e-3, 1e-3)] * 2
    assert lrs[2] == pytest.approx((0.005, 1e-4, 1e-4))
    ckpt = tmp_path / "c.pt"
    train(TrainConfig.from_dict({**AUG.to_dict(), "epochs": 2}), data=data, checkpoint=ckpt)
    resumed = train(AUG, data=data, checkpoint=ckpt, resume=True)
    state, again = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(state[k], again[k]) for k in state)
    plain = train(TrainConfig.from_dict({**AUG.to_dict(), "augment": "none"}), data=data)
    assert not torch.equal(plain.model.fc.weight, full.model.fc.weight)  # it did augment


def test_augmenting_non_images_is_one_line():
    with pytest.raises(QexprError, match="augment crop-flip: needs image data"):
        train(TrainConfig(augment="crop-flip", epochs=1))
    with pytest.raises(QexprError, match="milestones"):
        TrainConfig(milestones=(3, 2))
    with pytest.raises(QexprError, match="recipe"):
        TrainConfig.from_recipe("fast")


def test_cli_reference_recipe_with_explicit_overrides(tmp_path):
    fake_cifar(tmp_path / "cifar")
    app = train_app()
    args = [
        "train",
        "--no-progress",
        "--json",
        "--recipe",
        "reference",
        "--data-dir",
        str(tmp_path / "cifar"),
        "--epochs",
        "1",
        "--batch-size",
        "20",
        "--gamma-b",
        "1e-4",
        "--checkpoint",
        str(tmp_path / "c.pt"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert (row["lr_linear"], row["lr_g"], row["lr_b"]) == (0.1, 1e-5, 1e-4)
    saved = TrainConfig.from_dict(torch.load(tmp_path / "c.pt", weights_only=True)["config"])
    reference = RECIPES["reference"]
    assert (saved.model, saved.weight_decay, saved.momentum, saved.milestones, saved.augment) == (
        reference["model"],
        1e-4,
        0.9,
        (100, 150),
        "crop-flip",
    )
    assert (saved.epochs, saved.batch_size) == (1, 20)
