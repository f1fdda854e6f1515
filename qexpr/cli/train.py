"""``qexpr train``: train a quadratic network (or its conventional twin) with ReLinear."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from qexpr.cli._common import fail, one_line_errors, print_json

HELP = """Train a QMLP or QResNet with ReLinear; seeded, resumable, metrics to JSON/CSV.

Examples:

  qexpr train --model qmlp --widths 64,64 --dataset digits --relinear sg --gamma-g 1e-3

  qexpr train --init standard --relinear none --epochs 20 --json

  qexpr train --recipe reference --data-dir ~/data/cifar-10-batches-py --checkpoint ref.pt
  (QResNet-20, 200 epochs, SGD 0.1, milestones 100,150, crop-flip, γ = 1e-5)

  qexpr train --model qresnet20 --dataset cifar10 --data-dir ~/data/cifar-10-batches-py
  --checkpoint run.pt --metrics run.csv   (then add --resume to continue)

  torchrun --nproc_per_node 2 -m qexpr train --batch-size 128   (data parallel, gloo on CPU)

  torchrun --nproc_per_node 8 -m qexpr train --device cuda --model qresnet56 ...
  (one GPU per process, cuda:$LOCAL_RANK, NCCL)

Each epoch prints one line as it ends (or, with --json, one JSON object); Ctrl-C prints
the last checkpoint and the command that resumes from it (exit status 130).

The gamma's are absolute learning rates of the quadratic terms (g: wg, bg; b: wb, c).
"""


def _hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        fail(f"--widths: expected comma-separated positive integers such as 64,64, got {text!r}")
    if any(w < 1 for w in widths):
        fail(f"--widths: expected positive integers such as 64,64, got {text!r}")
    return widths


@one_line_errors
def command(
    ctx: typer.Context,
    recipe: Annotated[
        str,
        typer.Option(
            help="none | reference (the ReLinear authors' QResNet CIFAR-10 settings; "
            "options given explicitly override it)."
        ),
    ] = "none",
    model: Annotated[
        str, typer.Option(help="qmlp | qresnet20 | qresnet32 | qresnet44 | qresnet56 | qresnet110")
    ] = "qmlp",
    widths: Annotated[str, typer.Option(help="QMLP hidden widths, comma-separated.")] = "64,64",
    kind: Annotated[
        str, typer.Option(help="quadratic | compact | linear (the twin).")
    ] = "quadratic",
    init: Annotated[str, typer.Option(help="relinear | standard.")] = "relinear",
    rezero: Annotated[
        bool, typer.Option(help="ReZero scalar per residual block (QResNet).")
    ] = False,
    dataset: Annotated[
        str, typer.Option(help="digits | synthetic-classification | synthetic-regression | cifar10")
    ] = "digits",
    data_dir: Annotated[
        Path | None, typer.Option(help="Directory of the CIFAR-10 python batches.")
    ] = None,
    data_seed: Annotated[int, typer.Option(help="Seed of the train/test split.")] = 0,
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Global batch size (split over processes).")
    ] = 64,
    lr: Annotated[float, typer.Option(help="Learning rate of the linear part.")] = 0.05,
    momentum: Annotated[float, typer.Option()] = 0.9,
    weight_decay: Annotated[
        float, typer.Option(help="Weight decay of the linear part only.")
    ] = 0.0,
    optimizer: Annotated[str, typer.Option(help="sgd | adam.")] = "sgd",
    milestones: Annotated[
        str,
        typer.Option(
            help="Epochs at which every learning rate is multiplied by 0.1, e.g. 100,150."
        ),
    ] = "",
    augment: Annotated[
        str, typer.Option(help="none | crop-flip (4-pixel shifts and mirroring of images).")
    ] = "none",
    relinear: Annotated[str, typer.Option(help="none | sg | sw | sg+sw.")] = "sg",
    gamma_g: Annotated[float, typer.Option(help="Absolute learning rate of wg, bg (sg).")] = 0.001,
    gamma_b: Annotated[float, typer.Option(help="Absolute learning rate of wb, c (sg).")] = 0.001,
    alpha_g: Annotated[float, typer.Option(help="L1 pull of wg, bg to 0, 1 (sw).")] = 0.0,
    alpha_b: Annotated[float, typer.Option(help="L1 pull of wb, c to 0 (sw).")] = 0.0,
    beta_g: Annotated[float, typer.Option(help="Squared-L2 pull of wg, bg to 0, 1 (sw).")] = 0.001,
    beta_b: Annotated[float, typer.Option(help="Squared-L2 pull of wb, c to 0 (sw).")] = 0.001,
    clip: Annotated[
        float | None,
        typer.Option(help="Clip the whole gradient 2-norm to this (robust ReLinear: 1)."),
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    loss_limit: Annotated[
        float, typer.Option(help="Stop as diverged when a batch loss exceeds this.")
    ] = 1000.0,
    channels_last: Annotated[bool, typer.Option(help="Channels-last memory format.")] = False,
    bf16: Annotated[bool, typer.Option(help="bfloat16 autocast.")] = False,
    compile: Annotated[
        str, typer.Option(help="torch.compile: off | default | reduce-overhead | max-autotune.")
    ] = "off",
    sync_batchnorm: Annotated[
        bool, typer.Option(help="SyncBatchNorm over all processes (torchrun on CUDA).")
    ] = False,
    deterministic: Annotated[
        bool, typer.Option(help="Deterministic kernels (bit-identical resume on CUDA).")
    ] = False,
    device: Annotated[str, typer.Option(help="cpu | cuda | cuda:N | mps.")] = "cpu",
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file, written atomically every epoch.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --checkpoint.")] = False,
    metrics: Annotated[
        Path | None, typer.Option(help="Per-epoch metrics file (.json or .csv).")
    ] = None,
    tensorboard: Annotated[
        Path | None,
        typer.Option(help="Also log each epoch to this TensorBoard directory (needs tensorboard)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="tqdm progress bar on stderr.")] = True,
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object per epoch on stdout, as it ends.")
    ] = False,
) -> None:
    from qexpr.nn import ReLinear, TrainConfig, train

    fields = {
        "model": model,
        "widths": _hidden(widths),
        "kind": kind,
        "init": init,
        "rezero": rezero,
        "dataset": dataset,
        "data_dir": None if data_dir is None else str(data_dir),
        "data_seed": data_seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "optimizer": optimizer,
        "milestones": _milestones(milestones),
        "augment": augment,
        "seed": seed,
        "loss_limit": loss_limit,
        "channels_last": channels_last,
        "bf16": bf16,
        "compile": compile,
        "sync_batchnorm": sync_batchnorm,
        "deterministic": deterministic,
        "device": device,
    }
    relinear_fields = {
        "mode": relinear,
        "gamma_g": gamma_g,
        "gamma_b": gamma_b,
        "alpha_g": alpha_g,
        "alpha_b": alpha_b,
        "beta_g": beta_g,
        "beta_b": beta_b,
        "clip": clip,
    }
    if recipe == "none":
        config = TrainConfig(**fields, relinear=ReLinear(**relinear_fields))
    else:
        config = _from_recipe(ctx, recipe, fields, relinear_fields)
    rank0 = os.environ.get("RANK", "0") == "0"
    loggers = [_print_json if json_out else _print_line] if rank0 else []
    if tensorboard is not None and rank0:
        loggers.append(_tensorboard_logger(tensorboard))

    def on_epoch(_model: Any, row: dict[str, Any]) -> None:
        for log in loggers:
            log(row)

    try:
        train(
            config,
            checkpoint=checkpoint,
            resume=resume,
            metrics_path=metrics,
            progress=progress,
            on_epoch=on_epoch,
        )
    except KeyboardInterrupt:
        if rank0:
            typer.echo(f"qexpr: interrupted; {_resume_hint(checkpoint)}", err=True)
        raise typer.Exit(code=130) from None


def _milestones(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",")) if text else ()
    except ValueError:
        fail(f"--milestones: expected comma-separated epochs such as 100,150, got {text!r}")


def _from_recipe(
    ctx: typer.Context, name: str, fields: dict[str, Any], relinear_fields: dict[str, Any]
) -> Any:
    """The recipe's config, overridden by the options given on the command line."""
    from dataclasses import replace

    from qexpr.nn import TrainConfig
    from qexpr.nn._config import RECIPES

    def given(option: str) -> bool:  # by name: typer may bring its own click enum
        source = ctx.get_parameter_source(option)
        return getattr(source, "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP")

    if name not in RECIPES:
        fail(f"--recipe: expected none or one of {', '.join(RECIPES)}, got {name!r}")
    options = {"mode": "relinear"}
    relinear = {k: v for k, v in relinear_fields.items() if given(options.get(k, k))}
    explicit = {k: v for k, v in fields.items() if given(k)}
    return TrainConfig.from_recipe(
        name, **explicit, relinear=replace(RECIPES[name]["relinear"], **relinear)
    )


