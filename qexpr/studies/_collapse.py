"""The collapse study: how often does a quadratic network fail to train, and with what recipe?

Each *condition* (model kind, initialisation, ReLinear recipe, learning rate) is trained over
several seeds; each run ends in one of three outcomes:

* **diverged**: a batch loss became non-finite or exceeded ``loss_limit``;
* **collapsed**: training finished, but the test accuracy closes less than a tenth of the
  gap between the majority-class rate ``m`` (the accuracy of always predicting the most
  frequent test class) and 1, i.e. ``accuracy < m + (1 - m) / 10`` (see :func:`collapsed`);
* **trained**: otherwise.

On 10 balanced classes the bar is 0.19 (close to the earlier "twice chance", 0.2); on
2 balanced classes it is 0.55, where twice chance (1.0) called every binary run collapsed.

Each run is traced step by step (:func:`trace_run`: the training loss and the pre-clip
gradient norm of every step, through the trainer's own epoch loop), so that a study can
say *how* a run failed (:func:`classify_curve`: a **plateau** at the loss of the best
input-independent predictor, :func:`label_entropy`, or a **divergence** at a given step)
and whether gradient clipping engaged (:attr:`Outcome.steps_clipped`).
:func:`init_signal` measures, at initialisation, how much each layer's output still
depends on the input and how many ReLU units are dead.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import Tensor, nn

from qexpr._errors import QexprValueError
from qexpr._io import atomic_path
from qexpr.nn._config import TrainConfig
from qexpr.nn._data import Dataset, load_dataset
from qexpr.nn._device import deterministic
from qexpr.nn._trainer import TrainingDivergedError, _run_epoch, _set_up, evaluate

__all__ = [
    "COLLAPSE_SKILL",
    "PLATEAU_TOLERANCE",
    "Condition",
    "CurveVerdict",
    "InitSignal",
    "Outcome",
    "RunTrace",
    "classify_curve",
    "collapsed",
    "fmt_number",
    "init_signal",
    "label_entropy",
    "majority_rate",
    "markdown_table",
    "moving_average",
    "outcome_of",
    "plot_loss_curves",
    "run_condition",
    "save_figure",
    "summarise",
    "trace_run",
    "traced_condition",
]

#: Fraction of the gap from the majority-class rate to 1 a run must close not to be collapsed.
COLLAPSE_SKILL = 0.1
#: How far (in nats) below the plateau level the smoothed training loss must fall for a run
#: to count as having left the plateau.
PLATEAU_TOLERANCE = 0.1


@dataclass(frozen=True)
class Condition:
    """A labelled training configuration; its ``seed`` is replaced by each study seed."""

    label: str
    config: TrainConfig


@dataclass(frozen=True)
class RunTrace:
    """One run, step by step.

    ``steps`` are global step indices (from 0); ``losses`` the mean training loss per
    example of each step's batch (before the step) and ``grad_norms`` the 2-norm of the
    whole gradient *before* clipping. A run that diverged ends with the diverging step,
    ``diverged_step`` (None if the run finished). ``test_loss`` and ``test_accuracy`` are
    measured after the last epoch (NaN after a divergence).
    """

    steps: tuple[int, ...]
    losses: tuple[float, ...]
    grad_norms: tuple[float, ...]
    diverged_step: int | None
    test_loss: float
    test_accuracy: float

    def steps_above(self, threshold: float) -> int:
        """How many steps had a pre-clip gradient norm above ``threshold`` (clipped there)."""
        return sum(norm > threshold for norm in self.grad_norms)


@dataclass(frozen=True)
class Outcome:
    """One run of a condition: final metrics, the outcome class and what clipping did.

    ``steps_clipped`` counts the steps whose pre-clip gradient norm exceeded the
    condition's ``clip`` (None without clipping); ``max_grad_norm`` is the largest pre-clip
    norm of the run.
    """

    label: str
    seed: int
    lr: float
    status: str  # "trained" | "collapsed" | "diverged"
    test_loss: float
    test_accuracy: float
    steps: int = 0
    steps_clipped: int | None = None
    max_grad_norm: float = math.nan


@dataclass(frozen=True)
class CurveVerdict:
    """How a loss curve behaved: ``"diverged"`` (at ``step``), ``"plateau"`` (never left the
    plateau level; ``step`` None) or ``"learning"`` (left it; ``step`` is the first step at
    which the smoothed loss was below the level by more than the tolerance)."""

    status: str
    step: int | None


@dataclass(frozen=True)
class InitSignal:
    """What a network computes at initialisation on a batch of inputs.

    ``spread[i]`` is the mean over the units of layer ``i`` of the standard deviation over
    the inputs of the unit's output (before the activation): how much layer ``i`` still
    depends on the input; the last entry is the logits'. ``dead[i]`` is the fraction of the
    units of hidden layer ``i`` whose output is <= 0 on every input (a ReLU unit that passes
    nothing and gets no gradient).
    """

    spread: tuple[float, ...]
    dead: tuple[float, ...]


def majority_rate(labels: Tensor) -> float:
    """The accuracy of always predicting the most frequent label."""
    return float(torch.bincount(labels).max()) / len(labels)


def label_entropy(labels: Tensor) -> float:
    """Entropy (nats) of the label frequencies: the smallest mean cross-entropy any
    input-independent predictor reaches on these labels (ln k for k balanced classes)."""
    counts = torch.bincount(labels).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def collapsed(accuracy: float, majority: float) -> bool:
    """Whether ``accuracy`` is below ``majority + COLLAPSE_SKILL · (1 - majority)``."""
    return accuracy < majority + COLLAPSE_SKILL * (1.0 - majority)


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Means of ``window`` consecutive values (``len(values) - window + 1`` of them)."""
    if not (isinstance(window, int) and window >= 1):
        raise QexprValueError(f"window: expected an int >= 1, got {window!r}")
    sums = [0.0]
    for v in values:
        sums.append(sums[-1] + v)
    return [(sums[i + window] - sums[i]) / window for i in range(len(values) - window + 1)]


