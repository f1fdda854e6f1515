"""Sphinx configuration of the qexpr documentation (``make docs``).

Strict build: ``sphinx-build -W --keep-going -n``. Nothing is fetched at build time (no
intersphinx). The notebooks (``docs/notebooks`` links to ``../notebooks``) are rendered by
myst-nb in ``cache`` mode: ``tests/test_notebooks.py`` executes each notebook once and puts
the result in the same jupyter-cache (``docs/_build/.jupyter_cache``), so a docs build after
``make test`` re-uses those outputs and executes nothing; a build on its own executes each
notebook once and caches it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import qexpr  # noqa: E402

project = "qexpr"
author = "qexpr contributors"
copyright = "2026, qexpr contributors"
release = version = qexpr.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "qexpr_cli",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
# figures/*.md are generated data tables (benchmarks/theorem2_table.py) that pages cite by
# path, not pages of their own.
exclude_patterns = ["_build", "_ext", "**.ipynb_checkpoints", "figures/*.md"]
html_theme = "furo"
html_title = f"qexpr {release}"

# MyST: $...$ maths, heading anchors for in-page links.
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# Notebooks: see the module docstring.
nb_execution_mode = "cache"
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_kernel_rgx_aliases = {".*": "python3"}
# A notebook whose module has not landed yet is rendered without outputs (and skipped by
# tests/test_notebooks.py for the same reason).
nb_execution_excludepatterns = (
    [] if hasattr(qexpr, "neurovariety_dimension") else ["notebooks/03_theorem2_dimension.ipynb"]
)

# API reference: numpydoc sections; signatures keep their type hints.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

# Without intersphinx (no downloads), names from the standard library and third-party
# packages in signatures cannot be linked; these, and only these, are not nitpicked.
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np|flint|torch|nn|fractions|pathlib|typing|collections\.abc)\..*"),
    ("py:class", r"(Fraction|Path|Any|Sequence|Iterable|Callable|Literal|Mapping)"),
    ("py:class", r"(ndarray|Tensor|Module|Optimizer|Generator|os\.PathLike)"),
    ("py:func", r"numpy\..*"),
    # qexpr.spline._types's private alias for an interval end, RealAlgebraic | float | None
    # (Piece and Region say so in their docstrings).
    ("py:class", r"Endpoint"),
    # qexpr._network's type variable: Network.derived returns what its ``make`` returns.
    ("py:class", r"qexpr\._network\.T"),
]

#: The packages whose ``__all__`` the API reference must cover (checked at build time).
API_MODULES = ("qexpr", "qexpr.sweep", "qexpr.studies", "qexpr.nn")


def _dataclass_factories(app, what, name, obj, options, signature, return_annotation):
    """Dataclass defaults made by ``default_factory`` show as ``<factory>``, which is not a
    Python expression (Sphinx then cannot parse the signature); show ``...`` instead."""
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), return_annotation
    return None


def _check_api_coverage(app, env):
    """Warn (so the strict build fails) for a public name the API reference does not document."""
    import importlib

    from sphinx.util import logging

    documented = set(env.get_domain("py").objects)
    for module in API_MODULES:
        for name in importlib.import_module(module).__all__:
            if f"{module}.{name}" not in documented:
                logging.getLogger(__name__).warning(
                    "API reference: %s.%s is public (in __all__) but not documented; "
                    "add it to docs/api/%s.md",
                    module,
                    name,
                    module,
                )


def setup(app):
    app.connect("autodoc-process-signature", _dataclass_factories)
    app.connect("env-check-consistency", _check_api_coverage)
