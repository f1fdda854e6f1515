"""Hypothesis profiles: ``QEXPR_HYPOTHESIS_PROFILE=ci`` runs derandomized, without deadlines."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("QEXPR_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["QEXPR_HYPOTHESIS_PROFILE"])
