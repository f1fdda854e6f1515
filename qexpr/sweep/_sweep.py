"""``run_sweep``: many count or dimension jobs in parallel, results in a resumable CSV table.

Jobs run in the calling process (``workers=1``), in ``workers`` loky worker processes
(joblib), or on a Dask distributed cluster (``scheduler="tcp://host:port"``). Each finished
job appends one row to the CSV file and flushes it, so a crash loses only running jobs; a
second run with the same file skips the jobs recorded as ``done`` (and, with
``retry=False``, those recorded as ``error`` or ``timeout`` too). A recorded row is
checked before it is trusted (its key against its parameters, a ``done`` row's results
against the job type's cell checks): a bad or unreadable row is re-run and counted in
:attr:`SweepSummary.invalid`, never kept. The job types and the
columns are described in :mod:`qexpr.sweep._jobs`; the time limit in
:mod:`qexpr.sweep._runner`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qexpr._errors import QexprTypeError, QexprValueError
from qexpr._io import atomic_path, check_path
from qexpr.sweep._jobs import JobType, cell, get_job_type, job_key, row_problem
from qexpr.sweep._runner import close_job_processes, execute, one_line

__all__ = ["SweepSummary", "read_sweep", "run_sweep"]

STATUSES = ("done", "error", "timeout")

#: Seconds to wait for a Dask scheduler to answer before giving up.
CONNECT_TIMEOUT = 10.0

#: A scheduler address: ``[protocol://]host:port`` (host a name, IPv4 or ``[IPv6]``).
_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")


@dataclass(frozen=True)
class SweepSummary:
    """What one :func:`run_sweep` call did.

    Attributes
    ----------
    job
        The job type's name.
    out
        The CSV file.
    done, error, timeout
        Jobs run now, by outcome.
    skipped
        Jobs not run because ``out`` already records them.
    invalid
        Rows of ``out`` that failed their checks (or could not be read) and were re-run.
    seconds
        Wall time of the whole call.
    """

    job: str
    out: str
    done: int
    error: int
    timeout: int
    skipped: int
    seconds: float
    invalid: int = 0

    def __post_init__(self) -> None:
        counts = (self.done, self.error, self.timeout, self.skipped, self.invalid)
        if any(n < 0 for n in counts) or self.seconds < 0:
            raise QexprValueError("SweepSummary: counts and seconds must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready summary (what ``qexpr sweep --json`` prints)."""
        return asdict(self)


def _check_path(path: object, name: str) -> Path:
    path = check_path(path, name)
    if path.is_dir():
        raise QexprValueError(f"{name}: {path} is a directory, expected a CSV file")
    return path


def read_sweep(path: str | os.PathLike) -> list[dict[str, str]]:
    """The complete rows of a sweep CSV file as dicts of strings (a torn last row is dropped).

    Raises :class:`~qexpr.QexprValueError` for a file that is not a sweep table (binary, no
    ``status`` column, ...) and :class:`~qexpr.QexprTypeError` for a ``path`` of another type.
    """
    header, rows, _, _ = _read_table(_check_path(path, "path"))
    return [dict(zip(header, row)) for row in rows]


