"""Progress bars of long commands: on stderr, only on a terminal or with ``--progress``."""

from __future__ import annotations

import json

import pytest
from cli import invoke


@pytest.mark.parametrize("flag", ["--progress", "--no-progress", None])
def test_sweep_progress_only_when_asked(tmp_path, flag):
    out = tmp_path / "r.csv"
    args = ["sweep", "count", "--kinds", "relu", "--widths", "1,2,1", "--seeds", "0-2"]
    result = invoke(
        *args, "--mode", "float", "--out", str(out), "--json", *([flag] if flag else [])
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["done"] == 3  # stdout stays one JSON object
    if flag == "--progress":
        assert "3/3" in result.stderr
    else:  # unset: the captured stderr is not a terminal
        assert result.stderr == ""
