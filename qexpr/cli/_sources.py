"""Where a command's network comes from: a network file, standard input, a checkpoint.

``-`` reads a ``qexpr-network/1`` file from standard input (never from a terminal, which
would wait for typing); a ``.pt`` or ``.pth`` file is a ``qexpr train`` checkpoint, read
with ``torch.load(weights_only=True)`` (tensors and plain data, never pickled objects)
and turned into a network by the bridge (:func:`qexpr.nn.to_qexpr_network`). torch is
imported only for a checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qexpr._errors import QexprError, QexprValueError

__all__ = ["CHECKPOINT_SUFFIXES", "STDIN", "STDIN_NAME", "checkpoint_network", "load_source"]

#: The file name that reads a network from standard input, and its name in messages.
STDIN, STDIN_NAME = "-", "<stdin>"
#: File suffixes read as a qexpr training checkpoint (``qexpr train --checkpoint``).
CHECKPOINT_SUFFIXES = (".pt", ".pth")


def load_source(file: str):
    """The network in ``file``: ``-`` reads standard input, ``.pt``/``.pth`` a checkpoint."""
    if file == STDIN:
        return stdin_network()
    if Path(file).suffix.lower() in CHECKPOINT_SUFFIXES:
        return checkpoint_network(file)
    from qexpr._io import load_network

    return load_network(file)


def stdin_network():
    """A network file piped in; a terminal is refused (reading it would wait for typing)."""
    from qexpr._io import MAX_FILE_BYTES, network_from_bytes

    if sys.stdin is None or sys.stdin.isatty():
        raise QexprValueError(
            f"{STDIN_NAME}: standard input is a terminal; pipe a network in "
            "(qexpr count-pieces - < net.json)"
        )
    return network_from_bytes(sys.stdin.buffer.read(MAX_FILE_BYTES + 1), STDIN_NAME)


def checkpoint_network(file: str):
    """The trained QMLP of a ``qexpr train`` checkpoint as a qexpr network (the bridge).

    The file is read with ``torch.load(weights_only=True)``: tensors and plain data only,
    never arbitrary pickled objects. The model is rebuilt from the checkpoint's
    ``config`` with the input and output sizes of its first and last layer's weights,
    and the weights must fit it exactly (``load_state_dict``, strict).
    """
    import io

    import torch

    from qexpr._io import read_file_bytes
    from qexpr.nn import QMLP, to_qexpr_network

    data = read_file_bytes(file)
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt or unsafe file
        raise QexprValueError(
            f"{file}: not a checkpoint of plain data and tensors "
            f"(torch.load with weights_only=True failed: {type(exc).__name__}; "
            "pickled objects are never loaded)"
        ) from None
    state, config = _checkpoint_parts(payload, file)
    if config.model != "qmlp":
        raise QexprValueError(f"{file}: a {config.model} checkpoint; only a qmlp is a network")
    sizes = _end_sizes(state, file)
    model = QMLP(sizes[0], config.widths, sizes[1], config.kind, config.init)
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise QexprValueError(f"{file}: the weights do not fit the checkpoint's config") from None
    return to_qexpr_network(model)


def _checkpoint_parts(payload: object, file: str):
    """The model weights and the :class:`TrainConfig` of a checkpoint's payload."""
    from qexpr.nn import TrainConfig

    if not (
        isinstance(payload, dict)
        and payload.get("format") == "qexpr-checkpoint/1"
        and isinstance(payload.get("model"), dict)
        and isinstance(payload.get("config"), dict)
    ):
        raise QexprValueError(f"{file}: not a qexpr training checkpoint (qexpr train --checkpoint)")
    try:
        config = TrainConfig.from_dict(payload["config"])
    except (QexprError, TypeError) as exc:
        raise QexprValueError(f"{file}: bad config in the checkpoint: {exc}") from None
    return payload["model"], config


def _end_sizes(state: dict, file: str) -> tuple[int, int]:
    """Input size of the first layer and output size of the last, from their 2-D weights."""
    shapes: dict[int, tuple[int, ...]] = {}
    for key, value in state.items():
        parts = str(key).split(".")
        if len(parts) == 3 and parts[0] == "layers" and parts[1].isdigit():
            if getattr(value, "ndim", None) == 2:
                shapes.setdefault(int(parts[1]), tuple(value.shape))
    if not shapes:
        raise QexprValueError(f"{file}: the checkpoint holds no QMLP layer weights")
    return shapes[min(shapes)][1], shapes[max(shapes)][0]
