"""Shape specialisation: metas propagated through the graph, shape queries folded, variants
behind a guard on (dtype, shape, requires_grad), and the same results as the generic graph."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorscript as ts
from tensorscript.jit import specialize as S
from tensorscript.jit.ir import dtypes
from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir.meta import TensorMeta
from tensorscript.jit.passes.pipeline import DEFAULT_PASSES

from jit_helpers import assert_expected, kinds, lower_one

F32 = dtypes.float32


def metas_of(g):
    return {v.debug_name: v.meta for n in g.nodes() for v in n.outputs if v.meta is not None}


def propagated(source, *metas):
    g = lower_one(source)
    for v, m in zip(g.inputs, metas):
        v.meta = m
    return S.propagate_shapes(g)


def test_propagation_through_ops():
    g = propagated("""
def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = torch.matmul(x, w)
    z = (y + 1.0).sum(1, keepdim=True)
    return torch.cat([z, z], dim=0).to(torch.float64)
""", TensorMeta(F32, (4, 3)), TensorMeta(F32, (3, 5)))
    shapes = [(n.op.name, n.output.meta.shape, n.output.meta.dtype.name)
              for n in g.nodes() if n.kind == G.OP and n.outputs and n.output.meta is not None]
    assert ("matmul", (4, 5), "float32") in shapes
    assert ("sum", (4, 1), "float32") in shapes
    assert ("cat", (8, 1), "float32") in shapes
    assert ("to", (8, 1), "float64") in shapes


def test_pointwise_broadcasting_and_promotion():
    g = propagated("""
def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * y + 1
""", TensorMeta(dtypes.int64, (3, 1)), TensorMeta(F32, (1, 4)))
    assert g.outputs[0].meta == TensorMeta(F32, (3, 4))


def test_data_dependent_and_random_ops_are_unknown():
    g = propagated("""
def f(x: torch.Tensor) -> torch.Tensor:
    a = torch.nonzero(x)
    b = torch.rand([2, 2])
    return x[x > 0]
""", TensorMeta(F32, (3, 3)))
    for n in g.nodes():
        if n.kind == G.OP and n.op.name in ("nonzero", "rand", "index"):
            assert n.output.meta is None, n


def test_loop_carried_shapes_join_to_a_fixed_point():
    g = propagated("""
def f(x: torch.Tensor, n: int) -> torch.Tensor:
    for i in range(n):
        x = torch.cat([x, x], dim=0)
    return x
""", TensorMeta(F32, (2, 3)))
    assert g.outputs[0].meta == TensorMeta(F32, (None, 3))


def test_if_outputs_join():
    g = propagated("""
def f(x: torch.Tensor, c: bool) -> torch.Tensor:
    if c:
        y = x.sum(0)
    else:
        y = x[0]
    return y
""", TensorMeta(F32, (2, 3)))
    assert g.outputs[0].meta == TensorMeta(F32, (3,))


SOURCE = """
def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    n = x.size(0)
    if x.dim() == 2:
        y = torch.matmul(x, w)
    else:
        y = x.sum(0)
    for i in range(len(x.shape)):
        y = y * 2.0
    return y / n
"""


def test_graph_for_shows_the_specialised_graph():
    cu = ts.CompilationUnit(SOURCE)
    x = ts.tensor(np.ones((4, 3), np.float32))
    w = ts.tensor(np.ones((3, 2), np.float32))
    g = cu.f.graph_for(x, w)
    names = kinds(g)
    assert G.IF not in names and G.LOOP not in names
    assert "size.int" not in names and "dim" not in names
    assert g.inputs[0].meta == TensorMeta(F32, (4, 3), False)
    generic = cu.f.graph
    assert G.IF in kinds(generic) and "dim" in kinds(generic)


OWN_PASSES = ("fold_constants", "specialize_shapes", "unroll_loops", "simplify_algebra",
              "eliminate_common_subexpressions", "eliminate_dead_code")


def test_golden_specialised_graph():
    passes = [p for p in DEFAULT_PASSES if p.name in OWN_PASSES]
    g = lower_one(SOURCE)
    s = S.specialize(g, {0: TensorMeta(F32, (4, 3), False), 1: TensorMeta(F32, (3, 2), False)},
                     passes)
    assert_expected(str(s), "specialize/matmul_branch")


def test_variants_and_bounds():
    cu = ts.CompilationUnit("""
