"""Library calls leave global state alone: drawing a figure selects no matplotlib backend
and registers no pyplot figure (checked in a fresh interpreter with the svg backend)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
import qexpr
from qexpr.studies import _plots
net = qexpr.random_network("relu", [1, 3, 1], seed=0)
_plots.plot_spline(qexpr.spline_form(net), {path!r})
print(matplotlib.get_backend(), len(plt.get_fignums()))
"""


def test_plotting_keeps_the_backend_and_the_figure_registry(tmp_path):
    path = str(tmp_path / "spline.png")
    out = subprocess.run(
        [sys.executable, "-c", CODE.format(path=path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.split() == ["svg", "0"]
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
