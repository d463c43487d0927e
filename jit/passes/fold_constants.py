"""Constant propagation and folding.

One walk in program order, nested blocks included:

- an op whose inputs are all constants is evaluated with its registry impl and replaced by a
  ``prim::Constant``, when that is safe: the op is not tagged random, side_effect, mutates or
  inplace, it takes and returns no tensor, and its result is immutable (int, float, bool, str,
  None, dtype, or a tuple of those; a folded list or dict would be one object shared by every
  call and every iteration). An op that raises is left alone, to raise at run time;
- ``len`` of a list built by ``prim::ListConstruct`` and never mutated is its length, and
  ``xs[i]`` for a constant ``i`` is the element itself (constant or not); tuples alike;
- ``x is None`` is decided when ``x`` is a constant or its static type settles it;
  ``prim::RangeLength`` of constants is the number of iterations;
- an ``If`` whose condition is constant is replaced by its taken block; a ``Loop`` that
  provably runs no iteration is replaced by its initial values.

The pass leaves the unused constants and nodes behind for ``eliminate_dead_code``.
"""
from __future__ import annotations

from typing import Any

from ..ir import graph as G
from ..ir import types as T
from ..ir.dtypes import DType
from ..ops import registry as R

_UNFOLDABLE_TAGS = frozenset({R.RANDOM, R.SIDE_EFFECT, R.MUTATES, R.INPLACE})
_MUTATING_TAGS = frozenset({R.MUTATES, R.INPLACE, R.SIDE_EFFECT})
_NO_VALUE = object()
NO_VALUE = _NO_VALUE  # what constant_value returns for a value that is not a constant


# ------------------------------------------------------------------ rewriting helpers

class Rewriter:
    """Replaces values everywhere they are read: node inputs and block returns (which the IR
    does not record as uses)."""

    def __init__(self, graph: G.Graph):
        self.graph = graph
        self.returned_by: dict = {}
        self._index(graph.block)
        for n in graph.nodes():
            for b in n.blocks:
                self._index(b)

    def _index(self, block: G.Block) -> None:
        for v in block.returns:
            self.returned_by.setdefault(v, []).append(block)

    def index_block(self, block: G.Block) -> None:
        """Record the returns of a block created after the rewriter (a copied body)."""
        self._index(block)

    def is_returned(self, v: G.Value) -> bool:
        return any(v in b.returns for b in self.returned_by.get(v, ()))

    def replace(self, old: G.Value, new: G.Value) -> None:
        if old is new:
            return
        old.replace_all_uses_with(new)
        blocks = self.returned_by.pop(old, None)
        if blocks:
            for b in blocks:
                if old in b.returns:
                    b.set_returns([new if v is old else v for v in b.returns])
            self.returned_by.setdefault(new, []).extend(blocks)


def constant_value(v: G.Value) -> Any:
    """The value of a ``prim::Constant`` output, else ``_NO_VALUE``."""
    node = v.node
    if node is not None and node.kind == G.CONSTANT:
        return node.attrs.get("value")
    return _NO_VALUE


def is_constant(v: G.Value) -> bool:
    return v.node is not None and v.node.kind == G.CONSTANT


def insert_constant(anchor: G.Node, value: Any, type_: T.Type) -> G.Value:
    """A new ``prim::Constant`` just before ``anchor`` (with its span)."""
    node = G.Node(G.CONSTANT, output_types=[type_], attrs={"value": value}, span=anchor.span)
    anchor.owner.insert_before(anchor, node)
    return node.output


def is_immutable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, DType)):
        return True
    if isinstance(value, tuple):
        return all(is_immutable(v) for v in value)
    return False


def _mentions_tensor(t: T.Type) -> bool:
    if t == T.TensorType or t == T.AnyType:
        return True
    if isinstance(t, (T.ListType, T.OptionalType)):
        return _mentions_tensor(t.elem)
    if isinstance(t, T.TupleType):
        return any(_mentions_tensor(e) for e in t.elems)
    if isinstance(t, T.DictType):
        return _mentions_tensor(t.key) or _mentions_tensor(t.value)
    if isinstance(t, T.UnionType):
        return any(_mentions_tensor(m) for m in t.members)
    return False


def is_unmutated_construct(v: G.Value, rewriter: Rewriter) -> bool:
    """``v`` is a list built by ListConstruct (or a tuple) that no node can change: every use
    is an op that does not mutate its arguments, and it is not returned from a block."""
    node = v.node
    if node is None or node.kind not in (G.LIST_CONSTRUCT, G.TUPLE_CONSTRUCT):
        return False
    if node.kind == G.TUPLE_CONSTRUCT:
        return True
    if rewriter.is_returned(v):
        return False
    for user, _ in v.uses:
        if user.kind != G.OP or user.op.tags & _MUTATING_TAGS:
            return False
    return True


# ------------------------------------------------------------------ folding one node

def _widen(node: G.Node, args: list) -> list:
    params = node.op.schema.params
    out = []
    for i, a in enumerate(args):
        st = params[i].type if i < len(params) else None
        if st is not None and st.kind == "optional":
            st = st.args[0]
        if st is not None and st.kind == "list" and st.size and isinstance(a, int) and not isinstance(a, bool):
            a = [a] * st.size
        out.append(a)
    return out


def foldable_op(op: R.OpDef) -> bool:
    return not (op.tags & _UNFOLDABLE_TAGS) and not op.extra.get("needs_handler")


