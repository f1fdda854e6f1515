"""QMLP and QResNet: shapes, layout, and equality with the conventional twin at ReLinear init."""

import warnings

import pytest
import torch
from torch import nn

from qexpr._errors import QexprError
from qexpr.nn import (
    KINDS,
    QMLP,
    CompactConv2d,
    CompactLinear,
    QResNet,
    QuadraticConv2d,
    QuadraticLinear,
    qresnet20,
    qresnet32,
)

torch.set_num_threads(1)


def _copy_linear_part(quad: nn.Module, twin: nn.Module) -> None:
    """Load the twin's weights into the quadratic model (wr ← weight, br ← bias)."""
    theirs = twin.state_dict()
    merged = {}
    for key, value in quad.state_dict().items():
        twin_key = key.removesuffix(".wr") + ".weight" if key.endswith(".wr") else key
        twin_key = key.removesuffix(".br") + ".bias" if key.endswith(".br") else twin_key
        merged[key] = theirs.get(twin_key, value)
    quad.load_state_dict(merged)


@pytest.mark.parametrize("kind", ["quadratic", "compact"])
def test_qmlp_at_relinear_init_equals_its_twin(kind):
    torch.manual_seed(0)
    twin = QMLP(5, [7, 6], 3, kind="relu")
    quad = QMLP(5, [7, 6], 3, kind=kind)
    _copy_linear_part(quad, twin)
    x = torch.randn(11, 5)
    torch.testing.assert_close(quad(x), twin(x), rtol=1e-5, atol=1e-6)
    assert quad.widths == (5, 7, 6, 3) and len(quad.layers) == 3


@pytest.mark.parametrize("kind", ["quadratic", "compact"])
def test_qresnet_at_relinear_init_equals_its_twin(kind):
    torch.manual_seed(0)
    twin = qresnet20(kind="relu").eval()
    quad = qresnet20(kind=kind).eval()
    _copy_linear_part(quad, twin)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(quad(x), twin(x), rtol=1e-4, atol=1e-5)


def test_qresnet_layout():
    model = qresnet32(num_classes=7)
    convs = [m for m in model.modules() if isinstance(m, QuadraticConv2d)]
    assert len(convs) == 2 * 15  # n = 5 blocks per stage, 3 stages
    assert [c.out_channels for c in convs[::10]] == [16, 32, 64]
    assert [c.stride for c in convs if c.stride != (1, 1)] == [(2, 2), (2, 2)]
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    assert isinstance(model.stem[0], nn.Conv2d) and isinstance(model.fc, nn.Linear)


def test_rezero_blocks_start_as_identity_paths():
    torch.manual_seed(0)
    model = QResNet(8, kind="quadratic", init="standard", rezero=True).eval()
    x = torch.randn(2, 16, 8, 8).relu()
    block = model.blocks[0]
    assert float(block.alpha.detach()) == 0.0
    torch.testing.assert_close(block(x), x)


@pytest.mark.parametrize(
    "build",
    [
        lambda: QResNet(21),
        lambda: QMLP(2, [0], 1),
        lambda: QMLP(2, [3], 1, kind="cubic"),
        lambda: QMLP(2, [3], 1, kind="linear", activation="tanh"),
        lambda: QMLP(2, [3], 1, kind="relu", activation="square"),
        lambda: QResNet(8, kind="cubic"),
        lambda: QResNet(8, kind=["relu"]),
    ],
)
def test_bad_model_arguments(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(QexprError) as info:
            build()
    assert "\n" not in str(info.value)


def test_kinds_are_the_four_architecture_kinds():
    # that each means the same network as in the core: tests/test_nn_bridge.py
    assert KINDS == ("quadratic", "compact", "relu", "square")


@pytest.mark.parametrize("kind", KINDS)
def test_the_kind_sets_layers_and_activation(kind):
    torch.manual_seed(0)
    model = QMLP(3, [4], 2, kind=kind)
    layer_types = {type(m) for m in model.layers}
    expected = {"quadratic": QuadraticLinear, "compact": CompactLinear}.get(kind, nn.Linear)
    assert layer_types == {expected}
    x = torch.randn(5, 3)
    hidden = model.layers[0](x)
    act = hidden.square() if kind == "square" else hidden.relu()
    torch.testing.assert_close(model(x), model.layers[1](act))
    resnet = QResNet(8, kind=kind)
    convs = [
        m for m in resnet.blocks.modules() if isinstance(m, nn.Module) and hasattr(m, "weight")
    ]
    assert {type(m) for m in convs if m.weight.dim() == 4} == {
        {"quadratic": QuadraticConv2d, "compact": CompactConv2d}.get(kind, nn.Conv2d)
    }
    assert all(b.activation == model.activation for b in resnet.blocks)


@pytest.mark.parametrize(
    ("kwargs", "kind", "activation"),
    [
        ({"kind": "linear"}, "relu", "relu"),
        ({"kind": "linear", "activation": "relu"}, "relu", "relu"),
        ({"kind": "linear", "activation": "square"}, "square", "square"),
        ({"kind": "quadratic", "activation": "square"}, "quadratic", "square"),
        ({"kind": "square", "activation": "square"}, "square", "square"),
    ],
)
def test_deprecated_vocabulary_still_builds_the_same_models(kwargs, kind, activation):
    with pytest.warns(DeprecationWarning) as record:
        torch.manual_seed(4)
        old = QMLP(3, [4], 2, **kwargs)
    assert {w.filename for w in record} == {__file__}  # the warning names the caller
    torch.manual_seed(4)
    new = QMLP(3, [4], 2, kind=kind)
    assert (old.kind, old.activation) == (kind, activation)
    assert old.state_dict().keys() == new.state_dict().keys()
    assert all(torch.equal(a, b) for a, b in zip(old.parameters(), new.parameters(), strict=True))
    with pytest.warns(DeprecationWarning, match="kind='linear'") as record:
        resnet = qresnet20(kind="linear")
    assert {w.filename for w in record} == {__file__}
    assert resnet.kind == "relu"


def test_train_config_reads_the_old_kind_linear_as_relu():
    from qexpr.nn import TrainConfig

    with pytest.warns(DeprecationWarning, match="relu"):
        old = TrainConfig(kind="linear")
    assert old == TrainConfig(kind="relu")
