"""Quadratic and compact layers: drop-in nn.Linear, nn.Conv1d and nn.Conv2d replacements.

A quadratic (Fan) neuron computes

    y = (wr·x + br)(wg·x + bg) + wb·(x⊙x) + c,

a compact neuron drops the product term,

    y = wr·x + br + wb·(x⊙x) + c.

Parameters carry the paper's names. ``init="relinear"`` sets the quadratic terms to their
*linear reference* (wg = 0, bg = 1, wb = 0, c = 0) so that the layer equals the
conventional one built on (wr, br); ``init="standard"`` draws every weight at random (the
naive initialisation under which deep quadratic networks can collapse).

On an accelerator the r and g branches are one fused matmul (convolution) on the stacked
weight ``[wr; wg]``; on the CPU they are two calls, measured faster there; the x⊙x term is
one more. The compact layer is two calls, ``op(x; wr, br) + op(x⊙x; wb, c)``.

The layers take the arguments of ``nn.Linear``, ``nn.Conv1d`` and ``nn.Conv2d`` in the same
order (qexpr's ``init`` is keyword-only), and ``weight``/``bias`` alias wr/br. At the linear
reference, on the CPU, a layer's output is bit for bit the conventional layer's with the same
(wr, br): the extra terms are exact zeros and ones (``tests/test_nn_layers.py``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn import init

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._neurons import NEURONS

__all__ = [
    "LAYER_CLASSES",
    "REFERENCE",
    "CompactConv1d",
    "CompactConv2d",
    "CompactLinear",
    "QuadraticConv1d",
    "QuadraticConv2d",
    "QuadraticLinear",
    "QuadraticModule",
]

#: Value of each quadratic term at which a layer is its conventional (linear) twin.
REFERENCE: dict[str, float] = {
    name: float(value)
    for neuron in ("quadratic", "compact")
    for name, value in NEURONS[neuron].reference.items()
}

_INITS = ("relinear", "standard")
_PADDING_STRINGS = ("same", "valid")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_CONV: dict[int, Callable[..., Tensor]] = {1: F.conv1d, 2: F.conv2d}


def _int(name: str, value: Any) -> int:
    """``value`` as a Python int (numpy ints accepted, bools and floats refused)."""
    if isinstance(value, bool):
        raise QexprTypeError(f"{name}: expected an int, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise QexprTypeError(f"{name}: expected an int, got {type(value).__name__}") from None


def _positive_int(name: str, value: Any) -> int:
    value = _int(name, value)
    if value < 1:
        raise QexprValueError(f"{name}: expected a positive int, got {value}")
    return value


def _ints(name: str, value: Any, dims: int, minimum: int) -> tuple[int, ...]:
    """An int or a tuple/list of ``dims`` ints, each >= ``minimum``, as a tuple (torch's form)."""
    items = list(value) if isinstance(value, tuple | list) else [value] * dims
    if len(items) != dims:
        raise QexprValueError(f"{name}: expected an int or {dims} of them, got {value!r}")
    ints = tuple(_int(name, v) for v in items)
    if any(v < minimum for v in ints):
        raise QexprValueError(f"{name}: expected ints >= {minimum}, got {value!r}")
    return ints


def _padding(value: Any, dims: int, stride: tuple[int, ...]) -> str | tuple[int, ...]:
    if not isinstance(value, str):
        return _ints("padding", value, dims, 0)
    if value not in _PADDING_STRINGS:
        raise QexprValueError(f"padding: expected an int, a tuple or 'same'/'valid', got {value!r}")
    if value == "same" and any(s != 1 for s in stride):
        raise QexprValueError(f"padding: 'same' needs stride 1, got stride {stride}")
    return value


def _reversed_padding(
    padding: str | tuple[int, ...], kernel_size: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[int, ...]:
    """``F.pad`` amounts (last dimension first) of a padding, as ``nn.Conv2d`` computes them."""
    if padding == "valid":
        return (0, 0) * len(kernel_size)
    if padding == "same":
        totals = [d * (k - 1) for d, k in zip(dilation, kernel_size, strict=True)]
        return tuple(v for t in reversed(totals) for v in (t // 2, t - t // 2))
    return tuple(p for p in reversed(padding) for _ in range(2))


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise QexprTypeError(f"{name}: expected True or False, got {value!r}")
    return value


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise QexprValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def _check_init(value: Any) -> str:
    return _check_choice("init", value, _INITS)


def _default_uniform_(weight: Tensor, *biases: Tensor | None) -> None:
    """``nn.Linear``/``nn.Conv2d`` default init: kaiming-uniform(a=√5), biases U(±1/√fan_in)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    _bias_uniform_(weight[0].numel(), *biases)


def _bias_uniform_(fan_in: int, *biases: Tensor | None) -> None:
    bound = 1 / math.sqrt(fan_in)
    for bias in biases:
        if bias is not None:
            init.uniform_(bias, -bound, bound)


class QuadraticModule(nn.Module):
    """Base class of the layers with quadratic terms.

    Subclasses declare the names of their quadratic terms in ``QUADRATIC_TERMS``
    (role ``"g"`` or ``"b"``); everything else (wr, br) is the linear part.
    """

    QUADRATIC_TERMS: ClassVar[dict[str, str]] = {}
    init_mode: str

    @property
    def weight(self) -> nn.Parameter:
        """The linear part's weight wr (the ``weight`` of the conventional twin)."""
        return self.wr

    @property
    def bias(self) -> nn.Parameter | None:
        """The linear part's bias br (the ``bias`` of the conventional twin), or None."""
        return self.br

    def quadratic_terms(self) -> Iterator[tuple[str, str, nn.Parameter, float]]:
        """Yield ``(name, role, parameter, reference)`` for each quadratic term present."""
        for name, role in self.QUADRATIC_TERMS.items():
            param = getattr(self, name)
            if param is not None:
                yield name, role, param, REFERENCE[name]

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Draw wr, br as the conventional layer does; quadratic terms per ``init_mode``."""
        _default_uniform_(self.wr, self.br)
        if self.init_mode == "relinear":
            for _, _, param, ref in self.quadratic_terms():
                param.fill_(ref)
        else:
            for _, _, param, _ in self.quadratic_terms():
                if param.dim() > 1:
                    _default_uniform_(param)
                else:
                    _bias_uniform_(self.wr[0].numel(), param)


class _QuadraticMixin:
    """Parameter creation shared by the quadratic (Fan) linear and conv layers."""

    QUADRATIC_TERMS: ClassVar[dict[str, str]] = {"wg": "g", "bg": "g", "wb": "b", "c": "b"}

    def _make(self, shape: tuple[int, ...], out: int, bias: bool, factory: dict) -> None:
        self.wr = nn.Parameter(torch.empty(shape, **factory))
        self.wg = nn.Parameter(torch.empty(shape, **factory))
        self.wb = nn.Parameter(torch.empty(shape, **factory))
        self.bg = nn.Parameter(torch.empty(out, **factory))
        self.br = nn.Parameter(torch.empty(out, **factory)) if bias else None
        self.c = nn.Parameter(torch.empty(out, **factory)) if bias else None

    def _stacked(self) -> tuple[Tensor, Tensor]:
        """The fused r/g weight ``[wr; wg]`` and bias ``[br; bg]`` (br = 0 without bias)."""
        br = self.br if self.br is not None else torch.zeros_like(self.bg)
        return torch.cat((self.wr, self.wg)), torch.cat((br, self.bg))

    def _branches(
        self, x: Tensor, op: Callable[..., Tensor], dim: int, *, fused: bool
    ) -> tuple[Tensor, Tensor]:
        """The r and g branches ``op(x, wr, br)`` and ``op(x, wg, bg)``.

        ``fused``: one call on ``[wr; wg]``, split along ``dim`` (what the layers do on an
        accelerator: fewer kernel launches). Otherwise two calls, which
        ``benchmarks/layers.py`` measured faster on the CPU: they avoid concatenating the
        weights and the strided halves of the fused output.
        """
        if not fused:
            return op(x, self.wr, self.br), op(x, self.wg, self.bg)
        weight, bias = self._stacked()
        r, g = op(x, weight, bias).chunk(2, dim=dim)
        return r, g


class _CompactMixin:
    """Parameter creation shared by the compact linear and conv layers."""

    QUADRATIC_TERMS: ClassVar[dict[str, str]] = {"wb": "b", "c": "b"}

    def _make(self, shape: tuple[int, ...], out: int, bias: bool, factory: dict) -> None:
        self.wr = nn.Parameter(torch.empty(shape, **factory))
        self.wb = nn.Parameter(torch.empty(shape, **factory))
        self.br = nn.Parameter(torch.empty(out, **factory)) if bias else None
        self.c = nn.Parameter(torch.empty(out, **factory)) if bias else None

    def _sum(self, x: Tensor, op: Callable[..., Tensor]) -> Tensor:
        """``op(x, wr, br) + op(x⊙x, wb, c)``: two calls, so that at the linear reference
        (wb = 0, c = 0) the result is bit for bit the conventional layer's ``op(x, wr, br)``."""
        return op(x, self.wr, self.br) + op(x * x, self.wb, self.c)


class _LinearBase(QuadraticModule):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        init: str = "relinear",
    ) -> None:
        super().__init__()
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        self.init_mode = _check_init(init)
        shape = (self.out_features, self.in_features)
        factory = {"device": device, "dtype": dtype}
        self._make(shape, self.out_features, _check_bool("bias", bias), factory)
        self.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.br is not None}, init={self.init_mode!r}"
        )


class _ConvBase(QuadraticModule):
    """Arguments, checks and padding of ``nn.Conv1d``/``nn.Conv2d`` (``DIMS`` 1 or 2)."""

    DIMS: ClassVar[int]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: str | int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        init: str = "relinear",
    ) -> None:
        super().__init__()
        dims = self.DIMS
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = _ints("kernel_size", kernel_size, dims, 1)
        self.stride = _ints("stride", stride, dims, 1)
        self.padding = _padding(padding, dims, self.stride)
        self.dilation = _ints("dilation", dilation, dims, 1)
        self.groups = _positive_int("groups", groups)
        for name, channels in (("in_channels", self.in_channels), ("out_channels", out_channels)):
            if channels % self.groups:
                raise QexprValueError(
                    f"{name}: expected a multiple of groups={self.groups}, got {channels}"
                )
        self.padding_mode = _check_choice("padding_mode", padding_mode, _PADDING_MODES)
        self._reversed_padding = _reversed_padding(self.padding, self.kernel_size, self.dilation)
        self.init_mode = _check_init(init)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        factory = {"device": device, "dtype": dtype}
        self._make(shape, self.out_channels, _check_bool("bias", bias), factory)
        self.reset_parameters()

    def _conv(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """The convolution of ``nn.Conv{1,2}d`` with this layer's options (padding mode too)."""
        padding: str | tuple[int, ...] = self.padding
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding, mode=self.padding_mode)
            padding = (0,) * self.DIMS
        return _CONV[self.DIMS](x, weight, bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding!r}, dilation={self.dilation}, "
            f"groups={self.groups}, bias={self.br is not None}, "
            f"padding_mode={self.padding_mode!r}, init={self.init_mode!r}"
        )


