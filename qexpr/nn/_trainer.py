"""The training loop: seeded, resumable bit for bit, divergence-aware, data-parallel.

One optimizer step per *global* batch of ``batch_size`` examples. Under ``torchrun`` each
of the ``W`` processes takes a contiguous ``1/W`` slice of that batch and uses the loss
``W · (sum of its example losses) / batch_size``; DistributedDataParallel averages the
gradients over processes, so the step equals the single-process step on the whole batch.
(BatchNorm statistics stay per process, so QResNet runs match only approximately.)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from qexpr._errors import QexprValueError
from qexpr.nn._checkpoint import atomic_write_bytes, load_checkpoint, save_checkpoint
from qexpr.nn._config import TrainConfig, build_model
from qexpr.nn._data import Dataset, load_dataset
from qexpr.nn._relinear import linearity_report

__all__ = ["TrainResult", "TrainingDivergedError", "train"]


class TrainingDivergedError(QexprValueError):
    """The loss became non-finite or exceeded the loss limit (bad hyper-parameters)."""

    def __init__(self, epoch: int, step: int, loss: float, limit: float) -> None:
        what = "non-finite" if not math.isfinite(loss) else f"above the limit {limit:g}"
        super().__init__(
            f"training diverged at epoch {epoch}, step {step}: loss {loss:g} is {what}; "
            "lower --lr or --gamma-g/--gamma-b, or add --clip 1"
        )
        self.epoch, self.step, self.loss = epoch, step, loss


@dataclass
class TrainResult:
    """Outcome of :func:`train`: the trained model, per-epoch metrics, and the status.

    ``status`` is ``"completed"`` or ``"diverged"`` (only with ``on_divergence="stop"``).
    """

    model: nn.Module
    history: list[dict[str, Any]]
    status: str
    message: str = ""


def _world() -> tuple[int, int]:
    """(rank, world size), initialising the gloo/nccl process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = (
            "nccl" if torch.cuda.is_available() and os.environ.get("QEXPR_DDP_NCCL") else "gloo"
        )
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def _batch_loss(output: Tensor, target: Tensor, task: str) -> Tensor:
    """Sum over the examples of the per-example loss (cross-entropy or mean squared error)."""
    output = output.float()
    if task == "classification":
        return F.cross_entropy(output, target, reduction="sum")
    return F.mse_loss(output, target, reduction="sum") / output.shape[-1]


def _make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    groups = config.relinear.param_groups(model, config.lr, config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def _prepare_input(x: Tensor, config: TrainConfig) -> Tensor:
    x = x.to(config.device, non_blocking=True)
    if config.channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _autocast(config: TrainConfig):
    if not config.bf16:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(config.device).type, dtype=torch.bfloat16)


@torch.no_grad()
def evaluate(model: nn.Module, data: Dataset, config: TrainConfig) -> dict[str, float]:
    """Test loss (mean per example) and, for classification, accuracy."""
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    for start in range(0, len(data.x_test), 1024):
        x = _prepare_input(data.x_test[start : start + 1024], config)
        y = data.y_test[start : start + 1024].to(config.device)
        with _autocast(config):
            out = model(x)
        total += float(_batch_loss(out, y, data.task))
        if data.task == "classification":
            correct += int((out.argmax(1) == y).sum())
    model.train(was_training)
    n = len(data.x_test)
    metrics = {"test_loss": total / n}
    if data.task == "classification":
        metrics["test_accuracy"] = correct / n
    return metrics


