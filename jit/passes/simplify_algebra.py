"""Peephole algebraic simplification, only where the result is provably the same value.

On numbers (a rewrite needs the result's static type to be the operand's):

    x * 1, x / 1, x ** 1, x - 0   -> x       (ints and floats)
    x + 0, 0 + x                  -> x       (ints only: -0.0 + 0 is +0.0)
    x * 0, 0 * x                  -> 0       (ints only: nan * 0 is nan)
    -(-x)                         -> x
    not (not b)                   -> b       (b a bool)
    int(x), float(x), bool(x), str(x) of a value of that type -> x

On tensors, where shape specialisation has recorded the operand's and the result's dtype and
shape (``Value.meta``) and they are equal, so that neither type promotion nor broadcasting
happens, and the graph writes to no tensor in place (the result and the operand become one
object):

    x * 1, x / 1, x ** 1, x - 0  (floating x: x + 0 is not x for -0.0)  -> x
    x + 0, x - 0  (integer x)                                            -> x
    -(-x)                                                                -> x
    x.t().t(), x.transpose(a, b).transpose(a, b), x.permute(p).permute(q) with q after p the
    identity                                                             -> x

And casts that PyTorch itself answers with the tensor unchanged: ``x.to(d)`` (``copy=False``)
and ``x.type_as(y)`` when ``x``'s dtype is known to be ``d`` (``y``'s).
"""
from __future__ import annotations

from ..ir import graph as G
from ..ir import types as T
from ..ir.meta import tensor_meta
from ..ops import registry as R
from .fold_constants import Rewriter, constant_value, insert_constant

_NUMBER_TYPES = (T.IntType, T.FloatType)
_WRITING_KINDS = frozenset({G.CALL_FUNCTION, G.CALL_METHOD, G.SET_ATTR})
_WRITING_TAGS = frozenset({R.MUTATES, R.INPLACE})


def _is_int_const(v: G.Value, n: int) -> bool:
    c = constant_value(v)
    return type(c) is int and c == n


def _is_number_const(v: G.Value, n: int) -> bool:
    c = constant_value(v)
    return type(c) in (int, float) and c == n


