"""Quadratic and compact layers against independent formulas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from qexpr._errors import QexprError
from qexpr.nn import (
    CompactConv1d,
    CompactConv2d,
    CompactLinear,
    QuadraticConv1d,
    QuadraticConv2d,
    QuadraticLinear,
)

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


_CONVS = {
    1: (QuadraticConv1d, CompactConv1d, nn.Conv1d),
    2: (QuadraticConv2d, CompactConv2d, nn.Conv2d),
}


@st.composite
def conv_options(draw):
    """Every ``nn.Conv1d``/``nn.Conv2d`` option, small shapes (sizes as int, tuple or list)."""
    dims = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding_mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    # reflect/circular need padding < input size, which the input below guarantees
    padding = draw(
        st.one_of(
            st.sampled_from(["same", "valid"]),
            st.integers(0, 2),
            st.tuples(*[st.integers(0, 2)] * dims),
        )
    )
    stride = 1 if padding == "same" else draw(st.integers(1, 2))
    size = draw(st.sampled_from(["int", "tuple", "list"]))
    if size != "int":
        kernel = tuple(kernel) if size == "tuple" else list(kernel)
    else:
        kernel = kernel[0]
    args = (cin, cout, kernel, stride, padding, dilation, groups, draw(st.booleans()), padding_mode)
    return dims, args


@settings(max_examples=60)
@given(options=conv_options(), seed=st.integers(0, 2**16), dtype=st.sampled_from(["32", "64"]))
def test_relinear_init_is_nn_conv_bit_for_bit(options, seed, dtype):
    dims, args = options
    dtype = torch.float32 if dtype == "32" else torch.float64
    quadratic, compact, conventional = _CONVS[dims]
    torch.manual_seed(seed)
    ref = conventional(*args, dtype=dtype)
    x = torch.randn(2, args[0], *[9] * dims, dtype=dtype)
    expected = ref(x)
    for cls in (quadratic, compact):
        torch.manual_seed(seed)
        layer = cls(*args, dtype=dtype)
        assert torch.equal(layer.weight, ref.weight)  # same draws, same positional meaning
        assert (layer.bias is None) == (ref.bias is None)
        if ref.bias is not None:
            assert torch.equal(layer.bias, ref.bias)
        assert torch.equal(layer(x), expected), cls.__name__
        for name in ("kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"):
            assert getattr(layer, name) == getattr(ref, name), name


@settings(max_examples=40)
@given(
    fan_in=st.integers(1, 40),
    fan_out=st.integers(1, 6),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
    batch=st.integers(1, 5),
)
def test_relinear_init_is_nn_linear_bit_for_bit(fan_in, fan_out, bias, seed, batch):
    torch.manual_seed(seed)
    ref = nn.Linear(fan_in, fan_out, bias)
    x = torch.randn(batch, fan_in)
    for cls in (QuadraticLinear, CompactLinear):
        torch.manual_seed(seed)
        layer = cls(fan_in, fan_out, bias)
        assert torch.equal(layer.weight, ref.weight)
        assert torch.equal(layer(x), ref(x)), cls.__name__


@settings(max_examples=30)
@given(options=conv_options(), seed=st.integers(0, 2**16))
def test_conv_quadratic_terms_follow_the_formula(options, seed):
    """Standard init: y = conv(x; wr, br)·conv(x; wg, bg) + conv(x⊙x; wb, c), each an nn.Conv."""
    dims, args = options
    quadratic, compact, conventional = _CONVS[dims]
    torch.manual_seed(seed)
    x = torch.randn(2, args[0], *[9] * dims, dtype=torch.float64)

    def conv(weight, bias, inputs):
        ref = conventional(*args[:7], bias is not None, args[8], dtype=torch.float64)
        with torch.no_grad():
            ref.weight.copy_(weight)
            if bias is not None:
                ref.bias.copy_(bias)
        return ref(inputs)

    q = quadratic(*args, init="standard", dtype=torch.float64)
    expected = conv(q.wr, q.br, x) * conv(q.wg, q.bg, x) + conv(q.wb, q.c, x * x)
    torch.testing.assert_close(q(x), expected, rtol=1e-10, atol=1e-10)
    c = compact(*args, init="standard", dtype=torch.float64)
    expected = conv(c.wr, c.br, x) + conv(c.wb, c.c, x * x)
    torch.testing.assert_close(c(x), expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=30)
@given(options=conv_options(), seed=st.integers(0, 2**16))
def test_fused_accelerator_branches_equal_the_cpu_branches(options, seed):
    """The fused [wr; wg] call (taken on accelerators) against the two CPU calls."""
    dims, args = options
    args = (*args[:6], 1, *args[7:])  # the fused call is for groups = 1
    torch.manual_seed(seed)
    layer = _CONVS[dims][0](*args, init="standard", dtype=torch.float64)
    x = torch.randn(2, args[0], *[9] * dims, dtype=torch.float64)
    fused = layer._branches(x, layer._conv, dim=1, fused=True)
    torch.testing.assert_close(fused, layer._branches(x, layer._conv, dim=1, fused=False))
    linear = QuadraticLinear(4, 3, init="standard", dtype=torch.float64)
    z = torch.randn(5, 4, dtype=torch.float64)
    torch.testing.assert_close(
        linear._branches(z, F.linear, dim=-1, fused=True),
        linear._branches(z, F.linear, dim=-1, fused=False),
    )


def test_positional_arguments_follow_nn_conv2d():
    layer = QuadraticConv2d(4, 4, 3, 1, 1, 1, 1, False)
    ref = nn.Conv2d(4, 4, 3, 1, 1, 1, 1, False)
    assert layer.bias is None and ref.bias is None and layer.dilation == ref.dilation == (1, 1)
    with pytest.raises(TypeError):
        QuadraticLinear(2, 3, True, None, None, "standard")  # init is keyword-only


def test_numpy_integer_sizes_become_python_ints():
    layer = CompactConv2d(np.int64(2), np.int32(4), (np.int64(3), 2), stride=np.int8(2), groups=2)
    ref = nn.Conv2d(2, 4, (3, 2), stride=2, groups=2)
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "groups"):
        value = getattr(layer, name)
        assert value == getattr(ref, name) and type(value) is type(getattr(ref, name)), name
    assert all(type(v) is int for v in (*layer.kernel_size, *layer.stride))
    assert QuadraticLinear(np.int64(3), np.int16(2)).weight.shape == (2, 3)


def test_weight_and_bias_alias_the_linear_part_without_new_keys():
    layer = QuadraticConv2d(2, 3, 3)
    assert layer.weight is layer.wr and layer.bias is layer.br
    assert set(layer.state_dict()) == {"wr", "wg", "wb", "bg", "br", "c"}
    assert len(list(layer.parameters())) == 6


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
        lambda: QuadraticConv2d(4, 3, 3, groups=2),
        lambda: QuadraticConv2d(4, 4, 3, stride=2, padding="same"),
        lambda: QuadraticConv1d(4, 4, 3, padding="full"),
        lambda: QuadraticConv1d(4, 4, (3, 3)),
        lambda: CompactConv1d(4, 4, 3, padding_mode="mirror"),
        lambda: QuadraticConv2d(2, 2, True),
        lambda: QuadraticConv2d(2, 2, 3, dilation=0),
        lambda: QuadraticLinear(2, 2, "False"),
        lambda: CompactConv1d(2, 2, 3, bias=None),
    ],
)
def test_bad_arguments_raise_one_line_errors(build):
    with pytest.raises(QexprError) as info:
        build()
    assert "\n" not in str(info.value)