def epoch_order(seed: int, epoch: int, n: int) -> Tensor:
    """The example order of one epoch, a pure function of (seed, epoch)."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=gen)


def write_metrics(history: list[dict[str, Any]], path: Path) -> None:
    """Write metrics as JSON (``.json``) or CSV (any other suffix), atomically."""
    path = Path(path)
    if path.suffix == ".json":
        text = json.dumps(history, indent=1)
    else:
        keys = list(dict.fromkeys(k for row in history for k in row))
        rows = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in history]
        text = "\n".join(rows) + "\n"
    atomic_write_bytes(path, lambda fh: fh.write(text.encode()))


def train(
    config: TrainConfig,
    *,
    checkpoint: Path | str | None = None,
    resume: bool = False,
    metrics_path: Path | str | None = None,
    progress: bool = False,
    on_divergence: str = "raise",
    data: Dataset | None = None,
    on_epoch: Callable[[nn.Module, dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train the model ``config`` describes.

    Parameters
    ----------
    config : TrainConfig
    checkpoint : path, optional
        Written atomically after every epoch (model, optimizer, epoch,
        metrics): plain data that loads with ``torch.load(..., weights_only=True)``.
    resume : bool
        Continue from ``checkpoint``: the run ends bit-identical to an uninterrupted one.
        The checkpoint's config must equal ``config`` up to ``epochs``.
    metrics_path : path, optional
        Per-epoch metrics, ``.json`` or ``.csv``.
    progress : bool
        tqdm progress bar over batches (on stderr, rank 0 only).
    on_divergence : {"raise", "stop"}
        Raise :class:`TrainingDivergedError`, or stop and return ``status="diverged"``.
    data : Dataset, optional
        Use this dataset instead of loading ``config.dataset``.
    on_epoch : callable, optional
        Called as ``on_epoch(model, metrics)`` after each epoch (e.g. to count pieces).
    """
    if on_divergence not in ("raise", "stop"):
        raise QexprValueError(f"on_divergence: expected 'raise' or 'stop', got {on_divergence!r}")
    if resume and checkpoint is None:
        raise QexprValueError("resume: needs a checkpoint path")
    rank, world = _world()
    data = (
        data
        if data is not None
        else load_dataset(config.dataset, config.data_seed, config.data_dir)
    )
    torch.manual_seed(config.seed)
    model = build_model(config, data).to(config.device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = _make_optimizer(config, model)
    history: list[dict[str, Any]] = []
    start_epoch = 0
    if resume:
        state = load_checkpoint(Path(checkpoint))
        try:
            saved = TrainConfig.from_dict(state["config"])
        except (TypeError, ValueError) as exc:
            raise QexprValueError(f"checkpoint {checkpoint}: damaged config ({exc})") from None
        if not saved.same_run(config):
            raise QexprValueError(f"checkpoint {checkpoint}: written by a different configuration")
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as exc:
            what = str(exc).strip().splitlines()[0]
            raise QexprValueError(
                f"checkpoint {checkpoint}: damaged model or optimizer state ({what})"
            ) from None
        history, start_epoch = state["history"], state["epoch"]
    step_model: nn.Module = model
    if world > 1:
        step_model = nn.parallel.DistributedDataParallel(model)
    if config.compile != "off":
        step_model = torch.compile(
            step_model, mode=None if config.compile == "default" else config.compile
        )

    from tqdm.auto import tqdm

    n = len(data.x_train)
    n_batches = n // config.batch_size + (n % config.batch_size >= world)
    status, message = "completed", ""
    for epoch in range(start_epoch, config.epochs):
        t0 = time.perf_counter()
        order = epoch_order(config.seed, epoch, n)
        total, seen = torch.zeros((), dtype=torch.float64), 0
        bar = tqdm(range(n_batches), desc=f"epoch {epoch + 1}/{config.epochs}", leave=False,
                   disable=not progress or rank != 0)  # fmt: skip
        model.train()
        for step in bar:
            batch = order[step * config.batch_size : (step + 1) * config.batch_size]
            local = batch.tensor_split(world)[rank]
            x = _prepare_input(data.x_train[local], config)
            y = data.y_train[local].to(config.device)
            with _autocast(config):
                out = step_model(x)
            summed = _batch_loss(out, y, data.task)
            loss = summed * (world / len(batch))
            penalty = config.relinear.penalty(model)
            if penalty is not None:
                loss = loss + penalty
            value = summed.detach().double().cpu()
            if world > 1:
                torch.distributed.all_reduce(value)
            per_example = float(value) / len(batch)
            if not math.isfinite(per_example) or per_example > config.loss_limit:
                err = TrainingDivergedError(epoch + 1, step + 1, per_example, config.loss_limit)
                if on_divergence == "raise":
                    raise err
                status, message = "diverged", str(err)
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            config.relinear.before_step(model)
            optimizer.step()
            total += value
            seen += len(batch)
            bar.set_postfix(loss=f"{per_example:.4f}")
        if status == "diverged":
            break
        deviations = linearity_report(model)
        row = {"epoch": epoch + 1, "train_loss": float(total) / max(seen, 1)}
        row.update(evaluate(model, data, config))
        row["max_relative_deviation"] = max((d.relative for d in deviations), default=0.0)
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if on_epoch is not None:
            on_epoch(model, row)
        if rank == 0:
            if checkpoint is not None:
                save_checkpoint(Path(checkpoint), {
                    "config": config.as_dict(), "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "epoch": epoch + 1, "history": history,
                })  # fmt: skip
            if metrics_path is not None:
                write_metrics(history, Path(metrics_path))
    return TrainResult(model, history, status, message)
