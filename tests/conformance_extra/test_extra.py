"""The extended differential corpus (this folder, one JSON case per file, expected values
recorded from TorchScript), run through the conformance runner with the tensorscript
backend."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent
RUNNER = Path(os.environ.get("TENSORSCRIPT_CONFORMANCE",
                             HERE.parents[2] / "shared" / "conformance")) / "run.py"


def _runner():
    if not RUNNER.is_file():
        return None
    spec = importlib.util.spec_from_file_location("conformance_run", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _runner()
CASES = run.load_cases(str(HERE)) if run is not None else []


@pytest.fixture(scope="module")
def backend():
    if run is None:
        pytest.skip("the conformance runner is not available")
    return run.load_backend("tensorscript")


def test_corpus_is_present():
    if run is None:
        pytest.skip("the conformance runner is not available")
    assert len(CASES) >= 80
    for case in CASES:
        assert Path(case["_file"]).parent.name == case["category"], case["name"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case, backend):
    try:
        run.run_case(case, backend)
    except run.CaseFailure as e:
        pytest.fail(f"{case['category']}/{case['name']}: {e}")
