"""Fuzzing profiles: a bounded run in `make test` (and CI), a long one with `make fuzz`."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Each example is a real request through the app and a real database; the database is shared
# by every example of a test on purpose (state builds up, as it would in production).
COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "derandomize": False,
}
settings.register_profile("ci", max_examples=40, **COMMON)
settings.register_profile("fuzz", max_examples=1500, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
