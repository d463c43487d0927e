"""The IR verifier: structural invariants every pass must keep.

- every input of a node, and every value a block returns, is defined before it: earlier in the
  same block, in an enclosing block, or as a parameter of the block or one enclosing it;
- use lists agree with inputs, and nodes know the block that owns them;
- ``prim::If`` has one bool condition and two blocks returning one value per output;
  ``prim::Loop`` has a trip count, a condition and one input, parameter, return and output per
  carried value;
- an op node takes one input per schema parameter (more for ``...``), each of a type the
  schema accepts, and has at most one output.
"""
from __future__ import annotations

from ..ops.schema import SType
from . import graph as G
from . import types as T


class VerifyError(Exception):
    """The graph breaks an invariant; the message names the node and where it came from."""

    def __init__(self, message: str, node=None):
        self.node = node
        where = ""
        if node is not None:
            from .printer import _node_line
            where = f"\n  at: {_node_line(node).strip()}"
            if node.span is not None:
                where += f"  # {node.span.location}"
        super().__init__(message + where)


def verify(graph: G.Graph) -> G.Graph:
    """Check ``graph``; raise :class:`VerifyError` on the first broken invariant."""
    graph.number_values()
    _verify_block(graph.block, set(), graph)
    return graph


def _check_defined(v: G.Value, visible: set, node, what: str) -> None:
    if v not in visible:
        raise VerifyError(f"{what} %{v.debug_name} is used before it is defined "
                          f"(or outside the block that defines it)", node)


def _verify_block(block: G.Block, outer: set, graph: G.Graph) -> None:
    visible = set(outer)
    visible.update(block.params)
    for node in block.nodes:
        if node.owner is not block:
            raise VerifyError("node is listed in a block that does not own it", node)
        for i, v in enumerate(node.inputs):
            _check_defined(v, visible, node, f"input {i}")
            if (node, i) not in v.uses:
                raise VerifyError(f"input {i} (%{v.debug_name}) does not record this use", node)
        for k, o in enumerate(node.outputs):
            if o.node is not node or o.index != k:
                raise VerifyError(f"output {k} does not point back to its node", node)
        _verify_kind(node)
        for b in node.blocks:
            if b.owner is not node:
                raise VerifyError("sub-block does not point back to its node", node)
            _verify_block(b, visible, graph)
        visible.update(node.outputs)
    owner = block.owner
    for v in block.returns:
        if v not in visible:
            raise VerifyError(f"block returns %{v.debug_name}, which is not defined in it or above it",
                              owner)


def _verify_kind(node: G.Node) -> None:
    kind = node.kind
    if kind == G.IF:
        if len(node.inputs) != 1:
            raise VerifyError(f"prim::If takes one condition, got {len(node.inputs)} inputs", node)
        if node.inputs[0].type not in (T.BoolType, T.AnyType):
            raise VerifyError(f"prim::If condition has type {node.inputs[0].type}, not bool", node)
        if len(node.blocks) != 2:
            raise VerifyError(f"prim::If has {len(node.blocks)} blocks, not 2", node)
        for i, b in enumerate(node.blocks):
            if b.params:
                raise VerifyError(f"prim::If block{i} has parameters", node)
            if len(b.returns) != len(node.outputs):
                raise VerifyError(f"prim::If block{i} returns {len(b.returns)} values for "
                                  f"{len(node.outputs)} outputs", node)
    elif kind == G.LOOP:
        if len(node.inputs) < 2 or len(node.blocks) != 1:
            raise VerifyError("prim::Loop takes a trip count, a condition and one block", node)
        n = len(node.inputs) - 2
        body = node.blocks[0]
        if len(node.outputs) != n:
            raise VerifyError(f"prim::Loop carries {n} values but has {len(node.outputs)} outputs", node)
        if len(body.params) != n + 1:
            raise VerifyError(f"prim::Loop body has {len(body.params)} parameters, expected {n + 1} "
                              f"(the iteration and {n} carried)", node)
        if len(body.returns) != n + 1:
            raise VerifyError(f"prim::Loop body returns {len(body.returns)} values, expected {n + 1} "
                              f"(the condition and {n} carried)", node)
        if node.inputs[0].type not in (T.IntType, T.AnyType):
            raise VerifyError(f"prim::Loop trip count has type {node.inputs[0].type}", node)
    elif kind == G.OP:
        _verify_op(node)
    elif kind == G.CONSTANT:
        if "value" not in node.attrs or len(node.outputs) != 1:
            raise VerifyError("prim::Constant needs a value and one output", node)
    elif kind == G.TUPLE_UNPACK:
        t = node.inputs[0].type if node.inputs else None
        if isinstance(t, T.TupleType) and len(t.elems) != len(node.outputs):
            raise VerifyError(f"unpacking {t} into {len(node.outputs)} values", node)


