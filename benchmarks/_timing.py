"""Shared timing helper of the training benchmarks.

Candidates are timed *interleaved*: every round runs each candidate once (after a
warm-up), and each candidate's time is the minimum over rounds. A burst of load from
elsewhere then slows one round of every candidate alike instead of one candidate's whole
measurement, so ratios stay meaningful on a shared machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def interleaved_min(
    fns: dict[str, Callable[[], object]], rounds: int = 7, number: int = 5, warmup: int = 3
) -> dict[str, float]:
    """Per candidate, the minimum over ``rounds`` of the mean time of ``number`` calls (s)."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            sync()
            best[name] = min(best[name], (time.perf_counter() - start) / number)
    return best
