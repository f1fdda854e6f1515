"""Collapse study: quadratic networks with standard init vs ReLinear vs the conventional twin.

5-layer QMLP (4 hidden layers of 64) on scikit-learn digits, SGD momentum 0.9, batch 64.
Writes docs/figures/collapse_*.png and prints Markdown tables (pasted into docs/training.md).

    PYTHONPATH=. python benchmarks/collapse_study.py            # ~5 min on 2 cores
    PYTHONPATH=. python benchmarks/collapse_study.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from qexpr.nn import ReLinear, TrainConfig
from qexpr.studies._collapse import Condition, markdown_table, run_condition, summarise

ROOT = Path(__file__).resolve().parents[1]
GAMMAS = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def _init_worker() -> None:
    torch.set_num_threads(1)


def _run(args):
    return run_condition(*args)


def conditions(lr: float, epochs: int) -> list[Condition]:
    base = TrainConfig(widths=(64, 64, 64, 64), epochs=epochs, lr=lr, batch_size=64)

    def make(label, **kw):
        return Condition(label, TrainConfig.from_dict({**base.to_dict(), **kw}))

    def rl(**kw):
        return ReLinear(**kw).__dict__

    return [
        make("conventional twin", kind="relu", relinear=rl(mode="none")),
        make("conventional twin + clip 1", kind="relu", relinear=rl(mode="none", clip=1.0)),
        make("quadratic, standard init", init="standard", relinear=rl(mode="none")),
        make(
            "quadratic, standard init + clip 1", init="standard", relinear=rl(mode="none", clip=1.0)
        ),
        make("ReLinear sg γ=1e-3 (published)", relinear=rl(mode="sg", gamma_g=1e-3, gamma_b=1e-3)),
        make("ReLinear sg γ=1e-2 (published)", relinear=rl(mode="sg", gamma_g=1e-2, gamma_b=1e-2)),
        make("ReLinear sw β=1e-3 (base lr)", relinear=rl(mode="sw")),
        make(
            "qexpr ReLinear sg+sw γ=1e-2 + clip 1",
            relinear=rl(mode="sg+sw", gamma_g=1e-2, gamma_b=1e-2, clip=1.0),
        ),
    ]


def sweep(lr: float, epochs: int) -> list[Condition]:
    base = TrainConfig(widths=(64, 64, 64, 64), epochs=epochs, lr=lr, batch_size=64)
    out = []
    for gamma in GAMMAS:
        for tag, clip in (("published sg", None), ("sg + clip 1", 1.0)):
            recipe = ReLinear("sg", gamma, gamma, clip=clip)
            cfg = TrainConfig.from_dict({**base.to_dict(), "relinear": recipe.__dict__})
            out.append(Condition(f"{tag} γ={gamma:g}", cfg))
    return out


def run_all(conds, seeds, pool):
    jobs = [(c, s) for c in conds for s in seeds]
    return list(pool.map(_run, jobs))


def plot(rows_sweep, rows_main, path_sweep: Path, path_main: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, ylabel in (
        (axes[0], "mean_accuracy", "mean test accuracy (finished runs)"),
        (axes[1], "diverged", "diverged runs"),
    ):
        for tag, style in (("published sg", "o--"), ("sg + clip 1", "s-")):
            for lr in sorted({r["lr"] for r in rows_sweep}):
                rows = [r for r in rows_sweep if r["condition"].startswith(tag) and r["lr"] == lr]
                xs = [max(float(r["condition"].split("γ=")[1]), 3e-5) for r in rows]
                ys = [0.0 if math.isnan(r[metric]) else r[metric] for r in rows]
                ax.plot(xs, ys, style, label=f"{tag}, lr={lr:g}")
        for lr in sorted({r["lr"] for r in rows_main}):
            twin = [r for r in rows_main if r["condition"] == "conventional twin" and r["lr"] == lr]
            if metric == "mean_accuracy" and twin:
                ax.axhline(twin[0][metric], color="gray", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("γ (learning rate of the quadratic terms; γ=0 plotted at 3e-5)")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=7)
    fig.suptitle("5-layer QMLP on digits: γ sweep (dotted: conventional twin)")
    fig.tight_layout()
    fig.savefig(path_sweep, dpi=120)

    fig, ax = plt.subplots(figsize=(9, 4))
    labels = list(dict.fromkeys(r["condition"] for r in rows_main))
    lrs = sorted({r["lr"] for r in rows_main})
    width = 0.8 / len(lrs)
    for i, lr in enumerate(lrs):
        rows = {r["condition"]: r for r in rows_main if r["lr"] == lr}
        fail = [(rows[lb]["diverged"] + rows[lb]["collapsed"]) / rows[lb]["runs"] for lb in labels]
        ax.bar([j + i * width for j in range(len(labels))], fail, width, label=f"lr={lr:g}")
    ax.set_xticks(
        [j + width / 2 for j in range(len(labels))], labels, rotation=30, ha="right", fontsize=7
    )
    ax.set_ylabel("failure rate (diverged + collapsed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path_main, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sweep-seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 2 epochs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.sweep_seeds, args.epochs = 2, 1, 2
    args.out.mkdir(parents=True, exist_ok=True)
    lrs = (0.05, 0.1)
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        main_runs = run_all(
            [c for lr in lrs for c in conditions(lr, args.epochs)], range(args.seeds), pool
        )
        sweep_runs = run_all(
            [c for lr in lrs for c in sweep(lr, args.epochs)], range(args.sweep_seeds), pool
        )
    rows_main, rows_sweep = summarise(main_runs), summarise(sweep_runs)
    print(f"## Main table ({args.seeds} seeds, {args.epochs} epochs)\n")
    print(markdown_table(rows_main))
    print(f"\n## γ sweep ({args.sweep_seeds} seeds, {args.epochs} epochs)\n")
    print(markdown_table(rows_sweep))
    plot(
        rows_sweep,
        rows_main,
        args.out / "collapse_gamma_sweep.png",
        args.out / "collapse_failures.png",
    )
    (args.out / "collapse_study.json").write_text(
        json.dumps({"main": rows_main, "sweep": rows_sweep}, indent=1)
    )


if __name__ == "__main__":
    main()
