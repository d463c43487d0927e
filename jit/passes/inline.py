"""Inlining: replace ``prim::CallFunction`` nodes by a copy of the callee's body.

Only callees of at most ``max_nodes`` nodes are inlined, and only the calls present when the
pass starts (a call copied in from a callee stays a call), so recursion cannot loop. Copied
nodes keep the callee's spans, so errors still point at the line that failed.

The pass needs the unit's graphs, so it is built for a module:
``add_pass(make_inline_pass(module.graphs))`` or ``run_pipeline(g, [make_inline_pass(graphs), ...])``.
"""
from __future__ import annotations

from ..ir import graph as G
from .pipeline import Pass

DEFAULT_MAX_NODES = 40


def graph_size(graph: G.Graph) -> int:
    return sum(1 for n in graph.nodes() if n.kind != G.CONSTANT)


def inline_calls(graph: G.Graph, graphs: dict, max_nodes: int = DEFAULT_MAX_NODES) -> G.Graph:
    for node in [n for n in graph.nodes() if n.kind == G.CALL_FUNCTION]:
        callee = graphs.get(node.attrs.get("name"))
        if callee is None or callee is graph or graph_size(callee) > max_nodes:
            continue
        inline_call(node, callee)
    return graph


def inline_call(node: G.Node, callee: G.Graph) -> None:
    """Copy ``callee``'s body before ``node``, route the node's uses to its result, drop it."""
    env = dict(zip(callee.inputs, node.inputs))
    block = node.owner
    _copy_nodes(callee.block, block, env, anchor=node)
    results = [env.get(v, v) for v in callee.outputs]
    for out, result in zip(node.outputs, results):
        out.replace_all_uses_with(result)
        _replace_in_returns(block, out, result)
    node.destroy()


def _copy_nodes(src: G.Block, dst: G.Block, env: dict, anchor=None) -> None:
    for n in src.nodes:
        copy = G.Node(n.kind, op=n.op, inputs=[env.get(v, v) for v in n.inputs],
                      output_types=[o.type for o in n.outputs], attrs=dict(n.attrs), span=n.span)
        if anchor is not None:
            dst.insert_before(anchor, copy)
        else:
            dst.append(copy)
        for old, new in zip(n.outputs, copy.outputs):
            new.name = old.name
            env[old] = new
        for b in n.blocks:
            nb = copy.add_block()
            for p in b.params:
                env[p] = nb.add_param(p.type, p.name)
            _copy_nodes(b, nb, env)
            nb.set_returns([env.get(v, v) for v in b.returns])


def _replace_in_returns(block: G.Block, old: G.Value, new: G.Value) -> None:
    """Block returns are not uses: replace ``old`` in every block that can see it."""
    top = block
    while top.owner is not None and top.owner.owner is not None:
        top = top.owner.owner
    blocks = [top] + [b for n in top.walk() for b in n.blocks]
    for b in blocks:
        if old in b.returns:
            b.set_returns([new if v is old else v for v in b.returns])


def make_inline_pass(graphs: dict, max_nodes: int = DEFAULT_MAX_NODES) -> Pass:
    return Pass("inline", lambda g: inline_calls(g, graphs, max_nodes),
                f"inline calls of functions of at most {max_nodes} nodes")


__all__ = ["inline_calls", "inline_call", "make_inline_pass", "graph_size"]
