"""Common subexpression elimination: a pure node that repeats an earlier one (same kind, op,
attributes and inputs) reuses the earlier node's outputs.

Only an earlier node that dominates the repeat counts: one before it in the same block or in
an enclosing block (the table of a nested block starts from its parent's, and is dropped after
it). Pure means: an op not tagged random, side_effect, mutates or inplace, a constant with an
immutable value, or a tuple construction/index/unpack; lists and dicts are never merged, since
each construction makes a new object.

Mutation is the other hazard: ``a = x + 1; x.add_(1); b = x + 1``. When the graph contains any
node that may write to an argument (an op tagged mutates or inplace, a call, a method call,
an attribute store), only nodes whose inputs are all immutable values (numbers, strings,
dtypes, tuples of those) are merged. A tensor result computed under ``no_grad`` is not merged
with one computed outside it: each ``SetGradEnabled`` starts a new epoch for tensor results.
"""
from __future__ import annotations

from collections import ChainMap

from ..ir import graph as G
from ..ir import types as T
from ..ops import registry as R
from .fold_constants import Rewriter, is_immutable

_IMPURE_TAGS = frozenset({R.RANDOM, R.SIDE_EFFECT, R.MUTATES, R.INPLACE})
_WRITING_KINDS = frozenset({G.CALL_FUNCTION, G.CALL_METHOD, G.SET_ATTR})
_WRITING_TAGS = frozenset({R.MUTATES, R.INPLACE})
_PURE_KINDS = frozenset({G.TUPLE_CONSTRUCT, G.TUPLE_INDEX, G.TUPLE_UNPACK, G.RANGE_LENGTH,
                         G.IS_NONE, G.IS_NOT_NONE, G.UNCHECKED_CAST, G.ISINSTANCE})
_IMMUTABLE_TYPES = (T.IntType, T.FloatType, T.BoolType, T.StrType, T.NoneType, T.DTypeType,
                    T.NumberType, T.DeviceType)


def _immutable_type(t: T.Type) -> bool:
    if t in _IMMUTABLE_TYPES:
        return True
    if isinstance(t, T.TupleType):
        return all(_immutable_type(e) for e in t.elems)
    if isinstance(t, T.OptionalType):
        return _immutable_type(t.elem)
    return False


def _fresh_container(t: T.Type) -> bool:
    if isinstance(t, (T.ListType, T.DictType)):
        return True
    if isinstance(t, T.TupleType):
        return any(_fresh_container(e) for e in t.elems)
    if isinstance(t, T.OptionalType):
        return _fresh_container(t.elem)
    return False


def _graph_writes(graph: G.Graph) -> bool:
    for n in graph.nodes():
        if n.kind in _WRITING_KINDS:
            return True
        if n.kind == G.OP and n.op.tags & _WRITING_TAGS:
            return True
    return False


def _hashable(value):
    """A key for an attribute value that tells 1, 1.0 and True apart."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_hashable(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value).__name__, value)


class _CSE:
    def __init__(self, graph: G.Graph):
        self.rewriter = Rewriter(graph)
        self.writes = _graph_writes(graph)
        self.epoch = 0

    def key(self, node: G.Node):
        kind = node.kind
        if kind == G.CONSTANT:
            value = node.attrs.get("value")
            if not is_immutable(value):
                return None
            return (kind, str(node.output.type), _hashable(value))
        if kind == G.OP:
            if node.op.tags & _IMPURE_TAGS or node.op.extra.get("needs_handler"):
                return None
        elif kind not in _PURE_KINDS:
            return None
        if node.blocks or not node.outputs:
            return None
        if self.writes and not all(_immutable_type(v.type) for v in node.inputs):
            return None
        if self.writes and any(_fresh_container(o.type) for o in node.outputs):
            return None  # each evaluation makes a new list or dict the graph may mutate
        attrs = tuple(sorted((k, _hashable(v)) for k, v in node.attrs.items()))
        epoch = self.epoch if any(o.type == T.TensorType or o.type == T.AnyType
                                  for o in node.outputs) else -1
        types = tuple(str(o.type) for o in node.outputs)
        return (kind, id(node.op), tuple(id(v) for v in node.inputs), attrs, types, epoch)

    def block(self, block: G.Block, table) -> None:
        for node in list(block.nodes):
            if node.kind == G.GRAD_MODE:
                self.epoch += 1
            for b in node.blocks:
                self.block(b, table.new_child())
            key = self.key(node)
            if key is None:
                continue
            earlier = table.get(key)
            if earlier is None:
                table[key] = node
                continue
            for old, new in zip(node.outputs, earlier.outputs):
                self.rewriter.replace(old, new)
            node.destroy()


def eliminate_common_subexpressions(graph: G.Graph) -> G.Graph:
    _CSE(graph).block(graph.block, ChainMap())
    return graph


__all__ = ["eliminate_common_subexpressions"]
