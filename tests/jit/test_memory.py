"""Memory planning: liveness and buffer sharing, the caching allocator, planned fused kernels."""
from __future__ import annotations

import gc
import textwrap

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.interpreter.memory import CachingAllocator
from tensorscript.jit.ir import graph as G
from tensorscript.jit.passes.plan_memory import PLANNED, assign_buffers, live_ranges

from jit_helpers import lower_one


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


# ------------------------------------------------------------------ the allocator

def test_freed_buffer_is_returned_to_the_next_request_of_that_size():
    pool = CachingAllocator(min_bytes=0)
    a = pool.empty((256, 256), np.float32)
    where = _address(a)
    del a
    b = pool.empty((256, 256), np.float32)
    assert _address(b) == where
    assert pool.stats()["hits"] == 1


def test_buffer_is_not_reused_while_a_view_is_alive():
    pool = CachingAllocator(min_bytes=0)
    a = pool.empty((64, 64), np.float64)
    a[:] = 1.0
    view = a[3:5].T
    del a
    b = pool.empty((64, 64), np.float64)
    b[:] = 7.0
    assert np.all(view == 1.0)
    assert not np.may_share_memory(view, b)
    del view
    gc.collect()
    c = pool.empty((64, 64), np.float64)
    assert pool.stats()["hits"] == 1 and c.shape == (64, 64)


def test_other_shapes_of_the_same_size_share_buffers_and_small_ones_bypass():
    pool = CachingAllocator(min_bytes=1024)
    a = pool.empty((32, 32), np.float32)
    where = _address(a)
    del a
    b = pool.empty((1024,), np.int32)
    assert _address(b) == where and b.dtype == np.int32 and b.shape == (1024,)
    small = pool.empty((4,), np.float32)
    assert small.base is None or not hasattr(small.base, "pool")


def test_cache_limit_and_empty_cache():
    pool = CachingAllocator(max_cached_bytes=4096, min_bytes=0)
    arrays = [pool.empty((512,), np.float64) for _ in range(3)]
    del arrays
    assert pool.cached_bytes == 4096
    pool.empty_cache()
    assert pool.cached_bytes == 0


# ------------------------------------------------------------------ liveness

CHAIN = """
import torch
def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    a = torch.matmul(x, y)
    b = torch.matmul(a, y)
    c = torch.matmul(b, y)
    d = torch.matmul(c, y)
    return d
"""


def test_live_ranges_and_sharing_in_a_chain():
    graph = lower_one(CHAIN)
    ops = [n for n in graph.block.nodes if n.kind == G.OP]
    ranges = live_ranges(graph.block)
    a, b, c, d = (n.output for n in ops)
    position = {n: i for i, n in enumerate(graph.block.nodes)}
    assert ranges[a] == (position[ops[0]], position[ops[1]])
    assert ranges[d][1] == len(graph.block.nodes)  # returned: outlives the block
    buffers = assign_buffers(graph.block)
    # a is read by the node making b, so they differ; c may take a's buffer
    assert buffers[a] != buffers[b]
    assert buffers[c] == buffers[a]
    assert len(set(buffers.values())) == 2


def test_fusion_groups_are_annotated():
    cu = ts.CompilationUnit(textwrap.dedent("""
    import torch
    def f(x: torch.Tensor) -> torch.Tensor:
        y = x * 0.5 * (1.0 + torch.tanh(0.79788456 * (x + 0.044715 * x * x * x)))
        return y
    """))
    x = ts.tensor(np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32))
    graph = cu.f.graph_for(x)
    groups = [n for n in graph.nodes() if n.kind == G.FUSION_GROUP]
    if not groups:
        pytest.skip("fusion produced no group")
    assert all(PLANNED in n.attrs for n in groups)


# ------------------------------------------------------------------ end to end

GELU = """
import torch
def gelu(x: torch.Tensor) -> torch.Tensor:
    return x * 0.5 * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
"""


def test_planned_kernels_agree_with_unplanned(monkeypatch):
    x = ts.tensor(np.random.default_rng(1).standard_normal((512, 1024)).astype(np.float32))
    planned = ts.CompilationUnit(GELU).gelu
    first = planned(x).numpy().copy()
    second = planned(x).numpy()
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", "plan_memory")
    plain = ts.CompilationUnit(GELU).gelu
    expected = plain(x).numpy()
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)


def test_results_kept_by_the_caller_are_never_overwritten():
    f = ts.CompilationUnit(GELU).gelu
    xs = [ts.tensor(np.full((512, 1024), float(i), np.float32)) for i in range(4)]
    outs = [f(x) for x in xs]
    expected = [ts.CompilationUnit(GELU).gelu(x).numpy().copy() for x in xs]
    for o, e in zip(outs, expected):
        np.testing.assert_array_equal(o.numpy(), e)


def test_large_outputs_of_repeated_calls_reuse_pooled_memory():
    from tensorscript.interpreter import memory

    f = ts.CompilationUnit(GELU).gelu
    x = ts.tensor(np.random.default_rng(2).standard_normal((512, 1024)).astype(np.float32))
    assert x.numpy().nbytes >= memory.MIN_BYTES
    expected = f(x).numpy().copy()
    first = f(x)
    where = _address(first.numpy())
    del first
    hits = memory.ALLOCATOR.stats()["hits"]
    second = f(x)
    assert memory.ALLOCATOR.stats()["hits"] == hits + 1
    assert _address(second.numpy()) == where
    np.testing.assert_array_equal(second.numpy(), expected)


def test_small_outputs_bypass_the_pool():
    from tensorscript.interpreter import memory

    f = ts.CompilationUnit(GELU).gelu
    x = ts.tensor(np.ones((64, 64), np.float32))
    f(x)
    before = memory.ALLOCATOR.stats()
    for _ in range(3):
        f(x)
    after = memory.ALLOCATOR.stats()
    assert (after["hits"], after["misses"]) == (before["hits"], before["misses"])
