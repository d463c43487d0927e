"""A fast slice of the conformance corpus, with each optimisation pass switched off in turn
(``conformance_per_pass.py`` runs the whole corpus the same way)."""
import importlib.util
from pathlib import Path

import pytest

from conformance_per_pass import PASSES, RUNNER

if not RUNNER.exists():
    pytest.skip("the conformance corpus is not next to the repository", allow_module_level=True)

_spec = importlib.util.spec_from_file_location("conformance_run", RUNNER)
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

# Categories whose programs the passes touch; every fourth case keeps the run short.
CATEGORIES = ("control_flow", "programs", "shape_ops", "lists", "tuples", "scalars",
              "reductions", "nn", "type_promotion", "functions")
CASES = [c for c in run.load_cases(str(RUNNER.parent / "cases"))
         if c.get("category") in CATEGORIES][::4]


@pytest.fixture(scope="module")
def backend():
    return run.load_backend("tensorscript")


@pytest.mark.parametrize("disabled", PASSES)
def test_corpus_slice_with_pass_disabled(disabled, backend, monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", disabled)
    failures = []
    for case in CASES:
        try:
            run.run_case(case, backend)
        except Exception as exc:  # CaseFailure, or anything the case raised
            failures.append(f"{case['name']}: {exc}")
    assert not failures, "\n".join(failures)
