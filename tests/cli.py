"""Run the ``qexpr`` command line as a user's shell would: in a subprocess, or in-process.

Every test imports these helpers one way: ``from cli import invoke, run_cli, ...`` (pytest
puts ``tests/`` on ``sys.path``). Both runners go through the real entry point
(:func:`qexpr.cli.main.main`, with its one-line usage errors) and return a
:class:`subprocess.CompletedProcess` holding the exit status, stdout and stderr.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys


def run_cli(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m qexpr ARGS`` in a subprocess, capturing stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "qexpr", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    """``qexpr ARGS`` in this process (faster than :func:`run_cli`; same entry point)."""
    from qexpr.cli import main

    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ["qexpr", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main.main()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(["qexpr", *args], status, out.getvalue(), err.getvalue())


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2, nothing on stdout, one line on stderr holding ``words``, no traceback."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qexpr: error: ")
    for word in words:
        assert word in lines[0]


def train_app():
    """A typer app holding only ``qexpr train`` (in-process, tracebacks not prettified), for
    CliRunner tests that need to replace parts of torch first."""
    import typer

    from qexpr.cli import train as train_cli

    app = typer.Typer(pretty_exceptions_enable=False)
    app.command("train")(train_cli.command)
    app.command("noop")(lambda: None)  # keeps "train" a sub-command
    return app
