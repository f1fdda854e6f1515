"""Helpers shared by the commands: one-line errors, JSON output, option types, checks.

Every command declares its options as ``Annotated[type, typer.Option(help=...)]`` and its
``--json`` flag as :data:`JsonFlag`; help texts end with an examples block built by
:func:`examples`, so an example command is never re-wrapped by the terminal width.
Options that name output files are checked with :func:`check_output_path` before any work.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from qexpr._errors import QexprError
from qexpr._numbers import SAFE_INT_BITS, format_integer
from qexpr._progress import Progress

F = TypeVar("F", bound=Callable[..., Any])

#: The help of every command's ``--json`` flag.
JSON_HELP = "Print one JSON object per line on stdout instead of text."

#: The ``--json`` flag, declared once for every command.
JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]

#: ``--progress/--no-progress``: a tqdm bar on stderr; unset, only when stderr is a terminal.
ProgressFlag = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="tqdm progress bar on stderr [default: when stderr is a terminal].",
        show_default=False,
    ),
]

#: Figure formats ``--plot`` accepts, read from the file name's suffix.
PLOT_FORMATS = ("png", "pdf", "svg")


def fail(message: str) -> NoReturn:
    """Print ``qexpr: error: MESSAGE`` on stderr and exit with status 2."""
    typer.echo(f"qexpr: error: {message}", err=True)
    raise typer.Exit(code=2)


def one_line_errors(func: F) -> F:
    """Turn a :class:`QexprError` raised by a command into one line on stderr and exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QexprError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def examples(*commands: str) -> str:
    """The ``Examples:`` block of a command's help; each command stays on its own line.

    click re-wraps help paragraphs to the terminal width; a paragraph that starts with
    ``\\b`` is printed as written, so each example is such a paragraph.
    """
    return "Examples:\n\n" + "\n\n".join(f"\b\n  {command}" for command in commands) + "\n"


def show_progress(progress: bool | None) -> bool:
    """``--progress`` as given, or, when unset, whether stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress


@contextlib.contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A :data:`~qexpr._progress.Progress` callback drawn as one tqdm bar on stderr, or
    ``None`` when not ``enabled`` (give it :func:`show_progress` of ``--progress``).

    Each new stage (an engine's layer, say) restarts the bar with its own total, after
    showing the finished stage once more.
    """
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bars: list[tqdm] = []  # the bar, made at the first report (nothing drawn before)
    stages: list[str] = []

    def report(stage: str, done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=stage, file=sys.stderr, unit="step"))
        elif stages != [stage]:
            bars[0].refresh()
            bars[0].set_description(stage, refresh=False)
            bars[0].reset(total=total)
        stages[:] = [stage]
        bars[0].update(done - bars[0].n)

    try:
        yield report
    finally:
        for bar in bars:
            bar.close()


def _jsonable(obj: Any) -> Any:
    """``obj`` with every integer too long for ``json.dumps`` written as exact text."""
    if isinstance(obj, dict):
        return {key: _jsonable(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(value) for value in obj]
    if isinstance(obj, int) and not isinstance(obj, bool) and obj.bit_length() > SAFE_INT_BITS:
        return format_integer(obj)
    return obj


def print_json(obj: Any) -> None:
    """Write one JSON object on one line of stdout (JSON Lines friendly).

    An integer too long for Python's JSON writer (over 4300 digits, a bound on a deep
    network, say) is written as a string, exactly (see :func:`qexpr._numbers.format_integer`).
    """
    sys.stdout.write(json.dumps(_jsonable(obj), separators=(", ", ": ")) + "\n")


def parse_widths(text: str, option: str = "--widths") -> tuple[int, ...]:
    """Parse ``"1,4,4,1"`` into ``(1, 4, 4, 1)``; raise a one-line error otherwise.

    A width has at most 9 digits, so a hostile value is refused before it is converted.
    """
    parts = text.split(",")
    if not all(part.strip().isdigit() and len(part.strip()) <= 9 for part in parts):
        fail(f"{option}: expected comma-separated positive integers such as 1,4,4,1, got {text!r}")
    widths = tuple(int(part) for part in parts)
    if len(widths) < 2 or any(w < 1 for w in widths):
        fail(f"{option}: expected at least two positive integers such as 1,4,4,1, got {text!r}")
    return widths


def check_output_path(path: Path | None, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written.

    The file must not be a directory, its parent must be an existing directory, and
    both must be writable (an existing file is replaced atomically).
    """
    if path is None:
        return
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        fail(f"{option}: {path} is a directory, expected a file name")
    if not parent.is_dir():
        fail(f"{option}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(f"{option}: cannot write in the directory {parent}")
    if path.exists() and not os.access(path, os.W_OK):
        fail(f"{option}: {path} is not writable")


def check_plot_path(path: Path | None, option: str = "--plot") -> None:
    """:func:`check_output_path`, and the suffix must name a format of :data:`PLOT_FORMATS`."""
    if path is None:
        return
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        given = f"'.{suffix}'" if suffix else "no suffix"
        fail(f"{option}: the file name must end in .{', .'.join(PLOT_FORMATS)}, got {given}")
    check_output_path(path, option)
