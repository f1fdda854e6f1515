"""Approximation study: test RMSE against parameters and pieces for the three kinds.

Fits |x|, sin(4πx), Runge's function and a kink plus a bump on [-1, 1] with quadratic ReLU,
conventional ReLU and z² networks at hidden widths 8, 16, 32 in one and two layers
(full-batch Adam, seeded, float64, CPU). Writes docs/figures/approx_<target>.png,
docs/figures/approximation.json and the table between the markers in docs/approximation.md.

    PYTHONPATH=. python benchmarks/approximation_study.py [--steps 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from qexpr.studies._approximation import FORMULAS, markdown_table, study
from qexpr.studies._plots import plot_approximation

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
DOC = ROOT / "docs" / "approximation.md"
START, END = "<!-- table:start -->", "<!-- table:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()

    def report(f) -> None:
        print(
            f"{f.target:10s} {f.kind:9s} {'-'.join(map(str, f.hidden)):6s} "
            f"params {f.parameters:5d} test RMSE {f.test_rmse:.3e} pieces {f.pieces:3d}",
            flush=True,
        )

    fits = study(on_fit=report, steps=args.steps, lr=args.lr, seed=args.seed)
    FIGURES.mkdir(parents=True, exist_ok=True)
    for target in dict.fromkeys(f.target for f in fits):
        mine = [f for f in fits if f.target == target]
        plot_approximation(mine, FIGURES / f"approx_{target}.png", title=FORMULAS[target])
    records = [f.to_dict() for f in fits]
    (FIGURES / "approximation.json").write_text(json.dumps(records, indent=1) + "\n")
    text = DOC.read_text()
    head, rest = text.split(START)
    _, tail = rest.split(END)
    DOC.write_text(f"{head}{START}\n{markdown_table(fits)}\n{END}{tail}")
    print(f"{len(fits)} fits in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
