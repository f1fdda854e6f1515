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
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from qexpr.nn._config import TrainConfig
from qexpr.nn._data import Dataset, load_dataset
from qexpr.nn._trainer import train

__all__ = [
    "COLLAPSE_SKILL",
    "Condition",
    "Outcome",
    "collapsed",
    "majority_rate",
    "markdown_table",
    "run_condition",
    "summarise",
]

#: Fraction of the gap from the majority-class rate to 1 a run must close not to be collapsed.
COLLAPSE_SKILL = 0.1


@dataclass(frozen=True)
class Condition:
    """A labelled training configuration; its ``seed`` is replaced by each study seed."""

    label: str
    config: TrainConfig


@dataclass(frozen=True)
class Outcome:
    """One run of a condition: final metrics and the outcome class."""

    label: str
    seed: int
    lr: float
    status: str  # "trained" | "collapsed" | "diverged"
    test_loss: float
    test_accuracy: float


def majority_rate(labels: Tensor) -> float:
    """The accuracy of always predicting the most frequent label."""
    return float(torch.bincount(labels).max()) / len(labels)


def collapsed(accuracy: float, majority: float) -> bool:
    """Whether ``accuracy`` is below ``majority + COLLAPSE_SKILL · (1 - majority)``."""
    return accuracy < majority + COLLAPSE_SKILL * (1.0 - majority)


def run_condition(condition: Condition, seed: int, data: Dataset | None = None) -> Outcome:
    """Train ``condition`` with ``seed`` and classify the outcome."""
    config = replace(condition.config, seed=seed)
    data = data if data is not None else load_dataset(config.dataset, config.data_seed)
    result = train(config, data=data, on_divergence="stop")
    if result.status == "diverged" or not result.history:
        return Outcome(condition.label, seed, config.lr, "diverged", math.nan, math.nan)
    last = result.history[-1]
    accuracy = last.get("test_accuracy", math.nan)
    failed = data.task == "classification" and collapsed(accuracy, majority_rate(data.y_test))
    status = "collapsed" if failed else "trained"
    return Outcome(condition.label, seed, config.lr, status, last["test_loss"], accuracy)


def summarise(outcomes: Iterable[Outcome]) -> list[dict]:
    """Per (label, lr): runs, diverged/collapsed counts, accuracy over the finished runs."""
    groups: dict[tuple[str, float], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.label, o.lr), []).append(o)
    rows = []
    for (label, lr), runs in groups.items():
        nan = math.nan
        finished = [o for o in runs if o.status != "diverged"]
        accs = [o.test_accuracy for o in finished]
        rows.append(
            {
                "condition": label,
                "lr": lr,
                "runs": len(runs),
                "diverged": sum(o.status == "diverged" for o in runs),
                "collapsed": sum(o.status == "collapsed" for o in runs),
                "median_accuracy": statistics.median(accs) if accs else nan,
                "mean_accuracy": statistics.fmean(accs) if accs else nan,
                "median_test_loss": statistics.median(o.test_loss for o in finished)
                if accs
                else nan,
            }
        )
    return rows


def markdown_table(rows: list[dict], fmt: Callable[[float], str] = "{:.3f}".format) -> str:
    """The summary rows as a Markdown table (accuracy over the runs that did not diverge)."""
    head = "| condition | lr | diverged | collapsed | median acc. | mean acc. | median test loss |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['condition']} | {r['lr']:g} | {r['diverged']}/{r['runs']} | "
            f"{r['collapsed']}/{r['runs']} | {fmt(r['median_accuracy'])} | "
            f"{fmt(r['mean_accuracy'])} | {fmt(r['median_test_loss'])} |"
        )
    return "\n".join(lines)
