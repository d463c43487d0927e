"""Composite ops decomposed into primitives from the TensorScript sources in jit/stdlib."""
import numpy as np
import pytest

import tensorscript as ts
from tensorscript.jit.ir import dtypes
from tensorscript.jit.ir.meta import TensorMeta
from tensorscript.jit.ops import registry as R
from tensorscript.jit.passes.decompose_composites import decompose_composites, stdlib_graphs
from tensorscript.jit.specialize import propagate_shapes
from tensorscript.jit.stdlib import DECOMPOSITIONS

from jit_helpers import kinds
from pass_golden import golden

F32 = TensorMeta(dtypes.float32, (2, 5), False)


def decompose(name, source, meta=F32):
    def prepare(g):
        g.inputs[0].meta = meta
        propagate_shapes(g)
    return golden(f"decompose_composites/{name}", source,
                  lambda g: decompose_composites(g, force=True), prepare=prepare)


def test_softmax_decomposes_into_primitives():
    g = decompose("softmax", """
def f(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)
""")
    assert "softmax.int" not in kinds(g) and "exp" in kinds(g) and "amax" in kinds(g)


def test_gelu_variants():
    g = decompose("gelu", """
def f(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x) + F.gelu(x, approximate="tanh") + F.silu(x)
""".replace("F.", "torch.nn.functional."))
    names = kinds(g)
    assert "gelu" not in names and "silu" not in names and "erf" in names and "tanh" in names


def test_not_decomposed_without_a_floating_meta_or_with_a_dtype_argument():
    g = decompose("kept", """
def f(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=0, dtype=torch.float64)
""")
    assert "softmax.int" in kinds(g)
    g = decompose("kept_int", """
def f(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.silu(x)
""", TensorMeta(dtypes.int64, (3,), False))
    assert "silu" in kinds(g)


def test_only_with_fusion(monkeypatch):
    from tensorscript.jit.passes import decompose_composites as D
    monkeypatch.setattr(D, "_fusion_enabled", lambda: False)
    from jit_helpers import lower_one
    g = lower_one("""
def f(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)
""")
    g.inputs[0].meta = F32
    propagate_shapes(g)
    decompose_composites(g)
    assert "softmax.int" in kinds(g)


@pytest.mark.parametrize("qualified", sorted(DECOMPOSITIONS))
def test_every_decomposition_compiles_and_matches_the_kernel(qualified):
    op = R.get(qualified)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7)).astype(np.float32)
    params = [p.name for p in op.schema.params]
    for module, function, required in DECOMPOSITIONS[qualified]:
        graph = stdlib_graphs(module)[function]
        passed = [p for p in params if p not in required]
        assert [v.name.split(".")[0] for v in graph.inputs] == passed
        args = {"self": x, "dim": -1}
        full = [required[p] if p in required else args[p] for p in params]
        expected = op.impl(*full)
        from tensorscript.interpreter.executor import run_graph
        got = run_graph(graph, *[ts.tensor(args[p]) if p == "self" else args[p] for p in passed])
        np.testing.assert_allclose(got.numpy(), expected, rtol=2e-6, atol=2e-6)


def test_composites_run_the_same_with_and_without_decomposition(monkeypatch):
    src = """
def f(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x, dim=1) + torch.nn.functional.gelu(x)
"""
    x = ts.tensor(np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32))
    a = ts.CompilationUnit(src).f(x).numpy()
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", "decompose_composites")
    b = ts.CompilationUnit(src).f(x).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
