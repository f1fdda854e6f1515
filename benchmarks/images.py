"""Offline image benchmark: ResNet vs QResNet of the same depth on two small image sets.

Data (nothing is downloaded):

* ``digits``: scikit-learn's 8×8 handwritten digits as 1×8×8 images (10 classes,
  1437 train / 360 test, ``qexpr.nn.load_dataset("digits")``'s split).
* ``shapes``: generated here, 1×12×12 images of six seeded shapes (horizontal bar,
  vertical bar, diagonal, anti-diagonal, square outline, plus) at a random place, size
  and contrast on a random background with Gaussian noise (see :func:`shapes`).

Each model is ``qexpr.nn.QResNet`` of one depth (``--model``, default QResNet-20):
``kind="relu"`` (the conventional ResNet, the baseline) and ``kind="quadratic"``
(``"compact"`` on request), trained by ``qexpr.nn.train`` with the same settings and
seeds (``seed`` draws the initialisation and the example order; the data split is fixed).
The runs of one seed are interleaved, so load from elsewhere hits every kind alike. Per
dataset and kind it prints the parameter count, the final test accuracy (mean ± sample
std over seeds) and the training time per epoch (mean over every epoch of every seed),
then the ratio of each to the baseline's, measured in the same process.

    PYTHONPATH=. python benchmarks/images.py                  # ~10 min on 2 loaded cores
    PYTHONPATH=. python benchmarks/images.py --seeds 5 --epochs 30 --kinds relu,quadratic,compact
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from qexpr.nn import KINDS, MODELS, Dataset, TrainConfig, build_model, load_dataset, train

SHAPES = ("horizontal bar", "vertical bar", "diagonal", "anti-diagonal", "square", "plus")


def _masks(u: np.ndarray, v: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Boolean images of every shape, stacked on a new first axis (in ``SHAPES`` order).

    ``u, v`` are pixel offsets from each image's centre, ``half`` its half-length; strokes
    are one pixel from the centre line (three pixels wide).
    """
    inside = np.maximum(np.abs(u), np.abs(v)) <= half
    hbar = (np.abs(v) <= 1) & (np.abs(u) <= half)
    vbar = (np.abs(u) <= 1) & (np.abs(v) <= half)
    square = inside & (np.maximum(np.abs(u), np.abs(v)) >= half - 1)
    return np.stack(
        [
            hbar,
            vbar,
            (np.abs(u - v) <= 1) & inside,
            (np.abs(u + v) <= 1) & inside,
            square,
            hbar | vbar,
        ]
    )


def shapes(seed: int, *, n: int = 2000, size: int = 12, noise: float = 0.4) -> Dataset:
    """``n`` seeded 1×size×size images of :data:`SHAPES`, 80 % train / 20 % test.

    Each image: half-length ``h`` uniform in {2, …, size//2 - 1}, centre uniform such that
    the shape fits, contrast uniform in [0.5, 1.5], background uniform in [-0.5, 0.5],
    plus N(0, noise²) per pixel. The label is uniform over the six shapes.
    """
    rng = np.random.default_rng(seed)
    label = rng.integers(0, len(SHAPES), n)
    half = rng.integers(2, size // 2, n)
    cx, cy = (rng.integers(half, size - half) for _ in range(2))
    grid = np.arange(size)
    u = grid[None, None, :] - cx[:, None, None]
    v = grid[None, :, None] - cy[:, None, None]
    mask = _masks(u, v, half[:, None, None])[label, np.arange(n)]
    contrast = rng.uniform(0.5, 1.5, (n, 1, 1))
    background = rng.uniform(-0.5, 0.5, (n, 1, 1))
    x = contrast * mask + background + rng.normal(0, noise, (n, size, size))
    x = torch.from_numpy(x[:, None].astype(np.float32))
    y = torch.from_numpy(label.astype(np.int64))
    cut = n * 4 // 5
    return Dataset("shapes", x[:cut], y[:cut], x[cut:], y[cut:], "classification", len(SHAPES))


def digits_images() -> Dataset:
    """scikit-learn digits (``load_dataset("digits")``, split seed 0) as 1×8×8 images."""
    flat = load_dataset("digits", seed=0)
    as_images = [t.reshape(-1, 1, 8, 8) for t in (flat.x_train, flat.x_test)]
    return Dataset(
        "digits", as_images[0], flat.y_train, as_images[1], flat.y_test, "classification", 10
    )


@dataclass(frozen=True)
class Run:
    """One training run: final test accuracy and seconds per epoch (training pass)."""

    accuracy: float
    epoch_seconds: tuple[float, ...]


def run(config: TrainConfig, data: Dataset) -> Run:
    result = train(config, data=data, on_divergence="stop")
    if result.status != "completed":
        raise SystemExit(f"{data.name} {config.kind} seed {config.seed}: {result.message}")
    return Run(result.history[-1]["test_accuracy"], tuple(r["seconds"] for r in result.history))


def parameters(config: TrainConfig, data: Dataset) -> int:
    return sum(p.numel() for p in build_model(config, data).parameters())


def mean_std(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    resnets = [m for m in MODELS if m.startswith("qresnet")]
    parser.add_argument("--model", choices=resnets, default="qresnet20")
    parser.add_argument("--kinds", default="relu,quadratic", help="first one is the baseline")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    if not set(kinds) <= set(KINDS):
        parser.error(f"--kinds: comma-separated, each one of {', '.join(KINDS)}")
    if args.seeds < 2 or args.epochs < 1 or args.threads < 1:
        parser.error("--seeds: at least 2 (for a standard deviation); --epochs, --threads: >= 1")
    torch.set_num_threads(args.threads)
    base = {
        "model": args.model,
        "epochs": args.epochs,
        "batch_size": 64,
        "lr": 0.05,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "milestones": (max(1, args.epochs * 2 // 3),),
    }
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {args.model}, "
        f"{args.seeds} seeds, {args.epochs} epochs, SGD lr 0.05 momentum 0.9 batch 64, "
        f"weight decay 1e-4, lr x0.1 from epoch {base['milestones'][0] + 1}, ReLinear sg γ = 1e-3"
    )
    print("| data | model | parameters | test accuracy | s/epoch | × baseline params, s/epoch |")
    print("|---|---|---|---|---|---|")
    for data in (digits_images(), shapes(0)):
        runs: dict[str, list[Run]] = {kind: [] for kind in kinds}
        for seed in range(args.seeds):
            for kind in kinds:
                config = TrainConfig(**base, kind=kind, seed=seed)
                start = time.perf_counter()
                runs[kind].append(run(config, data))
                print(
                    f"{data.name} {kind} seed {seed}: accuracy {runs[kind][-1].accuracy:.3f}, "
                    f"{time.perf_counter() - start:.0f} s",
                    file=sys.stderr,
                )
        cost = {}
        for kind in kinds:
            config = TrainConfig(**base, kind=kind)
            seconds = statistics.mean(s for r in runs[kind] for s in r.epoch_seconds)
            cost[kind] = (parameters(config, data), seconds)
            ratio = [cost[kind][i] / cost[kinds[0]][i] for i in (0, 1)]
            print(
                f"| {data.name} {tuple(data.input_shape)} | {kind} | {cost[kind][0]:,} | "
                f"{mean_std([r.accuracy for r in runs[kind]])} | {seconds:.2f} | "
                f"{ratio[0]:.2f}×, {ratio[1]:.2f}× |"
            )


if __name__ == "__main__":
    main()