class QuadraticLinear(_QuadraticMixin, _LinearBase):
    r"""Fully connected layer of quadratic (Fan) neurons, a drop-in ``nn.Linear``.

    ``y = (x wrᵀ + br) ⊙ (x wgᵀ + bg) + (x⊙x) wbᵀ + c``, weights of shape
    ``(out_features, in_features)``, vectors of shape ``(out_features,)``.
    ``weight`` and ``bias`` are wr and br (read-only aliases).

    Parameters
    ----------
    in_features, out_features, bias, device, dtype
        As in ``nn.Linear``, same order. ``bias``: whether br and c exist; bg always exists
        (it is the gate's linear reference 1).
    init : {"relinear", "standard"}, keyword-only
        ``"relinear"``: wr, br drawn as ``nn.Linear`` draws them; wg = 0, bg = 1, wb = 0,
        c = 0 (the layer is ``nn.Linear`` at initialisation). ``"standard"``: every term at
        random.
    """

    def forward(self, x: Tensor) -> Tensor:
        r, g = self._branches(x, F.linear, dim=-1, fused=x.device.type != "cpu")
        return torch.addcmul(F.linear(x * x, self.wb, self.c), r, g)


class CompactLinear(_CompactMixin, _LinearBase):
    r"""Fully connected layer of compact quadratic neurons (no product term).

    ``y = (x wrᵀ + br) + ((x⊙x) wbᵀ + c)``, a drop-in ``nn.Linear``.
    ``init="relinear"`` sets wb = 0, c = 0; see :class:`QuadraticLinear` for the arguments.
    """

    def forward(self, x: Tensor) -> Tensor:
        return self._sum(x, F.linear)