def _read_table(path: Path) -> tuple[tuple[str, ...], list[list[str]], int, bool]:
    """Header, complete rows, the number of other rows (torn, bad status), and whether the
    file is clean (every row complete, a final newline)."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            text = stream.read()
        table = list(csv.reader(io.StringIO(text)))
    except OSError as exc:
        raise QexprValueError(f"out: cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error):
        raise QexprValueError(f"out: {path} is not a CSV text file (a sweep table)") from None
    if not table:
        return (), [], 0, True
    header = tuple(table[0])
    if "status" not in header:
        raise QexprValueError(
            f"out: {path} has columns {_clip(','.join(header))}, not a sweep table "
            "(no status column)"
        )
    status = header.index("status")
    complete = [row for row in table[1:] if len(row) == len(header) and row[status] in STATUSES]
    bad = len(table) - 1 - len(complete)
    return header, complete, bad, bad == 0 and text.endswith("\n")


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with atomic_path(path) as temporary, temporary.open("w", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])


def _resume(path: Path, job_type: JobType, keys: set[str], retry: bool) -> tuple[set[str], int]:
    """Keys of this sweep's jobs already recorded, and the number of invalid rows dropped.

    ``path`` is rewritten (atomically) without the rows to rerun: jobs of this sweep not
    ``done`` (when ``retry``), duplicates, and rows that fail :func:`row_problem`.
    """
    if not path.exists() or path.stat().st_size == 0:
        _write_rows(path, job_type.columns, [])
        return set(), 0
    header, rows, invalid, clean = _read_table(path)
    if header != job_type.columns:
        raise QexprValueError(
            f"out: {path} has columns {','.join(header)}, expected "
            f"{','.join(job_type.columns)} (another job type? use another file)"
        )
    status = header.index("status")
    kept: list[list[str]] = []
    recorded: set[str] = set()
    for row in rows:
        key = row[0]
        if row_problem(job_type, row) is not None:
            invalid += 1
            continue
        rerun = retry and row[status] != "done"
        if key in keys and (rerun or key in recorded):
            continue
        if key in keys:
            recorded.add(key)
        kept.append(row)
    if not clean or len(kept) != len(rows):
        _write_rows(path, header, kept)
    return recorded, invalid


Task = tuple[int, str, dict[str, Any]]


def _task(index: int, params: dict, run: Any, results: tuple[str, ...], timeout: float | None):
    return index, execute(run, params, results, timeout)


def _serial(job_type: JobType, tasks: list[Task], timeout: float | None) -> Iterator:
    for index, _, params in tasks:
        yield _task(index, params, job_type.run, job_type.results, timeout)


def _loky(job_type: JobType, tasks: list[Task], timeout: float | None, workers: int) -> Iterator:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
    yield from parallel(
        delayed(_task)(i, params, job_type.run, job_type.results, timeout) for i, _, params in tasks
    )


def _connect(scheduler: str) -> Any:
    from distributed import Client

    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        message = " ".join(str(exc).split())
        raise QexprValueError(f"scheduler: cannot connect to {scheduler!r}: {message}") from None


def _dask(job_type: JobType, tasks: list[Task], timeout: float | None, client: Any) -> Iterator:
    from distributed import as_completed

    futures = client.map(
        _task,
        [index for index, _, _ in tasks],
        [params for _, _, params in tasks],
        run=job_type.run,
        results=job_type.results,
        timeout=timeout,
        pure=False,
    )
    index_of = {future.key: task[0] for future, task in zip(futures, tasks)}
    for future in as_completed(futures, loop=client.loop):
        try:
            yield future.result()
        except Exception as exc:  # the worker died: KilledWorker, CommClosedError, ...
            failed = {"status": "error", "seconds": 0.0, "values": {}}
            yield index_of[future.key], {**failed, "error": one_line(exc)}
        future.release()


def _check_options(workers: object, scheduler: object, timeout: object) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise QexprValueError(f"workers: expected an int >= 1, got {workers!r}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise QexprTypeError(
            f"scheduler: expected an address such as tcp://host:8786, got {scheduler!r}"
        )
    if scheduler is not None and not _ADDRESS.fullmatch(scheduler):
        raise QexprValueError(
            f"scheduler: expected an address such as tcp://host:8786, got {_clip(scheduler)!r}"
        )
    if scheduler is not None and workers != 1:
        raise QexprValueError(
            "workers: a Dask cluster has its own workers; give workers or scheduler, not both"
        )
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not (0 < timeout < math.inf)
    ):
        raise QexprValueError(f"timeout: expected None or seconds > 0, got {timeout!r}")


def run_sweep(
    job: str | JobType,
    jobs: Sequence[Mapping[str, Any]],
    out: str | os.PathLike,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    timeout: float | None = None,
    retry: bool = True,
    progress: bool = False,
) -> SweepSummary:
    """Run many jobs of one type in parallel and record one CSV row per job.

    Parameters
    ----------
    job
        A registered job type name (``"count"``, ``"dimension"``) or a :class:`JobType`.
    jobs
        One dict of parameters per job, e.g. ``{"kind": "relu", "widths": (1, 4, 1),
        "seed": 0}`` (see :func:`job_grid`); omitted parameters take their defaults.
    out
        CSV file: created if missing, appended to (and resumed from) if present. Columns:
        ``key, job``, the parameters, the results, ``status, seconds, error``.
    workers
        Worker processes (loky); 1 runs the jobs in this process.
    scheduler
        Address of a Dask distributed scheduler; the jobs then run on its workers.
    timeout
        Per-job time limit in seconds; a job past it is killed and recorded as ``timeout``.
        None: no limit, and jobs run without a separate job process.
    retry
        Rerun jobs recorded as ``error`` or ``timeout`` (jobs recorded ``done`` never rerun).
    progress
        Show a tqdm progress bar on stderr.

    Returns
    -------
    SweepSummary
    """
    job_type = get_job_type(job)
    _check_options(workers, scheduler, timeout)
    if isinstance(jobs, Mapping | str) or not isinstance(jobs, Sequence):
        raise QexprTypeError(f"jobs: expected a list of dicts, got {type(jobs).__name__}")
    prepared = [job_type.prepare(params, f"jobs[{i}]") for i, params in enumerate(jobs)]
    keys = [job_key(job_type, params) for params in prepared]
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if first.setdefault(key, i) != i:
            raise QexprValueError(f"jobs[{i}]: same parameters as jobs[{first[key]}]")
    path = _check_path(out, "out")
    client = None if scheduler is None else _connect(scheduler)
    try:
        return _run(job_type, prepared, keys, path, workers, client, timeout, retry, progress)
    finally:
        if client is not None:
            client.close()


def _run(job_type, prepared, keys, path, workers, client, timeout, retry, progress) -> SweepSummary:
    from tqdm import tqdm

    start = time.perf_counter()
    recorded, invalid = _resume(path, job_type, set(keys), retry)
    tasks = [(i, key, p) for i, (key, p) in enumerate(zip(keys, prepared)) if key not in recorded]
    if client is not None:
        results = _dask(job_type, tasks, timeout, client)
    elif workers > 1 and len(tasks) > 1:
        results = _loky(job_type, tasks, timeout, workers)
    else:
        results = _serial(job_type, tasks, timeout)
    counts = dict.fromkeys(STATUSES, 0)
    bar = tqdm(total=len(tasks), disable=not progress, unit="job", desc=job_type.name)
    try:
        with path.open("a", newline="") as stream:
            writer = csv.writer(stream)
            for index, outcome in results:
                status, params = outcome["status"], prepared[index]
                writer.writerow(
                    [keys[index], job_type.name]
                    + [cell(params[name]) for name in job_type.params]
                    + [cell(outcome["values"].get(name, "")) for name in job_type.results]
                    + [status, f"{outcome['seconds']:.6f}", outcome["error"]]
                )
                stream.flush()
                counts[status] += 1
                bar.update()
                bar.set_postfix(counts, refresh=False)
    finally:
        results.close()
        bar.close()
        close_job_processes()
    return SweepSummary(
        job=job_type.name,
        out=str(path),
        **counts,
        skipped=len(recorded),
        seconds=time.perf_counter() - start,
        invalid=invalid,
    )
