"""Certified maximum pieces for every small one-input architecture, four kinds.

For widths ``1, n1, ..., nk, 1`` with 1 <= k <= 3 hidden layers of width 1..4, runs
``qexpr.studies.max_pieces`` for the quadratic, compact, conventional ReLU and z² kinds with a
fixed evaluation budget per depth (and a time cap), and prints, per architecture, the
certified counts beside the bounds. Baseline in the same process: the best exact count of
16 seeded random quadratic networks (no search); ``ratio`` = search / baseline. Writes the
networks (``qexpr-network/1``) and ``results.jsonl`` to docs/figures/max-pieces/ and prints
the Markdown table of docs/max-pieces.md.

    PYTHONPATH=. python benchmarks/max_pieces.py [--evaluations 150,300,450] [--time 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from qexpr import count_pieces, random_network
from qexpr.studies._max_pieces import max_pieces, save_network_atomically

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures" / "max-pieces"
KINDS = ("quadratic", "compact", "relu", "square")
BASELINE_SEEDS = 16


def architectures() -> list[tuple[int, ...]]:
    return [
        (1, *hidden, 1)
        for depth in (1, 2, 3)
        for hidden in itertools.product(range(1, 5), repeat=depth)
    ]


def cell(result) -> str:
    """``pieces / bound``, bold when the count meets the bound (a proven maximum)."""
    text = f"{result.pieces} / {result.bounds.pieces}"
    return f"**{text}**" if result.proven_maximum else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", default="150,300,450", help="per depth 1,2,3")
    parser.add_argument("--time", type=float, default=20.0, help="cap per search (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    budget = [int(v) for v in args.evaluations.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows, records = [], []
    for widths in architectures():
        results = {}
        for kind in KINDS:
            result = max_pieces(
                kind,
                widths,
                time_limit=args.time,
                seed=args.seed,
                max_evaluations=budget[len(widths) - 3],
            )
            results[kind] = result
            name = f"{kind}-{'-'.join(map(str, widths))}.json"
            save_network_atomically(result.network, OUT / name)
            records.append({**result.to_dict(), "file": name})
        baseline = max(
            count_pieces(random_network("quadratic", widths, seed=s), mode="exact").pieces
            for s in range(BASELINE_SEEDS)
        )
        quadratic = results["quadratic"]
        ratio = quadratic.pieces / baseline
        beats = "yes" if quadratic.strictly_more_than_relu else "no"
        attained = quadratic.relu_max_attained or results["relu"].pieces == quadratic.relu_max
        relu_max = f"{quadratic.relu_max}" + ("" if attained else " (ub)")
        rows.append(
            f"| {','.join(map(str, widths))} | {cell(quadratic)} | {cell(results['compact'])} "
            f"| {cell(results['relu'])} | {relu_max} | {cell(results['square'])} | {beats} "
            f"| {baseline} | {ratio:.2f} |"
        )
        print(rows[-1], flush=True)
    header = (
        "| widths | quadratic | compact | ReLU | ReLU bound | z² | quadratic > ReLU bound "
        "| random quadratic (16) | ratio |\n|---|---|---|---|---|---|---|---|---|"
    )
    seconds = time.perf_counter() - started
    footer = (
        f"\nEvaluations per search {args.evaluations} (by depth), cap {args.time:g} s, "
        f"seed {args.seed}; total {seconds:.0f} s."
    )
    print("\n" + header + "\n" + "\n".join(rows) + "\n" + footer)
    with (OUT / "results.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    beaten = sum(r["strictly_more_than_relu"] for r in records if r["kind"] == "quadratic")
    proven = {k: sum(r["proven_maximum"] for r in records if r["kind"] == k) for k in KINDS}
    print(f"quadratic > ReLU bound: {beaten}/{len(rows)}; proven maxima: {proven}")
    print(f"total {seconds:.0f} s")


if __name__ == "__main__":
    main()
