"""Graph autodiff: gradients through differentiable regions equal the eager tape's.

Each program is valid Python with ``torch`` bound to tensorscript, so the oracle is the same
source run eagerly (one tape node per op); the scripted run records one node per region.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tensorscript as ts
from tensorscript.jit.ir import graph as G

RTOL = {np.float32: 2e-4, np.float64: 1e-9}


def compile_fn(source: str, name: str = "f"):
    return getattr(ts.CompilationUnit(textwrap.dedent(source)), name)


def eager_fn(source: str, name: str = "f"):
    scope: dict = {"__name__": "eager_oracle"}
    exec(compile("import math\n" + textwrap.dedent(source), "<eager>", "exec"), scope)
    scope["torch"] = ts
    return scope[name]


def leaves(arrays, grads):
    return [ts.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]


def gradients(fn, arrays, grads, seed=None):
    xs = leaves(arrays, grads)
    out = fn(*xs)
    g = None if seed is None else ts.tensor(seed)
    out.backward(g)
    return out, [x.grad.numpy() if x.grad is not None else None for x in xs]


def assert_same_gradients(source, arrays, grads=None, seed=None, name="f"):
    grads = grads or [True] * len(arrays)
    rtol = RTOL[arrays[0].dtype.type]
    out_s, g_s = gradients(compile_fn(source, name), arrays, grads, seed)
    out_e, g_e = gradients(eager_fn(source, name), arrays, grads, seed)
    np.testing.assert_allclose(out_s.detach().numpy(), out_e.detach().numpy(), rtol=rtol, atol=rtol)
    for a, b in zip(g_s, g_e):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    return out_s


def region_nodes(fn, *args):
    return [n for n in fn.graph_for(*args).nodes() if n.kind == G.DIFFERENTIABLE_GRAPH]


def rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ fixed programs

MLP = """
def f(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
      b2: torch.Tensor) -> torch.Tensor:
    h = torch.relu(x @ w1 + b1)
    y = torch.tanh(h @ w2 + b2)
    return (y * y).mean()
