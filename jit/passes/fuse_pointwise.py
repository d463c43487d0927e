"""Pointwise fusion: chains of pointwise ops (and last-dim reductions) become one
``prim::FusionGroup`` whose ``attrs["subgraph"]`` holds the ops; the runtime runs the group
as one generated kernel (``interpreter/fusion.py``), or op by op where it cannot.

Which nodes may join a group:
- ops tagged ``pointwise`` that have a ``scalar_expr`` naming every parameter, whose
  non-tensor arguments are constants or Python scalars, and that are neither in-place nor
  views (a group writes fresh buffers, so no member may alias or mutate anything);
- last-dim reductions (sum, mean, amax, amin with a constant one-element ``dim``, a constant
  ``keepdim`` and no ``dtype``); one with ``keepdim=False`` only where nothing else in the
  group reads it (its result does not broadcast against the row it came from).

Groups are grown backwards from a consumer by pulling in producers, within one block: control
flow is never crossed. A producer joins only when every node between it and the group's last
node is pure (no side effect, mutation, grad-mode change, call or nested block: moving the
producer's reads later must not move them past a write), and when every user outside the group
comes after the group's last node (the group is inserted there, so its results must not be
needed earlier). A group needs at least two ops; the nodes it replaces keep their spans.
"""
from __future__ import annotations

import ast

from ..ir import graph as G
from ..ir import types as T
from ..ops import registry as R

_IMPURE_TAGS = frozenset({R.SIDE_EFFECT, R.INPLACE, R.MUTATES, R.RANDOM, R.VIEW})
_SCALAR_TYPES = (T.IntType, T.FloatType, T.BoolType, T.NumberType)

# reductions the kernel generator has a template for: op name -> template
REDUCTIONS = {"sum": "sum", "mean": "mean", "amax": "max", "amin": "min"}


def _expr_names(expr: str) -> set:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return set()
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - calls


def operand_names(op: R.OpDef):
    """Each schema parameter's name in ``op.scalar_expr`` (``a``, ``b``, ``c`` in order for
    operands, the parameter's own name for attributes), or None when a parameter is unused:
    an expression that ignores an argument (``gelu``'s ``approximate``) cannot stand for it."""
    if not op.scalar_expr:
        return None
    used = _expr_names(op.scalar_expr)
    letters = iter("abc")
    names = []
    for p in op.schema.params:
        if p.name in used:
            names.append(p.name)
        else:
            name = next(letters, None)
            if name is None or name not in used:
                return None
            names.append(name)
    if set(names) != used:
        return None
    return tuple(names)


def _constant(v: G.Value):
    n = v.node
    if n is not None and n.kind == G.CONSTANT:
        return True, n.attrs.get("value")
    return False, None


def _is_scalar_value(v: G.Value) -> bool:
    ok, value = _constant(v)
    if ok:
        return isinstance(value, (bool, int, float))
    return v.type in _SCALAR_TYPES


def reduction_info(node: G.Node):
    """``(template, keepdim)`` for a fusible reduction node, else None."""
    op = node.op
    kind = REDUCTIONS.get(op.name)
    if kind is None or not op.has(R.REDUCTION):
        return None
    params = [p.name for p in op.schema.params]
    if params[:3] != ["self", "dim", "keepdim"] or len(node.inputs) != len(params):
        return None
    ok, dim = _constant(node.inputs[1])
    if not ok or not (isinstance(dim, list) and len(dim) == 1 and isinstance(dim[0], int)
                      or isinstance(dim, int) and not isinstance(dim, bool)):
        return None
    ok, keepdim = _constant(node.inputs[2])
    if not ok or not isinstance(keepdim, bool):
        return None
    for extra in node.inputs[3:]:
        ok, value = _constant(extra)
        if not ok or value is not None:
            return None
    if node.inputs[0].type != T.TensorType or node.outputs[0].type != T.TensorType:
        return None
    return kind, keepdim


def is_fusible(node: G.Node) -> bool:
    if node.kind != G.OP or node.blocks or len(node.outputs) != 1:
        return False
    op = node.op
    if op.tags & _IMPURE_TAGS or node.outputs[0].type != T.TensorType:
        return False
    if op.has(R.POINTWISE):
        names = operand_names(op)
        if names is None or len(names) != len(node.inputs):
            return False
        for p, v in zip(op.schema.params, node.inputs):
            if v.type == T.TensorType:
                if not p.type.is_tensor:
                    return False
            elif not _is_scalar_value(v):
                return False
        return any(v.type == T.TensorType for v in node.inputs)
    return reduction_info(node) is not None


def _pure(node: G.Node) -> bool:
    if node.kind in G.SIDE_EFFECT_KINDS or node.blocks:
        return False
    if node.kind == G.OP:
        return not (node.op.tags & (_IMPURE_TAGS - {R.VIEW}))
    return True


def _keepdim_false(node: G.Node) -> bool:
    info = reduction_info(node) if node.kind == G.OP and not node.op.has(R.POINTWISE) else None
    return info is not None and not info[1]


