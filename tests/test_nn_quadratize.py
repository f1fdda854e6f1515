"""quadratize: converted models compute the original function, keep its parameters, train."""

import sys
import types

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from qexpr._errors import QexprError
from qexpr.nn import (
    CompactLinear,
    QuadraticConv1d,
    QuadraticConv2d,
    QuadraticLinear,
    QuadraticModule,
    quadratize,
    relinear_param_groups,
)

torch.set_num_threads(1)

LAYER_CLASSES = ["quadratic", "compact"]


class _Block(nn.Module):
    """torchvision's ResNet BasicBlock layout (conv-bn-relu-conv-bn, 1×1 downsample)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
        return (out + (x if self.downsample is None else self.downsample(x))).relu()


def _resnet18_layout() -> nn.Module:
    """ResNet-18 as torchvision lays it out (used when torchvision cannot be imported)."""
    layers, cin = [], 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers.append(nn.Sequential(_Block(cin, cout, stride), _Block(cout, cout, 1)))
        cin = cout
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
        *layers,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(512, 10),
    )


def _import_torchvision() -> types.ModuleType:
    """``import torchvision``, also where its compiled operators cannot load.

    The PyPI wheel of torchvision 0.28.0 is a CUDA build: its ``_C.so`` needs
    ``libtorch_cuda.so``, which the CPU build of torch lacks, and then ``import torchvision``
    fails in ``torchvision._meta_registrations`` (``operator torchvision::nms does not
    exist``), which registers shapes for the detection operators only. Only in that case
    (torchvision itself reports ``extension._has_ops() == False``) this imports it again
    with that module replaced by an empty one: the models, written in Python, then work;
    the detection operators (nms, roi_align, ...) do not, and ResNet uses none of them.
    Any other import error is raised as it is.
    """
    try:
        import torchvision
    except RuntimeError:
        extension = sys.modules.get("torchvision.extension")
        if extension is None or extension._has_ops():
            raise
        for name in [n for n in sys.modules if n.partition(".")[0] == "torchvision"]:
            del sys.modules[name]
        empty = types.ModuleType("torchvision._meta_registrations")
        sys.modules[empty.__name__] = empty
        import torchvision
    return torchvision


def _torchvision_resnet18() -> nn.Module:
    """torchvision's own ``resnet18`` (random init), 10 classes."""
    return _import_torchvision().models.resnet18(weights=None, num_classes=10)


def _mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8, bias=False), nn.Tanh(), nn.Linear(8, 3)
    )


def _conv1d_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(2, 6, 3, padding="same", padding_mode="reflect"),
        nn.BatchNorm1d(6),
        nn.ReLU(),
        nn.Conv1d(6, 6, 3, stride=2, dilation=2, groups=3, bias=False),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(6 * 6, 4),
    )


MODELS = {
    "torchvision resnet18": (_torchvision_resnet18, (2, 3, 64, 64)),
    "resnet18 layout": (_resnet18_layout, (2, 3, 64, 64)),
    "mlp": (_mlp, (7, 5)),
    "conv1d": (_conv1d_model, (3, 2, 16)),
}