def f(x: torch.Tensor) -> int:
    return x.size(0) * 10 + x.dim()
""")
    for n in range(1, 13):
        assert cu.f(ts.tensor(np.zeros((n, 2), np.float32))) == n * 10 + 2
    specs = cu.f._specs
    assert len(specs.plans) == S.MAX_VARIANTS
    assert len(specs.relaxed) == 1  # float32 rank 2, sizes dynamic
    relaxed = specs.graph_for([ts.tensor(np.zeros((12, 2), np.float32))])
    assert "size.int" in kinds(relaxed) and "dim" not in kinds(relaxed)
    assert cu.f(ts.tensor(np.zeros((3,), np.int64))) == 31
    assert cu.f(ts.tensor(np.zeros((5, 2), np.float32))) == 52  # still cached


def test_guard_covers_dtype_and_requires_grad():
    cu = ts.CompilationUnit("""
def f(x: torch.Tensor) -> torch.Tensor:
    return x * 2
""")
    a = ts.tensor(np.ones(3, np.float32))
    b = ts.tensor(np.ones(3, np.float64))
    c = ts.tensor(np.ones(3, np.float32), requires_grad=True)
    for t in (a, b, c, a):
        cu.f(t)
    assert len(cu.f._specs.plans) == 3
    out = cu.f(c)
    out.sum().backward()
    assert np.array_equal(c.grad.numpy(), np.full(3, 2, np.float32))


def test_disabling_specialisation(monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", "specialize")
    cu = ts.CompilationUnit("""
def f(x: torch.Tensor) -> int:
    return x.dim()
""")
    assert cu.f(ts.tensor(np.zeros((2, 2)))) == 2
    assert cu.f._specs is None
    assert cu.f.graph_for(ts.tensor(np.zeros((2, 2)))) is cu.f.graph


def test_functions_without_tensor_parameters_are_not_specialised():
    cu = ts.CompilationUnit("""
def f(n: int) -> int:
    return n + 1
""")
    assert cu.f(1) == 2 and cu.f._specs is None


# ------------------------------------------------------------------ properties

PROGRAM = """
def f(x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, int]:
    n = x.size(-1)
    z = x * 1.0 + y - 0
    if x.dim() > 1:
        z = z.t().t() * n
    for i in range(3):
        z = torch.relu(z) - 0.5 * i
    s = torch.softmax(z, dim=-1)
    return s * s + (s * s), x.numel() + len(y.shape)
"""

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3)
dtypes_ = st.sampled_from([np.float32, np.float64])


def _run_twice(cu, x, y):
    first = cu.f(ts.tensor(x), ts.tensor(y))
    later = cu.f(ts.tensor(x), ts.tensor(y))
    return first, later


@settings(max_examples=25)
@given(shape=shapes, dt=dtypes_, data=st.data())
def test_first_call_equals_later_calls_and_the_generic_graph(shape, dt, data):
    broadcast = data.draw(st.booleans())
    rng = np.random.default_rng(len(shape) * 7 + shape[0])
    x = rng.standard_normal(shape).astype(dt)
    y = rng.standard_normal([1] * len(shape) if broadcast else shape).astype(np.float32)
    cu = ts.CompilationUnit(PROGRAM)
    (a, n), (b, m) = _run_twice(cu, x, y)
    assert n == m and np.array_equal(a.numpy(), b.numpy())  # bit for bit
    import os
    old = os.environ.get("TENSORSCRIPT_DISABLE_PASSES")
    os.environ["TENSORSCRIPT_DISABLE_PASSES"] = "specialize"
    try:
        generic = ts.CompilationUnit(PROGRAM)
        (c, k), _ = _run_twice(generic, x, y)
    finally:
        if old is None:
            del os.environ["TENSORSCRIPT_DISABLE_PASSES"]
        else:
            os.environ["TENSORSCRIPT_DISABLE_PASSES"] = old
    assert generic.f._specs is None
    assert k == n and a.numpy().dtype == c.numpy().dtype and a.numpy().shape == c.numpy().shape
    np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5, atol=1e-6)
