"""Differentiable regions: straight-line runs of differentiable ops become one
``prim::DifferentiableGraph`` node whose ``attrs["subgraph"]`` holds them.

At run time (``interpreter/differentiable_graph.py``) a region whose inputs do not require
grad runs its subgraph as it is; one that must record autograd runs a forward graph with grad
mode off and records a single tape node whose backward runs a backward graph (``jit.autodiff``),
instead of one tape node per op.

A region is a run of consecutive nodes of one block (nested blocks included, control flow is
never crossed) that are op nodes ``jit.autodiff`` can differentiate, fusion groups made of
such ops, or list constructions read only inside the run; constants between them do not break
a run and are copied into the subgraph. Every value entering or leaving a region is a Tensor
or holds no Tensor (a ``List[Tensor]`` built inside the region stays inside it). A region
needs at least ``MIN_OPS`` ops: below that one tape node per op costs no more.
"""
from __future__ import annotations

from ..autodiff import contains_tensor, differentiable_node
from ..ir import graph as G
from ..ir import types as T

DIFFERENTIABLE_GRAPH = G.DIFFERENTIABLE_GRAPH
MIN_OPS = 2


def _candidate(node: G.Node) -> bool:
    if node.kind == G.LIST_CONSTRUCT:
        return bool(node.outputs) and all(u.kind == G.OP for u, _ in node.outputs[0].uses)
    return differentiable_node(node)


def _ops_in(members: list) -> int:
    return sum(1 for n in members if n.kind != G.LIST_CONSTRUCT)


def _blocks_seeing(block: G.Block) -> list:
    """``block``, the blocks enclosing it and the blocks nested in it: every block that can
    return a value defined in ``block``."""
    blocks = [b for n in block.walk() for b in n.blocks]
    b = block
    while b is not None:
        blocks.append(b)
        b = b.owner.owner if b.owner is not None else None
    return blocks


def _returned(v: G.Value, block: G.Block) -> bool:
    return any(v in b.returns for b in _blocks_seeing(block))


def _boundary_ok(members: list, block: G.Block) -> int:
    """Index of the first member whose inputs or outputs cross the boundary with a Tensor
    inside a container, or -1 when the region is sound."""
    inside = set()
    for n in members:
        inside.update(n.outputs)
    member_set = set(members)
    for i, n in enumerate(members):
        for v in n.inputs:
            if v not in inside and v.type != T.TensorType and contains_tensor(v.type):
                if v.node is None or v.node.kind != G.CONSTANT:
                    return i
        for o in n.outputs:
            if o.type == T.TensorType:
                continue
            if _returned(o, block) or any(u not in member_set for u, _ in o.uses):
                return i
    return -1


def _split(members: list, block: G.Block) -> list:
    """Sound regions from one run (a member that crosses the boundary badly splits the run)."""
    out = []
    stack = [members]
    while stack:
        run = stack.pop()
        if _ops_in(run) < MIN_OPS:
            continue
        bad = _boundary_ok(run, block)
        if bad < 0:
            out.append(run)
            continue
        stack.append(run[bad + 1:])
        stack.append(run[:bad])
    return out


def _runs(block: G.Block) -> list:
    runs: list = []
    current: list = []
    for n in block.nodes:
        if n.kind == G.CONSTANT:
            continue
        if _candidate(n):
            current.append(n)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    return runs


def _make_region(block: G.Block, members: list) -> None:
    member_set = set(members)
    last = members[-1]
    sub = G.Graph("differentiable_graph")
    env: dict = {}
    outer_inputs: list = []

    def lookup(v: G.Value) -> G.Value:
        if v in env:
            return env[v]
        if v.node is not None and v.node.kind == G.CONSTANT:
            c = sub.block.append(G.Node(G.CONSTANT, output_types=[v.type], attrs=dict(v.node.attrs),
                                        span=v.node.span))
            c.outputs[0].name = v.name
            env[v] = c.outputs[0]
            return env[v]
        p = sub.add_input(v.type, v.name)
        env[v] = p
        outer_inputs.append(v)
        return p

    for n in members:
        ins = [lookup(v) for v in n.inputs]
        copy = sub.block.append(G.Node(n.kind, op=n.op, inputs=ins,
                                       output_types=[o.type for o in n.outputs],
                                       attrs=dict(n.attrs), span=n.span))
        for o, c in zip(n.outputs, copy.outputs):
            c.name = o.name
            env[o] = c
    escaping = [o for n in members for o in n.outputs
                if any(u not in member_set for u, _ in o.uses) or _returned(o, block)]
    sub.block.set_returns([env[o] for o in escaping])
    region = G.Node(DIFFERENTIABLE_GRAPH, inputs=outer_inputs,
                    output_types=[o.type for o in escaping], attrs={"subgraph": sub},
                    span=last.span)
    block.insert_before(last, region)
    for o, r in zip(escaping, region.outputs):
        r.name = o.name
        o.replace_all_uses_with(r)
        _replace_returns(block, o, r)
    for n in reversed(members):
        n.destroy()


def _replace_returns(block: G.Block, old: G.Value, new: G.Value) -> None:
    for b in _blocks_seeing(block):
        if old in b.returns:
            b.set_returns([new if v is old else v for v in b.returns])


def _visit(block: G.Block) -> None:
    for n in list(block.nodes):
        for b in n.blocks:
            _visit(b)
    for run in _runs(block):
        for members in _split(run, block):
            _make_region(block, members)


def create_autodiff_subgraphs(graph: G.Graph) -> G.Graph:
    _visit(graph.block)
    return graph


__all__ = ["create_autodiff_subgraphs", "DIFFERENTIABLE_GRAPH", "MIN_OPS"]
