"""Autograd, weights I/O and the clock from script code."""
import numpy as np
import pytest

import tensorscript as ts

SOURCE = '''
import time
import torch
from typing import Dict, List, Optional


def grad_of_cube(x: Tensor) -> Tensor:
    v = x.detach()
    v.requires_grad_()
    y = (v * v * v).sum()
    gs = torch.autograd.grad([y], [v])
    g = gs[0]
    assert g is not None
    return g


def backward_square(x: Tensor) -> Tensor:
    w = x.detach().requires_grad_(True)
    assert w.requires_grad
    (w * w).sum().backward()
    g = w.grad
    assert g is not None
    return g


def fit(steps: int) -> float:
    torch.manual_seed(0)
    x = torch.randn([64, 3])
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    w = torch.zeros([3, 1], requires_grad=True)
    loss = torch.tensor(0.0)
    for _ in range(steps):
        loss = ((x @ w - y) ** 2).mean()
        gs = torch.autograd.grad([loss], [w])
        g = gs[0]
        assert g is not None
        with torch.no_grad():
            w.sub_(0.1 * g)
    return float(loss)


def roundtrip(path: str) -> Tensor:
    d: Dict[str, Tensor] = {"a.weight": torch.arange(6).reshape([2, 3]).to(torch.float32),
                            "a.steps": torch.tensor(3)}
    torch.save(d, path)
    back = torch.load(path)
    return back["a.weight"] + back["a.steps"]


def elapsed() -> float:
    t0 = time.perf_counter()
    t1 = time.perf_counter()
    return t1 - t0
'''


@pytest.fixture(scope="module")
def cu():
    return ts.CompilationUnit(SOURCE)


def test_autograd_grad_and_backward_in_script(cu):
    x = ts.tensor([1.0, -2.0, 3.0])
    np.testing.assert_allclose(cu.grad_of_cube(x).detach().numpy(), 3 * x.numpy() ** 2, rtol=1e-6)
    np.testing.assert_allclose(cu.backward_square(x).detach().numpy(), 2 * x.numpy(), rtol=1e-6)


def test_gradient_descent_in_script_converges(cu):
    assert cu.fit(200) < 1e-4


def test_weights_save_and_load_in_script(cu, tmp_path):
    path = tmp_path / "w.safetensors"
    out = cu.roundtrip(str(path))
    np.testing.assert_array_equal(out.numpy(), np.arange(6).reshape(2, 3) + 3.0)
    from safetensors.numpy import load_file
    raw = load_file(str(path))
    assert raw["a.steps"].dtype == np.int64 and raw["a.weight"].shape == (2, 3)


def test_script_load_rejects_a_bad_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 16)
    unit = ts.CompilationUnit("def f(p: str) -> int:\n    return len(torch.load(p))\n")
    with pytest.raises(ts.ScriptError, match="header length"):
        unit.f(str(bad))


def test_clock(cu):
    assert cu.elapsed() >= 0.0


def test_code_of_autograd_and_io_calls_parses_back(cu):
    for name in ("grad_of_cube", "backward_square", "fit", "roundtrip", "elapsed"):
        code = cu.get_function(name).code
        ts.CompilationUnit(code)
    assert "torch.autograd.grad(" in cu.fit.code
    assert "time.perf_counter()" in cu.elapsed.code
