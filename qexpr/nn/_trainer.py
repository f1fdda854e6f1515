"""The training loop: seeded, resumable bit for bit, divergence-aware, data-parallel.

:func:`train` runs named steps: :func:`_read_checkpoint` (when resuming), :func:`_set_up`
(device, process group, writable outputs, data, model, optimizer), :func:`_resume`, then
per epoch :func:`_run_epoch`, :func:`_epoch_row` (evaluation, logged quantities), :func:`_save`.

One optimizer step per *global* batch of ``batch_size`` examples. Under ``torchrun`` each
of the ``W`` processes takes a contiguous ``1/W`` slice of that batch and uses the loss
``W · (sum of its example losses) / batch_size``; DistributedDataParallel averages the
gradients over processes, so the step equals the single-process step on the whole batch.
(BatchNorm statistics stay per process unless ``sync_batchnorm``, so QResNet runs match
only approximately.)

No global state is changed: the initialisation draws from the CPU generator inside
``torch.random.fork_rng`` (restored afterwards), the example order of each epoch from its
own ``torch.Generator``; deterministic kernels, when asked for, are switched back off.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from qexpr._errors import QexprValueError
from qexpr.nn._checkpoint import (
    atomic_write_bytes,
    check_writable,
    load_checkpoint,
    save_checkpoint,
)
from qexpr.nn._config import RESUMABLE_CHANGES, TrainConfig, build_model
from qexpr.nn._data import Dataset, load_dataset
from qexpr.nn._device import deterministic, join_world, on_device, resolve_device
from qexpr.nn._relinear import linearity_report
from qexpr.nn._schedule import augment_plan, crop_flip, lr_factor

__all__ = ["TrainResult", "TrainingDivergedError", "evaluate", "train"]

#: On an accelerator the steps' losses and gradient norms are read back every this many
#: steps and at the end of each epoch, so that steps do not wait for the host; on the CPU
#: every step.
CHECK_EVERY = 20


def _check_every(device: torch.device) -> int:
    """Steps between two divergence checks on ``device``."""
    return 1 if device.type == "cpu" else CHECK_EVERY


class TrainingDivergedError(QexprValueError):
    """The loss or the gradient norm became non-finite, or the loss exceeded the limit.

    ``epoch`` and ``step`` count from 1; ``trace`` holds the diverging epoch's summed batch
    losses and pre-clip gradient norms, valid up to and including ``step`` (None when the
    error was not raised by the training loop).
    """

    def __init__(self, epoch: int, step: int, loss: float, limit: float, grad_norm: float) -> None:
        if not math.isfinite(loss):
            what = f"loss {loss:g} is non-finite"
        elif loss > limit:
            what = f"loss {loss:g} is above the limit {limit:g}"
        else:
            what = f"gradient norm {grad_norm:g} is non-finite"
        super().__init__(
            f"training diverged at epoch {epoch}, step {step}: {what}; "
            "lower --lr or --gamma-g/--gamma-b, or add --clip 1"
        )
        self.epoch, self.step, self.loss, self.grad_norm = epoch, step, loss, grad_norm
        self.trace = None


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`: the trained model, per-epoch metrics, and the status.

    ``status`` is ``"completed"`` or ``"diverged"`` (only with ``on_divergence="stop"``).
    """

    model: nn.Module
    history: list[dict[str, Any]]
    status: str
    message: str = ""


@dataclass
class _Run:
    """What :func:`_set_up` prepares (mutable: the history grows epoch by epoch)."""

    config: TrainConfig
    data: Dataset
    device: torch.device
    rank: int
    world: int
    distributed: bool
    model: nn.Module
    step_model: nn.Module
    optimizer: torch.optim.Optimizer
    history: list[dict[str, Any]]


@dataclass(frozen=True)
class _EpochTrace:
    """Per step of one epoch, on the device: summed batch loss, pre-clip gradient norm,
    ReLinear penalty (read back at the checks and once at the end)."""

    losses: Tensor
    grad_norms: Tensor
    penalties: Tensor
    examples: int


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


def _prepare_input(x: Tensor, config: TrainConfig, device: torch.device) -> Tensor:
    x = x.to(device, non_blocking=True)
    if config.channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _autocast(config: TrainConfig, device: torch.device):
    if not config.bf16:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


@torch.no_grad()
def evaluate(
    model: nn.Module, data: Dataset, config: TrainConfig, *, device: torch.device | None = None
) -> dict[str, float]:
    """Test loss (mean per example) and, for classification, accuracy.

    ``device`` defaults to the device ``config.device`` names (checked to exist).
    """
    device = resolve_device(config.device) if device is None else device
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, len(data.x_test), 1024):
        x = _prepare_input(data.x_test[start : start + 1024], config, device)
        y = data.y_test[start : start + 1024].to(device)
        with _autocast(config, device):
            out = model(x)
        total += _batch_loss(out, y, data.task)
        if data.task == "classification":
            correct += (out.argmax(1) == y).sum()
    model.train(was_training)
    n = len(data.x_test)
    metrics = {"test_loss": float(total) / n}
    if data.task == "classification":
        metrics["test_accuracy"] = int(correct) / n
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


