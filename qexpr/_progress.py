"""Progress of long library work: an optional callback, so that the library never prints.

A long computation takes ``progress: Progress | None`` (keyword-only) and calls
``progress(stage, done, total)`` after each step: ``done`` steps of ``total`` finished in
the named stage (a count may run through several stages, one per layer, say). The command
line draws these calls as a tqdm bar on stderr (:func:`qexpr.cli._common.progress_bar`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

__all__ = ["Progress", "tracked"]

T = TypeVar("T")

#: ``progress(stage, done, total)``: ``done`` of ``total`` steps of ``stage`` are finished.
Progress = Callable[[str, int, int], None]


def tracked(items: Sequence[T], progress: Progress | None, stage: str) -> Iterator[T]:
    """Iterate over ``items``, reporting ``(stage, done, len(items))`` once each is handled.

    The report for an item is made when the loop asks for the next one, that is after
    the loop's body ran on it.
    """
    for done, item in enumerate(items, 1):
        yield item
        if progress is not None:
            progress(stage, done, len(items))
