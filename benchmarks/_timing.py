"""Shared timing helper of the training benchmarks: median seconds per call after warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def median_time(
    fn: Callable[[], object], repeats: int = 7, number: int = 5, warmup: int = 3
) -> float:
    """Median over ``repeats`` of the mean time of ``number`` calls of ``fn`` (seconds)."""
    for _ in range(warmup):
        fn()
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)
