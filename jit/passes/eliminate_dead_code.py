"""Dead code elimination: remove nodes whose results nothing needs.

Mark and sweep. A node is needed when it has a side effect (its kind is in
``graph.SIDE_EFFECT_KINDS``, or its op is tagged side_effect, inplace, mutates or random), when
one of its outputs is needed, or when a node inside its blocks is needed. A needed output of an
``If`` needs the value each block returns for it; a needed carried value of a ``Loop`` (its
output or its body parameter) needs its initial value and the value the body returns for it.
Then unneeded If outputs and Loop carried values are dropped, and unneeded nodes removed.
"""
from __future__ import annotations

from ..ir import graph as G
from ..ops import registry as R

_EFFECT_TAGS = frozenset({R.SIDE_EFFECT, R.INPLACE, R.MUTATES, R.RANDOM})


def has_side_effects(node: G.Node) -> bool:
    if node.kind in G.SIDE_EFFECT_KINDS:
        return True
    if node.kind == G.OP and node.op is not None:
        return bool(node.op.tags & _EFFECT_TAGS)
    return False


class _Marker:
    def __init__(self, graph: G.Graph):
        self.live_values: set = set()
        self.live_nodes: set = set()
        self.work: list = []
        self.loop_param: dict = {}  # body parameter -> (loop node, carried index or -1)
        for node in graph.nodes():
            if node.kind == G.LOOP:
                for k, p in enumerate(node.blocks[0].params):
                    self.loop_param[p] = (node, k - 1)

    def value(self, v: G.Value) -> None:
        if v not in self.live_values:
            self.live_values.add(v)
            self.work.append(v)

    def node(self, n: G.Node) -> None:
        if n in self.live_nodes:
            return
        self.live_nodes.add(n)
        if n.kind == G.LOOP:
            self.value(n.inputs[0])
            self.value(n.inputs[1])
            self.value(n.blocks[0].returns[0])
        else:
            for v in n.inputs:
                self.value(v)
        owner = n.owner.owner if n.owner is not None else None
        if owner is not None:
            self.node(owner)

    def carried(self, loop: G.Node, k: int) -> None:
        self.node(loop)
        self.value(loop.inputs[2 + k])
        self.value(loop.blocks[0].returns[1 + k])
        self.value(loop.outputs[k])
        self.value(loop.blocks[0].params[1 + k])

    def run(self) -> None:
        while self.work:
            v = self.work.pop()
            n = v.node
            if n is not None:
                self.node(n)
                if n.kind == G.IF:
                    for b in n.blocks:
                        self.value(b.returns[v.index])
                elif n.kind == G.LOOP:
                    self.carried(n, v.index)
            elif v in self.loop_param:
                loop, k = self.loop_param[v]
                if k >= 0:
                    self.carried(loop, k)
                else:
                    self.node(loop)


def eliminate_dead_code(graph: G.Graph) -> G.Graph:
    marker = _Marker(graph)
    for v in graph.outputs:
        marker.value(v)
    for node in list(graph.nodes()):
        if has_side_effects(node):
            marker.node(node)
    marker.run()
    _sweep(graph.block, marker)
    return graph


def _sweep(block: G.Block, marker: _Marker) -> None:
    for node in reversed(list(block.nodes)):
        if node not in marker.live_nodes:
            _destroy(node)
            continue
        if node.kind == G.IF:
            _prune_if(node, marker.live_values)
        elif node.kind == G.LOOP:
            _prune_loop(node, marker.live_values)
        for b in node.blocks:
            _sweep(b, marker)


def _destroy(node: G.Node) -> None:
    for b in node.blocks:
        for inner in reversed(list(b.nodes)):
            _destroy(inner)
        b.set_returns([])
    node.drop_inputs()
    if node.owner is not None:
        node.owner.nodes.remove(node)
        node.owner = None


def _set_inputs(node: G.Node, values: list) -> None:
    node.drop_inputs()
    for v in values:
        node.add_input(v)


def _renumber(node: G.Node) -> None:
    for i, o in enumerate(node.outputs):
        o.index = i


def _prune_if(node: G.Node, live: set) -> None:
    keep = [k for k, o in enumerate(node.outputs) if o in live]
    if len(keep) == len(node.outputs):
        return
    node.outputs = [node.outputs[k] for k in keep]
    _renumber(node)
    for b in node.blocks:
        b.set_returns([b.returns[k] for k in keep])


def _prune_loop(node: G.Node, live: set) -> None:
    body = node.blocks[0]
    keep = [k for k, o in enumerate(node.outputs) if o in live]
    if len(keep) == len(node.outputs):
        return
    _set_inputs(node, node.inputs[:2] + [node.inputs[2 + k] for k in keep])
    node.outputs = [node.outputs[k] for k in keep]
    _renumber(node)
    body.params = body.params[:1] + [body.params[1 + k] for k in keep]
    body.set_returns(body.returns[:1] + [body.returns[1 + k] for k in keep])