def classify_curve(
    steps: Sequence[int],
    losses: Sequence[float],
    *,
    level: float,
    limit: float,
    window: int,
    tolerance: float = PLATEAU_TOLERANCE,
) -> CurveVerdict:
    """Divergence, plateau or learning, from a training-loss curve.

    Parameters
    ----------
    steps, losses : sequences of the same length
        Step indices (increasing) and the training loss at each.
    level : float
        The plateau level, e.g. :func:`label_entropy` of the training labels.
    limit : float
        A loss that is non-finite or above ``limit`` is a divergence (the trainer's
        ``loss_limit``).
    window : int
        Steps averaged before comparing with ``level`` (one epoch evens out the batches).
    tolerance : float
        The run left the plateau when a ``window``-step mean is below ``level - tolerance``.

    Returns
    -------
    CurveVerdict
        ``diverged`` at the first step past ``limit``; otherwise ``learning`` at the last
        step of the first window below ``level - tolerance``; otherwise ``plateau``.
    """
    if len(steps) != len(losses):
        raise QexprValueError(f"steps and losses: {len(steps)} and {len(losses)} values")
    for step, loss in zip(steps, losses, strict=True):
        if not (math.isfinite(loss) and loss <= limit):
            return CurveVerdict("diverged", step)
    for i, mean in enumerate(moving_average(losses, window)):
        if mean < level - tolerance:
            return CurveVerdict("learning", steps[i + window - 1])
    return CurveVerdict("plateau", None)


@torch.no_grad()
def init_signal(model: nn.Module, layers: Sequence[nn.Module], x: Tensor) -> InitSignal:
    """Spread and dead units of ``layers`` (in order; the last gives the logits) of ``model``
    on the inputs ``x`` (at least 2), read by forward hooks on one forward pass."""
    if x.dim() < 1 or len(x) < 2:
        raise QexprValueError(f"x: a spread needs at least 2 inputs, got shape {tuple(x.shape)}")
    outputs: list[Tensor] = []
    handles = [
        layer.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for layer in layers
    ]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    spread = tuple(float(z.flatten(1).std(0).mean()) for z in outputs)
    dead = tuple(float((z.flatten(1) <= 0).all(0).double().mean()) for z in outputs[:-1])
    return InitSignal(spread, dead)


