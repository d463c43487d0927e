"""Pointwise fusion: which nodes the pass groups, and that fused kernels compute what the
unfused ops compute (randomized shapes, dtypes, broadcasts and layouts)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorscript as ts
from tensorscript.interpreter import fusion
from tensorscript.interpreter.executor import Program
from tensorscript.jit.ir import graph as G
from tensorscript.jit.passes.fuse_pointwise import fuse_pointwise, operand_names
from tensorscript.jit.ops import registry


SOURCE = '''
import torch
def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))

def softmax(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)

def log_softmax(x: torch.Tensor) -> torch.Tensor:
    m = x.amax(-1, keepdim=True)
    return x - m - torch.log(torch.exp(x - m).sum(-1, keepdim=True))

def layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mu = x.mean(-1, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdim=True)
    return xc / torch.sqrt(var + 1e-5) * w + b

def mix(x: torch.Tensor, y: torch.Tensor, s: float) -> torch.Tensor:
    z = torch.where(x > y, torch.sigmoid(x) * s, torch.maximum(x, y) - 1)
    return torch.relu(z) + torch.abs(y) / 2

def ints(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * 3 + b) * (a - b)

def compare(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a + 1.5 > b * 2) & (a != b)

def two_outputs(x: torch.Tensor):
    y = torch.exp(x) * 2.0
    s = (y * x).sum(-1)
    return y + 1.0, s

def rowmax(x: torch.Tensor) -> torch.Tensor:
    return (x * 2.0 - 1.0).amax(-1)

def with_inplace(x: torch.Tensor) -> torch.Tensor:
    y = x * 2.0
    x.add_(1.0)
    return y + x

def in_loop(x: torch.Tensor, n: int) -> torch.Tensor:
    for i in range(n):
        x = torch.tanh(x * 0.5 + 1.0)
    return x
'''


@pytest.fixture(autouse=True)
def _kernels_for_every_size(monkeypatch):
    """The tests use small tensors: make every group compile its kernel."""
    monkeypatch.setattr(fusion, "MIN_ELEMENTS", 0)


@pytest.fixture(scope="module")
def cu():
    return ts.CompilationUnit(SOURCE)


def _groups(fn):
    return [n for n in fn.graph.nodes() if n.kind == G.FUSION_GROUP]


def _reference(name: str, *args):
    """The same function with the pass off (every op run by itself)."""
    import os
    old = os.environ.get("TENSORSCRIPT_DISABLE_PASSES")
    os.environ["TENSORSCRIPT_DISABLE_PASSES"] = "fuse_pointwise"
    try:
        ref_cu = ts.CompilationUnit(SOURCE)
    finally:
        if old is None:
            del os.environ["TENSORSCRIPT_DISABLE_PASSES"]
        else:
            os.environ["TENSORSCRIPT_DISABLE_PASSES"] = old
    assert not _groups(getattr(ref_cu, name))
    return getattr(ref_cu, name)(*args)


# ------------------------------------------------------------------ the pass

def test_chains_become_one_group(cu):
    for name in ("gelu", "softmax", "log_softmax", "layer_norm", "mix"):
        groups = _groups(getattr(cu, name))
        assert len(groups) == 1, name
        top_ops = [n for n in getattr(cu, name).graph.block.nodes if n.kind == G.OP]
        assert not top_ops, (name, top_ops)


def test_group_keeps_spans_and_prints_as_source(cu):
    (group,) = _groups(cu.gelu)
    assert group.span is not None
    assert all(n.span is not None for n in group.attrs["subgraph"].block.nodes if n.kind == G.OP)
    assert "torch.tanh" in cu.gelu.code


def test_no_fusion_across_inplace_or_loops(cu):
    g = cu.with_inplace.graph
    names = [n.name for n in g.block.nodes]
    assert any("add_" in n for n in names)
    # the mul before add_ must not be moved past it
    for group in _groups(cu.with_inplace):
        pos = g.block.nodes.index(group)
        add_pos = next(i for i, n in enumerate(g.block.nodes) if "add_" in n.name)
        sub_ops = [n.name for n in group.attrs["subgraph"].block.nodes if n.kind == G.OP]
        assert pos > add_pos or "mul.Scalar" not in sub_ops
    loop = next(n for n in cu.in_loop.graph.block.nodes if n.kind == G.LOOP)
    assert [n for n in loop.blocks[0].nodes if n.kind == G.FUSION_GROUP]


def test_inplace_semantics_preserved(cu):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = cu.with_inplace(ts.tensor(x.copy())).numpy()
    np.testing.assert_array_equal(got, x * 2 + (x + 1))


def test_operand_names_reject_ignored_parameters():
    assert operand_names(registry.get("add.Tensor")) == ("a", "b", "alpha")
    assert operand_names(registry.get("gelu")) is None  # ``approximate`` is not in the expression


def test_pass_is_idempotent(cu):
    g = cu.softmax.graph
    before = str(g)
    fuse_pointwise(g)
    assert str(g) == before


# ------------------------------------------------------------------ semantics

def _arr(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=shape).astype(dtype) * 3
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.integers(-50, 50, size=shape).astype(dtype)


def _layout(a: np.ndarray, kind: int) -> np.ndarray:
    """The same values in another memory layout (transposed copy viewed back, or a strided slice)."""
    if kind == 1 and a.ndim >= 2:
        return np.ascontiguousarray(a.swapaxes(-1, -2)).swapaxes(-1, -2)
    if kind == 2 and a.ndim >= 1:
        wide = np.repeat(a, 2, axis=-1)
        return wide[..., ::2]
    return a


def _check(got, want, dtype):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    if np.dtype(dtype).kind == "f":
        tol = 2e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


shapes = st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple)


def _broadcast_shape(draw, shape):
    """A shape that broadcasts to ``shape``: dims dropped from the left or set to 1."""
    drop = draw(st.integers(0, len(shape)))
    out = list(shape[drop:])
    for i in range(len(out)):
        if draw(st.booleans()):
            out[i] = 1
    return tuple(out)


@settings(max_examples=15)
@given(st.data())
def test_pointwise_matches_unfused(cu, data):
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    yshape = _broadcast_shape(data.draw, shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = _layout(_arr(rng, shape, dtype), data.draw(st.integers(0, 2)))
    y = _layout(_arr(rng, yshape, dtype), data.draw(st.integers(0, 2)))
    s = data.draw(st.floats(-3, 3))
    args = (ts.tensor(x), ts.tensor(y), s)
    want = _reference("mix", *args).numpy()
    first = cu.mix(*args).numpy()
    again = cu.mix(*args).numpy()
    _check(first, want, dtype)
    assert first.tobytes() == again.tobytes()
    _check(cu.gelu(ts.tensor(x)).numpy(), _reference("gelu", ts.tensor(x)).numpy(), dtype)


@settings(max_examples=8)
@given(st.data())
def test_integer_and_mixed_dtypes_match_unfused(cu, data):
    shape = data.draw(shapes)
    da = data.draw(st.sampled_from([np.int64, np.int32, np.float32, np.bool_]))
    db = data.draw(st.sampled_from([np.int64, np.int32, np.float64]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a = _arr(rng, shape, da)
    b = _arr(rng, _broadcast_shape(data.draw, shape), db)
    for name in ("ints", "compare"):
        args = (ts.tensor(a), ts.tensor(b))
        try:
            want = _reference(name, *args).numpy()
        except Exception as exc:  # the unfused ops reject it: so must the fused ones
            with pytest.raises(type(exc)):
                getattr(cu, name)(*args)
            continue
        got = getattr(cu, name)(*args).numpy()
        _check(got, want, want.dtype)


@settings(max_examples=8)
@given(st.data())
def test_row_reductions_match_unfused(cu, data):
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = _layout(_arr(rng, shape, dtype), data.draw(st.integers(0, 2)))
    w = _arr(rng, shape[-1:], dtype)
    b = _arr(rng, _broadcast_shape(data.draw, shape), dtype)
    X = ts.tensor(x)
    for name, args in (("softmax", (X,)), ("log_softmax", (X,)), ("rowmax", (X,)),
                       ("layer_norm", (X, ts.tensor(w), ts.tensor(b))), ("two_outputs", (X,))):
        want = _reference(name, *args)
        got = getattr(cu, name)(*args)
        again = getattr(cu, name)(*args)
        if isinstance(want, tuple):
            for g, w_, a in zip(got, want, again):
                _check(g.numpy(), w_.numpy(), dtype)
                assert g.numpy().tobytes() == a.numpy().tobytes()
        else:
            _check(got.numpy(), want.numpy(), dtype)
            assert got.numpy().tobytes() == again.numpy().tobytes()


def test_nan_and_inf_propagate(cu):
    x = np.array([[1.0, np.nan, 3.0] + [0.5] * 30, [np.inf, 1.0, 2.0] + [0.0] * 30,
                  [-np.inf] * 33], dtype=np.float32)
    for name in ("softmax", "rowmax", "gelu"):
        got = getattr(cu, name)(ts.tensor(x)).numpy()
        want = _reference(name, ts.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, equal_nan=True)


def test_large_inputs_run_parallel_kernels(cu):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 1000)).astype(np.float32)
    assert x.size >= fusion.PARALLEL_MIN
    for name in ("gelu", "softmax"):
        _check(getattr(cu, name)(ts.tensor(x)).numpy(), _reference(name, ts.tensor(x)).numpy(),
               np.float32)


def test_fused_groups_actually_use_kernels(cu):
    (group,) = _groups(cu.softmax)
    fg = fusion.FusedGroup(group.attrs["subgraph"], Program(), True)
    x = np.random.default_rng(0).normal(size=(4, 40)).astype(np.float32)
    out = fg.run_arrays([x], [])
    assert out is not None
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(out[0], e / e.sum(-1, keepdims=True), rtol=1e-5)
    buf = [np.empty_like(x)]
    assert fg.run_arrays([x], [], out=buf)[0] is buf[0]


def test_unsupported_signatures_fall_back(cu):
    x = np.ones((3, 4), dtype=np.float16)
    got = cu.gelu(ts.tensor(x))
    assert got.dtype == ts.float16
    (group,) = _groups(cu.rowmax)
    fg = fusion.FusedGroup(group.attrs["subgraph"], Program(), True)
    assert fg.run_arrays([np.ones((0, 3), np.float32)], []) is None


def _gelu64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def test_every_input_layout_reaches_the_kernel_as_a_flat_array(cu):
    """Each layout takes its own way to the kernel (as it is, a flat view, a span over a
    strided view, a copy); calls switching between them must each use their own plan."""
    (group,) = _groups(cu.gelu)
    fg = fusion.FusedGroup(group.attrs["subgraph"], Program(), True)
    base = np.random.default_rng(3).normal(size=(24, 40)).astype(np.float32)
    layouts = {"1-D": base.reshape(-1), "2-D": base, "transposed": base.T,
               "sliced": base[::2, 1::3], "reversed": base[::-1]}
    for _ in range(2):
        for name, x in layouts.items():
            (got,) = fg.run_arrays([x], [])
            assert got.shape == x.shape, name
            np.testing.assert_allclose(got, _gelu64(x), rtol=1e-5, atol=1e-6, err_msg=name)
    assert len(fg.plans) == len(layouts)


def test_read_only_and_foreign_byte_order_inputs(cu):
    (group,) = _groups(cu.gelu)
    fg = fusion.FusedGroup(group.attrs["subgraph"], Program(), True)
    x = np.linspace(-4, 4, 2000, dtype=np.float32)
    frozen = x.copy()
    frozen.flags.writeable = False
    np.testing.assert_allclose(fg.run_arrays([frozen], [])[0], _gelu64(x), rtol=1e-5, atol=1e-6)
    # same shape, strides and dtype character as x, but big-endian: the ops run instead
    assert fg.run_arrays([x.astype(">f4")], []) is None
    np.testing.assert_allclose(fg.run_arrays([x], [])[0], _gelu64(x), rtol=1e-5, atol=1e-6)


def test_output_buffers_must_fit(cu):
    (group,) = _groups(cu.gelu)
    fg = fusion.FusedGroup(group.attrs["subgraph"], Program(), True)
    x = np.ones((8, 6), np.float32)
    out = [np.empty((6, 8), np.float32).T]
    with pytest.raises(ValueError, match="C-contiguous"):
        fg.run_arrays([x], [], out=out)


def test_small_groups_below_the_threshold_run_op_by_op(cu, monkeypatch):
    monkeypatch.setattr(fusion, "MIN_ELEMENTS", 100)
    (group,) = _groups(cu.gelu)
    fg = fusion.FusedGroup(group.attrs["subgraph"], Program(), True)
    assert fg.run_arrays([np.ones(99, np.float32)], []) is None
    assert fg.run_arrays([np.ones(100, np.float32)], []) is not None
    got = fg(ts.tensor(np.full(99, 0.5, np.float32)))
    np.testing.assert_allclose(got.numpy(), _gelu64(np.full(99, 0.5)), rtol=1e-6)


# ------------------------------------------------------------------ autograd and tracing

def test_gradients_flow_through_groups(cu):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 7)).astype(np.float64)
    for name in ("softmax", "gelu"):
        a = ts.tensor(x, requires_grad=True)
        out = getattr(cu, name)(a)
        out.backward(ts.tensor(np.ones_like(x)))
        b = ts.tensor(x, requires_grad=True)
        ref = _reference(name, b)
        ref.backward(ts.tensor(np.ones_like(x)))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    with ts.no_grad():
        a = ts.tensor(x, requires_grad=True)
        assert not cu.gelu(a).requires_grad
