"""Collapse study: quadratic networks with standard init vs ReLinear vs the conventional twin.

QMLP on scikit-learn digits, SGD momentum 0.9, batch 64. Four parts:

* **Per depth** (1-4 hidden layers of 64, lr 0.1): every step's training loss and pre-clip
  gradient norm; each run classified as plateau / learning / diverged (at which step);
  the initial spread of each layer's output and the dead ReLU units explain the plateau.
  Figure ``docs/figures/collapse_curves.png``.
* **Main table** (4 hidden layers, lr 0.05 and 0.1): outcomes over seeds, steps clipped.
* **Long runs** (``--long-epochs``, 100 by default): 4 hidden layers, standard init with
  and without clip 1, lr 0.1: does the plateau end, and how?
* **γ sweep** (``--sweep``; 4 hidden layers): the published recipe vs the same with clip 1.

Writes docs/figures/collapse_*.png and collapse_study.json and prints Markdown tables
(pasted into docs/training.md).

    PYTHONPATH=. python benchmarks/collapse_study.py            # curves, main table, long runs
    PYTHONPATH=. python benchmarks/collapse_study.py --sweep    # + the γ sweep (docs/training.md)
    PYTHONPATH=. python benchmarks/collapse_study.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from qexpr._io import write_text_atomic
from qexpr.nn import ReLinear, TrainConfig, load_dataset
from qexpr.nn._trainer import _init_model
from qexpr.studies._collapse import (
    Condition,
    classify_curve,
    fmt_number,
    init_signal,
    label_entropy,
    markdown_table,
    outcome_of,
    plot_loss_curves,
    save_figure,
    summarise,
    traced_condition,
)

ROOT = Path(__file__).resolve().parents[1]
GAMMAS = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
DEPTHS = (1, 2, 3, 4)
CURVE_LR = 0.1
VERDICTS = ("plateau", "learning", "diverged")


def _init_worker() -> None:
    torch.set_num_threads(1)


def _trace(job):
    condition, seed = job
    return traced_condition(condition, seed)[0]


def _rl(**kw) -> dict:
    return ReLinear(**kw).__dict__


def _make(base: TrainConfig, label: str, **kw) -> Condition:
    return Condition(label, TrainConfig.from_dict({**base.to_dict(), **kw}))


def depth_conditions(depth: int, epochs: int) -> list[Condition]:
    """Twin, standard init with and without clip 1, and the published ReLinear recipe."""
    base = TrainConfig(widths=(64,) * depth, epochs=epochs, lr=CURVE_LR, batch_size=64)
    return [
        _make(base, "conventional twin", kind="relu", relinear=_rl(mode="none")),
        _make(base, "standard init", init="standard", relinear=_rl(mode="none")),
        _make(base, "standard init + clip 1", init="standard", relinear=_rl(mode="none", clip=1.0)),
        _make(base, "ReLinear sg γ=1e-3", relinear=_rl(mode="sg", gamma_g=1e-3, gamma_b=1e-3)),
    ]


def conditions(lr: float, epochs: int) -> list[Condition]:
    """The main table at 4 hidden layers. Standard init + clip 1 is not here: at 4 hidden
    layers its gradient norm never reaches 1, so the clip never engages (per-depth table)."""
    base = TrainConfig(widths=(64, 64, 64, 64), epochs=epochs, lr=lr, batch_size=64)
    return [
        _make(base, "conventional twin", kind="relu", relinear=_rl(mode="none")),
        _make(base, "conventional twin + clip 1", kind="relu", relinear=_rl(mode="none", clip=1.0)),
        _make(base, "quadratic, standard init", init="standard", relinear=_rl(mode="none")),
        _make(
            base,
            "ReLinear sg γ=1e-3 (published)",
            relinear=_rl(mode="sg", gamma_g=1e-3, gamma_b=1e-3),
        ),
        _make(
            base,
            "ReLinear sg γ=1e-2 (published)",
            relinear=_rl(mode="sg", gamma_g=1e-2, gamma_b=1e-2),
        ),
        _make(base, "ReLinear sw β=1e-3 (base lr)", relinear=_rl(mode="sw")),
        _make(
            base,
            "qexpr ReLinear sg+sw γ=1e-2 + clip 1",
            relinear=_rl(mode="sg+sw", gamma_g=1e-2, gamma_b=1e-2, clip=1.0),
        ),
    ]


def sweep(lr: float, epochs: int) -> list[Condition]:
    base = TrainConfig(widths=(64, 64, 64, 64), epochs=epochs, lr=lr, batch_size=64)
    out = []
    for gamma in GAMMAS:
        for tag, clip in (("published sg", None), ("sg + clip 1", 1.0)):
            recipe = ReLinear("sg", gamma, gamma, clip=clip)
            out.append(_make(base, f"{tag} γ={gamma:g}", relinear=recipe.__dict__))
    return out


def run_all(conds, seeds, pool, data):
    """(condition, seed, trace, outcome) for every condition and seed."""
    jobs = [(c, s) for c in conds for s in seeds]
    traces = pool.map(_trace, jobs)
    return [(c, s, t, outcome_of(c, s, t, data)) for (c, s), t in zip(jobs, traces, strict=True)]


def long_conditions(epochs: int) -> list[Condition]:
    """4 hidden layers, standard init, with and without clip 1, for ``epochs`` epochs."""
    return [c for c in depth_conditions(4, epochs) if c.label.startswith("standard init")]


def long_table(runs, level: float, window: int) -> tuple[str, list[dict]]:
    """Per long run: when it left the plateau, first step with ‖g‖ > 1, divergence."""
    lines = [
        "| condition | seed | left the plateau at step | first step with ‖g‖ > 1 "
        "| diverged at step | steps clipped | test acc. |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = []
    for condition, seed, trace, outcome in runs:
        n = len(trace.steps) - (trace.diverged_step is not None)
        verdict = classify_curve(
            trace.steps[:n], trace.losses[:n], level=level, limit=math.inf, window=window
        )
        first = next((s for s, g in zip(trace.steps, trace.grad_norms) if g > 1.0), None)
        row = {
            "condition": condition.label,
            "seed": seed,
            "left_plateau": verdict.step,
            "first_grad_above_1": first,
            "diverged": trace.diverged_step,
            "steps_clipped": outcome.steps_clipped,
            "test_accuracy": outcome.test_accuracy,
        }
        cells = [_cell(row[k]) for k in list(row)[2:6]] + [fmt_number(outcome.test_accuracy)]
        lines.append(f"| {condition.label} | {seed} | {' | '.join(cells)} |")
        rows.append(row)
    return "\n".join(lines), rows


def _cell(value: int | None) -> str:
    return "–" if value is None else str(value)


def _fmt_steps(steps: list[int]) -> str:
    if not steps:
        return ""
    return f" (step {min(steps)}–{max(steps)})" if len(steps) > 1 else f" (step {steps[0]})"


def depth_table(per_depth, level: float, window: int) -> tuple[str, list[dict]]:
    """Markdown table and JSON rows: per depth and condition, how the runs behaved."""
    head = (
        "| hidden layers | condition | plateau | learning (left the plateau) | diverged "
        "| steps clipped | median max ‖g‖ | median test acc. |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    rows = []
    for depth, runs in per_depth:
        for label in dict.fromkeys(c.label for c, *_ in runs):
            mine = [(c, t, o) for c, _, t, o in runs if c.label == label]
            verdicts = [
                classify_curve(
                    t.steps, t.losses, level=level, limit=c.config.loss_limit, window=window
                )
                for c, t, _ in mine
            ]
            by = {
                k: [v.step for v in verdicts if v.status == k]
                for k in ("plateau", "learning", "diverged")
            }
            outcomes = [o for *_, o in mine]
            summary = summarise(outcomes)[0]
            accs = [o.test_accuracy for o in outcomes if o.status != "diverged"]
            acc = f"{statistics.median(accs):.3f}" if accs else "–"
            n = len(mine)
            clipped = (
                "–"
                if summary["steps_clipped"] is None
                else f"{summary['steps_clipped']}/{summary['steps']}"
            )
            lines.append(
                f"| {depth} | {label} | {len(by['plateau'])}/{n} | "
                f"{len(by['learning'])}/{n}{_fmt_steps(by['learning'])} | "
                f"{len(by['diverged'])}/{n}{_fmt_steps(by['diverged'])} | {clipped} | "
                f"{fmt_number(summary['median_max_grad_norm'])} | {acc} |"
            )
            rows.append({"depth": depth, "condition": label, **by, **summary})
    return "\n".join(lines), rows


def signal_table(seeds) -> tuple[str, list[dict]]:
    """Per depth and init: the spread of each layer's output at init, dead hidden units,
    and the training loss at init (range over the seeds)."""
    data = load_dataset("digits")
    lines = [
        "| hidden layers | init | output spread per layer (… → logits) "
        "| dead units per hidden layer | training loss at init |",
        "|---|---|---|---|---|",
    ]
    rows = []
    for depth in DEPTHS:
        for init in ("standard", "relinear"):
            signals, losses = [], []
            for seed in seeds:
                model = _init_model(TrainConfig(widths=(64,) * depth, init=init, seed=seed), data)
                signals.append(init_signal(model, list(model.layers), data.x_train))
                with torch.no_grad():
                    logits = model(data.x_train)
                losses.append(float(F.cross_entropy(logits, data.y_train)))
            spread = [statistics.median(s.spread[i] for s in signals) for i in range(depth + 1)]
            dead = [statistics.median(s.dead[i] for s in signals) for i in range(depth)]
            lines.append(
                f"| {depth} | {init} | {' → '.join(f'{v:.1e}' for v in spread)} | "
                f"{' '.join(f'{v:.2f}' for v in dead)} | {min(losses):.3f}–{max(losses):.3f} |"
            )
            rows.append(
                {"depth": depth, "init": init, "spread": spread, "dead": dead, "loss": losses}
            )
    return "\n".join(lines), rows


def plot_sweep(rows_sweep, rows_main, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
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
    save_figure(fig, path, dpi=120)


def plot_failures(rows_main, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
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
    ax.set_title("5-layer QMLP on digits: failed runs per condition")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def _timed(times: dict, name: str, work):
    start = time.perf_counter()
    out = work()
    times[name] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--curve-seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--long-epochs", type=int, default=100, help="0: skip the long runs")
    parser.add_argument("--sweep", action="store_true", help="also run the γ sweep")
    parser.add_argument("--sweep-seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 2 epochs (long: 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.sweep_seeds, args.curve_seeds, args.epochs = 2, 1, 2, 2
        args.long_epochs = min(args.long_epochs, 3)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_dataset("digits")
    level = label_entropy(data.y_train)
    window = math.ceil(len(data.x_train) / 64)  # one epoch of steps
    lrs = (0.05, 0.1)
    curve_seeds = range(args.curve_seeds)
    times: dict[str, float] = {}
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        per_depth = _timed(
            times,
            "curves",
            lambda: [
                (d, run_all(depth_conditions(d, args.epochs), curve_seeds, pool, data))
                for d in DEPTHS
            ],
        )
        main_conds = [c for lr in lrs for c in conditions(lr, args.epochs)]
        main_runs = _timed(
            times, "main", lambda: run_all(main_conds, range(args.seeds), pool, data)
        )
        long_runs = _timed(
            times,
            "long",
            lambda: (
                run_all(long_conditions(args.long_epochs), curve_seeds, pool, data)
                if args.long_epochs
                else []
            ),
        )
        sweep_conds = [c for lr in lrs for c in sweep(lr, args.epochs)] if args.sweep else []
        sweep_runs = _timed(
            times, "sweep", lambda: run_all(sweep_conds, range(args.sweep_seeds), pool, data)
        )
    signal_md, signal_rows = signal_table(curve_seeds)
    depth_md, depth_rows = depth_table(per_depth, level, window)
    long_md, long_rows = long_table(long_runs, level, window)
    rows_main = summarise(o for *_, o in main_runs)
    rows_sweep = summarise(o for *_, o in sweep_runs)
    print(f"label entropy of the training set: {level:.4f} nats (ln 10 = {math.log(10):.4f})")
    spent = ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
    print(f"runtime ({args.workers} workers): {spent}, total {sum(times.values()):.0f} s\n")
    print(f"## Initial signal ({args.curve_seeds} seeds, medians)\n")
    print(signal_md)
    print(f"\n## Per depth (lr {CURVE_LR:g}, {args.curve_seeds} seeds, {args.epochs} epochs)\n")
    print(depth_md)
    if long_runs:
        print(f"\n## Long runs (4 hidden layers, lr {CURVE_LR:g}, {args.long_epochs} epochs)\n")
        print(long_md)
    print(f"\n## Main table ({args.seeds} seeds, {args.epochs} epochs)\n")
    print(markdown_table(rows_main))
    if sweep_runs:
        print(f"\n## γ sweep ({args.sweep_seeds} seeds, {args.epochs} epochs)\n")
        print(markdown_table(rows_sweep))
        plot_sweep(rows_sweep, rows_main, args.out / "collapse_gamma_sweep.png")
    panels = [
        (f"{d} hidden layer{'s' if d > 1 else ''}", [(c.label, t) for c, _, t, _ in runs])
        for d, runs in per_depth
    ]
    plot_loss_curves(
        panels,
        args.out / "collapse_curves.png",
        level=level,
        window=window,
        title=f"QMLP (hidden width 64) on digits, SGD lr {CURVE_LR:g}, "
        f"{args.curve_seeds} seeds, {args.epochs} epochs",
    )
    plot_failures(rows_main, args.out / "collapse_failures.png")
    record = {
        "label_entropy": level,
        "runtime_s": times,
        "signal": signal_rows,
        "depth": depth_rows,
        "long": long_rows,
        "main": rows_main,
        "sweep": rows_sweep,
        "outcomes": [asdict(o) for *_, o in main_runs + sweep_runs],
    }
    write_text_atomic(args.out / "collapse_study.json", json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
