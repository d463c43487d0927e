"""The tensor-side extension of the differential corpus, run through the corpus runner's logic.

Each JSON file next to this one was generated with real PyTorch (``run.py --backend torch``
passes on this folder); here every case runs on tensorscript, and the trace cases also run
eagerly (``--eager``).
"""
import glob
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "..", "shared", "conformance"))

if not os.path.exists(os.path.join(RUNNER_DIR, "run.py")):
    pytest.skip("the conformance runner is not present", allow_module_level=True)

sys.path.insert(0, RUNNER_DIR)
try:
    import run as _runner
finally:
    sys.path.remove(RUNNER_DIR)

# Cases that need front-end support (type checker) rather than an op: see docs/ or the issue list.
FRONT_END_GAPS = {
    "grad_einsum_bmm_matmul_ranks": "torch.einsum(eq, a, b) with tensors as varargs",
    "meshgrid_and_broadcast_tensors": "torch.broadcast_tensors(a, b) with tensors as varargs",
    "index_put_accumulate": "List[Tensor] passed where List[Optional[Tensor]] is expected",
    "max_pool_indices_and_adaptive": "return_indices=True changes the result type",
    "unique_with_inverse_counts": "return_inverse/return_counts change the result type",
    "tensor_tolist_and_item": "Tensor.tolist() typed by the annotation of its target",
}

CASES = sorted(glob.glob(os.path.join(HERE, "**", "*.json"), recursive=True))


def _load(path):
    with open(path) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def backend():
    return _runner.load_backend("tensorscript")


def _ids(paths):
    return [os.path.relpath(p, HERE)[: -len(".json")] for p in paths]


def _run(case, backend, eager=False):
    reason = FRONT_END_GAPS.get(case["name"])
    try:
        _runner.run_case(case, backend, eager=eager)
    except _runner.CaseFailure as e:
        if reason:
            pytest.xfail(reason)
        pytest.fail(str(e).split("\n")[0])


@pytest.mark.parametrize("path", CASES, ids=_ids(CASES))
def test_case(path, backend):
    _run(_load(path), backend)


TRACE_CASES = [p for p in CASES if "trace_inputs" in _load(p)]


@pytest.mark.parametrize("path", TRACE_CASES, ids=_ids(TRACE_CASES))
def test_trace_case_eager(path, backend):
    case = _load(path)
    if _runner.differs_from_eager(case):
        pytest.skip("the traced result differs from eager Python by design")
    _run(case, backend, eager=True)


def test_folder_size():
    cats = {}
    for p in CASES:
        c = _load(p)
        cats[c["category"]] = cats.get(c["category"], 0) + 1
    assert sum(cats.values()) >= 100
    assert set(cats) <= {"elementwise", "indexing", "reductions", "shape_ops", "tensor_creation",
                         "type_promotion", "nn", "autograd", "programs", "trace"}
