"""``qexpr verify``: re-run the evidence for each theorem end to end and write a report.

The checks themselves are in :mod:`qexpr.studies._checks` (its docstring lists what each
compares); this module runs them in order, turns an exception into a failed check, and
writes ``report.md``, ``report.json`` and the figures, only when asked (``out``), into a
temporary sibling directory renamed onto ``out`` at the end: a reader never sees half a
report, and a failed run leaves the previous report in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._io import check_path, write_text_atomic
from qexpr._numbers import check_seed
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
        check = Check(
            name,
            False,
            f"FAILED: {type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})",
        )
    seconds = time.perf_counter() - start
    return Check(check.name, check.passed, check.details, check.skipped, seconds, check.figures)


def _check_arguments(
    out: object, quick: object, seed: object, on_check: object, progress: object
) -> Path | None:
    """The report directory (None: write nothing); QexprError on any bad argument."""
    for name, flag in (("quick", quick), ("progress", progress)):
        if not isinstance(flag, bool):
            raise QexprTypeError(f"{name}: expected True or False, got {flag!r}")
    check_seed(seed)
    if on_check is not None and not callable(on_check):
        raise QexprTypeError(f"on_check: expected None or a function, got {on_check!r}")
    if out is None:
        return None
    path = check_path(out, "out")
    if not path.absolute().parent.is_dir():
        raise QexprValueError(f"out: the directory {path.absolute().parent} does not exist")
    if path.exists() and not path.is_dir():
        raise QexprValueError(f"out: {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not (path / "report.json").is_file():
        raise QexprValueError(f"out: {path} is not empty and holds no qexpr report; give another")
    return path


@contextlib.contextmanager
def _report_directory(path: Path) -> Iterator[Path]:
    """A new sibling directory of ``path``; on success it replaces ``path`` (a previous report)."""
    parent = path.absolute().parent
    temporary = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}."))
    mask = os.umask(0o022)
    os.umask(mask)
    try:
        yield temporary
        temporary.chmod(0o777 & ~mask)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.old."))
            os.replace(path, old / path.name)
        os.replace(temporary, path)
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def verify(
    out: str | os.PathLike[str] | None = None,
    *,
    quick: bool = False,
    seed: int = 0,
    on_check: Callable[[Check], None] | None = None,
    progress: bool = False,
) -> VerifyReport:
    """Run every theorem check and, if ``out`` is given, write ``report.md`` and figures there.

    Parameters
    ----------
    out
        Report directory; ``None`` (the default) writes nothing, no figures either. It is
        written whole as a temporary sibling, renamed onto ``out`` at the end; an existing
        ``out`` must be empty or hold a previous report (which is replaced).
    quick
        Fewer networks and a shorter training run (for tests; a few seconds).
    seed
        First seed of the random networks and of training.
    on_check
        Called with each :class:`Check` as soon as it finishes (progress output).
    progress
        Show a tqdm bar over the checks on stderr, named after the check that runs.

    Returns
    -------
    VerifyReport

    Raises
    ------
    QexprTypeError, QexprValueError
        For a bad argument, before any check runs.
    """
    path = _check_arguments(out, quick, seed, on_check, progress)
    if path is None:
        return _run_checks(Settings(quick=quick, seed=seed, out=None), on_check, None, progress)
    with _report_directory(path) as temporary:
        settings = Settings(quick=quick, seed=seed, out=temporary)
        report = _run_checks(settings, on_check, path, progress)
        _write_report(report, settings)
    return report


def _run_checks(
    settings: Settings,
    on_check: Callable[[Check], None] | None,
    path: Path | None,
    progress: bool,
) -> VerifyReport:
    """Run :data:`CHECKS` in order; the bar (stderr) is cleared while ``on_check`` prints."""
    from tqdm import tqdm

    checks = []
    with tqdm(total=len(CHECKS), disable=not progress, unit="check", file=sys.stderr) as bar:
        for name, func in CHECKS:
            bar.set_description(name)
            checks.append(_run(name, func, settings))
            bar.update()
            if on_check is not None:
                with tqdm.external_write_mode():
                    on_check(checks[-1])
    return VerifyReport(tuple(checks), path)


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
    write_text_atomic(settings.out / "report.md", "\n".join(lines))
    write_text_atomic(settings.out / "report.json", json.dumps(report.to_dict(), indent=1) + "\n")
