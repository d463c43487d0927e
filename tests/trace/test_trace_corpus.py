"""Every trace case of the conformance corpus: the traced function, and its ``.code`` compiled
by ``ts.CompilationUnit``, give the recorded results."""
import json
import math
import sys
import warnings
from pathlib import Path

import pytest

import tensorscript as ts

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"
CASES = sorted((CONFORMANCE / "cases" / "trace").glob("*.json"))

pytestmark = pytest.mark.skipif(not CASES, reason="conformance corpus not found")


@pytest.fixture(scope="module")
def runner():
    sys.path.insert(0, str(CONFORMANCE))
    try:
        import run
    finally:
        sys.path.remove(str(CONFORMANCE))
    return run, run.load_backend("tensorscript")


def _trace_case(case, run, backend):
    ns = {"torch": ts, "math": math, "__name__": "trace_case"}
    exec(compile(case["source"], f"<case {case['name']}>", "exec"), ns)
    example = tuple(run.decode(a, backend) for a in case["trace_inputs"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ts.TracerWarning)
        return ts.trace(ns[case["entry"]], example)


def _check_calls(fn, case, run, backend):
    rtol, atol = case.get("rtol", 1e-5), case.get("atol", 1e-6)
    for call in case["calls"]:
        grad = call.get("grad")
        args = run._build_args(call, grad, backend)
        out = fn(*args)
        run.compare(out, call["expected"], backend, rtol, atol)
        if grad:
            run._check_grad(out, args, grad, backend, rtol, atol)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_traced_function_matches_torch(path, runner):
    run, backend = runner
    case = json.loads(path.read_text())
    traced = _trace_case(case, run, backend)
    assert isinstance(traced.code, str)
    assert str(traced.graph).startswith("graph ")
    _check_calls(traced, case, run, backend)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_traced_code_compiles_to_the_same_function(path, runner):
    run, backend = runner
    case = json.loads(path.read_text())
    traced = _trace_case(case, run, backend)
    cu = ts.CompilationUnit(traced.code)
    _check_calls(getattr(cu, traced.name), case, run, backend)
