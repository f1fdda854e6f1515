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

    The checkpoint is read by :func:`qexpr.nn._checkpoint.load_checkpoint`, with
    ``torch.load(weights_only=True)``: tensors and plain data only, never pickled objects;
    its structure is checked there. The model is rebuilt from the checkpoint's ``config``
    with the input and output sizes of its first and last layer's weights, and the weights
    must fit it exactly (``load_state_dict``, strict).
    """
    from qexpr.nn import QMLP, TrainConfig, to_qexpr_network
    from qexpr.nn._checkpoint import load_checkpoint

    payload = load_checkpoint(file)
    try:
        config = TrainConfig.from_dict(payload["config"])
    except (QexprError, TypeError) as exc:
        raise QexprValueError(f"{file}: bad config in the checkpoint: {exc}") from None
    if config.model != "qmlp":
        raise QexprValueError(f"{file}: a {config.model} checkpoint; only a qmlp is a network")
    state = payload["model"]
    sizes = _end_sizes(state, file)
    model = QMLP(sizes[0], config.widths, sizes[1], config.kind, config.init)
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise QexprValueError(f"{file}: the weights do not fit the checkpoint's config") from None
    return to_qexpr_network(model)


def _end_sizes(state, file: str) -> tuple[int, int]:
    """Input size of the first layer and output size of the last, from their 2-D weights."""
    shapes: dict[int, tuple[int, ...]] = {}
    for key, value in state.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "layers" and parts[1].isdigit() and value.ndim == 2:
            shapes.setdefault(int(parts[1]), tuple(value.shape))
    if not shapes:
        raise QexprValueError(f"{file}: the checkpoint holds no QMLP layer weights")
    return shapes[min(shapes)][1], shapes[max(shapes)][0]