def _fuse_block(block: G.Block) -> None:
    for node in block.nodes:
        for b in node.blocks:
            _fuse_block(b)
    position = {n: i for i, n in enumerate(block.nodes)}
    assigned: set = set()
    groups = []
    for root in reversed(block.nodes):
        if root in assigned or not is_fusible(root):
            continue
        members = {root}
        root_pos = position[root]
        changed = True
        while changed:
            changed = False
            for m in sorted(members, key=position.get, reverse=True):
                for v in m.inputs:
                    p = v.node
                    if p is None or p in members or p in assigned or p.owner is not block:
                        continue
                    if not is_fusible(p) or _keepdim_false(p):
                        continue
                    if not _can_join(p, members, block, position, root_pos):
                        continue
                    members.add(p)
                    changed = True
        if len(members) >= 2:
            assigned.update(members)
            groups.append((root, members))
    for root, members in groups:
        _make_group(block, root, members)


def _can_join(p: G.Node, members: set, block: G.Block, position: dict, root_pos: int) -> bool:
    p_pos = position[p]
    for o in p.outputs:
        for user, _ in o.uses:
            if user in members:
                continue
            if user.owner is block and position.get(user, -1) < root_pos:
                return False
            if user.owner is not block:
                # a use inside a nested block: fine only if that block's node comes later
                anchor = user
                while anchor is not None and anchor.owner is not block:
                    anchor = anchor.owner.owner if anchor.owner is not None else None
                if anchor is None or position.get(anchor, -1) < root_pos:
                    return False
    for n in block.nodes[p_pos + 1:root_pos]:
        if n not in members and not _pure(n):
            return False
    return True


def _make_group(block: G.Block, root: G.Node, members: set) -> None:
    ordered = [n for n in block.nodes if n in members]
    sub = G.Graph("fusion_group")
    env: dict = {}
    outer_inputs: list = []
    const_cache: dict = {}

    outer_constants: list = []

    def lookup(v: G.Value) -> G.Value:
        if v in env:
            return env[v]
        ok, value = _constant(v)
        if ok:
            outer_constants.append(v)
            key = (repr(value), type(value))
            c = const_cache.get(key)
            if c is None:
                cn = sub.block.append(G.Node(G.CONSTANT, output_types=[v.type],
                                             attrs={"value": value}, span=v.node.span))
                c = const_cache[key] = cn.outputs[0]
            env[v] = c
            return c
        p = sub.add_input(v.type, v.name)
        env[v] = p
        outer_inputs.append(v)
        return p

    for n in ordered:
        ins = [lookup(v) for v in n.inputs]
        copy = sub.block.append(G.Node(n.kind, op=n.op, inputs=ins,
                                       output_types=[o.type for o in n.outputs],
                                       attrs=dict(n.attrs), span=n.span))
        for o, c in zip(n.outputs, copy.outputs):
            env[o] = c
    # constants first, so the subgraph reads in definition order
    sub.block.nodes.sort(key=lambda n: 0 if n.kind == G.CONSTANT else 1)
    escaping = []
    for n in ordered:
        for o in n.outputs:
            if any(user not in members for user, _ in o.uses) or _returned(o, block):
                escaping.append(o)
    sub.block.set_returns([env[o] for o in escaping])
    group = G.Node(G.FUSION_GROUP, inputs=outer_inputs, output_types=[o.type for o in escaping],
                   attrs={"subgraph": sub}, span=root.span)
    block.insert_before(root, group)
    for o, g in zip(escaping, group.outputs):
        g.name = o.name
        o.replace_all_uses_with(g)
        _replace_returns(block, o, g)
    for n in reversed(ordered):
        n.destroy()
    for v in set(outer_constants):
        if not v.uses and v.node.owner is block and not _returned(v, block):
            v.node.destroy()


def _returned(v: G.Value, block: G.Block) -> bool:
    b = block
    while b is not None:
        if v in b.returns:
            return True
        b = b.owner.owner if b.owner is not None else None
    return _returned_nested(v, block)


def _returned_nested(v: G.Value, block: G.Block) -> bool:
    for n in block.nodes:
        for b in n.blocks:
            if v in b.returns or _returned_nested(v, b):
                return True
    return False


def _replace_returns(block: G.Block, old: G.Value, new: G.Value) -> None:
    def visit(b: G.Block) -> None:
        if old in b.returns:
            b.set_returns([new if r is old else r for r in b.returns])
        for n in b.nodes:
            for inner in n.blocks:
                visit(inner)
    top = block
    while top.owner is not None and top.owner.owner is not None:
        top = top.owner.owner
    visit(top)


def fuse_pointwise(graph: G.Graph) -> G.Graph:
    _fuse_block(graph.block)
    return graph


__all__ = ["fuse_pointwise", "is_fusible", "operand_names", "reduction_info", "REDUCTIONS"]
