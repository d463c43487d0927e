"""Unroll counted loops with a small constant trip count.

A ``Loop`` is unrolled when its trip count is a constant of at most ``MAX_TRIP_COUNT``, its
start condition and the condition its body returns are the constant True (a ``for`` loop
without ``break``), and its body has at most ``MAX_BODY_NODES`` nodes (constants not counted):
the body is copied once per iteration with the iteration number as a constant and the carried
values threaded from one copy to the next. Copies keep the body's spans. The copies expose
constant iteration numbers to ``fold_constants`` (``xs[i]``, ``if i == 0``) and straight-line
tensor code to fusion. Innermost loops are unrolled first, so a nest is unrolled when the
unrolled inner loop still fits the outer body's bound.
"""
from __future__ import annotations

from ..ir import graph as G
from ..ir import types as T
from .fold_constants import Rewriter, constant_value

MAX_TRIP_COUNT = 8
MAX_BODY_NODES = 32


def _body_size(block: G.Block) -> int:
    return sum(1 for n in block.walk() if n.kind != G.CONSTANT)


def _unrollable(node: G.Node) -> bool:
    trip = constant_value(node.inputs[0])
    if type(trip) is not int or not 0 <= trip <= MAX_TRIP_COUNT:
        return False
    body = node.blocks[0]
    if constant_value(node.inputs[1]) is not True or constant_value(body.returns[0]) is not True:
        return False
    return _body_size(body) <= MAX_BODY_NODES


def _copy_nodes(src: G.Block, env: dict, insert, span=None) -> list:
    """Copy ``src``'s nodes through ``insert``, mapping values through ``env`` (extended);
    returns the blocks created. ``span``, when given, replaces the copies' spans."""
    blocks = []
    for n in src.nodes:
        copy = G.Node(n.kind, op=n.op, inputs=[env.get(v, v) for v in n.inputs],
                      output_types=[o.type for o in n.outputs], attrs=dict(n.attrs),
                      span=n.span if span is None else span)
        insert(copy)
        for old, new in zip(n.outputs, copy.outputs):
            new.name = old.name
            new.meta = old.meta
            env[old] = new
        for b in n.blocks:
            nb = copy.add_block()
            for p in b.params:
                q = nb.add_param(p.type, p.name)
                q.meta = p.meta
                env[p] = q
            blocks.extend(_copy_nodes(b, env, nb.append, span))
            nb.set_returns([env.get(v, v) for v in b.returns])
            blocks.append(nb)
    return blocks


def _unroll(node: G.Node, rewriter: Rewriter) -> None:
    body = node.blocks[0]
    trip = constant_value(node.inputs[0])
    carried = list(node.inputs[2:])
    for i in range(trip):
        counter = G.Node(G.CONSTANT, output_types=[T.IntType], attrs={"value": i}, span=node.span)
        node.owner.insert_before(node, counter)
        env = {body.params[0]: counter.output}
        env.update(zip(body.params[1:], carried))
        for b in _copy_nodes(body, env, lambda n: node.owner.insert_before(node, n)):
            rewriter.index_block(b)
        carried = [env.get(v, v) for v in body.returns[1:]]
    for out, value in zip(node.outputs, carried):
        rewriter.replace(out, value)
    node.destroy()


def _unroll_block(block: G.Block, rewriter: Rewriter) -> None:
    for node in list(block.nodes):
        for b in node.blocks:
            _unroll_block(b, rewriter)
        if node.kind == G.LOOP and _unrollable(node):
            _unroll(node, rewriter)


def unroll_loops(graph: G.Graph) -> G.Graph:
    _unroll_block(graph.block, Rewriter(graph))
    return graph


__all__ = ["unroll_loops", "MAX_TRIP_COUNT", "MAX_BODY_NODES"]
