"""Pieces of a one-input QMLP over training epochs (quadratic vs conventional twin).

Trains on the synthetic one-input regression set and counts the pieces on [-1, 1] after
every epoch with qexpr.count_pieces (float mode); writes docs/figures/pieces_over_training.png.

    PYTHONPATH=. python benchmarks/pieces_over_training.py
"""

from __future__ import annotations

from pathlib import Path

import torch

from qexpr.nn import ReLinear, TrainConfig, track_pieces

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    torch.set_num_threads(1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for kind in ("relu", "compact", "quadratic"):
        cfg = TrainConfig(
            dataset="synthetic-regression",
            widths=(8, 8),
            kind=kind,
            epochs=40,
            optimizer="adam",
            lr=0.01,
            batch_size=32,
            relinear=ReLinear("sg", 1e-2, 1e-2, clip=1.0),
        )
        rows = track_pieces(cfg)
        epochs = [r["epoch"] for r in rows]
        axes[0].plot(epochs, [r["pieces"] for r in rows], label=kind)
        axes[1].plot(epochs, [r["test_loss"] for r in rows], label=kind)
        last = rows[-1]
        print(
            f"{kind:9s} pieces {last['pieces']:3d} degree {last['degree']:3d} "
            f"test loss {last['test_loss']:.4f}"
        )
    axes[0].set_ylabel("pieces on [-1, 1]")
    axes[1].set_ylabel("test MSE")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend()
    fig.suptitle("1-8-8-1 networks on the synthetic regression set")
    fig.tight_layout()
    out = ROOT / "docs" / "figures" / "pieces_over_training.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)


if __name__ == "__main__":
    main()
