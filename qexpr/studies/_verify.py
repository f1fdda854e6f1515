"""``qexpr verify``: re-run the evidence for each theorem end to end and write a report.

The checks themselves are in :mod:`qexpr.studies._checks` (its docstring lists what each
compares); this module runs them in order, turns an exception into a failed check, and
writes ``report.md``, ``report.json`` and the figures.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qexpr.studies._checks import (
    Check,
    Settings,
    check_constructions,
    check_dimension,
    check_inclusions,
    check_random_networks,
    check_relinear_training,
)

__all__ = ["Check", "VerifyReport", "verify"]


@dataclass(frozen=True)
class VerifyReport:
    """All checks of one :func:`verify` run; ``passed`` when every check passed."""

    checks: tuple[Check, ...]
    out: Path | None = None

    @property
    def passed(self) -> bool:
        """True when no check failed (skipped checks do not fail)."""
        return all(check.passed for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """``{"passed": bool, "checks": [...]}`` (what ``qexpr verify --json`` prints)."""
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}


#: The checks in the order they run; each takes the settings and returns a :class:`Check`.
CHECKS: tuple[tuple[str, Callable[[Settings], Check]], ...] = (
    ("random-networks", check_random_networks),
    ("constructions", check_constructions),
    ("inclusions", check_inclusions),
    ("dimension", check_dimension),
    ("relinear-training", check_relinear_training),
)


def _run(name: str, func: Callable[[Settings], Check], settings: Settings) -> Check:
    """Run one check; an exception is a failed check (with its last line), not a crash."""
    start = time.perf_counter()
    try:
        check = func(settings)
    except Exception as exc:  # a check that cannot complete has failed
        where = traceback.extract_tb(exc.__traceback__)[-1]
        check = Check(name, False, f"FAILED: {type(exc).__name__}: {exc} "
                      f"({Path(where.filename).name}:{where.lineno})")  # fmt: skip
    seconds = time.perf_counter() - start
    return Check(check.name, check.passed, check.details, check.skipped, seconds, check.figures)


def verify(
    out: str | Path | None = "qexpr-verify-report",
    quick: bool = False,
    seed: int = 0,
    on_check: Callable[[Check], None] | None = None,
) -> VerifyReport:
    """Run every theorem check and, if ``out`` is given, write ``report.md`` and figures there.

    Parameters
    ----------
    out
        Report directory (created); ``None`` writes nothing (no figures either).
    quick
        Fewer networks and a shorter training run (for tests; a few seconds).
    seed
        First seed of the random networks and of training.
    on_check
        Called with each :class:`Check` as soon as it finishes (progress output).

    Returns
    -------
    VerifyReport
    """
    path = None if out is None else Path(out)
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    settings = Settings(quick=quick, seed=seed, out=path)
    checks = []
    for name, func in CHECKS:
        checks.append(_run(name, func, settings))
        if on_check is not None:
            on_check(checks[-1])
    report = VerifyReport(tuple(checks), path)
    if path is not None:
        _write_report(report, settings)
    return report


def _write_report(report: VerifyReport, settings: Settings) -> None:
    lines = [
        "# qexpr verify",
        "",
        f"**{'PASSED' if report.passed else 'FAILED'}** "
        f"({'quick' if settings.quick else 'default'} settings, seed {settings.seed}).",
        "Each check compares independent computations; `qexpr/studies/_checks.py` lists them.",
        "",
        "| check | result | seconds | details |",
        "|---|---|---|---|",
    ]
    for c in report.checks:
        status = "skipped" if c.skipped else ("passed" if c.passed else "**FAILED**")
        lines.append(f"| {c.name} | {status} | {c.seconds:.1f} | {c.details} |")
    lines.append("")
    for c in report.checks:
        for figure in c.figures:
            lines += [f"![{c.name}: {figure}]({figure})", ""]
    (settings.out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    (settings.out / "report.json").write_text(json.dumps(report.to_dict(), indent=1) + "\n")
