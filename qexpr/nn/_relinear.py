"""ReLinear: keep a quadratic network close to its conventional twin while it trains.

Two regularisations (Fan et al., TNNLS 2025, Sec. IV):

* **Gradient shrinking (sg).** The quadratic terms learn with their own, smaller learning
  rates: g-terms (wg, bg) at ``gamma_g`` and b-terms (wb, c) at ``gamma_b``. In qexpr the
  γ's are *absolute* learning rates (the paper's γ), not multipliers of the base rate.
  The linear part (wr, br and every non-quadratic parameter, BatchNorm included) learns at
  the base rate.
* **Weight shrinking (sw).** A penalty pulls every quadratic term to its linear reference
  r (wg → 0, bg → 1, wb → 0, c → 0):
  ``α_g‖θ_g − r‖₁ + β_g‖θ_g − r‖₂² + α_b‖θ_b − r‖₁ + β_b‖θ_b − r‖₂²``.
  Weight decay is never applied to the quadratic terms (it would pull bg to 0 instead of 1).

qexpr adds a third safeguard, **gradient clipping**: before each step the 2-norm of the
whole gradient (all parameters) is clipped to ``clip``. The collapse study
(``docs/training.md``) shows why the *whole* gradient: a quadratic network diverges by a
sudden spike of the linear part's gradient, amplified by the gates (wg·x + bg), not by a
slow drift of the quadratic terms; clipping only the quadratic terms' gradients, or
projecting them into a ball around the linear reference, did not prevent it.

Parameters are selected by module type (:class:`QuadraticModule`) and the layer's declared
terms, never by substrings of their names.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from qexpr._errors import QexprValueError
from qexpr.nn._layers import QuadraticModule

__all__ = [
    "LayerDeviation",
    "ReLinear",
    "linearity_report",
    "relinear_param_groups",
    "relinear_penalty",
]

_MODES = ("none", "sg", "sw", "sg+sw")


def _quadratic_modules(model: nn.Module) -> list[tuple[str, QuadraticModule]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, QuadraticModule)]


def _nonnegative(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise QexprValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def relinear_param_groups(
    model: nn.Module,
    lr: float,
    gamma_g: float,
    gamma_b: float,
    weight_decay: float = 0.0,
) -> list[dict]:
    """Optimizer parameter groups of gradient shrinking.

    Parameters
    ----------
    model : nn.Module
        Any model; quadratic terms are found on :class:`QuadraticModule` submodules.
    lr : float
        Learning rate of the linear part (wr, br and every other parameter).
    gamma_g, gamma_b : float
        Absolute learning rates of the g-terms (wg, bg) and the b-terms (wb, c).
    weight_decay : float
        Weight decay of the linear part only; the quadratic groups get 0.

    Returns
    -------
    list of dict
        Groups ``"linear"``, ``"g"``, ``"b"`` (keys ``name, params, lr, weight_decay``);
        every trainable parameter appears in exactly one group. Empty groups are dropped.
    """
    for name, value in (("lr", lr), ("gamma_g", gamma_g), ("gamma_b", gamma_b)):
        _nonnegative(name, value)
    _nonnegative("weight_decay", weight_decay)
    role_of: dict[int, str] = {}
    for _, module in _quadratic_modules(model):
        for _, role, param, _ in module.quadratic_terms():
            role_of[id(param)] = role
    groups = {
        "linear": {"name": "linear", "params": [], "lr": lr, "weight_decay": weight_decay},
        "g": {"name": "g", "params": [], "lr": gamma_g, "weight_decay": 0.0},
        "b": {"name": "b", "params": [], "lr": gamma_b, "weight_decay": 0.0},
    }
    for param in model.parameters():
        if param.requires_grad:
            groups[role_of.get(id(param), "linear")]["params"].append(param)
    return [g for g in groups.values() if g["params"]]


def relinear_penalty(
    model: nn.Module,
    alpha_g: float = 0.0,
    alpha_b: float = 0.0,
    beta_g: float = 0.0,
    beta_b: float = 0.0,
) -> Tensor:
    """Weight-shrinking penalty ``Σ α_role‖θ − r‖₁ + β_role‖θ − r‖₂²`` over quadratic terms.

    ``r`` is each term's linear reference (bg → 1, the others → 0). Returns a 0-d tensor
    (zero when the model has no quadratic layer).
    """
    coef = {
        "g": (_nonnegative("alpha_g", alpha_g), _nonnegative("beta_g", beta_g)),
        "b": (_nonnegative("alpha_b", alpha_b), _nonnegative("beta_b", beta_b)),
    }
    total: Tensor | None = None
    for _, module in _quadratic_modules(model):
        for _, role, param, ref in module.quadratic_terms():
            alpha, beta = coef[role]
            if alpha == 0.0 and beta == 0.0:
                continue
            dev = param - ref
            term = alpha * dev.abs().sum() + beta * dev.square().sum()
            total = term if total is None else total + term
    if total is None:
        param = next(model.parameters(), None)
        return torch.zeros((), device=None if param is None else param.device)
    return total


@dataclass(frozen=True)
class ReLinear:
    """A ReLinear recipe: which regularisations, with which coefficients.

    Parameters
    ----------
    mode : {"none", "sg", "sw", "sg+sw"}
        ``"none"``: every parameter at the base lr with weight decay (naive training).
        ``"sg"``: gradient shrinking. ``"sw"``: weight shrinking at the base lr.
        ``"sg+sw"``: both.
    gamma_g, gamma_b : float
        Absolute learning rates of the g- and b-terms (used by sg modes).
    alpha_g, alpha_b, beta_g, beta_b : float
        L1 and squared-L2 coefficients of the penalty (used by sw modes).
    clip : float or None
        Maximum 2-norm of the whole gradient (every parameter), in every mode.
    """

    mode: str = "sg"
    gamma_g: float = 1e-3
    gamma_b: float = 1e-3
    alpha_g: float = 0.0
    alpha_b: float = 0.0
    beta_g: float = 1e-3
    beta_b: float = 1e-3
    clip: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise QexprValueError(f"relinear mode: expected one of {_MODES}, got {self.mode!r}")
        for name in ("gamma_g", "gamma_b", "alpha_g", "alpha_b", "beta_g", "beta_b"):
            _nonnegative(name, getattr(self, name))
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise QexprValueError(f"clip: expected a finite number > 0 or None, got {self.clip!r}")

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float = 0.0) -> list[dict]:
        """Parameter groups: γ learning rates in sg modes, base lr otherwise."""
        if self.mode == "none":
            return [
                {
                    "name": "all",
                    "params": [p for p in model.parameters() if p.requires_grad],
                    "lr": lr,
                    "weight_decay": weight_decay,
                }
            ]
        sg = self.mode in ("sg", "sg+sw")
        g_lr, b_lr = (self.gamma_g, self.gamma_b) if sg else (lr, lr)
        return relinear_param_groups(model, lr, g_lr, b_lr, weight_decay)

    def penalty(self, model: nn.Module) -> Tensor | None:
        """The sw penalty, or None when the mode has no weight shrinking."""
        if self.mode not in ("sw", "sg+sw"):
            return None
        return relinear_penalty(model, self.alpha_g, self.alpha_b, self.beta_g, self.beta_b)

    def before_step(self, model: nn.Module) -> None:
        """Clip the whole gradient's 2-norm to ``clip`` (if configured)."""
        if self.clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), self.clip)


