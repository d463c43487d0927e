"""Shared test settings: hypothesis runs a bounded, deterministic number of examples."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("tensorscript", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tensorscript"))


def pytest_configure(config):
    # Kernels return inf/nan silently as PyTorch does; pytest's per-test warning capture would
    # otherwise undo the runtime's own filter for NumPy's floating-point RuntimeWarnings.
    config.addinivalue_line("filterwarnings",
                            r"ignore::RuntimeWarning:tensorscript\.(jit\.ops|kernels)\.elementwise")