def _verify_op(node: G.Node) -> None:
    from ..ops.registry import OpDef

    op = node.op
    if not isinstance(op, OpDef):
        raise VerifyError("op node without a registry entry", node)
    schema = op.schema
    params = schema.params
    n = len(node.inputs)
    if n < len(params) or (n > len(params) and not schema.varargs):
        raise VerifyError(f"{op.qualified_name} takes {len(params)} arguments, got {n}", node)
    if len(node.outputs) > 1 or (not schema.returns and node.outputs):
        raise VerifyError(f"{op.qualified_name} has {len(node.outputs)} outputs", node)
    typevars: dict = {}
    for p, v in zip(params, node.inputs):
        if not accepts(p.type, v.type, typevars) and not _loosely_accepts(p.type, v.type):
            raise VerifyError(f"{op.qualified_name}: argument {p.name!r} expects {p.type}, "
                              f"got %{v.debug_name} of type {v.type}", node)


def _loosely_accepts(st, t) -> bool:
    """Types the checker may legitimately pass where the schema is stricter than the language
    (a bool where an int is expected, a number where a float is)."""
    if t in (T.AnyType, T.NumberType, T.BoolType) and st.kind in ("int", "float", "Scalar", "optional"):
        return True
    if isinstance(t, T.OptionalType):
        return True
    return st.kind not in ("Tensor", "int", "float", "bool", "str")


# ------------------------------------------------------------------ schema types vs static types

_BASE_TYPES = {
    "Tensor": T.TensorType, "Scalar": T.NumberType, "int": T.IntType, "SymInt": T.IntType,
    "float": T.FloatType, "bool": T.BoolType, "str": T.StrType, "ScalarType": T.DTypeType,
    "Device": T.DeviceType, "Any": T.AnyType, "None": T.NoneType, "number": T.NumberType,
    "Layout": T.IntType, "MemoryFormat": T.IntType, "Generator": T.AnyType,
}


def accepts(st: SType, t: T.Type, typevars: dict) -> bool:
    """Whether a value of static type ``t`` can be passed for schema type ``st``."""
    kind = st.kind
    if t == T.AnyType or kind == "Any":
        return True
    if kind == "optional":
        if t == T.NoneType:
            return True
        if isinstance(t, T.OptionalType):
            return accepts(st.args[0], t.elem, typevars)
        return accepts(st.args[0], t, typevars)
    if kind == "Tensor":
        return t == T.TensorType
    if kind == "Scalar":
        return t in (T.IntType, T.FloatType, T.BoolType, T.NumberType)
    if kind in ("int", "SymInt"):
        return t == T.IntType
    if kind == "float":
        return t in (T.FloatType, T.IntType)
    if kind in _BASE_TYPES:
        return t == _BASE_TYPES[kind] or (kind == "Device" and t == T.StrType)
    if kind == "list":
        elem = st.args[0]
        if st.size and elem.kind == "int" and t == T.IntType:
            return True
        if isinstance(t, T.TupleType) and elem.kind == "int":
            return all(e == T.IntType for e in t.elems)
        return isinstance(t, T.ListType) and accepts(elem, t.elem, typevars)
    if kind == "tuple":
        return (isinstance(t, T.TupleType) and len(t.elems) == len(st.args)
                and all(accepts(a, e, typevars) for a, e in zip(st.args, t.elems)))
    if kind == "dict":
        return (isinstance(t, T.DictType) and accepts(st.args[0], t.key, typevars)
                and accepts(st.args[1], t.value, typevars))
    bound = typevars.get(kind)  # a type variable
    if bound is None:
        typevars[kind] = t
        return True
    return bound == t or T.is_subtype(t, bound)


def stype_to_type(st: SType, typevars: dict) -> T.Type:
    kind = st.kind
    if kind in _BASE_TYPES:
        return _BASE_TYPES[kind]
    if kind == "list":
        return T.ListType(stype_to_type(st.args[0], typevars))
    if kind == "optional":
        return T.optional(stype_to_type(st.args[0], typevars))
    if kind == "tuple":
        return T.TupleType(tuple(stype_to_type(a, typevars) for a in st.args))
    if kind == "dict":
        return T.DictType(stype_to_type(st.args[0], typevars), stype_to_type(st.args[1], typevars))
    return typevars.get(kind, T.AnyType)


__all__ = ["verify", "VerifyError", "accepts", "stype_to_type"]
