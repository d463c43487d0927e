"""Compiled scalar regions: loops over ints, floats and bools become one Numba function.

The pass looks in every block for maximal runs of consecutive nodes that the scalar code
generator can translate (``kernels.scalar_codegen.can_translate``: every value an int, float or
bool, every op one with an entry in its translation table, ``If``/``Loop`` with translatable
blocks, ``raise``/``assert`` with a constant message). A run that holds a loop which may run
more than a handful of times becomes one ``prim::CompiledRegion`` node (straight-line code stays
interpreted: compiling costs a tenth of a second or more, which only a loop wins back). A run
may be a whole graph, or a loop nested in a loop that cannot be compiled itself (one that
prints, or touches tensors).

    %outs... = prim::CompiledRegion[subgraph=<graph>](%ins...)

The subgraph's inputs are the values the run reads from outside (constants are copied into
it instead), its outputs the values the run defines that later nodes read. Its nodes are the
original ones, moved, so they keep their spans: a failure inside names the script line. The
executor runs the node through ``interpreter.compiled_region``.
"""
from __future__ import annotations

from ...kernels import load_on_first_use
from ..ir import graph as G

# The code generator imports Numba: it loads when the pass first meets a scalar node.
SC = load_on_first_use("scalar_codegen")

COMPILED_REGION = "prim::CompiledRegion"
# A counted loop that runs at most this many times does not pay for its compilation.
SMALL_TRIP_COUNT = 8


def compile_scalar_regions(graph: G.Graph) -> G.Graph:
    # Only a loop pays for its compilation: a graph without one leaves the code generator,
    # and Numba with it, unloaded.
    if any(_worth_compiling(n) for n in graph.block.nodes):
        _visit_block(graph.block, graph)
    return graph


def _visit_block(block: G.Block, graph: G.Graph) -> None:
    runs: list = []
    current: list = []
    for node in list(block.nodes):
        if node.kind in (G.CONSTANT, G.UNINITIALIZED):
            continue  # copied into the regions that read them; they never split a run
        if SC.can_translate(node):
            current.append(node)
            continue
        runs.append(current)
        current = []
        for b in node.blocks:
            _visit_block(b, graph)
    runs.append(current)
    for run in runs:
        if run and any(_worth_compiling(n) for n in run):
            _outline(block, run, graph)


def _worth_compiling(node: G.Node) -> bool:
    if node.kind == G.LOOP:
        trip = node.inputs[0].node
        small = (trip is not None and trip.kind == G.CONSTANT
                 and isinstance(trip.attrs.get("value"), int)
                 and trip.attrs["value"] <= SMALL_TRIP_COUNT)
        if not small:
            return True
    return any(_worth_compiling(n) for b in node.blocks for n in b.nodes)


def _subtree(run: list) -> set:
    nodes: set = set()
    for n in run:
        nodes.add(n)
        for b in n.blocks:
            nodes.update(b.walk())
    return nodes


def _blocks_in(nodes) -> list:
    return [b for n in nodes for b in n.blocks]


def _outline(block: G.Block, run: list, graph: G.Graph) -> None:
    inside = _subtree(run)
    defined = {o for n in inside for o in n.outputs}
    defined.update(p for b in _blocks_in(inside) for p in b.params)
    sub = G.Graph(graph.name)
    sub.signature = None
    mapping: dict = {}  # outside value -> its stand-in inside the subgraph
    outer_inputs: list = []
    clones: list = []

    def inner(v: G.Value) -> G.Value:
        if v in defined:
            return v
        got = mapping.get(v)
        if got is None:
            src = v.node
            if src is not None and src.kind in (G.CONSTANT, G.UNINITIALIZED):
                clone = G.Node(src.kind, inputs=(), output_types=[v.type], attrs=dict(src.attrs),
                               span=src.span)
                clones.append(clone)
                got = clone.output
                got.name = v.name
            else:
                got = sub.add_input(v.type, v.name)
                outer_inputs.append(v)
            mapping[v] = got
        return got

    for n in inside:
        for i, v in enumerate(list(n.inputs)):
            w = inner(v)
            if w is not v:
                n.replace_input(i, w)
    for b in _blocks_in(inside):
        b.set_returns([inner(v) for v in b.returns])

    outside_returns = _returns_outside(graph, inside)
    outputs = []
    for n in run:
        for o in n.outputs:
            if o in outside_returns or any(user not in inside for user, _ in o.uses):
                outputs.append(o)

    loops = [n for n in run if n.kind == G.LOOP and n.span is not None]
    span = loops[0].span if loops else next((n.span for n in run if n.span is not None), None)
    region = G.Node(COMPILED_REGION, inputs=outer_inputs, output_types=[o.type for o in outputs],
                    attrs={"subgraph": sub}, span=span)
    block.insert_before(run[0], region)
    for n in run:
        block.nodes.remove(n)
    for clone in clones:
        sub.block.append(clone)
    for n in run:
        sub.block.append(n)
    sub.block.set_returns(outputs)

    replacement = dict(zip(outputs, region.outputs))
    for o, new in replacement.items():
        new.name = o.name
        for user, i in list(o.uses):
            if user not in inside:
                user.replace_input(i, new)
    _replace_returns(graph.block, replacement, inside)
    returned = _returns_outside(graph, inside)
    for v in mapping:
        src = v.node
        if src is not None and src.kind in (G.CONSTANT, G.UNINITIALIZED) and not v.uses \
                and v not in returned and src.owner is not None:
            src.destroy()  # copied into the region; nothing outside reads it any more


def _returns_outside(graph: G.Graph, inside: set) -> set:
    found = set(graph.outputs)
    for n in graph.nodes():
        if n not in inside:
            for b in n.blocks:
                found.update(b.returns)
    return found


def _replace_returns(block: G.Block, replacement: dict, inside: set) -> None:
    if any(v in replacement for v in block.returns):
        block.set_returns([replacement.get(v, v) for v in block.returns])
    for n in block.nodes:
        if n in inside:
            continue
        for b in n.blocks:
            _replace_returns(b, replacement, inside)


__all__ = ["compile_scalar_regions", "COMPILED_REGION"]
