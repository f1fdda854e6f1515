"""Bridge from trained torch models to qexpr networks: count the pieces of what was learnt.

A :class:`QMLP` of any kind (quadratic, compact, relu, square) becomes a
:class:`qexpr.Network` with float64 weights, the model's activation (ReLU or z²) on the
hidden layers and the identity on the last: the network ``qexpr.random_network`` builds
for the same kind, with the trained weights. :func:`qexpr.count_pieces` then gives its
pieces, activation regions and degree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from qexpr._errors import QexprTypeError
from qexpr._network import CompactLayer, Layer, LinearLayer, Network, QuadraticLayer
from qexpr.nn._config import TrainConfig
from qexpr.nn._layers import CompactLinear, QuadraticLinear
from qexpr.nn._models import QMLP
from qexpr.nn._trainer import train
from qexpr.spline import count_pieces

__all__ = ["to_qexpr_network", "track_pieces"]


def _array(t: torch.Tensor | None, rows: int) -> np.ndarray:
    if t is None:
        return np.zeros(rows)
    return t.detach().cpu().double().numpy().copy()


def _layer(module: nn.Module, activation: str) -> Layer:
    out = module.out_features
    if isinstance(module, QuadraticLinear):
        return QuadraticLayer(
            wr=_array(module.wr, out),
            br=_array(module.br, out),
            wg=_array(module.wg, out),
            bg=_array(module.bg, out),
            wb=_array(module.wb, out),
            c=_array(module.c, out),
            activation=activation,
        )
    if isinstance(module, CompactLinear):
        return CompactLayer(
            wr=_array(module.wr, out),
            br=_array(module.br, out),
            wb=_array(module.wb, out),
            c=_array(module.c, out),
            activation=activation,
        )
    if isinstance(module, nn.Linear):
        return LinearLayer(
            w=_array(module.weight, out), b=_array(module.bias, out), activation=activation
        )
    raise QexprTypeError(f"layer: cannot convert {type(module).__name__} to a qexpr layer")


def to_qexpr_network(model: QMLP) -> Network:
    """The qexpr network computing the same function as ``model`` (float64 weights).

    Its layers have the neuron and activations of ``model.kind`` (as in
    :func:`qexpr.random_network`), or the deprecated ``activation`` the model was built with.
    """
    if not isinstance(model, QMLP):
        raise QexprTypeError(f"model: expected a qexpr.nn.QMLP, got {type(model).__name__}")
    last = len(model.layers) - 1
    hidden = model.activation
    layers = [_layer(m, "identity" if k == last else hidden) for k, m in enumerate(model.layers)]
    return Network(model.widths[0], tuple(layers))


def track_pieces(
    config: TrainConfig,
    domain: tuple[float, float] | None = (-1.0, 1.0),
    mode: str = "float",
    **train_kwargs: Any,
) -> list[dict[str, Any]]:
    """Train a one-input QMLP and count its pieces after every epoch.

    Returns the per-epoch metrics extended with ``pieces``, ``activation_regions`` and
    ``degree`` of the network on ``domain`` (counted with :func:`qexpr.count_pieces`).
    """
    rows: list[dict[str, Any]] = []

    def count(model: nn.Module, metrics: dict[str, Any]) -> None:
        result = count_pieces(to_qexpr_network(model), mode=mode, domain=domain)
        counts = {"pieces": result.pieces, "activation_regions": result.activation_regions}
        rows.append({**metrics, **counts, "degree": result.degree})

    train(config, on_epoch=count, **train_kwargs)
    return rows
