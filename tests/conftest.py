"""Shared test settings: hypothesis runs a bounded, deterministic number of examples."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("tensorscript", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tensorscript"))