def _batch_sizes(n: int, batch_size: int) -> list[int]:
    """Examples in each batch of an epoch (one process)."""
    return [min(batch_size, n - start) for start in range(0, n, batch_size)]


def trace_run(config: TrainConfig, data: Dataset) -> RunTrace:
    """Train ``config`` on ``data`` (one process) with the trainer's own epoch loop and
    return every step's loss and pre-clip gradient norm (see :class:`RunTrace`)."""
    run = _set_up(config, data, None, None)
    sizes = _batch_sizes(len(run.data.x_train), config.batch_size)
    losses: list[float] = []
    norms: list[float] = []

    def record(trace, count: int) -> None:
        summed = trace.losses[:count].tolist()
        losses.extend(s / b for s, b in zip(summed, sizes, strict=False))
        norms.extend(trace.grad_norms[:count].tolist())

    with deterministic(config.deterministic):
        for epoch in range(config.epochs):
            try:
                record(_run_epoch(run, epoch, progress=False), len(sizes))
            except TrainingDivergedError as err:
                record(err.trace, err.step)
                steps = tuple(range(len(losses)))
                return RunTrace(steps, tuple(losses), tuple(norms), steps[-1], math.nan, math.nan)
    metrics = evaluate(run.model, run.data, config, device=run.device)
    accuracy = metrics.get("test_accuracy", math.nan)
    return RunTrace(
        tuple(range(len(losses))),
        tuple(losses),
        tuple(norms),
        None,
        metrics["test_loss"],
        accuracy,
    )


def run_condition(condition: Condition, seed: int, data: Dataset | None = None) -> Outcome:
    """Train ``condition`` with ``seed`` and classify the outcome."""
    return outcome_of(condition, seed, *traced_condition(condition, seed, data))


def traced_condition(
    condition: Condition, seed: int, data: Dataset | None = None
) -> tuple[RunTrace, Dataset]:
    """The :class:`RunTrace` of ``condition`` with ``seed`` (and the data it used)."""
    config = replace(condition.config, seed=seed)
    data = data if data is not None else load_dataset(config.dataset, config.data_seed)
    return trace_run(config, data), data


def outcome_of(condition: Condition, seed: int, trace: RunTrace, data: Dataset) -> Outcome:
    """Classify one traced run of ``condition``."""
    clip = condition.config.relinear.clip
    finite = [n for n in trace.grad_norms if math.isfinite(n)]
    common = {
        "steps": len(trace.steps),
        "steps_clipped": None if clip is None else trace.steps_above(clip),
        "max_grad_norm": max(finite, default=math.nan),
    }
    lr = condition.config.lr
    if trace.diverged_step is not None:
        return Outcome(condition.label, seed, lr, "diverged", math.nan, math.nan, **common)
    failed = data.task == "classification" and collapsed(
        trace.test_accuracy, majority_rate(data.y_test)
    )
    status = "collapsed" if failed else "trained"
    return Outcome(
        condition.label, seed, lr, status, trace.test_loss, trace.test_accuracy, **common
    )


def summarise(outcomes: Iterable[Outcome]) -> list[dict]:
    """Per (label, lr): runs, diverged/collapsed counts, accuracy over the finished runs,
    clipped steps (summed over all the runs; None without clipping) and the median over
    the finished runs of their largest pre-clip gradient norm."""
    groups: dict[tuple[str, float], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.label, o.lr), []).append(o)
    rows = []
    for (label, lr), runs in groups.items():
        finished = [o for o in runs if o.status != "diverged"]
        clipped = [o.steps_clipped for o in runs if o.steps_clipped is not None]
        rows.append(
            {
                "condition": label,
                "lr": lr,
                "runs": len(runs),
                "diverged": sum(o.status == "diverged" for o in runs),
                "collapsed": sum(o.status == "collapsed" for o in runs),
                "median_accuracy": _median(o.test_accuracy for o in finished),
                "mean_accuracy": _mean(o.test_accuracy for o in finished),
                "median_test_loss": _median(o.test_loss for o in finished),
                "steps": sum(o.steps for o in runs),
                "steps_clipped": sum(clipped) if clipped else None,
                "median_max_grad_norm": _median(o.max_grad_norm for o in finished),
            }
        )
    return rows


