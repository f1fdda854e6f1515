"""Models: QMLP and the CIFAR QResNet family, in each of qexpr's four kinds.

``kind`` is the architecture kind used everywhere in qexpr (:func:`qexpr.random_network`,
the bounds, the sweeps): it sets the neuron of every layer that the paper makes quadratic
and the activation between layers.

* ``quadratic``: QuadraticLinear/QuadraticConv2d (Fan neurons), ReLU;
* ``compact``: CompactLinear/CompactConv2d, ReLU;
* ``relu``: ``nn.Linear``/``nn.Conv2d`` (the conventional twin), ReLU;
* ``square``: ``nn.Linear``/``nn.Conv2d``, z².

``kind="linear"`` (and QMLP's ``activation`` argument) are the vocabulary of qexpr 0.x: they
still work, with a ``DeprecationWarning``, for one release.
"""

from __future__ import annotations

import itertools
import sys
import warnings
from collections.abc import Callable, Sequence
from types import MappingProxyType

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr.nn._layers import LAYER_CLASSES, QuadraticConv2d, QuadraticModule

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

#: kind -> (neuron of the layers, activation between them); "linear" is the conventional neuron.
_KIND_TABLE = MappingProxyType(
    {
        "quadratic": ("quadratic", "relu"),
        "compact": ("compact", "relu"),
        "relu": ("linear", "relu"),
        "square": ("linear", "square"),
    }
)
#: The four architecture kinds.
KINDS = tuple(_KIND_TABLE)
#: Activations between layers: ``relu`` (``max(z, 0)``) or ``square`` (``z**2``).
ACTIVATIONS = ("relu", "square")
_ACTIVATION_FN: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "square": torch.square}
#: Deprecated kinds (qexpr 0.x) -> their kind now.
_LEGACY_KINDS = {"linear": "relu"}


def _deprecated(message: str) -> None:
    """A ``DeprecationWarning`` attributed to the first caller outside ``qexpr.nn``."""
    frame, level = sys._getframe(1), 2  # level 1 is this function, 2 its caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith("qexpr.nn"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def _check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`KINDS`; the deprecated ``"linear"`` becomes ``"relu"``."""
    if not isinstance(kind, str):
        raise QexprTypeError(f"kind: expected one of {KINDS}, got {kind!r}")
    if kind in _LEGACY_KINDS:
        _deprecated(
            f"kind={kind!r} is deprecated: use kind={_LEGACY_KINDS[kind]!r} "
            "(or 'square' for conventional neurons with z²)"
        )
        return _LEGACY_KINDS[kind]
    if kind not in _KIND_TABLE:
        raise QexprValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    return kind


def _kind_and_activation(kind: str, activation: str | None) -> tuple[str, str]:
    """QMLP's kind and activation, honouring the deprecated ``activation`` argument.

    The deprecated pair (``"linear"``, ``"square"``) is the ``square`` kind. A quadratic or
    compact network with z² activations has no kind of its own: it keeps its kind and
    the given activation. A conventional kind that contradicts ``activation`` is an error.
    """
    legacy = kind in _LEGACY_KINDS
    kind = _check_kind(kind)
    if activation is None:
        return kind, _KIND_TABLE[kind][1]
    _deprecated(
        "QMLP(activation=...) is deprecated: the kind sets the activation "
        "(kind='square' for conventional neurons with z²)"
    )
    if activation not in ACTIVATIONS:
        raise QexprValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    neuron, default = _KIND_TABLE[kind]
    if activation == default or neuron in LAYER_CLASSES:
        return kind, activation
    same_neuron = {act: k for k, (n, act) in _KIND_TABLE.items() if n == neuron}
    if legacy:
        return same_neuron[activation], activation
    raise QexprValueError(
        f"activation: kind {kind!r} has activation {default!r}, got {activation!r} "
        f"(use kind={same_neuron[activation]!r})"
    )


def _layer_type(kind: str, conventional: type[nn.Module]) -> type[nn.Module]:
    """The layer of ``kind`` that takes the place of the ``conventional`` layer type."""
    neuron = _KIND_TABLE[_check_kind(kind)][0]
    return LAYER_CLASSES[neuron][conventional] if neuron in LAYER_CLASSES else conventional


def _init_option(layer: type[nn.Module], init: str) -> dict[str, str]:
    return {"init": init} if issubclass(layer, QuadraticModule) else {}


def make_linear(
    kind: str, in_features: int, out_features: int, init: str = "relinear"
) -> nn.Module:
    """A fully connected layer of the given kind (``init`` ignored for conventional ones)."""
    layer = _layer_type(kind, nn.Linear)
    return layer(in_features, out_features, **_init_option(layer, init))


