"""``qexpr sweep``: a grid of count or dimension jobs in parallel, into a resumable CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import fail, one_line_errors, parse_widths, print_json

HELP = """Run a grid of jobs in parallel; one CSV row per job, resumable.

JOB is count (pieces of random one-input networks) or dimension (neurovariety
dimensions). The grid is every combination of --kinds, --widths (repeat it) and --seeds.
Rows are appended as jobs finish; running again with the same --out skips the jobs
already done. Jobs past --timeout are killed and recorded as timeout.

Examples:

  qexpr sweep count --kinds quadratic,relu --widths 1,4,4,1 --widths 1,8,8,1
  --seeds 0-99 --mode float --out results.csv --workers 2

  qexpr sweep dimension --kinds quadratic,conv --widths 2,3,2 --out dims.csv

  qexpr sweep count --kinds relu --widths 1,6,6,1 --seeds 0-999 --out r.csv
  --scheduler tcp://127.0.0.1:8786 --timeout 60 --json
"""


def parse_seeds(text: str) -> list[int]:
    """Parse ``"0-99"``, ``"3"`` or ``"0-9,20,30-31"`` into a list of distinct seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
            if first < 0 or last < first:
                raise ValueError
            seeds.extend(range(first, last + 1))
    except ValueError:
        fail(f"--seeds: expected seeds or ranges such as 0-99 or 0-9,20 (A <= B), got {text!r}")
    if len(set(seeds)) != len(seeds):
        fail(f"--seeds: ranges overlap in {text!r}")
    return seeds


@one_line_errors
def command(
    job: Annotated[str, typer.Argument(help="count or dimension.", show_default=False)],
    out: Annotated[Path, typer.Option(help="CSV file (appended to and resumed).")],
    kinds: Annotated[str, typer.Option(help="Comma-separated kinds.")] = "quadratic",
    widths: Annotated[
        list[str] | None, typer.Option(help="Widths n0,n1,...,nL; repeat for several.")
    ] = None,
    seeds: Annotated[str, typer.Option(help="Seeds: 0-99, or 0-9,20.")] = "0",
    mode: Annotated[
        str | None, typer.Option(help="count: exact, float or auto (default auto).")
    ] = None,
    r: Annotated[
        str | None, typer.Option(help="dimension: exponents, comma-separated (default: kind's).")
    ] = None,
    bias: Annotated[
        bool | None, typer.Option("--bias/--no-bias", help="dimension: affine network.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-job time limit in seconds.")] = None,
    retry: Annotated[bool, typer.Option(help="Rerun jobs recorded as error or timeout.")] = True,
    progress: Annotated[bool, typer.Option(help="tqdm progress bar on stderr.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print a one-line JSON summary.")] = False,
) -> None:
    from qexpr.sweep._jobs import job_grid
    from qexpr.sweep._sweep import run_sweep

    axes: dict[str, list] = {
        "kind": [kind for kind in kinds.split(",")],
        "widths": [parse_widths(text) for text in widths or ["1,4,4,1"]],
        "seed": parse_seeds(seeds),
    }
    if mode is not None:
        axes["mode"] = [mode]
    if r is not None:
        try:
            axes["r"] = [int(part) for part in r.split(",")]
        except ValueError:
            fail(f"--r: expected comma-separated integers, got {r!r}")
    if bias is not None:
        axes["bias"] = [bias]
    summary = run_sweep(
        job,
        job_grid(**axes),
        out,
        workers=workers,
        scheduler=scheduler,
        timeout=timeout,
        retry=retry,
        progress=progress,
    )
    if as_json:
        print_json(summary.to_dict())
        return
    typer.echo(
        f"{summary.done} done, {summary.error} error, {summary.timeout} timeout, "
        f"{summary.skipped} skipped in {summary.seconds:.1f} s -> {summary.out}"
    )


command.__doc__ = HELP
