"""``qexpr verify``: re-run the theorem checks end to end and write a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qexpr.cli._common import (
    JsonFlag,
    ProgressFlag,
    examples,
    one_line_errors,
    print_json,
    show_progress,
)

HELP = """Re-run the evidence for each theorem and write a report (about 2 minutes).

Measured once on a 2-core CPU shared with other work (load average about 3.5,
2026-11-30): 110 s, 103 s of it the training run; --quick 12 s. More load, more time.
A progress bar over the checks goes to stderr when it is a terminal (--progress or
--no-progress to choose).

Checks: random networks of every kind against the bounds of Theorem 1 (exact pieces and
degree, float engine = exact engine), constructions reaching their stated counts, the
inclusions ReLU ⊂ quadratic and z² ⊂ quadratic (exact), neurovariety dimensions (Theorem 2)
and a short ReLinear training run on digits. Writes
report.md, report.json and PNG figures to --out: the directory is written whole as a
temporary sibling and renamed at the end, replacing a previous report there. Exit
status 1 if any check fails.

""" + examples(
    "qexpr verify",
    "qexpr verify --quick --json",
    "qexpr verify --out /tmp/report --seed 1",
    "qexpr verify --quick --json --progress 2> progress.log",
)


@one_line_errors
def command(
    out: Annotated[
        Path, typer.Option(help="Report directory (report.md, report.json, figures).")
    ] = Path("qexpr-verify-report"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer networks, shorter training (12 s measured).")
    ] = False,
    seed: Annotated[int, typer.Option(min=0, help="First seed of networks and training.")] = 0,
    as_json: JsonFlag = False,
    progress: ProgressFlag = None,
) -> None:
    from qexpr.studies._verify import verify

    def show(check) -> None:
        status = "skipped" if check.skipped else ("passed" if check.passed else "FAILED")
        typer.echo(f"{check.name:<20}{status:<9}{check.seconds:6.1f}s  {check.details}")

    report = verify(
        out,
        quick=quick,
        seed=seed,
        on_check=None if as_json else show,
        progress=show_progress(progress),
    )
    if as_json:
        print_json(report.to_dict())
    else:
        verdict = "all checks passed" if report.passed else "SOME CHECKS FAILED"
        typer.echo(f"{verdict}; report: {out / 'report.md'}")
    if not report.passed:
        raise typer.Exit(code=1)


command.__doc__ = HELP
