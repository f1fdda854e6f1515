"""``qexpr sweep``: a grid of count or dimension jobs in parallel, into a resumable CSV."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import (
    JsonFlag,
    ProgressFlag,
    check_output_path,
    examples,
    fail,
    one_line_errors,
    parse_widths,
    print_json,
    show_progress,
)

HELP = """Run a grid of jobs in parallel; one CSV row per job, resumable.

JOB is count (pieces of random one-input networks) or dimension (neurovariety
dimensions). The grid is every combination of --kinds, --widths (repeat it) and --seeds.
Rows are appended as jobs finish; running again with the same --out skips the jobs
already done. Jobs past --timeout are killed and recorded as timeout.

""" + examples(
    "qexpr sweep count --kinds quadratic,relu --seeds 0-99 --out r.csv",
    "qexpr sweep count --widths 1,4,4,1 --widths 1,8,8,1 --workers 2 --out r.csv",
    "qexpr sweep dimension --kinds quadratic,conv --widths 2,3,2 --out dims.csv",
    "qexpr sweep count --seeds 0-999 --scheduler tcp://127.0.0.1:8786 --out r.csv",
    "qexpr sweep count --seeds 0-9 --timeout 60 --mode float --json --out r.csv",
)


def _seed_ranges(text: str) -> list[tuple[int, int]]:
    """``"0-9,20"`` -> ``[(0, 9), (20, 20)]``, each ``A <= B``, at most 18 digits a number."""
    ranges = []
    for part in text.split(","):
        low, dash, high = part.partition("-")
        high = high if dash else low
        if not all(n.isdigit() and len(n) <= 18 for n in (low, high)) or int(high) < int(low):
            fail(f"--seeds: expected seeds or ranges such as 0-99 or 0-9,20 (A <= B), got {text!r}")
        ranges.append((int(low), int(high)))
    return ranges


def parse_seeds(text: str, limit: int | None = None) -> range | list[int]:
    """Parse ``"0-99"``, ``"3"`` or ``"0-9,20,30-31"`` into distinct seeds.

    The count is checked against ``limit`` (default :data:`qexpr.cli._budget.JOBS_LIMIT`)
    before any list is built, so ``0-100000000`` is refused at once.
    """
    from qexpr.cli._budget import JOBS_LIMIT

    limit = JOBS_LIMIT if limit is None else limit
    ranges = _seed_ranges(text)
    count = sum(high - low + 1 for low, high in ranges)
    if count > limit:
        fail(
            f"--seeds: {count} seeds, more than the {limit} allowed here "
            f"(a sweep has at most {JOBS_LIMIT} jobs: kinds x widths x seeds)"
        )
    ordered = sorted(ranges)
    if any(low <= high for (_, high), (low, _) in itertools.pairwise(ordered)):
        fail(f"--seeds: ranges overlap in {text!r}")
    if len(ranges) == 1:
        return range(ranges[0][0], ranges[0][1] + 1)
    return [seed for low, high in ranges for seed in range(low, high + 1)]


def _refusal(job: str, kind: str, widths: tuple[int, ...], axes: dict[str, list]) -> str | None:
    """Why jobs of this kind and widths exceed the budget (:mod:`qexpr.cli._budget`), or None.

    Invalid kinds, modes or exponents are left to :func:`~qexpr.sweep.run_sweep`, which
    names the job.
    """
    from qexpr._errors import QexprError
    from qexpr.cli import _budget

    try:
        if job == "count":
            from qexpr._random import random_network
            from qexpr.spline._count import resolve_mode

            refusal = _budget.check_random_size(widths)
            if refusal is not None:
                return refusal
            net = random_network(kind, widths)
            return _budget.check_count(net, resolve_mode(net, axes.get("mode", ["auto"])[0]))
        if job == "dimension":
            options = itertools.product(axes.get("r", [None]), axes.get("bias", [False]))
            refusals = (_budget.check_dimension(kind, widths, r, b) for r, b in options)
            return next((refusal for refusal in refusals if refusal is not None), None)
    except QexprError:
        return None
    return None


def _check_budget(job: str, axes: dict[str, list]) -> None:
    """Refuse, before any job runs, a grid with a kind and widths past the budget."""
    for kind, widths in itertools.product(axes["kind"], axes["widths"]):
        refusal = _refusal(job, kind, widths, axes)
        if refusal is not None:
            fail(f"--widths {','.join(map(str, widths))} ({kind}): {refusal}")


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
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-job time limit in seconds.")] = None,
    retry: Annotated[bool, typer.Option(help="Rerun jobs recorded as error or timeout.")] = True,
    progress: ProgressFlag = None,
    as_json: JsonFlag = False,
) -> None:
    from qexpr.cli._budget import JOBS_LIMIT
    from qexpr.sweep._jobs import job_grid
    from qexpr.sweep._sweep import run_sweep

    check_output_path(out, "--out")
    axes: dict[str, list] = {
        "kind": kinds.split(","),
        "widths": [parse_widths(text) for text in widths or ["1,4,4,1"]],
    }
    axes["seed"] = parse_seeds(seeds, JOBS_LIMIT // (len(axes["kind"]) * len(axes["widths"])))
    if mode is not None:
        axes["mode"] = [mode]
    if r is not None:
        try:
            axes["r"] = [int(part) for part in r.split(",")]
        except ValueError:
            fail(f"--r: expected comma-separated integers, got {r!r}")
    if bias is not None:
        axes["bias"] = [bias]
    _check_budget(job, axes)
    summary = run_sweep(
        job,
        job_grid(**axes),
        out,
        workers=workers,
        scheduler=scheduler,
        timeout=timeout,
        retry=retry,
        progress=show_progress(progress),
    )
    if as_json:
        print_json(summary.to_dict())
        return
    invalid = f", {summary.invalid} invalid rows re-run" if summary.invalid else ""
    typer.echo(
        f"{summary.done} done, {summary.error} error, {summary.timeout} timeout, "
        f"{summary.skipped} skipped{invalid} in {summary.seconds:.1f} s -> {summary.out}"
    )


command.__doc__ = HELP