"""

ATTENTION = """
def f(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    scores = q @ k.transpose(-2, -1) / math.sqrt(8.0)
    p = torch.softmax(scores, dim=-1)
    return (p @ v).sum()
"""

LAYER_NORM = """
def f(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    y = torch.nn.functional.layer_norm(x, [8], w, b, 1e-5)
    return (y * y * 0.5 + y).sum()
"""

BROADCAST = """
def f(x: torch.Tensor, col: torch.Tensor, row: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    a = (x + row) * col
    b = torch.sigmoid(a - s) * x
    return b / (col * col + 1.0)
"""


def test_mlp_gradients_and_one_tape_node():
    arrays = [rand(16, 8), rand(8, 32), rand(32), rand(32, 4), rand(4)]
    f = compile_fn(MLP)
    xs = leaves(arrays, [True] * 5)
    assert region_nodes(f, *xs)
    out = f(*xs)
    assert out.grad_fn.name() == "DifferentiableGraphBackward"
    assert_same_gradients(MLP, arrays)


def test_softmax_attention():
    assert_same_gradients(ATTENTION, [rand(2, 6, 8), rand(2, 6, 8, seed=1), rand(2, 6, 8, seed=2)])


def test_layer_norm():
    assert_same_gradients(LAYER_NORM, [rand(5, 8), rand(8), rand(8, seed=3)])


def test_broadcasting_chain_sums_gradients_to_input_shapes():
    arrays = [rand(4, 5), rand(4, 1), rand(5), rand(1, 1)]
    assert_same_gradients(BROADCAST, arrays, seed=rand(4, 5, seed=9))


def test_only_some_inputs_require_grad():
    arrays = [rand(16, 8), rand(8, 32), rand(32), rand(32, 4), rand(4)]
    assert_same_gradients(MLP, arrays, grads=[False, True, False, True, True])


def test_value_used_twice_accumulates():
    src = """
    def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        a = x * y
        return (a * a + a.exp() + a).sum()
    """
    assert_same_gradients(src, [rand(3, 4), rand(3, 4, seed=5)])


def test_several_outputs_of_a_region():
    src = """
    def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        a = torch.tanh(x * y)
        b = a * 2.0 + y
        c = a.sum() + (b * b).sum()
        return c
    """
    assert_same_gradients(src, [rand(3, 4), rand(3, 4, seed=5)])


def test_no_grad_call_runs_plain_subgraph():
    f = compile_fn(MLP)
    xs = leaves([rand(16, 8), rand(8, 32), rand(32), rand(32, 4), rand(4)], [False] * 5)
    out = f(*xs)
    assert out.grad_fn is None and not out.requires_grad
    ys = leaves([rand(16, 8), rand(8, 32), rand(32), rand(32, 4), rand(4)], [True] * 5)
    with ts.no_grad():
        out = f(*ys)
    assert out.grad_fn is None


def test_signature_change_builds_new_graphs():
    f = compile_fn(BROADCAST)
    for shape in [(4, 5), (2, 3)]:
        arrays = [rand(*shape), rand(shape[0], 1), rand(shape[1]), rand(1, 1)]
        _, g_s = gradients(f, arrays, [True] * 4, seed=np.ones(shape, np.float32))
        _, g_e = gradients(eager_fn(BROADCAST), arrays, [True] * 4, seed=np.ones(shape, np.float32))
        for a, b in zip(g_s, g_e):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4)


def test_scalar_argument_is_part_of_the_signature():
    src = """
    def f(x: torch.Tensor, s: float) -> torch.Tensor:
        return (torch.tanh(x * s) * s).sum()
    """
    f = compile_fn(src)
    for s in (0.5, 3.0):
        x = ts.tensor(rand(3, 4), requires_grad=True)
        f(x, s).backward()
        xe = ts.tensor(rand(3, 4), requires_grad=True)
        eager_fn(src)(xe, s).backward()
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=2e-4, atol=1e-6)


def test_modified_saved_input_is_detected():
    src = """
    def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x * y).exp() * y
    """
    f = compile_fn(src)
    x = ts.tensor(rand(3), requires_grad=True)
    y = ts.tensor(rand(3, seed=1))
    out = f(x, y)
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_second_backward_without_retain_graph_fails():
    f = compile_fn(MLP)
    xs = leaves([rand(16, 8), rand(8, 32), rand(32), rand(32, 4), rand(4)], [True] * 5)
    out = f(*xs)
    out.backward(retain_graph=True)
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


def test_control_flow_and_loops_still_differentiate():
    src = """
    def f(x: torch.Tensor, n: int) -> torch.Tensor:
        y = x * 2.0
        for i in range(n):
            y = torch.tanh(y * x + 1.0) * 0.5
        if n > 2:
            y = y.exp()
        return (y * y).sum()
    """
    for n in (1, 3):
        f = compile_fn(src)
        x = ts.tensor(rand(4), requires_grad=True)
        f(x, n).backward()
        xe = ts.tensor(rand(4), requires_grad=True)
        eager_fn(src)(xe, n).backward()
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=2e-4, atol=1e-6)


def test_pass_disabled_gives_same_gradients(monkeypatch):
    arrays = [rand(16, 8), rand(8, 32), rand(32), rand(32, 4), rand(4)]
    _, on = gradients(compile_fn(MLP), arrays, [True] * 5)
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", "create_autodiff_subgraphs")
    f = compile_fn(MLP)
    xs = leaves(arrays, [True] * 5)
    assert not region_nodes(f, *xs)
    _, off = gradients(f, arrays, [True] * 5)
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ finite differences

def finite_difference_check(source, arrays, eps=1e-6, tol=1e-6):
    f = compile_fn(source)
    xs = leaves(arrays, [True] * len(arrays))
    f(*xs).backward()
    for x, a in zip(xs, arrays):
        numeric = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi, lo = a.copy(), a.copy()
            hi[idx] += eps
            lo[idx] -= eps
            args_hi = [ts.tensor(hi if b is a else b) for b in arrays]
            args_lo = [ts.tensor(lo if b is a else b) for b in arrays]
            numeric[idx] = (f(*args_hi).item() - f(*args_lo).item()) / (2 * eps)
        np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=tol, atol=tol)


@pytest.mark.parametrize("source,shapes", [
    (MLP, [(3, 4), (4, 5), (5,), (5, 2), (2,)]),
    (ATTENTION, [(1, 3, 8), (1, 3, 8), (1, 3, 8)]),
    (LAYER_NORM, [(2, 8), (8,), (8,)]),
])
def test_finite_differences_float64(source, shapes):
    arrays = [rand(*s, dtype=np.float64, seed=i) for i, s in enumerate(shapes)]
    finite_difference_check(source, arrays)


# ------------------------------------------------------------------ random programs

# (template, arity): ``{a}``/``{b}`` are earlier values; every op has a gradient rule
UNARY = ["torch.tanh({a})", "torch.sigmoid({a})", "torch.exp({a} * 0.3)", "torch.relu({a})",
         "{a} * {a}", "-{a}", "torch.sin({a})", "torch.log({a} * {a} + 1.0)",
         "torch.sqrt({a} * {a} + 0.5)", "{a}.sum(dim=-1, keepdim=True)",
         "{a}.mean(dim=0, keepdim=True)", "torch.softmax({a}, dim=-1)", "{a} ** 3",
         "torch.nn.functional.gelu({a})", "torch.clamp({a}, -0.5, 0.5)", "{a}.abs()"]
BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 1.0)",
          "torch.maximum({a}, {b})", "torch.where({a} > {b}, {a}, {b} * 2.0)", "{a} * 0.5 + {b}"]

# inputs: a matrix, a row vector and a column, so binary ops broadcast
INPUT_SHAPES = [(3, 4), (4,), (3, 1)]


@st.composite
def programs(draw):
    names = ["x", "r", "c"]
    lines = []
    n = draw(st.integers(2, 7))
    for i in range(n):
        if draw(st.booleans()):
            t = draw(st.sampled_from(UNARY))
            expr = t.format(a=draw(st.sampled_from(names)))
        else:
            t = draw(st.sampled_from(BINARY))
            expr = t.format(a=draw(st.sampled_from(names)), b=draw(st.sampled_from(names)))
        lines.append(f"    v{i} = {expr}")
        names.append(f"v{i}")
    used = draw(st.lists(st.sampled_from(names[3:]), min_size=1, max_size=3, unique=True))
    ret = " + ".join(f"({u} * {u}).sum()" for u in used) + " + (x + r + c).sum()"
    body = "\n".join(lines)
    return (f"def f(x: torch.Tensor, r: torch.Tensor, c: torch.Tensor) -> torch.Tensor:\n"
            f"{body}\n    return {ret}\n")


@given(programs(), st.lists(st.booleans(), min_size=3, max_size=3), st.integers(0, 1000))
def test_random_programs_match_the_eager_tape(source, flags, seed):
    if not any(flags):
        flags = [True, False, False]
    arrays = [rand(*s, seed=seed + i) for i, s in enumerate(INPUT_SHAPES)]
    assert_same_gradients(source, arrays, grads=flags)


def test_create_graph_gives_second_order_gradients():
    src = """
    def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(x * w) * x).sum()
    """
    results = []
    for fn in (compile_fn(src), eager_fn(src)):
        x = ts.tensor(np.linspace(-1, 1, 5), requires_grad=True)
        w = ts.tensor(np.linspace(0.5, 2, 5), requires_grad=True)
        (gx,) = ts.autograd.grad(fn(x, w), [x], create_graph=True)
        gx.sum().backward()
        results.append([gx.detach().numpy(), x.grad.numpy(), w.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_region_value_returned_from_a_nested_block():
    src = """
    def f(x: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(x * 2.0) + x
        if bool(y.sum() > 0):
            return y
        return x * 3.0
    """
    for values in ([1.0, 2.0], [-1.0, -2.0]):
        x = ts.tensor(values, requires_grad=True)
        compile_fn(src)(x).sum().backward()
        xe = ts.tensor(values, requires_grad=True)
        eager_fn(src)(xe).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-6)
