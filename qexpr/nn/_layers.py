"""Quadratic and compact layers: drop-in replacements of ``nn.Linear`` and ``nn.Conv2d``.

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
one more. The compact layer is a single matmul on
``[x, x⊙x]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn import init

from qexpr._errors import QexprTypeError, QexprValueError

__all__ = [
    "REFERENCE",
    "CompactConv2d",
    "CompactLinear",
    "QuadraticConv2d",
    "QuadraticLinear",
    "QuadraticModule",
]

#: Value of each quadratic term at which a layer is its conventional (linear) twin.
REFERENCE: dict[str, float] = {"wg": 0.0, "bg": 1.0, "wb": 0.0, "c": 0.0}

_INITS = ("relinear", "standard")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise QexprTypeError(f"{name}: expected a positive int, got {type(value).__name__}")
    if value < 1:
        raise QexprValueError(f"{name}: expected a positive int, got {value}")
    return value


def _pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, tuple)
        or len(pair) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in pair)
    ):
        raise QexprValueError(
            f"{name}: expected an int >= {minimum} or a pair of them, got {value!r}"
        )
    return pair


def _check_init(value: Any) -> str:
    if value not in _INITS:
        raise QexprValueError(f"init: expected 'relinear' or 'standard', got {value!r}")
    return value


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

    def _branches(self, x: Tensor, op: Callable[..., Tensor], dim: int) -> tuple[Tensor, Tensor]:
        """The r and g branches ``op(x, wr, br)`` and ``op(x, wg, bg)``.

        On an accelerator they are one fused call on ``[wr; wg]`` (fewer kernel launches);
        on the CPU two calls, which ``benchmarks/layers.py`` measured faster there because
        they avoid concatenating the weights and the strided halves of the fused output.
        """
        if x.device.type == "cpu":
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

    def _joint_bias(self) -> Tensor | None:
        return None if self.br is None else self.br + self.c


class _LinearBase(QuadraticModule):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "relinear",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        self.init_mode = _check_init(init)
        self._make(
            (out_features, in_features), out_features, bias, {"device": device, "dtype": dtype}
        )
        self.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.br is not None}, init={self.init_mode!r}"
        )


class _ConvBase(QuadraticModule):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        init: str = "relinear",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.init_mode = _check_init(init)
        shape = (out_channels, in_channels, *self.kernel_size)
        self._make(shape, out_channels, bias, {"device": device, "dtype": dtype})
        self.reset_parameters()

    def _conv(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return F.conv2d(x, weight, bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.br is not None}, "
            f"init={self.init_mode!r}"
        )


class QuadraticLinear(_QuadraticMixin, _LinearBase):
    r"""Fully connected layer of quadratic (Fan) neurons.

    ``y = (x wrᵀ + br) ⊙ (x wgᵀ + bg) + (x⊙x) wbᵀ + c``, weights of shape
    ``(out_features, in_features)``, vectors of shape ``(out_features,)``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes as in ``nn.Linear``.
    bias : bool
        Whether br and c exist. bg always exists (it is the gate's linear reference 1).
    init : {"relinear", "standard"}
        ``"relinear"``: wr, br as ``nn.Linear``; wg = 0, bg = 1, wb = 0, c = 0 (the layer is
        ``nn.Linear`` at initialisation). ``"standard"``: every term at random.
    device, dtype
        Factory keyword arguments.
    """

    def forward(self, x: Tensor) -> Tensor:
        r, g = self._branches(x, F.linear, dim=-1)
        return torch.addcmul(F.linear(x * x, self.wb, self.c), r, g)


class CompactLinear(_CompactMixin, _LinearBase):
    r"""Fully connected layer of compact quadratic neurons (no product term).

    ``y = x wrᵀ + br + (x⊙x) wbᵀ + c``, computed as one matmul on ``[x, x⊙x]``.
    ``init="relinear"`` sets wb = 0, c = 0; see :class:`QuadraticLinear` for the arguments.
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(
            torch.cat((x, x * x), -1), torch.cat((self.wr, self.wb), 1), self._joint_bias()
        )


class QuadraticConv2d(_QuadraticMixin, _ConvBase):
    r"""2-D convolution of quadratic (Fan) neurons.

    ``y = (wr ⋆ x + br) ⊙ (wg ⋆ x + bg) + wb ⋆ (x⊙x) + c``; weights of shape
    ``(out_channels, in_channels, kh, kw)``. The r and g branches are one convolution
    with ``2·out_channels`` output channels.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding : as in ``nn.Conv2d``
    bias : bool
        Whether br and c exist (bg always does).
    init : {"relinear", "standard"}
        See :class:`QuadraticLinear`.
    device, dtype
        Factory keyword arguments.
    """

    def forward(self, x: Tensor) -> Tensor:
        r, g = self._branches(x, self._conv, dim=1)
        return torch.addcmul(self._conv(x * x, self.wb, self.c), r, g)


class CompactConv2d(_CompactMixin, _ConvBase):
    r"""2-D convolution of compact quadratic neurons: ``wr ⋆ x + br + wb ⋆ (x⊙x) + c``.

    One convolution on the channel-stacked input ``[x, x⊙x]``.
    """

    def forward(self, x: Tensor) -> Tensor:
        return self._conv(
            torch.cat((x, x * x), 1), torch.cat((self.wr, self.wb), 1), self._joint_bias()
        )
