"""Memory planning: liveness of tensor values, which of them can share a buffer, and which
nodes write their results into buffers the runtime provides.

For each block (nested blocks on their own), a tensor value is live from the node that defines
it to its last reader in that block (a read inside a nested block counts as a read by the node
owning the block; a value the block returns, or that a loop carries, lives to the end). Two
values whose live ranges do not overlap can use the same memory: ``assign_buffers`` colours
the intervals greedily, in program order, reusing a buffer as soon as its last value is dead.
Sizes are not known here, so a buffer is a slot that values of any size may take in turn; the
runtime's caching allocator (``interpreter/memory.py``) matches them by size when it runs.

Nodes whose kernels accept output buffers (fusion groups: their kernels never allocate) get
``attrs["planned_outputs"] = [buffer index per output]``; the runtime takes their outputs
from the pool, where the buffers of values that died earlier wait for them.
"""
from __future__ import annotations

from ..ir import graph as G
from ..ir import types as T

PLANNED = "planned_outputs"
# Kinds whose kernels write into caller-provided buffers.
OUT_BUFFER_KINDS = frozenset({G.FUSION_GROUP})


def _reads(node: G.Node, out: set) -> set:
    out.update(node.inputs)
    for b in node.blocks:
        out.update(b.returns)
        for inner in b.nodes:
            _reads(inner, out)
    return out


def live_ranges(block: G.Block) -> dict:
    """Tensor value defined in ``block`` -> (index of its definition, index of its last read);
    ``len(block.nodes)`` as the end means it outlives the block."""
    end = len(block.nodes)
    ranges: dict = {}
    for i, n in enumerate(block.nodes):
        for o in n.outputs:
            if o.type == T.TensorType:
                ranges[o] = [i, i]
    for i, n in enumerate(block.nodes):
        for v in _reads(n, set()):
            r = ranges.get(v)
            if r is not None and i > r[1]:
                r[1] = i
    for v in block.returns:
        if v in ranges:
            ranges[v][1] = end
    return {v: (a, b) for v, (a, b) in ranges.items()}


def assign_buffers(block: G.Block) -> dict:
    """Tensor value -> buffer index, sharing a buffer between values that are never live at
    the same time. A value may take a buffer freed by a value dying at the node defining it
    only when that node is not the reader (a kernel must not write where it is reading)."""
    ranges = live_ranges(block)
    free: list = []
    busy: list = []  # (last use, buffer)
    assignment: dict = {}
    n_buffers = 0
    for i, n in enumerate(block.nodes):
        still = []
        for last, buf in busy:
            if last < i:
                free.append(buf)
            else:
                still.append((last, buf))
        busy = still
        for o in n.outputs:
            r = ranges.get(o)
            if r is None:
                continue
            if free:
                buf = free.pop()
            else:
                buf = n_buffers
                n_buffers += 1
            assignment[o] = buf
            busy.append((r[1], buf))
    return assignment


def _plan_block(block: G.Block) -> None:
    assignment = assign_buffers(block)
    for n in block.nodes:
        for b in n.blocks:
            _plan_block(b)
        sub = n.attrs.get("subgraph")
        if isinstance(sub, G.Graph) and n.kind not in OUT_BUFFER_KINDS:
            _plan_block(sub.block)
        if n.kind in OUT_BUFFER_KINDS and n.outputs and all(o.type == T.TensorType for o in n.outputs):
            n.attrs[PLANNED] = [assignment[o] for o in n.outputs]


def plan_memory(graph: G.Graph) -> G.Graph:
    _plan_block(graph.block)
    return graph


__all__ = ["plan_memory", "live_ranges", "assign_buffers", "PLANNED", "OUT_BUFFER_KINDS"]