def _fold_op(node: G.Node) -> Any:
    """The value of an op node on constant inputs, or _NO_VALUE."""
    op = node.op
    if not foldable_op(op) or len(node.outputs) != 1:
        return _NO_VALUE
    out_type = node.output.type
    if _mentions_tensor(out_type) or any(_mentions_tensor(v.type) for v in node.inputs):
        return _NO_VALUE
    args = [constant_value(v) for v in node.inputs]
    if any(a is _NO_VALUE for a in args):
        return _NO_VALUE
    try:
        result = op.impl(*_widen(node, [list(a) if isinstance(a, list) else a for a in args]))
    except Exception:  # it fails at run time, with the script's line
        return _NO_VALUE
    if isinstance(result, list) or not is_immutable(result):
        return _NO_VALUE
    return result


def _fold_container_read(node: G.Node, rewriter: Rewriter) -> Any:
    """``len(xs)``/``xs[i]`` of a list or tuple built in the graph: a Value or a Python value."""
    op = node.op
    if op.name not in ("len", "__getitem__") or not node.inputs:
        return _NO_VALUE
    src = node.inputs[0]
    if not is_unmutated_construct(src, rewriter):
        return _NO_VALUE
    items = src.node.inputs
    if op.name == "len" and len(node.inputs) == 1:
        return len(items)
    if op.name == "__getitem__" and len(node.inputs) == 2:
        i = constant_value(node.inputs[1])
        if isinstance(i, int) and not isinstance(i, bool) and -len(items) <= i < len(items):
            item = items[i]
            return item if item.type == node.output.type else _NO_VALUE
    return _NO_VALUE


def _none_test(node: G.Node) -> Any:
    v = node.inputs[0]
    value = constant_value(v)
    if value is not _NO_VALUE:
        is_none = value is None
    elif v.type == T.NoneType:
        is_none = True
    elif isinstance(v.type, (T.OptionalType, T.UnionType)) or v.type == T.AnyType:
        return _NO_VALUE
    else:
        is_none = False
    return is_none if node.kind == G.IS_NONE else not is_none


def _fold_value(node: G.Node, rewriter: Rewriter) -> Any:
    kind = node.kind
    if kind == G.OP:
        value = _fold_container_read(node, rewriter)
        return value if value is not _NO_VALUE else _fold_op(node)
    if kind in (G.IS_NONE, G.IS_NOT_NONE):
        return _none_test(node)
    if kind == G.RANGE_LENGTH:
        args = [constant_value(v) for v in node.inputs]
        if all(isinstance(a, int) for a in args) and args[2] != 0:
            return len(range(*args))
        return _NO_VALUE
    if kind == G.TUPLE_CONSTRUCT:
        args = [constant_value(v) for v in node.inputs]
        if all(a is not _NO_VALUE and is_immutable(a) for a in args):
            return tuple(args)
        return _NO_VALUE
    if kind == G.TUPLE_INDEX and len(node.inputs) == 1:
        src = node.inputs[0]
        i = node.attrs.get("index")
        if src.node is not None and src.node.kind == G.TUPLE_CONSTRUCT:
            return src.node.inputs[i]
        value = constant_value(src)
        if isinstance(value, tuple):
            return value[i]
    return _NO_VALUE


# ------------------------------------------------------------------ control flow

def _inline_block(node: G.Node, block: G.Block, rewriter: Rewriter) -> None:
    """Move ``block``'s nodes before ``node`` and let its returns stand for node's outputs."""
    owner = node.owner
    for n in list(block.nodes):
        block.nodes.remove(n)
        owner.insert_before(node, n)
    for out, ret in zip(node.outputs, block.returns):
        rewriter.replace(out, ret)
    block.set_returns([])
    node.destroy()


def _fold_if(node: G.Node, rewriter: Rewriter) -> bool:
    cond = constant_value(node.inputs[0])
    if not isinstance(cond, bool):
        return False
    _inline_block(node, node.blocks[0 if cond else 1], rewriter)
    return True


def _fold_loop(node: G.Node, rewriter: Rewriter) -> bool:
    trip = constant_value(node.inputs[0])
    cond = constant_value(node.inputs[1])
    if not ((isinstance(trip, int) and trip <= 0) or cond is False):
        return False
    for out, init in zip(node.outputs, node.inputs[2:]):
        rewriter.replace(out, init)
    node.destroy()
    return True


# ------------------------------------------------------------------ the pass

def _fold_block(block: G.Block, rewriter: Rewriter) -> None:
    i = 0
    while i < len(block.nodes):
        node = block.nodes[i]
        kind = node.kind
        if kind == G.IF and _fold_if(node, rewriter):
            continue  # the taken block's nodes now start at i
        if kind == G.LOOP and _fold_loop(node, rewriter):
            continue
        for b in node.blocks:
            _fold_block(b, rewriter)
        if kind != G.CONSTANT and len(node.outputs) == 1:
            value = _fold_value(node, rewriter)
            if isinstance(value, G.Value):
                if value.type == node.output.type:
                    rewriter.replace(node.output, value)
            elif value is not _NO_VALUE:
                rewriter.replace(node.output, insert_constant(node, value, node.output.type))
                i += 1  # skip the constant just inserted before the node
        i += 1


def fold_constants(graph: G.Graph) -> G.Graph:
    _fold_block(graph.block, Rewriter(graph))
    return graph


__all__ = ["fold_constants", "Rewriter", "NO_VALUE", "constant_value", "is_constant", "insert_constant",
           "is_immutable", "foldable_op"]
