"""Training configuration (a frozen, validated dataclass) and the model it describes."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from torch import nn

from qexpr._errors import QexprValueError
from qexpr._kinds import resolve_kind
from qexpr.nn._data import DATASETS, Dataset
from qexpr.nn._layers import _INITS
from qexpr.nn._models import KINDS, QMLP, QResNet
from qexpr.nn._relinear import ReLinear

__all__ = ["AUGMENTS", "MODELS", "RECIPES", "RESUMABLE_CHANGES", "TrainConfig", "build_model"]

MODELS = ("qmlp", "qresnet20", "qresnet32", "qresnet44", "qresnet56", "qresnet110")
AUGMENTS = ("none", "crop-flip")
_OPTIMIZERS = ("sgd", "adam")
_COMPILE = ("off", "default", "reduce-overhead", "max-autotune")
#: Fields a resumed run may change: the length of the run and knobs that do not change the
#: arithmetic (where the data lives, on which device, compiled or not, deterministic kernels).
RESUMABLE_CHANGES = ("epochs", "compile", "data_dir", "device", "deterministic")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and so its checkpoint's identity).

    Parameters
    ----------
    model : {"qmlp", "qresnet20", "qresnet32", "qresnet44", "qresnet56", "qresnet110"}
    widths : tuple of int
        Hidden widths of the QMLP.
    kind : {"quadratic", "compact", "linear"}
        Neuron of the model's quadratic layers ("linear": the conventional twin).
    init : {"relinear", "standard"}
    rezero : bool
        ReZero scalar on each residual block (QResNet only).
    dataset : see ``qexpr.nn.DATASETS``; ``data_dir`` for CIFAR-10.
    data_seed : int
        Seed of the train/test split and of synthetic data, in ``[0, 2**32)``.
    epochs, batch_size, lr, momentum, weight_decay, optimizer
        Plain training hyper-parameters (``optimizer`` "sgd" or "adam").
    milestones : tuple of int
        Epochs at which every group's learning rate (γ's included) is multiplied by 0.1,
        as ``MultiStepLR``: epoch ``e`` (from 0) runs at ``0.1 ** #{m <= e}`` times the base.
    augment : {"none", "crop-flip"}
        "crop-flip": each training image is shifted by up to 4 pixels (zero padding, a
        random 32×32 crop of the padded image) and mirrored with probability 1/2; the
        draws are a function of (seed, epoch, example).
    relinear : ReLinear
        The ReLinear recipe (mode "none" trains every parameter alike).
    seed : int
        Seed of initialisation, of the per-epoch shuffles and augmentation, in ``[0, 2**32)``.
    loss_limit : float
        A batch loss that is non-finite or above this stops training as diverged.
    channels_last, bf16, compile
        Speed options: channels-last memory format, bf16 autocast, ``torch.compile`` mode.
    sync_batchnorm : bool
        Under data parallelism on CUDA, BatchNorm statistics over the whole global batch
        (``nn.SyncBatchNorm``) instead of per process.
    deterministic : bool
        Deterministic kernels (``torch.use_deterministic_algorithms``, cuDNN benchmark off,
        ``CUBLAS_WORKSPACE_CONFIG``) for the duration of the run: needed for bit-identical
        resume on CUDA.
    device : str
        Torch device, e.g. "cpu", "cuda" (under torchrun: ``cuda:$LOCAL_RANK``) or "cuda:1".
    """

    model: str = "qmlp"
    widths: tuple[int, ...] = (64, 64)
    kind: str = "quadratic"
    init: str = "relinear"
    rezero: bool = False
    dataset: str = "digits"
    data_dir: str | None = None
    data_seed: int = 0
    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    optimizer: str = "sgd"
    milestones: tuple[int, ...] = ()
    augment: str = "none"
    relinear: ReLinear = field(default_factory=lambda: ReLinear("sg"))
    seed: int = 0
    loss_limit: float = 1e3
    channels_last: bool = False
    bf16: bool = False
    compile: str = "off"
    sync_batchnorm: bool = False
    deterministic: bool = False
    device: str = "cpu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", resolve_kind(self.kind, KINDS))
        choices = {
            "model": MODELS,
            "kind": KINDS,
            "init": _INITS,
            "dataset": DATASETS,
            "optimizer": _OPTIMIZERS,
            "compile": _COMPILE,
            "augment": AUGMENTS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise QexprValueError(
                    f"{name}: expected one of {allowed}, got {getattr(self, name)!r}"
                )
        for name in ("widths", "milestones"):
            if not isinstance(getattr(self, name), tuple | list):
                raise QexprValueError(
                    f"{name}: expected a sequence of ints, got {getattr(self, name)!r}"
                )
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if any(not isinstance(w, int) or w < 1 for w in self.widths):
            raise QexprValueError(f"widths: expected positive ints, got {self.widths}")
        ms = self.milestones
        if any(not isinstance(m, int) or m < 1 for m in ms) or list(ms) != sorted(set(ms)):
            raise QexprValueError(f"milestones: expected increasing positive ints, got {ms}")
        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise QexprValueError(
                    f"{name}: expected a positive int, got {getattr(self, name)!r}"
                )
        for name in ("seed", "data_seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
                raise QexprValueError(f"{name}: expected an int in [0, 2**32), got {value!r}")
        for name in ("lr", "momentum", "weight_decay", "loss_limit"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise QexprValueError(f"{name}: expected a finite number >= 0, got {value!r}")
        for name in ("rezero", "channels_last", "bf16", "sync_batchnorm", "deterministic"):
            if not isinstance(getattr(self, name), bool):
                raise QexprValueError(f"{name}: expected a bool, got {getattr(self, name)!r}")
        if not isinstance(self.device, str):
            raise QexprValueError(f"device: expected a string such as 'cpu', got {self.device!r}")
        if not isinstance(self.relinear, ReLinear):
            raise QexprValueError(f"relinear: expected a ReLinear, got {self.relinear!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``relinear`` nested)."""
        out = asdict(self)
        out["widths"], out["milestones"] = list(self.widths), list(self.milestones)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise QexprValueError(f"train config: unknown keys {sorted(unknown)}")
        data = dict(data)
        if isinstance(data.get("relinear"), dict):
            data["relinear"] = ReLinear(**data["relinear"])
        return cls(**data)

    @classmethod
    def from_recipe(cls, name: str, **fields_: Any) -> TrainConfig:
        """The config of recipe ``name`` (see ``RECIPES``), with ``fields_`` overriding it."""
        if name not in RECIPES:
            raise QexprValueError(f"recipe: expected one of {tuple(RECIPES)}, got {name!r}")
        return cls(**{**RECIPES[name], **fields_})

    def run_differences(self, other: TrainConfig) -> list[str]:
        """Fields in which ``other`` is a different run (``RESUMABLE_CHANGES`` excepted).

        Each entry reads ``"name: mine -> other's"``; an empty list means ``other`` may
        resume this run's checkpoint.
        """
        return [
            f"{f.name}: {getattr(self, f.name)!r} -> {getattr(other, f.name)!r}"
            for f in fields(self)
            if f.name not in RESUMABLE_CHANGES and getattr(self, f.name) != getattr(other, f.name)
        ]


#: Named recipes: field values of :class:`TrainConfig`. "reference" follows the ReLinear
#: authors' QResNet CIFAR-10 script (``qtrainer_10_5.py``: SGD lr 0.1, momentum 0.9, batch
#: 128, weight decay 1e-4, 200 epochs, MultiStepLR at 100 and 150 on every group, flip and
#: 4-pixel crop, quadratic learning rates 1e-5); docs/training.md lists what still differs.
RECIPES: dict[str, dict[str, Any]] = {
    "reference": {
        "model": "qresnet20",
        "dataset": "cifar10",
        "optimizer": "sgd",
        "lr": 0.1,
        "momentum": 0.9,
        "batch_size": 128,
        "weight_decay": 1e-4,
        "epochs": 200,
        "milestones": (100, 150),
        "augment": "crop-flip",
        "relinear": ReLinear("sg", gamma_g=1e-5, gamma_b=1e-5),
    },
}


def build_model(config: TrainConfig, data: Dataset) -> nn.Module:
    """The model ``config`` describes, sized for ``data``."""
    if config.model == "qmlp":
        in_features = math.prod(data.input_shape)
        return QMLP(in_features, config.widths, data.num_outputs, config.kind, config.init)
    if len(data.input_shape) != 3:
        raise QexprValueError(
            f"model {config.model}: needs image data (C, H, W), dataset {data.name} has "
            f"inputs of shape {data.input_shape}"
        )
    depth = int(config.model.removeprefix("qresnet"))
    return QResNet(
        depth, data.num_outputs, config.kind, config.init, config.rezero, data.input_shape[0]
    )
