"""The documentation's moving parts: generated CLI help, toctree coverage, notebook links.

The strict Sphinx build itself runs in ``make test`` after pytest (``make docs``); these
tests check, quickly, what would otherwise only fail there.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import qexpr_cli  # noqa: E402


def _toctree_entries(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    entries = set()
    for block in re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.strip() and not line.startswith(":"):
                entries.add(line.strip())
    return entries


def test_cli_reference_has_every_command_with_its_help():
    names = qexpr_cli.command_names()
    assert {"count-pieces", "bounds", "slice", "train", "verify"} <= set(names)
    assert len(names) == len(set(names))
    top = qexpr_cli.help_text()
    for name in names:
        assert name in top
        text = qexpr_cli.help_text(name)
        assert text.startswith(f"Usage: qexpr {name} [OPTIONS]"), text[:80]
        assert "--help" in text
        assert "Traceback" not in text


def test_every_page_is_in_a_toctree_or_excluded():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    listed = _toctree_entries(DOCS / "index.md")
    listed |= {f"api/{e.removeprefix('api/')}" for e in _toctree_entries(DOCS / "api.md")}
    pages = {p.relative_to(DOCS).with_suffix("").as_posix() for p in DOCS.rglob("*.md")}
    pages |= {f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    import fnmatch

    pages = {
        p
        for p in pages
        if not any(
            fnmatch.fnmatch(p + ".md", pattern) or p.startswith(pattern.rstrip("*") + "/")
            for pattern in conf.exclude_patterns
        )
    }
    assert pages - {"index"} <= listed, sorted(pages - {"index"} - listed)
    assert listed <= pages, sorted(listed - pages)


def test_notebooks_link_is_the_notebooks_folder():
    link = DOCS / "notebooks"
    assert link.is_symlink() and link.resolve() == (ROOT / "notebooks").resolve()
