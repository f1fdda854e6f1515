"""Where training runs: device names checked before any work, the torchrun process group,
data moved to the device once, and deterministic kernels switched on for a block only."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import replace

import torch

from qexpr._errors import QexprValueError
from qexpr.nn._data import Dataset

__all__ = ["deterministic", "env_int", "join_world", "on_device", "resolve_device"]


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` denotes, checked to exist; under torchrun ``cuda`` is
    ``cuda:$LOCAL_RANK``.

    Raises
    ------
    QexprValueError
        One line: not a device name, or a device this machine or torch build lacks.
    """
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise QexprValueError(f"device: expected cpu, cuda, cuda:N or mps, got {name!r}") from None
    if device.type == "cpu":
        return device
    if device.type == "mps":
        if not torch.backends.mps.is_available():
            raise QexprValueError(f"device {name}: MPS is not available on this machine")
        return device
    if device.type != "cuda":
        raise QexprValueError(f"device: expected cpu, cuda, cuda:N or mps, got {name!r}")
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else "a CUDA build, no GPU visible"
        raise QexprValueError(
            f"device {name}: CUDA is not available (torch {torch.__version__}, {build})"
        )
    index = device.index if device.index is not None else env_int("LOCAL_RANK", 0)
    if index >= torch.cuda.device_count():
        raise QexprValueError(
            f"device {name}: GPU {index} requested, {torch.cuda.device_count()} visible"
        )
    return torch.device("cuda", index)


def env_int(name: str, default: int) -> int:
    text = os.environ.get(name, str(default))
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise QexprValueError(f"environment variable {name}: expected an int >= 0, got {text!r}")
    return value


def join_world(device: torch.device) -> tuple[int, int, bool]:
    """(rank, world size, distributed): under torchrun (``WORLD_SIZE`` set, even to 1) join
    the process group, NCCL on CUDA (after ``torch.cuda.set_device``), gloo otherwise."""
    if "WORLD_SIZE" not in os.environ:
        return 0, 1, False
    env_int("WORLD_SIZE", 1)
    import torch.distributed as dist

    if not dist.is_initialized():
        try:
            if device.type == "cuda":
                torch.cuda.set_device(device)
                dist.init_process_group("nccl", device_id=device)
            else:
                dist.init_process_group("gloo")
        except (ValueError, RuntimeError) as exc:
            what = str(exc).strip().splitlines()[0]
            raise QexprValueError(f"torchrun environment: cannot join the group ({what})") from None
    return dist.get_rank(), dist.get_world_size(), True


def on_device(data: Dataset, device: torch.device) -> Dataset:
    """``data`` with its tensors moved to ``device`` once (not batch by batch)."""
    if device.type == "cpu":
        return data
    moved = {k: getattr(data, k).to(device) for k in ("x_train", "y_train", "x_test", "y_test")}
    return replace(data, **moved)


@contextlib.contextmanager
def deterministic(enabled: bool) -> Iterator[None]:
    """Deterministic kernels inside the block; the previous settings restored after it."""
    if not enabled:
        yield
        return
    saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark)
    had_cublas = "CUBLAS_WORKSPACE_CONFIG" in os.environ
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0])
        torch.backends.cudnn.benchmark = saved[1]
        if not had_cublas:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