def _randomise_batchnorm(model: nn.Module) -> None:
    """Non-trivial running statistics and affine parameters, so BN is not the identity."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()


def _conventional(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if type(m) in (nn.Linear, nn.Conv1d, nn.Conv2d)]


@pytest.mark.parametrize("neuron", LAYER_CLASSES)
@pytest.mark.parametrize("name", list(MODELS))
def test_converted_model_computes_the_same_function(name, neuron):
    build, shape = MODELS[name]
    torch.manual_seed(0)
    model = build()
    _randomise_batchnorm(model)
    model.eval()
    x = torch.randn(shape)
    with torch.no_grad():
        expected = model(x)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = quadratize(model, neuron=neuron)
    with torch.no_grad():
        got = result.model(x)
    # the extra terms are exact zeros and ones: equal bit for bit on the CPU
    assert torch.equal(got, expected)
    assert not _conventional(result.model) and len(result.replaced) == len(_conventional(model))
    assert all(not m.training for m in result.model.modules())
    # the original is untouched and shares no storage with the copy
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    ours = {p.data_ptr() for p in result.model.parameters()}
    assert not ours & {p.data_ptr() for p in model.parameters()}


@pytest.mark.parametrize("neuron", LAYER_CLASSES)
@pytest.mark.parametrize("name", list(MODELS))
def test_key_map_carries_the_original_state_dict(name, neuron):
    build, _ = MODELS[name]
    torch.manual_seed(1)
    model = build()
    result = quadratize(model, neuron=neuron)
    old, new = model.state_dict(), result.model.state_dict()
    assert set(result.key_map) == set(old)
    assert len(set(result.key_map.values())) == len(old)
    for key, value in old.items():
        assert torch.equal(new[result.key_map[key]], value), key
    renamed = {k: v for k, v in result.key_map.items() if k != v}
    assert renamed and all(
        (k.endswith(".weight") and v == k[: -len("weight")] + "wr")
        or (k.endswith(".bias") and v == k[: -len("bias")] + "br")
        for k, v in renamed.items()
    )
    # keys not in the map are exactly the quadratic terms, at their reference values
    extra = set(new) - set(result.key_map.values())
    terms = {
        f"{n}.{t}": ref
        for n, m in result.model.named_modules()
        if isinstance(m, QuadraticModule)
        for t, _, _, ref in m.quadratic_terms()
    }
    assert extra == set(terms)
    assert all(bool((new[k] == ref).all()) for k, ref in terms.items())


@pytest.mark.parametrize("neuron", LAYER_CLASSES)
@pytest.mark.parametrize("name", list(MODELS))
def test_relinear_groups_partition_the_parameters_and_gradients_flow(name, neuron):
    build, shape = MODELS[name]
    torch.manual_seed(2)
    converted = quadratize(build(), neuron=neuron).model.train()
    groups = relinear_param_groups(converted, lr=0.1, gamma_g=1e-3, gamma_b=1e-3)
    grouped = [id(p) for g in groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in converted.parameters())
    assert len(set(grouped)) == len(grouped)
    quadratic_terms = {
        id(p): role
        for m in converted.modules()
        if isinstance(m, QuadraticModule)
        for _, role, p, _ in m.quadratic_terms()
    }
    for group in groups:
        roles = {quadratic_terms.get(id(p), "linear") for p in group["params"]}
        assert roles == {group["name"]}
    converted(torch.randn(shape)).square().mean().backward()
    for pname, param in converted.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), pname
    # every quadratic term receives signal (its gradient is not identically zero)
    terms = [p for p in converted.parameters() if id(p) in quadratic_terms]
    assert terms and all(bool(p.grad.abs().sum() > 0) for p in terms)


def test_documented_checkpoint_recipe_loads_an_original_checkpoint():
    """docs/quadratize.md: rename with key_map, take the quadratic terms from the model."""
    torch.manual_seed(5)
    result = quadratize(_conv1d_model().eval())
    converted, key_map = result.model, result.key_map
    trained = _conv1d_model().eval()  # another draw: stands for a checkpoint of the original
    _randomise_batchnorm(trained)
    old_state = trained.state_dict()
    converted.load_state_dict(
        {**converted.state_dict(), **{key_map[k]: v for k, v in old_state.items()}}
    )
    x = torch.randn(3, 2, 16)
    with torch.no_grad():
        assert torch.equal(converted(x), trained(x))


def test_include_by_names_and_by_predicate():
    torch.manual_seed(3)
    model = _mlp()
    only = quadratize(model, include=["0", "4"]).model
    expected = [QuadraticLinear, nn.ReLU, nn.Linear, nn.Tanh, QuadraticLinear]
    assert [type(m) for m in only] == expected
    no_bias = quadratize(model, neuron="compact", include=lambda n, m: m.bias is None).model
    assert type(no_bias[2]) is CompactLinear and type(no_bias[0]) is nn.Linear
    conv = quadratize(_conv1d_model(), include=lambda n, m: isinstance(m, nn.Conv1d)).model
    assert [type(conv[i]) for i in (0, 3, 6)] == [QuadraticConv1d, QuadraticConv1d, nn.Linear]


def test_shared_and_tied_layers_stay_shared():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    result = quadratize(model)
    assert result.model[0] is result.model[2] and result.replaced == ("0", "2")
    by_second_name = quadratize(model, include=["2"])
    assert by_second_name.model[0] is by_second_name.model[2]
    assert by_second_name.replaced == ("0", "2")
    tied = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6, bias=False))
    tied[2].weight = tied[0].weight
    out = quadratize(tied, neuron="compact").model
    assert out[0].wr is out[2].wr and out[0] is not out[2]
    assert len(list(out.parameters())) == len(list(tied.parameters())) + 2 + 1  # wb, c; wb


def test_root_layer_and_subclasses():
    layer = nn.Conv2d(2, 3, 3)
    result = quadratize(layer)
    assert type(result.model) is QuadraticConv2d
    assert result.key_map == {"weight": "wr", "bias": "br"} and result.replaced == ("",)
    attention = nn.MultiheadAttention(4, 2)  # out_proj is a Linear subclass read directly
    converted = quadratize(nn.Sequential(attention)).model
    assert (
        type(converted[0].out_proj) is type(attention.out_proj)
        and not quadratize(nn.Sequential(attention)).replaced
    )


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16))
def test_random_quadratic_terms_change_the_function_but_keep_the_linear_part(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Conv1d(1, 2, 2))
    state = torch.random.get_rng_state()
    a = quadratize(model, relinear=False, seed=seed).model
    b = quadratize(model, relinear=False, seed=seed).model
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched
    assert torch.equal(a[0].wr, model[0].weight) and torch.equal(a[0].br, model[0].bias)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[0].wg, torch.zeros_like(a[0].wg))
    twins = quadratize(nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3)), relinear=False).model
    assert not torch.equal(twins[0].wg, twins[1].wg)  # each layer its own draws
    x = torch.randn(5, 3)
    assert not torch.allclose(a[0](x), model[0](x))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: quadratize(m, neuron="cubic"),
        lambda m: quadratize(m, include=["9"]),
        lambda m: quadratize(m, include=["1"]),  # a ReLU
        lambda m: quadratize(m, include="0"),
        lambda m: quadratize(m, relinear=1),
        lambda m: quadratize(m, seed=1.5),
        lambda m: quadratize("model"),
    ],
)
def test_bad_arguments_raise_one_line_errors(call):
    with pytest.raises(QexprError) as info:
        call(_mlp())
    assert "\n" not in str(info.value)


def test_hooked_and_parametrized_layers_are_refused_or_left_alone():
    model = _mlp()
    model[0].register_forward_hook(lambda m, i, o: o)
    with pytest.raises(QexprError, match=r"'0'.*hooks"):
        quadratize(model)
    assert type(quadratize(model, include=["2"]).model[2]) is QuadraticLinear
    normed = nn.Sequential(nn.utils.spectral_norm(nn.Linear(3, 3)))
    with pytest.raises(QexprError, match=r"hooks|computed"):
        quadratize(normed)
    parametrized = nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(3, 3)))
    assert not quadratize(parametrized).replaced  # a parametrized class, not nn.Linear
