"""Quadratic and compact layers against independent formulas."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from qexpr._errors import QexprError
from qexpr.nn import CompactConv2d, CompactLinear, QuadraticConv2d, QuadraticLinear

torch.set_num_threads(1)


@torch.no_grad()
def _neuron_loop(layer, x):
    """Per-neuron formula (wr·x + br)(wg·x + bg) + wb·(x⊙x) + c, one neuron at a time."""
    rows = []
    for sample in x:
        out = []
        for j in range(layer.out_features):
            r = sum(float(layer.wr[j, i]) * float(sample[i]) for i in range(layer.in_features))
            g = sum(float(layer.wg[j, i]) * float(sample[i]) for i in range(layer.in_features))
            q = sum(float(layer.wb[j, i]) * float(sample[i]) ** 2 for i in range(layer.in_features))
            br = float(layer.br[j]) if layer.br is not None else 0.0
            c = float(layer.c[j]) if layer.c is not None else 0.0
            out.append((r + br) * (g + float(layer.bg[j])) + q + c)
        rows.append(out)
    return torch.tensor(rows, dtype=torch.float64)


@settings(max_examples=25)
@given(
    n=st.integers(1, 4),
    fan_in=st.integers(1, 5),
    fan_out=st.integers(1, 4),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_quadratic_linear_matches_neuron_loop(n, fan_in, fan_out, bias, seed):
    torch.manual_seed(seed)
    layer = QuadraticLinear(fan_in, fan_out, bias=bias, init="standard", dtype=torch.float64)
    x = torch.randn(n, fan_in, dtype=torch.float64)
    torch.testing.assert_close(layer(x).detach(), _neuron_loop(layer, x), rtol=1e-12, atol=1e-12)


@settings(max_examples=20)
@given(fan_in=st.integers(1, 5), fan_out=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_compact_linear_matches_formula(fan_in, fan_out, seed):
    torch.manual_seed(seed)
    layer = CompactLinear(fan_in, fan_out, init="standard", dtype=torch.float64)
    x = torch.randn(3, fan_in, dtype=torch.float64)
    expected = x @ layer.wr.T + layer.br + (x * x) @ layer.wb.T + layer.c
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_relinear_init_is_nn_linear(bias):
    torch.manual_seed(7)
    ref = nn.Linear(6, 5, bias=bias)
    torch.manual_seed(7)
    layer = QuadraticLinear(6, 5, bias=bias)
    assert torch.equal(layer.wr, ref.weight)  # same draws as nn.Linear
    if bias:
        assert torch.equal(layer.br, ref.bias)
    x = torch.randn(8, 6)
    torch.testing.assert_close(layer(x), ref(x), rtol=1e-6, atol=1e-6)
    compact = CompactLinear(6, 5, bias=bias)
    with torch.no_grad():
        ref.weight.copy_(compact.wr)
        if bias:
            ref.bias.copy_(compact.br)
    torch.testing.assert_close(compact(x), ref(x), rtol=1e-6, atol=1e-6)


def _unfold_conv(x, w, b, stride, padding):
    """Convolution as an explicit sum over patches (independent of F.conv2d)."""
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (n, C*kh*kw, L)
    out = torch.einsum("ok,nkl->nol", w.reshape(w.shape[0], -1), cols)
    if b is not None:
        out = out + b[None, :, None]
    ho = (h + 2 * padding[0] - kh) // stride[0] + 1
    wo = (wd + 2 * padding[1] - kw) // stride[1] + 1
    return out.reshape(n, -1, ho, wo)


@settings(max_examples=15)
@given(
    cin=st.integers(1, 3),
    cout=st.integers(1, 3),
    k=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_quadratic_conv_matches_unfolded_formula(cin, cout, k, stride, padding, bias, seed):
    torch.manual_seed(seed)
    layer = QuadraticConv2d(
        cin, cout, k, stride, padding, bias=bias, init="standard", dtype=torch.float64
    )
    x = torch.randn(2, cin, 6, 5, dtype=torch.float64)
    s, p = (stride, stride), (padding, padding)
    r = _unfold_conv(x, layer.wr, layer.br, s, p)
    g = _unfold_conv(x, layer.wg, layer.bg, s, p)
    q = _unfold_conv(x * x, layer.wb, layer.c, s, p)
    torch.testing.assert_close(layer(x), r * g + q, rtol=1e-10, atol=1e-10)
    compact = CompactConv2d(
        cin, cout, k, stride, padding, bias=bias, init="standard", dtype=torch.float64
    )
    expected = _unfold_conv(x, compact.wr, compact.br, s, p) + _unfold_conv(
        x * x, compact.wb, compact.c, s, p
    )
    torch.testing.assert_close(compact(x), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("bias", [True, False])
def test_relinear_init_is_nn_conv2d(bias):
    torch.manual_seed(3)
    ref = nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=bias)
    torch.manual_seed(3)
    layer = QuadraticConv2d(3, 4, 3, stride=2, padding=1, bias=bias)
    assert torch.equal(layer.wr, ref.weight)
    x = torch.randn(2, 3, 9, 9)
    torch.testing.assert_close(layer(x), ref(x), rtol=1e-5, atol=1e-6)


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    layer = QuadraticLinear(3, 2, init="standard", dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, *p: layer(x), (x, *layer.parameters()))
    conv = QuadraticConv2d(2, 2, 3, padding=1, init="standard", dtype=torch.float64)
    xc = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(conv, (xc,))


def test_parameter_names_shapes_and_repr():
    layer = QuadraticLinear(4, 3)
    assert [n for n, _ in layer.named_parameters()] == ["wr", "wg", "wb", "bg", "br", "c"]
    assert layer.wg.shape == (3, 4) and layer.bg.shape == (3,)
    assert "init='relinear'" in repr(layer)
    conv = CompactConv2d(2, 5, (3, 1))
    assert conv.wr.shape == (5, 2, 3, 1) and conv(torch.randn(1, 2, 7, 7)).shape == (1, 5, 5, 7)
    half = QuadraticLinear(2, 2, dtype=torch.float16)
    assert all(p.dtype == torch.float16 for p in half.parameters())


@pytest.mark.parametrize(
    "build",
    [
        lambda: QuadraticLinear(0, 3),
        lambda: QuadraticLinear(2, 3, init="zeros"),
        lambda: QuadraticLinear(2.0, 3),
        lambda: QuadraticConv2d(2, 3, 0),
        lambda: CompactConv2d(2, 3, 3, padding=-1),
    ],
)
def test_bad_arguments_raise_one_line_errors(build):
    with pytest.raises(QexprError) as info:
        build()
    assert "\n" not in str(info.value)
