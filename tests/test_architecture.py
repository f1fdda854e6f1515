"""The package's shape: layers import downwards only, no cycles, no facade imports, no torch
in the core, and ``import qexpr`` stays light. docs/architecture.md describes these rules;
here they are read off the source with :mod:`ast` (function-level imports included)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qexpr"

#: Components from the bottom up: a module may import its own component and those below.
LAYERS = ("core", "spline", "slice", "dimension", "sweep", "nn", "studies", "cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, absolute, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name) & set(modules) for name, path in modules.items()}


def _component(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1].startswith("_") or parts[1] == "__main__":
        return "core"
    return parts[1]


def test_every_module_belongs_to_a_known_layer():
    unknown = {m for m in _modules() if _component(m) not in LAYERS}
    assert not unknown


def test_layers_import_downwards_only():
    bad = []
    for module, targets in _graph().items():
        if module in ("qexpr", "qexpr.__main__"):
            continue  # the facade and the entry point gather everything
        rank = LAYERS.index(_component(module))
        for target in targets:
            if target != "qexpr" and LAYERS.index(_component(target)) > rank:
                bad.append(f"{module} -> {target}")
    assert bad == []


def test_no_module_imports_the_facade():
    bad = [
        module
        for module, path in _modules().items()
        if module not in ("qexpr", "qexpr.__main__")
        and re.search(r"^\s*(import qexpr\s*$|from qexpr import )", path.read_text(), re.M)
    ]
    assert bad == []


def test_no_import_cycles():
    graph = {m: {t for t in ts if t != "qexpr"} for m, ts in _graph().items() if m != "qexpr"}
    # Subpackage __init__ files re-export their modules; an edge into a package means its
    # __init__, which the package's own modules never import.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
                return True
            if nxt not in state and visit(nxt, [*stack, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if start not in state and visit(start, [start]):
            break
    assert cycle == []


def test_core_and_engines_never_import_torch():
    heavy = ("torch", "torchvision")
    bad = [
        f"{module} -> {target}"
        for module, path in _modules().items()
        if _component(module) in ("core", "spline", "slice", "dimension", "sweep")
        for target in _imports(path, module)
        if target.split(".")[0] in heavy
    ]
    assert bad == []


def test_import_qexpr_loads_no_heavy_dependency():
    code = (
        "import sys, qexpr; "
        "print(','.join(m for m in ('torch', 'sympy', 'flint') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


def test_the_architecture_page_lists_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__main__.py" and str(path.relative_to(ROOT)) not in text
    ]
    assert missing == []
