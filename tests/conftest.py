"""Hypothesis profiles: ``ci`` (derandomized, used by ``make test``) and ``dev`` (default)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile(os.environ.get("QEXPR_HYPOTHESIS_PROFILE", "dev"))