def _init_model(config: TrainConfig, data: Dataset) -> nn.Module:
    """The model, initialised from ``config.seed`` without moving the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(config.seed)
        return build_model(config, data)


def _set_up(
    config: TrainConfig,
    data: Dataset | None,
    checkpoint: Path | None,
    metrics_path: Path | None,
) -> _Run:
    """Check device and outputs (before any work), join the process group, build everything."""
    device = resolve_device(config.device)
    if config.sync_batchnorm and device.type != "cuda":
        raise QexprValueError(f"sync_batchnorm: needs a CUDA device, got {config.device!r}")
    for path, what in ((checkpoint, "checkpoint"), (metrics_path, "metrics")):
        if path is not None:
            check_writable(path, what)
    rank, world, distributed = join_world(device)
    if data is None:
        data = load_dataset(config.dataset, config.data_seed, config.data_dir)
    if config.augment != "none" and len(data.input_shape) != 3:
        raise QexprValueError(
            f"augment {config.augment}: needs image data (C, H, W), dataset {data.name} has "
            f"inputs of shape {data.input_shape}"
        )
    data = on_device(data, device)
    model = _init_model(config, data).to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if config.sync_batchnorm and distributed:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    optimizer = _make_optimizer(config, model)
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    step_model: nn.Module = model
    if distributed:
        ids = [device.index] if device.type == "cuda" else None
        step_model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if config.compile != "off":
        mode = None if config.compile == "default" else config.compile
        step_model = torch.compile(step_model, mode=mode)
    return _Run(config, data, device, rank, world, distributed, model, step_model, optimizer, [])


def _read_checkpoint(checkpoint: Path, config: TrainConfig) -> dict[str, Any]:
    """The checkpoint to resume, checked to be this run's; one line if not."""
    state = load_checkpoint(checkpoint)
    try:
        saved = TrainConfig.from_dict(state["config"])
    except (TypeError, ValueError) as exc:
        raise QexprValueError(f"checkpoint {checkpoint}: damaged config ({exc})") from None
    differences = saved.run_differences(config)
    if differences:
        raise QexprValueError(
            f"checkpoint {checkpoint}: written by a different configuration "
            f"({'; '.join(differences)}); only {', '.join(RESUMABLE_CHANGES)} may change"
        )
    return state


def _resume(run: _Run, state: dict[str, Any], checkpoint: Path) -> None:
    """Load model, optimizer and history from a checkpoint's ``state``."""
    try:
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
    except (KeyError, RuntimeError, ValueError) as exc:
        what = str(exc).strip().splitlines()[0]
        raise QexprValueError(
            f"checkpoint {checkpoint}: damaged model or optimizer state ({what})"
        ) from None
    run.history.extend(state["history"])


def _check(run: _Run, epoch: int, trace: _EpochTrace, first: int, stop: int) -> float:
    """Raise :class:`TrainingDivergedError` at the first of steps ``first..stop-1`` whose
    per-example loss is non-finite or above ``loss_limit``, or whose gradient norm is
    non-finite (one host sync); otherwise return the last step's per-example loss."""
    limit, size = run.config.loss_limit, run.config.batch_size
    losses = trace.losses[first:stop].tolist()
    for step, (summed, norm) in enumerate(
        zip(losses, trace.grad_norms[first:stop].tolist()), first
    ):
        loss = summed / min(size, len(run.data.x_train) - step * size)
        if not (math.isfinite(loss) and loss <= limit and math.isfinite(norm)):
            error = TrainingDivergedError(epoch + 1, step + 1, loss, limit, norm)
            error.trace = trace
            raise error
    return loss


def _run_epoch(run: _Run, epoch: int, *, progress: bool) -> _EpochTrace:
    """One pass over the training set in the order of :func:`epoch_order`.

    Loss and gradient norm of each step stay on the device; :func:`_check` reads them back
    every step on the CPU (before the step is taken), every :data:`CHECK_EVERY` steps and
    at the end of the epoch on an accelerator.
    """
    from tqdm.auto import tqdm

    config, data, device, world = run.config, run.data, run.device, run.world
    n = len(data.x_train)
    n_batches = n // config.batch_size + (n % config.batch_size >= world)
    check_every = _check_every(device)
    order = epoch_order(config.seed, epoch, n)
    if config.augment == "crop-flip":
        offsets, flips = augment_plan(config.seed, epoch, n)
    for group in run.optimizer.param_groups:
        group["lr"] = group["initial_lr"] * lr_factor(config.milestones, epoch)
    params = [p for p in run.model.parameters() if p.requires_grad]
    trace = _EpochTrace(
        *(torch.zeros(n_batches, dtype=torch.float64, device=device) for _ in range(3)), examples=0
    )
    checked = 0
    bar = tqdm(
        range(n_batches),
        desc=f"epoch {epoch + 1}/{config.epochs}",
        leave=False,
        disable=not progress or run.rank != 0,
    )
    run.model.train()
    for step in bar:
        batch = order[step * config.batch_size : (step + 1) * config.batch_size]
        local = batch.tensor_split(world)[run.rank]
        x = data.x_train[local]
        if config.augment == "crop-flip":
            x = crop_flip(x, offsets[local], flips[local])
        x = _prepare_input(x, config, device)
        y = data.y_train[local].to(device, non_blocking=True)
        with _autocast(config, device):
            out = run.step_model(x)
        summed = _batch_loss(out, y, data.task)
        loss = summed * (world / len(batch))
        penalty = config.relinear.penalty(run.model)
        if penalty is not None:
            loss = loss + penalty
            trace.penalties[step] = penalty.detach()
        value = summed.detach().double()
        if run.distributed:
            torch.distributed.all_reduce(value)
        trace.losses[step] = value
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
        trace.grad_norms[step] = grad_norm
        if (step + 1) % check_every == 0 or step + 1 == n_batches:
            last = _check(run, epoch, trace, checked, step + 1)
            checked = step + 1
            bar.set_postfix(loss=f"{last:.4f}")
        if config.relinear.clip is not None:
            nn.utils.clip_grads_with_norm_(params, config.relinear.clip, grad_norm)
        run.optimizer.step()
    return replace(trace, examples=min(n, n_batches * config.batch_size))


