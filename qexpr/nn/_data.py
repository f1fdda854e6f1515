"""Datasets as in-memory tensors: scikit-learn digits, synthetic sets, CIFAR-10 from disk.

Nothing is downloaded. CIFAR-10 is read from a local directory holding the "python
version" batches (``data_batch_1`` … ``data_batch_5``, ``test_batch``).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from qexpr._errors import QexprValueError

__all__ = ["DATASETS", "Dataset", "load_dataset"]

DATASETS = ("digits", "synthetic-classification", "synthetic-regression", "cifar10")

_CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
_CIFAR_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


@dataclass(frozen=True)
class Dataset:
    """Train/test tensors of one task.

    ``task`` is ``"classification"`` (integer targets, ``num_outputs`` classes) or
    ``"regression"`` (float targets of shape ``(n, num_outputs)``).
    """

    name: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    task: str
    num_outputs: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input example."""
        return tuple(self.x_train.shape[1:])


def _split(x: np.ndarray, y: np.ndarray, seed: int, test_fraction: float = 0.2):
    perm = np.random.default_rng(seed).permutation(len(x))
    n_test = round(test_fraction * len(x))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


def _digits(seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    return _split(x, data.target.astype(np.int64), seed)


def _synthetic_classification(seed: int, n: int = 2000) -> tuple[np.ndarray, ...]:
    """Two interleaved spirals in the plane, plus 6 noise features (8 inputs, 2 classes)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.25, 3.0, n) * np.pi
    label = rng.integers(0, 2, n)
    sign = np.where(label == 1, 1.0, -1.0)
    xy = np.stack([sign * t * np.cos(t), sign * t * np.sin(t)], 1) / (3 * np.pi)
    xy += rng.normal(0, 0.02, xy.shape)
    x = np.concatenate([xy, rng.normal(0, 0.1, (n, 6))], 1).astype(np.float32)
    return _split(x, label.astype(np.int64), seed)


def _synthetic_regression(seed: int, n: int = 512) -> tuple[np.ndarray, ...]:
    """One input on [-1, 1], target ``sin(3πx)/(1 + x²) + 0.5x²`` plus noise (σ = 0.02)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1))
    y = np.sin(3 * np.pi * x) / (1 + x**2) + 0.5 * x**2 + rng.normal(0, 0.02, x.shape)
    return _split(x.astype(np.float32), y.astype(np.float32), seed)


class _ArrayUnpickler(pickle.Unpickler):
    """Reads pickles of plain data and numpy arrays only: any other class or function (what
    a malicious file would call) is refused, so reading a CIFAR batch never runs code."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            batch = _ArrayUnpickler(fh, encoding="bytes").load()
    except FileNotFoundError:
        raise QexprValueError(
            f"cifar10: {path} not found; pass --data-dir DIR holding the CIFAR-10 python "
            "batches data_batch_1..5 and test_batch (qexpr never downloads)"
        ) from None
    except (pickle.UnpicklingError, EOFError, OSError) as exc:
        raise QexprValueError(f"cifar10: {path} is not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(batch, dict):
        raise QexprValueError(f"cifar10: {path} is not a CIFAR-10 python batch (not a dict)")
    keys = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in keys or "labels" not in keys:
        raise QexprValueError(f"cifar10: {path} lacks the keys 'data' and 'labels'")
    data = np.asarray(keys["data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072 or len(keys["labels"]) != len(data):
        raise QexprValueError(f"cifar10: {path}: expected data (n, 3072) and n labels")
    return {"data": data, "labels": np.asarray(keys["labels"], dtype=np.int64)}


def _cifar10(root: Path | str | None) -> tuple[np.ndarray, ...]:
    if root is None:
        raise QexprValueError("cifar10: no data directory; pass --data-dir DIR (never downloaded)")
    root = Path(root)
    if not root.is_dir():
        raise QexprValueError(f"cifar10: data directory {root} does not exist")

    def load(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        batches = [_unpickle(root / name) for name in names]
        data = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32)
        x = (data.astype(np.float32) / 255.0 - _CIFAR_MEAN[:, None, None]) / _CIFAR_STD[
            :, None, None
        ]
        return x.astype(np.float32), np.concatenate([b["labels"] for b in batches])

    x_train, y_train = load([f"data_batch_{i}" for i in range(1, 6)])
    x_test, y_test = load(["test_batch"])
    return x_train, y_train, x_test, y_test


def load_dataset(name: str, seed: int = 0, data_dir: Path | str | None = None) -> Dataset:
    """Load a dataset by name (see ``DATASETS``); ``seed`` fixes synthetic data and splits."""
    if name == "digits":
        arrays, task, k = _digits(seed), "classification", 10
    elif name == "synthetic-classification":
        arrays, task, k = _synthetic_classification(seed), "classification", 2
    elif name == "synthetic-regression":
        arrays, task, k = _synthetic_regression(seed), "regression", 1
    elif name == "cifar10":
        arrays, task, k = _cifar10(data_dir), "classification", 10
    else:
        raise QexprValueError(f"dataset: expected one of {DATASETS}, got {name!r}")
    x_tr, y_tr, x_te, y_te = (torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)
    return Dataset(name, x_tr, y_tr, x_te, y_te, task, k)