def make_conv(
    kind: str, in_ch: int, out_ch: int, stride: int = 1, init: str = "relinear"
) -> nn.Module:
    """A 3×3, padding-1, bias-free convolution of the given kind (BatchNorm follows it)."""
    layer = _layer_type(kind, nn.Conv2d)
    return layer(in_ch, out_ch, 3, stride, 1, bias=False, **_init_option(layer, init))


class QMLP(nn.Module):
    """Multilayer perceptron of ``kind``: ``x ↦ L_k(σ(… σ(L_1 x)))``.

    Layers ``in_features → hidden[0] → … → out_features`` of the kind's neuron; the last
    layer has no activation. ``σ(z) = max(z, 0)`` for quadratic, compact and relu,
    ``σ(z) = z²`` for square (the paper's z² network, a polynomial).

    Parameters
    ----------
    in_features, out_features : int
        Input and output dimensions.
    hidden : sequence of int
        Hidden widths (may be empty: one layer).
    kind : {"quadratic", "compact", "relu", "square"}
        ``"linear"`` is deprecated (``"relu"``, or ``"square"`` with ``activation="square"``).
    init : {"relinear", "standard"}
    activation : {"relu", "square"} or None
        Deprecated: the kind sets the activation. Only a quadratic or compact network with z²
        activations still needs it.

    Attributes
    ----------
    kind, activation : str
        The resolved kind and activation.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        kind: str = "quadratic",
        init: str = "relinear",
        activation: str | None = None,
    ) -> None:
        super().__init__()
        widths = [in_features, *hidden, out_features]
        if any(not isinstance(w, int) or w < 1 for w in widths):
            raise QexprValueError(f"QMLP widths: expected positive ints, got {widths}")
        self.kind, self.activation = _kind_and_activation(kind, activation)
        self.widths = tuple(widths)
        self.layers = nn.ModuleList(
            make_linear(self.kind, a, b, init) for a, b in itertools.pairwise(widths)
        )

    def forward(self, x: Tensor) -> Tensor:
        act = _ACTIVATION_FN[self.activation]
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = act(layer(x))
        return self.layers[-1](x)


class BasicBlock(nn.Module):
    """CIFAR ResNet basic block: ``σ(shortcut(x) + a·bn(conv(σ(bn(conv(x))))))``.

    The two 3×3 convolutions are of ``kind`` and σ is its activation (ReLU; z² for square).
    The shortcut is the identity, or (when the stage downsamples) the "option A"
    parameter-free shortcut: stride-2 subsampling and zero-padded channels. With ``rezero``
    the residual branch is scaled by a learnable scalar ``a`` initialised to 0 (ReZero),
    otherwise ``a = 1``.
    """

    def __init__(
        self, in_ch: int, out_ch: int, stride: int, kind: str, init: str, rezero: bool
    ) -> None:
        super().__init__()
        kind = _check_kind(kind)
        self.activation = _KIND_TABLE[kind][1]
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
        act = _ACTIVATION_FN[self.activation]
        out = self.bn2(self.conv2(act(self.bn1(self.conv1(x)))))
        if self.alpha is not None:
            out = out * self.alpha
        return act(self.shortcut(x) + out)


class QResNet(nn.Module):
    """CIFAR ResNet (He et al. 2016, §4.2) of depth ``6n + 2`` with quadratic basic blocks.

    Stem: conventional 3×3 conv (16 channels) + BN + ReLU. Three stages of ``n`` blocks
    with 16, 32, 64 channels (stride 2 at the start of stages 2 and 3), global average
    pooling, conventional linear classifier. ``kind`` (see :data:`KINDS`) sets the blocks'
    convolutions and activations; ``"relu"`` is the conventional ResNet (``"linear"``,
    deprecated, too).
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
                blocks.append(BasicBlock(in_ch, out_ch, stride, self.kind, init, rezero))
                in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():  # He init of every conv's linear part (wr for quadratic ones)
            if isinstance(m, nn.Conv2d | QuadraticConv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def _factory(depth: int):
    def build(num_classes: int = 10, kind: str = "quadratic", **kwargs) -> QResNet:
        return QResNet(depth, num_classes, kind, **kwargs)

    build.__name__ = f"qresnet{depth}"
    build.__doc__ = f"QResNet-{depth} (``kind='relu'`` gives the conventional ResNet-{depth})."
    return build


qresnet20 = _factory(20)
qresnet32 = _factory(32)
qresnet44 = _factory(44)
qresnet56 = _factory(56)
qresnet110 = _factory(110)