def _epoch_row(run: _Run, epoch: int, trace: _EpochTrace, seconds: float) -> dict[str, Any]:
    """The logged metrics of one finished epoch."""
    deviations = linearity_report(run.model)
    row: dict[str, Any] = {
        "epoch": epoch + 1,
        "train_loss": float(trace.losses.sum()) / trace.examples,
    }
    row.update(evaluate(run.model, run.data, run.config, device=run.device))
    row["max_relative_deviation"] = max((d.relative for d in deviations), default=0.0)
    row["grad_norm"] = float(trace.grad_norms.mean())
    row["grad_norm_max"] = float(trace.grad_norms.max())
    row["relinear_penalty"] = float(trace.penalties.mean())
    for i, group in enumerate(run.optimizer.param_groups):
        row[f"lr_{group.get('name', i)}"] = group["lr"]
    row["seconds"] = seconds
    return row


def _save(run: _Run, checkpoint: Path | None, metrics_path: Path | None) -> None:
    """Write the checkpoint and the metrics file (rank 0 only), each atomically."""
    if run.rank != 0:
        return
    if checkpoint is not None:
        save_checkpoint(
            checkpoint,
            {
                "config": run.config.to_dict(),
                "model": run.model.state_dict(),
                "optimizer": run.optimizer.state_dict(),
                "epoch": len(run.history),
                "history": run.history,
            },
        )
    if metrics_path is not None:
        write_metrics(run.history, metrics_path)


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
        Written atomically after every epoch (model, optimizer, epoch, metrics): tensors
        and plain data that load with ``torch.load(path, weights_only=True)``.
    resume : bool
        Continue from ``checkpoint``: the run ends bit-identical to an uninterrupted one
        (on CUDA with ``deterministic=True``). The checkpoint's config must equal
        ``config`` except for the fields in ``RESUMABLE_CHANGES``.
    metrics_path : path, optional
        Per-epoch metrics, ``.json`` or ``.csv``.
    progress : bool
        tqdm progress bar over batches (on stderr, rank 0 only).
    on_divergence : {"raise", "stop"}
        Raise :class:`TrainingDivergedError`, or stop and return ``status="diverged"``.
    data : Dataset, optional
        Use this dataset instead of loading ``config.dataset``.
    on_epoch : callable, optional
        Called as ``on_epoch(model, row)`` when an epoch ends, after its checkpoint and
        metrics are written; ``row`` holds epoch, train/test loss, test accuracy,
        ``max_relative_deviation``, mean and max pre-clip gradient norm, mean ReLinear
        penalty, the learning rate of each parameter group (``lr_<name>``) and seconds.

    Device, process group and output paths are checked before any data is loaded; the
    global RNG and deterministic-algorithm settings are left as they were.
    """
    if on_divergence not in ("raise", "stop"):
        raise QexprValueError(f"on_divergence: expected 'raise' or 'stop', got {on_divergence!r}")
    if resume and checkpoint is None:
        raise QexprValueError("resume: needs a checkpoint path")
    checkpoint = None if checkpoint is None else Path(checkpoint)
    metrics_path = None if metrics_path is None else Path(metrics_path)
    state = _read_checkpoint(checkpoint, config) if resume else None
    run = _set_up(config, data, checkpoint, metrics_path)
    if state is not None:
        _resume(run, state, checkpoint)
    status, message = "completed", ""
    with deterministic(config.deterministic):
        for epoch in range(len(run.history), config.epochs):
            start = time.perf_counter()
            try:
                trace = _run_epoch(run, epoch, progress=progress)
            except TrainingDivergedError as err:
                if on_divergence == "raise":
                    raise
                status, message = "diverged", str(err)
                break
            run.history.append(_epoch_row(run, epoch, trace, time.perf_counter() - start))
            _save(run, checkpoint, metrics_path)
            if on_epoch is not None:
                on_epoch(run.model, run.history[-1])
    return TrainResult(run.model, run.history, status, message)
