"""``qexpr train``: train a quadratic network (or its conventional twin) with ReLinear."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import fail, one_line_errors, print_json

HELP = """Train a QMLP or QResNet with ReLinear; seeded, resumable, metrics to JSON/CSV.

Examples:

  qexpr train --model qmlp --widths 64,64 --dataset digits --relinear sg --gamma-g 1e-3

  qexpr train --init standard --relinear none --epochs 20 --json

  qexpr train --model qresnet20 --dataset cifar10 --data-dir ~/data/cifar-10-batches-py
  --checkpoint run.pt --metrics run.csv   (then add --resume to continue)

  torchrun --nproc_per_node 2 -m qexpr train --batch-size 128   (data parallel)

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
    device: Annotated[str, typer.Option()] = "cpu",
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file, written atomically every epoch.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --checkpoint.")] = False,
    metrics: Annotated[
        Path | None, typer.Option(help="Per-epoch metrics file (.json or .csv).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="tqdm progress bar on stderr.")] = True,
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object per epoch on stdout.")
    ] = False,
) -> None:
    from qexpr.nn import ReLinear, TrainConfig, train

    recipe = ReLinear(relinear, gamma_g, gamma_b, alpha_g, alpha_b, beta_g, beta_b, clip)
    config = TrainConfig(
        model=model, widths=_hidden(widths), kind=kind, init=init, rezero=rezero,
        dataset=dataset, data_dir=None if data_dir is None else str(data_dir),
        data_seed=data_seed, epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        weight_decay=weight_decay, optimizer=optimizer, relinear=recipe, seed=seed,
        loss_limit=loss_limit, channels_last=channels_last, bf16=bf16, compile=compile,
        device=device,
    )  # fmt: skip
    result = train(
        config, checkpoint=checkpoint, resume=resume, metrics_path=metrics, progress=progress
    )
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return
    for row in result.history:
        if json_out:
            print_json(row)
        else:
            acc = f", test accuracy {row['test_accuracy']:.4f}" if "test_accuracy" in row else ""
            typer.echo(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, "
                       f"test loss {row['test_loss']:.4f}{acc}")  # fmt: skip


command.__doc__ = HELP
