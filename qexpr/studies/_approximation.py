"""Approximation study: fit one-input targets with the three kinds at the same widths.

Each fit trains a :class:`qexpr.nn.QMLP` (float64, CPU) full-batch with Adam on an evenly
spaced training grid of [-1, 1] and minimises the mean squared error; the test error is the
root mean squared error on a finer grid. The trained model is converted with
:func:`qexpr.nn.to_qexpr_network` and its pieces on [-1, 1] are counted with
:func:`qexpr.count_pieces` (float mode), so a z² network reports one piece because it *is*
one polynomial, not because we say so.

The kinds follow :func:`qexpr.random_network` (and are ``QMLP(kind=...)``'s kinds):

========= ======================= ==================
kind      neuron                  hidden activation
========= ======================= ==================
quadratic quadratic (Fan)         relu
relu      linear                  relu
square    linear                  square (z²)
========= ======================= ==================

Everything is seeded: the same arguments give the same numbers (the torch generator is
forked, so the caller's random state is left alone).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qexpr._errors import QexprValueError
from qexpr.spline._count import count_pieces

__all__ = ["KINDS", "TARGETS", "Fit", "fit", "markdown_table", "study"]

#: Target functions on [-1, 1].
TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs,
    "sin4pi": lambda x: np.sin(4 * np.pi * x),
    "runge": lambda x: 1 / (1 + 25 * x * x),
    "kink_bump": lambda x: np.maximum(x - 0.3, 0) + np.exp(-40 * x * x),
}

#: Formulas of the targets, for tables and figure titles.
FORMULAS: dict[str, str] = {
    "abs": "|x|",
    "sin4pi": "sin(4πx)",
    "runge": "1/(1+25x²)",
    "kink_bump": "relu(x-0.3) + exp(-40x²)",
}

#: The kinds compared (the three of the paper; see :data:`qexpr.KINDS`).
KINDS: tuple[str, ...] = ("quadratic", "relu", "square")


@dataclass(frozen=True)
class Fit:
    """One trained network and its errors and counts.

    Attributes
    ----------
    target, kind, hidden
        What was fitted, with which kind, at which hidden widths.
    parameters
        Number of trainable parameters.
    train_rmse, test_rmse
        Root mean squared error on the training grid and on the finer test grid.
    pieces, degree
        Pieces and highest degree of the trained network on [-1, 1].
    steps, lr, seed
        Adam steps, learning rate and seed of the run.
    """

    target: str
    kind: str
    hidden: tuple[int, ...]
    parameters: int
    train_rmse: float
    test_rmse: float
    pieces: int
    degree: int
    steps: int
    lr: float
    seed: int

    def __post_init__(self) -> None:
        _check_choice("target", self.target, TARGETS)
        _check_choice("kind", self.kind, KINDS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``hidden`` as a list)."""
        return {**asdict(self), "hidden": list(self.hidden)}


def _check_choice(name: str, value: object, choices: dict) -> None:
    if value not in choices:
        raise QexprValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QexprValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


def fit(
    target: str,
    kind: str,
    hidden: Sequence[int],
    steps: int = 2000,
    lr: float = 1e-2,
    seed: int = 0,
    train_points: int = 512,
    test_points: int = 4001,
) -> Fit:
    """Train one network of ``kind`` on ``target`` and measure it.

    Minimises ``mean((f(x_i) - target(x_i))²)`` over ``train_points`` evenly spaced
    ``x_i`` in [-1, 1] with ``steps`` full-batch Adam steps at learning rate ``lr``;
    ``test_rmse = sqrt(mean((f - target)²))`` over ``test_points`` evenly spaced points.

    Parameters
    ----------
    target
        A key of :data:`TARGETS`.
    kind
        ``"quadratic"``, ``"relu"`` or ``"square"`` (see the module docstring).
    hidden
        Hidden widths, e.g. ``(16, 16)``.
    steps, lr, seed
        Adam steps, learning rate, and the seed of the initialisation.
    train_points, test_points
        Sizes of the training and test grids.
    """
    import torch

    from qexpr.nn import QMLP, to_qexpr_network

    _check_choice("target", target, TARGETS)
    _check_choice("kind", kind, KINDS)
    for name, value in (("steps", steps), ("train_points", train_points)):
        _check_positive_int(name, value)
    _check_positive_int("test_points", test_points)
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise QexprValueError(f"lr: expected a positive finite number, got {lr!r}")
    x = torch.linspace(-1, 1, train_points, dtype=torch.float64)[:, None]
    y = torch.from_numpy(TARGETS[target](x.numpy()))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = QMLP(1, list(hidden), 1, kind=kind).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        optimizer.step()
    test_x = np.linspace(-1, 1, test_points)[:, None]
    with torch.no_grad():
        train_rmse = math.sqrt(float(torch.mean((model(x) - y) ** 2)))
        test_y = model(torch.from_numpy(test_x)).numpy()
    test_rmse = float(np.sqrt(np.mean((test_y - TARGETS[target](test_x)) ** 2)))
    counted = count_pieces(to_qexpr_network(model), mode="float", domain=(-1, 1))
    return Fit(
        target=target,
        kind=kind,
        hidden=tuple(hidden),
        parameters=sum(p.numel() for p in model.parameters()),
        train_rmse=train_rmse,
        test_rmse=test_rmse,
        pieces=counted.pieces,
        degree=counted.degree,
        steps=steps,
        lr=float(lr),
        seed=seed,
    )


def study(
    targets: Sequence[str] = tuple(TARGETS),
    kinds: Sequence[str] = tuple(KINDS),
    hiddens: Sequence[Sequence[int]] = ((8,), (16,), (32,), (8, 8), (16, 16), (32, 32)),
    on_fit: Callable[[Fit], None] | None = None,
    **fit_kwargs: Any,
) -> list[Fit]:
    """:func:`fit` every target with every kind at every hidden-width tuple.

    ``on_fit`` is called after each fit (progress); ``fit_kwargs`` go to :func:`fit`.
    """
    fits = []
    for target in targets:
        for kind in kinds:
            for hidden in hiddens:
                result = fit(target, kind, hidden, **fit_kwargs)
                fits.append(result)
                if on_fit is not None:
                    on_fit(result)
    return fits


def markdown_table(fits: Sequence[Fit]) -> str:
    """A Markdown table: one row per target and hidden widths, one column group per kind."""
    kinds = [k for k in KINDS if any(f.kind == k for f in fits)]
    header = "| target | hidden | " + " | ".join(
        f"{k} params | {k} test RMSE | {k} pieces" for k in kinds
    )
    lines = [header + " |", "|" + "---|" * (2 + 3 * len(kinds))]
    rows: dict[tuple[str, tuple[int, ...]], dict[str, Fit]] = {}
    for f in fits:
        rows.setdefault((f.target, f.hidden), {})[f.kind] = f
    for (target, hidden), by_kind in rows.items():
        cells = [FORMULAS[target].replace("|", "\\|"), "-".join(map(str, hidden))]
        for k in kinds:
            f = by_kind.get(k)
            cells += (
                ["", "", ""]
                if f is None
                else [str(f.parameters), f"{f.test_rmse:.2e}", str(f.pieces)]
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