@dataclass(frozen=True)
class LayerDeviation:
    """How far one quadratic layer is from its conventional twin.

    Attributes are 2-norms of the deviations from the linear reference: ``wg = ‖wg‖``,
    ``bg = ‖bg − 1‖``, ``wb = ‖wb‖``, ``c = ‖c‖`` (0 for terms the layer lacks), and
    ``relative = ‖(Δwg, Δbg, Δwb, Δc)‖ / ‖(wr, br)‖``.
    """

    name: str
    wg: float
    bg: float
    wb: float
    c: float
    relative: float

    def to_dict(self) -> dict[str, float | str]:
        """Plain dict (for JSON metrics)."""
        return asdict(self)


@torch.no_grad()
def linearity_report(model: nn.Module) -> list[LayerDeviation]:
    """Per quadratic layer, the norms of the quadratic terms' deviations from linear."""
    report = []
    for name, module in _quadratic_modules(model):
        norms = {"wg": 0.0, "bg": 0.0, "wb": 0.0, "c": 0.0}
        for term, _, param, ref in module.quadratic_terms():
            norms[term] = float(torch.linalg.vector_norm(param.float() - ref))
        linear = [module.wr] + ([module.br] if module.br is not None else [])
        lin_norm = math.sqrt(sum(float(p.float().square().sum()) for p in linear))
        dev = math.sqrt(sum(v * v for v in norms.values()))
        report.append(LayerDeviation(name, **norms, relative=dev / max(lin_norm, 1e-12)))
    return report
