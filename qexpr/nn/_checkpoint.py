"""Checkpoints and artefacts: plain data only, written atomically, honouring the umask.

A checkpoint is a ``torch.save`` of a dict of tensors and plain Python values (no RNG
objects, no classes), so it loads with ``torch.load(path, weights_only=True)``, which
never executes code. Anything that does not load that way, or does not have the expected
keys and types, is refused with one line naming the file and what is wrong.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import torch

from qexpr._errors import QexprValueError

__all__ = ["FORMAT", "atomic_write_bytes", "check_writable", "load_checkpoint", "save_checkpoint"]

FORMAT = "qexpr-checkpoint/2"


def _umask() -> int:
    """The process umask (read by setting it and putting it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Call ``write(fileobj)`` on a temp file next to ``path``, then ``os.replace`` it there.

    The file gets mode ``0o666 & ~umask``, as ``open(path, "w")`` would give it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: Path | str, what: str) -> Path:
    """Fail now, with one line, if ``path`` cannot later be written by :func:`atomic_write_bytes`.

    Creates missing parent directories and a probe file (removed at once) next to ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise QexprValueError(f"{what} {path}: is a directory; expected a file name")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise QexprValueError(f"{what} {path}: {blocking} is a file, not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise QexprValueError(f"{what} {path}: cannot write there ({exc.strerror})") from None
    return path


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tensors and plain data) atomically with ``torch.save``."""
    payload = {**payload, "format": FORMAT}
    atomic_write_bytes(Path(path), lambda fh: torch.save(payload, fh))


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _problem(payload: object) -> str | None:
    """What is wrong with a loaded checkpoint's structure, or None."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        return f"not a {FORMAT} checkpoint (found {found!r})"
    for key, kind in [
        ("config", dict),
        ("model", Mapping),
        ("optimizer", dict),
        ("epoch", int),
        ("history", list),
    ]:
        if not isinstance(payload.get(key), kind):
            return f"damaged: key {key!r} missing or not a {kind.__name__}"
    model = payload["model"].items()
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in model):
        return "damaged: 'model' must map parameter names to tensors"
    history, epoch = payload["history"], payload["epoch"]
    if epoch < 0 or len(history) != epoch:
        return f"damaged: epoch {epoch} but {len(history)} history rows"
    for i, row in enumerate(history):
        ok = isinstance(row, dict) and row.get("epoch") == i + 1
        if not ok or not all(isinstance(k, str) and _is_number(v) for k, v in row.items()):
            return f"damaged: history row {i + 1} is not a dict of numbers for epoch {i + 1}"
    return None


def load_checkpoint(path: Path | str) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` without executing any code.

    Raises
    ------
    QexprValueError
        One line: missing file, refused content (anything but tensors and plain data),
        unreadable bytes, or a damaged structure.
    """
    path = Path(path)
    if path.is_dir():
        raise QexprValueError(f"checkpoint {path}: is a directory; expected a checkpoint file")
    if not path.is_file():
        raise QexprValueError(f"checkpoint {path}: no such file (nothing to resume)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):
            what = "not a torch.save file"
            raise QexprValueError(f"checkpoint {path}: unreadable ({what})") from None
        found = re.search(r"GLOBAL (\S+)", str(exc))
        raise QexprValueError(
            f"checkpoint {path}: refused, it holds {found[1] if found else 'an object'}, not only "
            "tensors and plain data (qexpr never runs code from a checkpoint)"
        ) from None
    except Exception as exc:  # torch raises many types for a corrupt file
        raise QexprValueError(f"checkpoint {path}: unreadable ({type(exc).__name__})") from None
    problem = _problem(payload)
    if problem is not None:
        raise QexprValueError(f"checkpoint {path}: {problem}")
    return payload
