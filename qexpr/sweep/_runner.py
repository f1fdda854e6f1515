"""Run one sweep job, optionally under a time limit that can always be enforced.

Without a limit the job runs in the calling process. With one, it runs in a *job process*:
a long-lived ``python -m qexpr.sweep._runner`` child of the calling thread, fed pickled
``(run, params)`` on its stdin, answering on a private copy of its stdout. When the
answer is late the child is killed (``SIGKILL`` stops even a long call inside C code such
as a flint rank) and replaced by a fresh one on the next job. One child per thread, so
it works the same in the main thread, in a loky worker and in a Dask worker thread (where
``signal.alarm`` cannot be used, and where Dask's daemonic workers may not start
``multiprocessing`` children). The child exits when its stdin closes, that is when the
worker that owns it exits. POSIX only (``select`` on pipes).
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["JobTimeout", "close_job_processes", "execute", "one_line"]

_HEADER = struct.Struct("<Q")


class JobTimeout(Exception):
    """A job ran past its time limit."""


class _JobProcessDied(Exception):
    """The job process exited without answering."""


class _JobFailed(Exception):
    """The job raised in the job process; the message is already one line."""


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    parts: list[bytes] = []
    while size:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise JobTimeout
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise JobTimeout
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise _JobProcessDied
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _read_message(fd: int, deadline: float | None) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return _read_exact(fd, size, deadline)


def _write_message(stream: Any, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


class _JobProcess:
    """A ``python -m qexpr.sweep._runner`` child that runs one job at a time."""

    def __init__(self) -> None:
        path = os.pathsep.join(entry or os.getcwd() for entry in sys.path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qexpr.sweep._runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
            bufsize=0,
        )
        _read_message(self.proc.stdout.fileno(), None)  # "ready": start-up is not job time

    def call(self, payload: bytes, timeout: float) -> tuple[str, Any]:
        try:
            _write_message(self.proc.stdin, payload)
            return pickle.loads(  # trusted: our own worker's reply
                _read_message(self.proc.stdout.fileno(), time.monotonic() + timeout)
            )
        except BrokenPipeError:
            raise _JobProcessDied from None

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


_PROCESSES: dict[int, _JobProcess] = {}
_LOCK = threading.Lock()


def close_job_processes() -> None:
    """Stop every job process this process started."""
    with _LOCK:
        processes = list(_PROCESSES.values())
        _PROCESSES.clear()
    for process in processes:
        process.close()


atexit.register(close_job_processes)


def _run_in_job_process(run: Callable[..., Any], params: Mapping[str, Any], timeout: float):
    import cloudpickle

    thread = threading.get_ident()
    with _LOCK:
        process = _PROCESSES.get(thread)
    if process is None:
        process = _JobProcess()
        with _LOCK:
            _PROCESSES[thread] = process
    try:
        status, value = process.call(cloudpickle.dumps((run, dict(params))), timeout)
    except (JobTimeout, _JobProcessDied) as exc:
        with _LOCK:
            _PROCESSES.pop(thread, None)
        code = process.proc.poll()
        process.close()
        if isinstance(exc, JobTimeout):
            raise
        raise _JobFailed(f"job process died (exit status {code})") from None
    if status == "error":
        raise _JobFailed(value)
    return value


def one_line(exc: BaseException) -> str:
    """``TypeName: message`` on one line."""
    if isinstance(exc, _JobFailed):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def execute(
    run: Callable[..., Mapping[str, Any]],
    params: Mapping[str, Any],
    results: tuple[str, ...],
    timeout: float | None,
) -> dict[str, Any]:
    """Run one job; never raises for the job's own failures.

    Returns ``{"status": "done" | "error" | "timeout", "seconds": wall time,
    "error": one-line message or "", "values": {result: value}}``.
    """
    start = time.perf_counter()
    values: dict[str, Any] = {}
    try:
        if timeout is None:
            out = run(**params)
        else:
            out = _run_in_job_process(run, params, timeout)
        if not isinstance(out, Mapping) or set(out) != set(results):
            raise TypeError(f"job returned {out!r}, expected a dict with keys {list(results)}")
        values, status, error = dict(out), "done", ""
    except JobTimeout:
        status, error = "timeout", f"stopped after the time limit of {timeout:g} s"
    except Exception as exc:
        status, error = "error", one_line(exc)
    return {
        "status": status,
        "seconds": time.perf_counter() - start,
        "error": error,
        "values": values,
    }


def _serve() -> None:
    """Child main loop: read ``(run, params)``, answer ``("ok", result)`` or ``("error", msg)``."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr
    import qexpr  # noqa: F401  (warm start: importing numpy is not job time)

    _write_message(out, b"ready")
    stdin = sys.stdin.buffer
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        payload = stdin.read(_HEADER.unpack(header)[0])
        try:
            run, params = pickle.loads(payload)  # trusted: sent by the parent process
            reply = pickle.dumps(("ok", run(**params)))
        except Exception as exc:
            reply = pickle.dumps(("error", one_line(exc)))
        _write_message(out, reply)


if __name__ == "__main__":
    _serve()
