"""Models: QMLP and the CIFAR QResNet family, each with a conventional twin (``kind="linear"``).

``kind`` chooses the neuron of every layer that the paper makes quadratic:
``"quadratic"`` (Fan neuron), ``"compact"`` (no product term) or ``"linear"``
(conventional ``nn.Linear``/``nn.Conv2d``, the twin).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from qexpr._errors import QexprValueError
from qexpr.nn._layers import CompactConv2d, CompactLinear, QuadraticConv2d, QuadraticLinear

__all__ = [
    "ACTIVATIONS",
    "KINDS",
    "QMLP",
    "BasicBlock",
    "QResNet",
    "make_conv",
    "make_linear",
    "qresnet20",
    "qresnet32",
    "qresnet44",
    "qresnet56",
    "qresnet110",
]

KINDS = ("quadratic", "compact", "linear")
#: Hidden activations of a QMLP: ``relu`` (``max(z, 0)``) or ``square`` (``z**2``).
ACTIVATIONS = ("relu", "square")


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise QexprValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    return kind


def make_linear(
    kind: str, in_features: int, out_features: int, init: str = "relinear"
) -> nn.Module:
    """A fully connected layer of the given kind (``init`` ignored for ``"linear"``)."""
    if _check_kind(kind) == "linear":
        return nn.Linear(in_features, out_features)
    cls = QuadraticLinear if kind == "quadratic" else CompactLinear
    return cls(in_features, out_features, init=init)


def make_conv(
    kind: str, in_ch: int, out_ch: int, stride: int = 1, init: str = "relinear"
) -> nn.Module:
    """A 3×3, padding-1, bias-free convolution of the given kind (BatchNorm follows it)."""
    if _check_kind(kind) == "linear":
        return nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
    cls = QuadraticConv2d if kind == "quadratic" else CompactConv2d
    return cls(in_ch, out_ch, 3, stride=stride, padding=1, bias=False, init=init)


class QMLP(nn.Module):
    """Multilayer perceptron whose every layer is of ``kind``, ``activation`` between layers.

    ``x ↦ L_k(σ(… σ(L_1 x)))`` with layers ``in_features → hidden[0] → … → out_features``;
    the last layer has no activation. ``σ(z) = max(z, 0)`` (``"relu"``) or ``σ(z) = z²``
    (``"square"``: with ``kind="linear"`` the paper's z² network, a polynomial).

    Parameters
    ----------
    in_features, out_features : int
        Input and output dimensions.
    hidden : sequence of int
        Hidden widths (may be empty: one layer).
    kind : {"quadratic", "compact", "linear"}
    init : {"relinear", "standard"}
    activation : {"relu", "square"}
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        kind: str = "quadratic",
        init: str = "relinear",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        widths = [in_features, *hidden, out_features]
        if any(not isinstance(w, int) or w < 1 for w in widths):
            raise QexprValueError(f"QMLP widths: expected positive ints, got {widths}")
        if activation not in ACTIVATIONS:
            raise QexprValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
        self.kind = _check_kind(kind)
        self.activation = activation
        self.widths = tuple(widths)
        self.layers = nn.ModuleList(
            make_linear(kind, a, b, init) for a, b in itertools.pairwise(widths)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = layer(x)
            x = F.relu(x) if self.activation == "relu" else x * x
        return self.layers[-1](x)


class BasicBlock(nn.Module):
    """CIFAR ResNet basic block: ``relu(shortcut(x) + a·bn(conv(relu(bn(conv(x))))))``.

    The two 3×3 convolutions are of ``kind``. The shortcut is the identity, or (when the
    stage downsamples) the "option A" parameter-free shortcut: stride-2 subsampling and
    zero-padded channels. With ``rezero`` the residual branch is scaled by a learnable
    scalar ``a`` initialised to 0 (ReZero), otherwise ``a = 1``.
    """

    def __init__(
        self, in_ch: int, out_ch: int, stride: int, kind: str, init: str, rezero: bool
    ) -> None:
        super().__init__()
        self.conv1 = make_conv(kind, in_ch, out_ch, stride, init)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = make_conv(kind, out_ch, out_ch, 1, init)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.stride = stride
        self.pad = out_ch - in_ch
        self.alpha = nn.Parameter(torch.zeros(())) if rezero else None

    def shortcut(self, x: Tensor) -> Tensor:
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.alpha is not None:
            out = out * self.alpha
        return F.relu(self.shortcut(x) + out)


class QResNet(nn.Module):
    """CIFAR ResNet (He et al. 2016, §4.2) of depth ``6n + 2`` with quadratic basic blocks.

    Stem: conventional 3×3 conv (16 channels) + BN + ReLU. Three stages of ``n`` blocks
    with 16, 32, 64 channels (stride 2 at the start of stages 2 and 3), global average
    pooling, conventional linear classifier.
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        kind: str = "quadratic",
        init: str = "relinear",
        rezero: bool = False,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise QexprValueError(f"depth: expected 6n+2 with n >= 1 (20, 32, ...), got {depth}")
        self.kind = _check_kind(kind)
        n = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        in_ch = 16
        for stage, out_ch in enumerate((16, 32, 64)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(in_ch, out_ch, stride, kind, init, rezero))
                in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():  # He init of every conv's linear part (wr for quadratic ones)
            weight = m.weight if isinstance(m, nn.Conv2d) else getattr(m, "wr", None)
            if weight is not None and weight.dim() == 4:
                nn.init.kaiming_normal_(weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def _factory(depth: int):
    def build(num_classes: int = 10, kind: str = "quadratic", **kwargs) -> QResNet:
        return QResNet(depth, num_classes, kind, **kwargs)

    build.__name__ = f"qresnet{depth}"
    build.__doc__ = f"QResNet-{depth} (``kind='linear'`` gives the conventional ResNet-{depth})."
    return build


qresnet20 = _factory(20)
qresnet32 = _factory(32)
qresnet44 = _factory(44)
qresnet56 = _factory(56)
qresnet110 = _factory(110)