class _Simplifier:
    def __init__(self, graph: G.Graph):
        self.rewriter = Rewriter(graph)
        self.writes = any(n.kind in _WRITING_KINDS or (n.kind == G.OP and n.op.tags & _WRITING_TAGS)
                          for n in graph.nodes())

    # -------------------------------------------------------------- conditions

    def same_number(self, node: G.Node, x: G.Value) -> bool:
        return x.type in _NUMBER_TYPES and node.output.type == x.type

    def same_tensor(self, node: G.Node, x: G.Value) -> bool:
        """``node``'s result may be replaced by ``x``: same dtype and shape, no aliasing hazard."""
        out, src = tensor_meta(node.output), tensor_meta(x)
        if out is None or src is None or not out.complete or out.dtype != src.dtype or out.shape != src.shape:
            return False
        return self.may_alias(node.output)

    def may_alias(self, result: G.Value) -> bool:
        if self.writes or self.rewriter.is_returned(result):
            return False
        return all(user.kind == G.OP for user, _ in result.uses)

    # -------------------------------------------------------------- rules

    def simplify(self, node: G.Node):
        """The value ``node``'s output equals, a Python number for a constant, or None."""
        if node.kind != G.OP or len(node.outputs) != 1:
            return None
        name = node.op.name
        ins = node.inputs
        out_type = node.output.type
        if out_type in _NUMBER_TYPES and len(ins) >= 1:
            return self.number_rule(name, node, ins)
        if out_type == T.BoolType and name == "__not__":
            inner = ins[0].node
            if inner is not None and inner.kind == G.OP and inner.op.name == "__not__" \
                    and inner.inputs[0].type == T.BoolType:
                return inner.inputs[0]
            return None
        if out_type == T.TensorType:
            return self.tensor_rule(name, node, ins)
        if name in ("str",) and len(ins) == 1 and ins[0].type == out_type:
            return ins[0]
        return None

    def number_rule(self, name: str, node: G.Node, ins: list):
        if len(ins) == 1:
            if name in ("int", "float", "bool") and ins[0].type == node.output.type:
                return ins[0]
            if name == "neg":
                inner = ins[0].node
                if inner is not None and inner.kind == G.OP and inner.op.name == "neg" \
                        and self.same_number(node, inner.inputs[0]):
                    return inner.inputs[0]
            return None
        if len(ins) != 2:
            return None
        a, b = ins
        if name in ("mul", "div", "pow") and _is_number_const(b, 1) and self.same_number(node, a):
            return a
        if name == "mul" and _is_number_const(a, 1) and self.same_number(node, b):
            return b
        if name == "sub" and _is_number_const(b, 0) and self.same_number(node, a):
            return a
        if name == "add" and node.output.type == T.IntType:
            if _is_int_const(b, 0) and a.type == T.IntType:
                return a
            if _is_int_const(a, 0) and b.type == T.IntType:
                return b
        if name == "mul" and node.output.type == T.IntType and a.type == T.IntType == b.type:
            if _is_int_const(a, 0) or _is_int_const(b, 0):
                return 0
        return None

    def tensor_rule(self, name: str, node: G.Node, ins: list):
        if not ins or ins[0].type != T.TensorType:
            return None
        x = ins[0]
        if name == "to" and node.op.qualified_name == "to.dtype":
            copy = constant_value(ins[3])
            meta = tensor_meta(x)
            if copy is False and meta is not None and meta.dtype is not None \
                    and constant_value(ins[1]) == meta.dtype:
                return x
            return None
        if name == "type_as":
            a, b = tensor_meta(x), tensor_meta(ins[1])
            if a is not None and b is not None and a.dtype is not None and a.dtype == b.dtype:
                return x
            return None
        inner = x.node
        if name in ("t", "transpose", "permute") and inner is not None and inner.kind == G.OP:
            src = self.view_inverse(name, node, inner)
            if src is not None and self.may_alias(node.output):
                return src
            return None
        if name == "neg" and inner is not None and inner.kind == G.OP and inner.op.name == "neg":
            return inner.inputs[0] if self.same_tensor(node, inner.inputs[0]) else None
        meta = tensor_meta(x)
        if meta is None or meta.dtype is None or node.op.qualified_name not in _SCALAR_IDENTITIES:
            return None
        rule = _SCALAR_IDENTITIES[node.op.qualified_name]
        if rule(meta.dtype, ins) and self.same_tensor(node, x):
            return x
        return None

    def view_inverse(self, name: str, node: G.Node, inner: G.Node):
        """The source of ``inner`` when ``node`` undoes it."""
        if name == "t" and inner.op.qualified_name == "t":
            return inner.inputs[0]
        if name == "transpose" and inner.op.name == "transpose" and len(node.inputs) == 3:
            a, b = constant_value(node.inputs[1]), constant_value(node.inputs[2])
            c, d = constant_value(inner.inputs[1]), constant_value(inner.inputs[2])
            if all(type(v) is int and v >= 0 for v in (a, b, c, d)) and {a, b} == {c, d}:
                return inner.inputs[0]
        if name == "permute" and inner.op.name == "permute":
            p, q = _int_list(inner.inputs[1]), _int_list(node.inputs[1])
            if p is not None and q is not None and len(p) == len(q) \
                    and all(v >= 0 for v in p + q) and [p[i] for i in q] == list(range(len(p))):
                return inner.inputs[0]
        return None


def _int_list(v: G.Value):
    node = v.node
    if node is None:
        return None
    if node.kind == G.CONSTANT:
        value = node.attrs.get("value")
        return list(value) if isinstance(value, (list, tuple)) else None
    if node.kind == G.LIST_CONSTRUCT:
        items = [constant_value(i) for i in node.inputs]
        return items if all(type(i) is int for i in items) else None
    return None


# qualified name -> when ``op(x, c, ...)`` is ``x`` for x of the given dtype
_SCALAR_IDENTITIES = {
    "mul.Scalar": lambda dt, ins: dt.category > 0 and _is_number_const(ins[1], 1)
    and (dt.is_floating_point or type(constant_value(ins[1])) is int),
    "div.Scalar": lambda dt, ins: dt.is_floating_point and _is_number_const(ins[1], 1),
    "pow.Tensor_Scalar": lambda dt, ins: dt.category > 0 and _is_number_const(ins[1], 1)
    and (dt.is_floating_point or type(constant_value(ins[1])) is int),
    "sub.Scalar": lambda dt, ins: dt.category > 0 and _is_number_const(ins[1], 0)
    and (dt.is_floating_point or type(constant_value(ins[1])) is int)
    and _is_number_const(ins[2], 1),
    "add.Scalar": lambda dt, ins: dt.category > 0 and not dt.is_floating_point
    and _is_int_const(ins[1], 0) and _is_int_const(ins[2], 1),
}


def _simplify_block(block: G.Block, s: _Simplifier) -> None:
    for node in list(block.nodes):
        for b in node.blocks:
            _simplify_block(b, s)
        result = s.simplify(node)
        if result is None:
            continue
        if not isinstance(result, G.Value):
            result = insert_constant(node, result, node.output.type)
        s.rewriter.replace(node.output, result)


def simplify_algebra(graph: G.Graph) -> G.Graph:
    _simplify_block(graph.block, _Simplifier(graph))
    return graph


__all__ = ["simplify_algebra"]
