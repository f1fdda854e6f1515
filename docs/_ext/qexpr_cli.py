"""Sphinx extension: the ``qexpr-cli`` directive, every command's ``--help`` at build time.

The help text comes from the typer app itself (``qexpr.cli.main.app`` after
``_register()``), so the CLI reference lists exactly the commands that exist, with the
options and examples the installed code prints; it cannot go stale.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: Help is formatted at this width (click's default maximum), independent of the terminal.
WIDTH = 80


def command_names() -> list[str]:
    """The registered sub-commands of ``qexpr``, in registration order."""
    from qexpr.cli import main

    if not main.app.registered_commands:
        main._register()
    return [info.name for info in main.app.registered_commands]


def help_text(*args: str) -> str:
    """What ``qexpr ARGS --help`` prints (exit status 0 checked)."""
    from typer.testing import CliRunner

    from qexpr.cli import main

    command_names()
    result = CliRunner().invoke(
        main.app, [*args, "--help"], prog_name="qexpr", env={"COLUMNS": str(WIDTH)}
    )
    if result.exit_code != 0:
        raise RuntimeError(f"qexpr {' '.join(args)} --help exited with {result.exit_code}")
    return result.output.rstrip()


class QexprCliDirective(SphinxDirective):
    """``qexpr --help``, then one section per command holding its ``--help``.

    Each section is an explicit target ``qexpr-COMMAND``: ``{ref}`qexpr-verify``` links to it.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = [nodes.literal_block(text=help_text())]
        for name in command_names():
            section = nodes.section(ids=[f"qexpr-{name}"], names=[f"qexpr-{name}"])
            section += nodes.title(text=f"qexpr {name}")
            section += nodes.literal_block(text=help_text(name))
            self.state.document.note_explicit_target(section, section)
            out.append(section)
        return out


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("qexpr-cli", QexprCliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
