"""Run the ``qexpr`` command line in a subprocess, as a user's shell would."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m qexpr ARGS``, capturing stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "qexpr", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2, nothing on stdout, one line on stderr holding ``words``, no traceback."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qexpr: error: ")
    for word in words:
        assert word in lines[0]
