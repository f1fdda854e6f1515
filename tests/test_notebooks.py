"""Execute every notebook in ``notebooks/`` (nbclient, kernel ``python3``, cwd ``notebooks/``).

Each notebook ends with ``assert`` cells checking what it claims, so a notebook that breaks
or stops being true fails here. The executed notebook is also put in the docs build's
jupyter-cache (``docs/_build/.jupyter_cache``), so that ``make docs`` after the tests renders
the outputs without executing the notebooks a second time (see ``docs/conf.py``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CACHE = ROOT / "docs" / "_build" / ".jupyter_cache"
CELL_TIMEOUT_S = 300


def test_every_notebook_is_collected_and_stored_without_outputs():
    import nbformat

    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        assert nb.metadata.kernelspec.name == "python3", path.name
        assert any("assert " in c.source for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client / zmq internals
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MPLBACKEND", None)  # the kernel draws figures inline (PNG outputs)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert any("all checks passed" in out.get("text", "") for out in last.outputs), last.outputs
    print(f"{path.name}: {seconds:.1f} s")
    CACHE.mkdir(parents=True, exist_ok=True)
    get_cache(str(CACHE)).cache_notebook_bundle(
        CacheBundleIn(nb, str(path)), check_validity=False, overwrite=True
    )
