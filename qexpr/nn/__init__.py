"""Quadratic networks in PyTorch: layers, quadratize, ReLinear, models, trainer, bridge.

``import qexpr.nn`` needs the ``train`` extra (torch, scikit-learn).
"""

from qexpr.nn._bridge import to_qexpr_network, track_pieces
from qexpr.nn._config import MODELS, TrainConfig, build_model
from qexpr.nn._data import DATASETS, Dataset, load_dataset
from qexpr.nn._layers import (
    LAYER_CLASSES,
    REFERENCE,
    CompactConv1d,
    CompactConv2d,
    CompactLinear,
    QuadraticConv1d,
    QuadraticConv2d,
    QuadraticLinear,
    QuadraticModule,
)
from qexpr.nn._models import (
    KINDS,
    QMLP,
    BasicBlock,
    QResNet,
    qresnet20,
    qresnet32,
    qresnet44,
    qresnet56,
    qresnet110,
)
from qexpr.nn._quadratize import Quadratized, quadratize
from qexpr.nn._relinear import (
    LayerDeviation,
    ReLinear,
    linearity_report,
    relinear_param_groups,
    relinear_penalty,
)
from qexpr.nn._trainer import TrainingDivergedError, TrainResult, evaluate, train

__all__ = [
    "DATASETS",
    "KINDS",
    "LAYER_CLASSES",
    "MODELS",
    "QMLP",
    "REFERENCE",
    "BasicBlock",
    "CompactConv1d",
    "CompactConv2d",
    "CompactLinear",
    "Dataset",
    "LayerDeviation",
    "QResNet",
    "QuadraticConv1d",
    "QuadraticConv2d",
    "QuadraticLinear",
    "QuadraticModule",
    "Quadratized",
    "ReLinear",
    "TrainConfig",
    "TrainResult",
    "TrainingDivergedError",
    "build_model",
    "evaluate",
    "linearity_report",
    "load_dataset",
    "qresnet20",
    "qresnet32",
    "qresnet44",
    "qresnet56",
    "qresnet110",
    "quadratize",
    "relinear_param_groups",
    "relinear_penalty",
    "to_qexpr_network",
    "track_pieces",
    "train",
]
