"""Helpers shared by the commands: one-line errors, JSON output, exact number options."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from qexpr._errors import QexprError

F = TypeVar("F", bound=Callable[..., Any])


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


def print_json(obj: Any) -> None:
    """Write one JSON object on one line of stdout (JSON Lines friendly)."""
    sys.stdout.write(json.dumps(obj, separators=(", ", ": ")) + "\n")


def parse_widths(text: str) -> tuple[int, ...]:
    """Parse ``"1,4,4,1"`` into ``(1, 4, 4, 1)``; raise a one-line error otherwise."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        fail(f"--widths: expected comma-separated positive integers such as 1,4,4,1, got {text!r}")
    if len(widths) < 2 or any(w < 1 for w in widths):
        fail(f"--widths: expected at least two positive integers such as 1,4,4,1, got {text!r}")
    return widths
