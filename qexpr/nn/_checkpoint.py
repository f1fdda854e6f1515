"""Atomic checkpoints (temp file + ``os.replace``) holding everything needed to resume exactly."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qexpr._errors import QexprValueError

__all__ = ["atomic_write_bytes", "load_checkpoint", "rng_state", "save_checkpoint", "set_rng_state"]


def atomic_write_bytes(path: Path, write) -> None:
    """Call ``write(fileobj)`` on a temp file next to ``path``, then ``os.replace`` it there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rng_state() -> dict[str, Any]:
    """The Python, NumPy and torch (CPU and CUDA) random states."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (for user code)
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states saved by :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus the RNG states) atomically with ``torch.save``."""
    payload = {**payload, "rng": rng_state(), "format": "qexpr-checkpoint/1"}
    atomic_write_bytes(Path(path), lambda fh: torch.save(payload, fh))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; one-line error otherwise."""
    path = Path(path)
    if not path.is_file():
        raise QexprValueError(f"checkpoint {path}: no such file (nothing to resume)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise QexprValueError(f"checkpoint {path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != "qexpr-checkpoint/1":
        raise QexprValueError(f"checkpoint {path}: not a qexpr checkpoint")
    return payload
