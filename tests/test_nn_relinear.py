"""ReLinear: parameter groups, the weight-shrinking penalty, clipping, deviation report."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from qexpr._errors import QexprError
from qexpr.nn import (
    QMLP,
    QResNet,
    QuadraticConv2d,
    QuadraticLinear,
    ReLinear,
    linearity_report,
    relinear_param_groups,
    relinear_penalty,
)

torch.set_num_threads(1)


def _mixed_model():
    return nn.Sequential(
        QuadraticLinear(3, 4),
        nn.BatchNorm1d(4),
        nn.Linear(4, 4),
        QMLP(4, [3], 2, kind="compact"),
    )


@pytest.mark.parametrize(
    "build",
    [_mixed_model, lambda: QResNet(8, kind="quadratic", rezero=True), lambda: QMLP(2, [4], 1)],
)
def test_param_groups_cover_every_parameter_exactly_once(build):
    model = build()
    groups = relinear_param_groups(model, lr=0.1, gamma_g=1e-3, gamma_b=1e-4, weight_decay=5e-4)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    # Independent classification: by the parameter's attribute name on its owning module.
    expected = {"wg": "g", "bg": "g", "wb": "b", "c": "b"}
    by_group = {g["name"]: {id(p) for p in g["params"]} for g in groups}
    for module in model.modules():
        for attr, param in module.named_parameters(recurse=False):
            quadratic = type(module).__name__.startswith(("Quadratic", "Compact"))
            role = expected.get(attr, "linear") if quadratic else "linear"
            assert id(param) in by_group[role], (type(module).__name__, attr)
    lrs = {g["name"]: (g["lr"], g["weight_decay"]) for g in groups}
    assert lrs["linear"] == (0.1, 5e-4)
    assert lrs["g"] == (1e-3, 0.0)
    if "b" in lrs:
        assert lrs["b"] == (1e-4, 0.0)


def test_weight_decay_does_not_pull_bg_to_zero():
    torch.manual_seed(0)
    layer = QuadraticLinear(3, 2)
    opt = torch.optim.SGD(
        ReLinear("sg", 0.1, 0.1).param_groups(layer, 0.1, weight_decay=0.5), lr=0.1
    )
    wr = layer.wr.detach().clone()
    (0.0 * layer(torch.randn(4, 3)).sum()).backward()  # zero data gradient
    opt.step()
    assert torch.equal(layer.bg, torch.ones(2))
    torch.testing.assert_close(layer.wr, wr * (1 - 0.1 * 0.5))  # the linear part does decay


@settings(max_examples=20)
@given(
    seed=st.integers(0, 2**16),
    alpha_g=st.floats(0, 2),
    alpha_b=st.floats(0, 2),
    beta_g=st.floats(0, 2),
    beta_b=st.floats(0, 2),
)
def test_penalty_value_and_gradient_match_hand_derivation(seed, alpha_g, alpha_b, beta_g, beta_b):
    torch.manual_seed(seed)
    model = nn.Sequential(
        QuadraticLinear(3, 2, init="standard", dtype=torch.float64),
        QuadraticConv2d(1, 2, 2, init="standard", dtype=torch.float64),
    )
    penalty = relinear_penalty(model, alpha_g, alpha_b, beta_g, beta_b)
    (penalty + sum(0.0 * p.sum() for p in model.parameters())).backward()  # grads exist
    value = 0.0
    for layer in model:
        for name, ref, alpha, beta in [
            ("wg", 0.0, alpha_g, beta_g),
            ("bg", 1.0, alpha_g, beta_g),
            ("wb", 0.0, alpha_b, beta_b),
            ("c", 0.0, alpha_b, beta_b),
        ]:
            p = getattr(layer, name)
            d = p.detach() - ref
            value += alpha * float(d.abs().sum()) + beta * float((d * d).sum())
            torch.testing.assert_close(p.grad, alpha * torch.sign(d) + 2 * beta * d)
        assert torch.count_nonzero(layer.wr.grad) == 0
    assert float(penalty.detach()) == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_penalty_is_zero_at_relinear_init_and_without_quadratic_layers():
    assert float(relinear_penalty(QMLP(3, [4], 2), 1.0, 1.0, 1.0, 1.0).detach()) == 0.0
    assert float(relinear_penalty(nn.Linear(2, 2), 1.0, 1.0, 1.0, 1.0).detach()) == 0.0


def test_clip_bounds_the_whole_gradient_and_keeps_direction():
    torch.manual_seed(1)
    model = QMLP(4, [5], 3, init="standard")
    (model(torch.randn(8, 4)) ** 2).sum().mul(100).backward()
    old = torch.cat([p.grad.flatten() for p in model.parameters()])
    ReLinear("sg", clip=0.5).before_step(model)
    new = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert float(old.norm()) > 0.5
    assert float(new.norm()) == pytest.approx(0.5, rel=1e-5)
    torch.testing.assert_close(new / new.norm(), old / old.norm())


def test_linearity_report_matches_hand_norms():
    model = QMLP(2, [3], 1)
    assert all(d.relative == 0.0 for d in linearity_report(model))
    with torch.no_grad():
        model.layers[0].bg.add_(torch.tensor([3.0, 0.0, 4.0]))
        model.layers[1].wb.fill_(2.0)
    report = linearity_report(model)
    assert [d.name for d in report] == ["layers.0", "layers.1"]
    assert report[0].bg == pytest.approx(5.0) and report[0].wg == 0.0
    assert report[1].wb == pytest.approx(2.0 * 3**0.5)
    lin = torch.cat([model.layers[0].wr.flatten(), model.layers[0].br]).norm()
    assert report[0].relative == pytest.approx(5.0 / float(lin.detach()), rel=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "sgd"}, {"gamma_g": -1.0}, {"beta_b": float("nan")}, {"clip": 0.0}],
)
def test_bad_recipe_raises(kwargs):
    with pytest.raises(QexprError):
        ReLinear(**kwargs)
