"""Shared pytest configuration: hypothesis profiles (``ci`` is derandomized)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=30)
settings.load_profile(os.environ.get("QEXPR_HYPOTHESIS_PROFILE", "dev"))