def _median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else math.nan


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else math.nan


def fmt_number(value: float) -> str:
    """Three significant digits, "–" for NaN (nothing to report)."""
    return "–" if math.isnan(value) else f"{value:.3g}"


def _clipped_cell(row: dict) -> str:
    return "–" if row["steps_clipped"] is None else f"{row['steps_clipped']}/{row['steps']}"


def markdown_table(rows: list[dict], fmt: Callable[[float], str] = "{:.3f}".format) -> str:
    """The summary rows as a Markdown table (accuracy and max ‖g‖ over the runs that did
    not diverge; steps clipped summed over all the runs, of all their steps; "–": no
    clipping)."""
    head = (
        "| condition | lr | diverged | collapsed | median acc. | mean acc. | median test loss "
        "| steps clipped | median max ‖g‖ |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['condition']} | {r['lr']:g} | {r['diverged']}/{r['runs']} | "
            f"{r['collapsed']}/{r['runs']} | {fmt(r['median_accuracy'])} | "
            f"{fmt(r['mean_accuracy'])} | {fmt(r['median_test_loss'])} | "
            f"{_clipped_cell(r)} | {fmt_number(r['median_max_grad_norm'])} |"
        )
    return "\n".join(lines)


def plot_loss_curves(
    panels: Sequence[tuple[str, Sequence[tuple[str, RunTrace]]]],
    path: str | Path,
    *,
    level: float,
    window: int,
    title: str = "",
) -> Path:
    """One panel per entry of ``panels`` (title, [(condition, trace), ...]): the training
    loss per step, averaged over ``window`` steps, log-y; the plateau ``level`` dotted; a
    divergence marked × at the top of the panel at its step. Each condition has its own
    colour and line style (so that identical runs stay visible). Written atomically."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0 * len(panels), 4.2))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    styles: dict[str, tuple[str, str]] = {}
    top = 30.0
    for ax, (panel_title, runs) in zip(axes, panels, strict=True):
        for condition, trace in runs:
            n = len(styles)
            colour, dash = styles.setdefault(condition, (f"C{n}", ("-", "--", "-.", ":")[n % 4]))
            finished = list(zip(trace.steps, trace.losses, strict=True))
            if trace.diverged_step is not None:
                finished = finished[:-1]
                ax.plot([trace.diverged_step], [top], "x", color=colour, ms=8, clip_on=False)
            if len(finished) >= window:
                xs = [s for s, _ in finished][window - 1 :]
                ys = moving_average([v for _, v in finished], window)
                ax.plot(xs, ys, dash, color=colour, lw=1.0, alpha=0.8)
        ax.axhline(level, color="gray", ls=":", lw=1.0)
        ax.set_yscale("log")
        ax.set_ylim(1e-3, top)
        ax.set_title(panel_title)
        ax.set_xlabel("step")
    axes[0].set_ylabel(f"training loss ({window}-step mean)")
    handles = [
        axes[0].plot([], [], dash, color=colour, label=name)[0]
        for name, (colour, dash) in styles.items()
    ] + [
        axes[0].plot([], [], "x", color="black", label="diverged (at that step)")[0],
        axes[0].plot([], [], ":", color="gray", label=f"label entropy {level:.3f}")[0],
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return save_figure(fig, path)


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Write a matplotlib ``Figure`` to ``path`` atomically (honouring the umask)."""
    target = Path(path)
    with atomic_path(target) as temporary:
        fig.savefig(temporary, dpi=dpi)
    return target