class _QuadraticConv(_QuadraticMixin, _ConvBase):
    def forward(self, x: Tensor) -> Tensor:
        # [wr; wg] would mix the groups of a grouped convolution: two calls then
        fused = x.device.type != "cpu" and self.groups == 1
        r, g = self._branches(x, self._conv, dim=1, fused=fused)
        return torch.addcmul(self._conv(x * x, self.wb, self.c), r, g)


class _CompactConv(_CompactMixin, _ConvBase):
    def forward(self, x: Tensor) -> Tensor:
        return self._sum(x, self._conv)


class QuadraticConv2d(_QuadraticConv):
    r"""2-D convolution of quadratic (Fan) neurons, a drop-in ``nn.Conv2d``.

    ``y = (wr ⋆ x + br) ⊙ (wg ⋆ x + bg) + wb ⋆ (x⊙x) + c``; weights of shape
    ``(out_channels, in_channels // groups, kh, kw)``. ``weight`` and ``bias`` are wr and br
    (read-only aliases).

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, groups
        As in ``nn.Conv2d``, same order and defaults (sizes: an int or a tuple/list of ints;
        padding also ``"same"`` or ``"valid"``).
    bias, padding_mode, device, dtype
        As in ``nn.Conv2d`` (modes ``"zeros"``, ``"reflect"``, ``"replicate"``,
        ``"circular"``). ``bias``: whether br and c exist (bg always does).
    init : {"relinear", "standard"}, keyword-only
        See :class:`QuadraticLinear`.
    """

    DIMS = 2