def _print_json(row: dict[str, Any]) -> None:
    print_json(row)
    sys.stdout.flush()


def _print_line(row: dict[str, Any]) -> None:
    """``epoch 3: train loss …, test loss …, test accuracy …, lr …, grad norm …, …``."""
    parts = [f"train loss {row['train_loss']:.4f}", f"test loss {row['test_loss']:.4f}"]
    if "test_accuracy" in row:
        parts.append(f"test accuracy {row['test_accuracy']:.4f}")
    lrs = " ".join(f"{k.removeprefix('lr_')}={v:g}" for k, v in row.items() if k.startswith("lr_"))
    parts += [
        f"lr {lrs}",
        f"grad norm {row['grad_norm']:.3g} (max {row['grad_norm_max']:.3g})",
        f"ReLinear penalty {row['relinear_penalty']:.3g}",
        f"{row['seconds']:.1f} s",
    ]
    typer.echo(f"epoch {row['epoch']}: " + ", ".join(parts))
    sys.stdout.flush()


def _tensorboard_logger(directory: Path) -> Callable[[dict[str, Any]], None]:
    """A logger writing each numeric field of a row as a scalar at step ``epoch``."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        fail("--tensorboard: needs the tensorboard package (pip install tensorboard)")
    writer = SummaryWriter(str(directory))

    def log(row: dict[str, Any]) -> None:
        for key, value in row.items():
            if key != "epoch":
                writer.add_scalar(key, value, row["epoch"])
        writer.flush()

    return log


def _resume_hint(checkpoint: Path | None) -> str:
    """Where the last checkpoint is and the command that continues from it."""
    if checkpoint is None:
        return "no checkpoint was written (pass --checkpoint FILE to make a run resumable)"
    if not checkpoint.is_file():
        return f"no epoch finished, {checkpoint} was not written; start the run again"
    args = [a for a in sys.argv[1:] if a != "--resume"]
    return f"last checkpoint: {checkpoint}; resume with: {shlex.join(['qexpr', *args])} --resume"


command.__doc__ = HELP