class QuadraticConv1d(_QuadraticConv):
    r"""1-D convolution of quadratic (Fan) neurons, a drop-in ``nn.Conv1d``.

    Same formula and arguments as :class:`QuadraticConv2d`, with the arguments of
    ``nn.Conv1d``; weights of shape ``(out_channels, in_channels // groups, k)``.
    """

    DIMS = 1


class CompactConv2d(_CompactConv):
    r"""2-D convolution of compact quadratic neurons: ``wr ⋆ x + br + wb ⋆ (x⊙x) + c``.

    A drop-in ``nn.Conv2d`` (arguments as :class:`QuadraticConv2d`).
    """

    DIMS = 2


class CompactConv1d(_CompactConv):
    r"""1-D convolution of compact quadratic neurons, a drop-in ``nn.Conv1d``.

    Arguments as :class:`QuadraticConv1d`, formula as :class:`CompactConv2d`.
    """

    DIMS = 1


#: Neuron -> the qexpr layer that takes the place of each conventional layer type.
LAYER_CLASSES: Mapping[str, Mapping[type[nn.Module], type[QuadraticModule]]] = MappingProxyType(
    {
        "quadratic": MappingProxyType(
            {nn.Linear: QuadraticLinear, nn.Conv1d: QuadraticConv1d, nn.Conv2d: QuadraticConv2d}
        ),
        "compact": MappingProxyType(
            {nn.Linear: CompactLinear, nn.Conv1d: CompactConv1d, nn.Conv2d: CompactConv2d}
        ),
    }
)
