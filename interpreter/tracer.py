"""Recording a Python function's tensor ops into a Graph, by running it for real.

The tracer is a registry handler pushed above the runtime's: every ``bind`` runs the op on real
Tensors (through the handler below) and then appends a node to the graph, mapping each Tensor
it produced, by identity, to the node's output Value. A Tensor the trace did not produce and
that is not an input (a global weight, a tensor built outside the op registry) becomes a
``prim::Constant`` whose value is that Tensor.

Sizes read from traced Tensors (``x.shape``, ``x.size(i)``, ``x.dim()``) are recorded as size
ops and handed back as :class:`TracedInt` (an ``int`` that carries its Value), so arithmetic on
them and passing them to ``view``/``reshape`` is recorded too and the trace generalizes over
them. Turning a Tensor into a Python value (``bool()``, ``item()``, ``float()``, ...) bakes the
value in and emits a :class:`TracerWarning` pointing at the user's line.

Views and in-place ops need nothing special: the graph records the view op and then the
in-place op on the view's Value, and replaying the graph on the runtime shares storage exactly
as the traced run did.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any, Optional

from ..jit.ir import dtypes
from ..jit.ir import graph as G
from ..jit.ir import types as T
from ..jit.lower_support import constant_type, default_for
from ..jit.ops import dispatch, registry
from ..jit.ops.registry import INPLACE, MUTATES, RANDOM, SHAPE_QUERY, SIDE_EFFECT, Handler, OpDef


class TracerWarning(Warning):
    """The traced function did something the trace cannot generalize over (the value is baked)."""


class TracingError(RuntimeError):
    """The function cannot be traced (unsupported inputs or outputs)."""


# ------------------------------------------------------------------ traced Python numbers

def _scalar_op(name: str, a: Any, b: Any) -> Any:
    return dispatch.call(name, a, b)


class TracedInt(int):
    """An ``int`` read from a traced Tensor's shape; arithmetic on it is recorded."""

    _ts_value: G.Value

    def __new__(cls, value: int, graph_value: G.Value):
        obj = int.__new__(cls, value)
        obj._ts_value = graph_value
        return obj

    def __add__(self, o):
        return _scalar_op("add", self, o) if _is_number(o) else NotImplemented

    def __radd__(self, o):
        return _scalar_op("add", o, self) if _is_number(o) else NotImplemented

    def __sub__(self, o):
        return _scalar_op("sub", self, o) if _is_number(o) else NotImplemented

    def __rsub__(self, o):
        return _scalar_op("sub", o, self) if _is_number(o) else NotImplemented

    def __mul__(self, o):
        return _scalar_op("mul", self, o) if _is_number(o) else NotImplemented

    def __rmul__(self, o):
        return _scalar_op("mul", o, self) if _is_number(o) else NotImplemented

    def __floordiv__(self, o):
        return _scalar_op("floor_divide", self, o) if _is_number(o) else NotImplemented

    def __rfloordiv__(self, o):
        return _scalar_op("floor_divide", o, self) if _is_number(o) else NotImplemented

    def __truediv__(self, o):
        return _scalar_op("div", self, o) if _is_number(o) else NotImplemented

    def __rtruediv__(self, o):
        return _scalar_op("div", o, self) if _is_number(o) else NotImplemented

    def __mod__(self, o):
        return _scalar_op("remainder", self, o) if _is_number(o) else NotImplemented

    def __neg__(self):
        return dispatch.call("neg", self)

    def __repr__(self) -> str:
        return int.__repr__(int(self))


class TracedFloat(float):
    """A ``float`` computed from traced sizes; arithmetic on it is recorded."""

    _ts_value: G.Value

    def __new__(cls, value: float, graph_value: G.Value):
        obj = float.__new__(cls, value)
        obj._ts_value = graph_value
        return obj

    __add__ = TracedInt.__add__
    __radd__ = TracedInt.__radd__
    __sub__ = TracedInt.__sub__
    __rsub__ = TracedInt.__rsub__
    __mul__ = TracedInt.__mul__
    __rmul__ = TracedInt.__rmul__
    __truediv__ = TracedInt.__truediv__
    __rtruediv__ = TracedInt.__rtruediv__
    __neg__ = TracedInt.__neg__

    def __repr__(self) -> str:
        return float.__repr__(float(self))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _traced_value(v: Any) -> Optional[G.Value]:
    return getattr(v, "_ts_value", None) if isinstance(v, (TracedInt, TracedFloat)) else None


# ------------------------------------------------------------------ where the user is

def user_frame() -> tuple:
    """(filename, lineno, module globals) of the innermost frame outside tensorscript."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "") or ""
        if not (name == "tensorscript" or name.startswith("tensorscript.")
                or name in ("contextlib", "warnings")):
            return frame.f_code.co_filename, frame.f_lineno, frame.f_globals
        frame = frame.f_back
    return "<unknown>", 0, {}


def _called_from_user() -> bool:
    frame = sys._getframe(2)
    name = frame.f_globals.get("__name__", "") or ""
    return not (name == "tensorscript" or name.startswith("tensorscript."))


def warn_baked(what: str) -> None:
    filename, lineno, globs = user_frame()
    message = (f"{what} during tracing: the value is recorded as a constant, so the trace "
               "will not generalize to other inputs")
    warnings.warn_explicit(message, TracerWarning, filename, lineno,
                           module=globs.get("__name__"), registry=None)


# ------------------------------------------------------------------ the handler

def _value_type(value: Any) -> T.Type:
    if isinstance(value, list):
        if not value:
            return T.ListType(T.TensorType)
        return T.ListType(_value_type(value[0]))
    if isinstance(value, tuple):
        return T.TupleType(tuple(_value_type(v) for v in value))
    if isinstance(value, dict):
        if not value:
            return T.DictType(T.StrType, T.TensorType)
        k, v = next(iter(value.items()))
        return T.DictType(_value_type(k), _value_type(v))
    if value is None:
        return T.NoneType
    return constant_type(value)


def _stype_is_tensorish(st) -> bool:
    if st.kind in ("Tensor", "Any"):
        return True
    return any(_stype_is_tensorish(a) for a in st.args)


class TracingHandler(Handler):
    """Runs each op through the handler below and records it into ``graph``."""

    def __init__(self, graph: G.Graph):
        self.graph = graph
        self._values: dict = {}  # id(Tensor) -> (Tensor, Value); the Tensor is kept alive
        self._constants: dict = {}  # id(Tensor) -> (Tensor, Value)
        self.constant_tensors: list = []
        self._depth = 0
        self._below: Optional[Handler] = None

    # -------------------------------------------------------------- values

    def bind_tensor(self, t: Any, v: G.Value) -> None:
        self._values[id(t)] = (t, v)

    def is_traced(self, t: Any) -> bool:
        return id(t) in self._values

    def constant(self, value: Any, type_: Optional[T.Type] = None) -> G.Value:
        if dispatch.is_tensor(value):
            hit = self._constants.get(id(value))
            if hit is not None:
                return hit[1]
            node = G.Node(G.CONSTANT, output_types=[T.TensorType],
                          attrs={"value": value, "name": f"c{len(self.constant_tensors)}"})
            self.graph.block.append(node)
            self._constants[id(value)] = (value, node.output)
            self.constant_tensors.append(value)
            return node.output
        if type_ is None:
            type_ = _value_type(value)
        node = G.Node(G.CONSTANT, output_types=[type_], attrs={"value": value})
        self.graph.block.append(node)
        return node.output

    def value_of(self, x: Any, st=None) -> G.Value:
        """The graph Value standing for run-time value ``x`` (a constant when untraced)."""
        if dispatch.is_tensor(x):
            hit = self._values.get(id(x))
            return hit[1] if hit is not None else self.constant(x)
        tv = _traced_value(x)
        if tv is not None:
            return tv
        kind = st.kind if st is not None else None
        if kind == "optional" and st.args[0].kind == "Device":
            x = None  # the only device is the CPU, which is also what None means
        if kind == "optional":
            if x is None:
                return self.constant(None, T.NoneType)
            return self.value_of(x, st.args[0])
        if isinstance(x, (list, tuple)) and self._has_traced(x):
            elem_st = st.args[0] if kind == "list" and st.args else None
            items = [self.value_of(e, elem_st) for e in x]
            if kind == "list" or isinstance(x, list):
                elem_t = items[0].type if items else T.TensorType
                if elem_st is not None and elem_st.kind == "optional":
                    elem_t = T.optional(elem_t)
                node = G.Node(G.LIST_CONSTRUCT, inputs=items, output_types=[T.ListType(elem_t)])
            else:
                node = G.Node(G.TUPLE_CONSTRUCT, inputs=items,
                              output_types=[T.TupleType(tuple(i.type for i in items))])
            self.graph.block.append(node)
            return node.output
        if st is not None and kind not in ("Any",) and not _is_typevar(st):
            value, t = default_for(_plain(x), st)
            if kind == "optional" or t == T.AnyType:
                t = _value_type(value)
            return self.constant(value, t)
        return self.constant(_plain(x))

    def _has_traced(self, xs) -> bool:
        for e in xs:
            if dispatch.is_tensor(e) or _traced_value(e) is not None:
                return True
            if isinstance(e, (list, tuple)) and self._has_traced(e):
                return True
        return False

    # -------------------------------------------------------------- recording

    def process(self, op: OpDef, args: tuple) -> Any:
        below = self._below
        if self._depth:
            return below.process(op, tuple(_plain_arg(a) for a in args))
        if op.has(INPLACE) and args and dispatch.is_tensor(args[0]) and id(args[0]) not in self._values:
            self._private_copy(args[0])
        self._depth += 1
        try:
            out = below.process(op, tuple(_plain_arg(a) for a in args))
        finally:
            self._depth -= 1
        return self.record(op, args, out)

    def _private_copy(self, t: Any) -> None:
        """Before an in-place op writes into an untraced tensor: its value now becomes a
        constant, and the graph writes into a clone of it, so every run starts from it."""
        from .runtime import wrap
        snapshot = wrap(t._data.copy())
        const = self.constant(snapshot)
        node = G.Node(G.OP, op=_CLONE, inputs=[const, self.constant(None, T.NoneType)],
                      output_types=[T.TensorType])
        self.graph.block.append(node)
        self.bind_tensor(t, node.output)

    def _inputs_traced(self, args: tuple) -> bool:
        for a in args:
            if dispatch.is_tensor(a):
                if id(a) in self._values:
                    return True
            elif _traced_value(a) is not None:
                return True
            elif isinstance(a, (list, tuple)) and any(
                    (dispatch.is_tensor(e) and id(e) in self._values) or _traced_value(e) is not None
                    for e in a):
                return True
        return False

    def _tensor_inputs_traced(self, args: tuple) -> bool:
        for a in args:
            if dispatch.is_tensor(a) and id(a) in self._values:
                return True
            if isinstance(a, (list, tuple)) and any(
                    dispatch.is_tensor(e) and id(e) in self._values for e in a):
                return True
        return False

    def record(self, op: OpDef, args: tuple, out: Any) -> Any:
        schema = op.schema
        returns = schema.returns
        tensor_out = any(_stype_is_tensorish(r) for r in returns)
        traced_in = self._inputs_traced(args)
        if not traced_in and (not tensor_out or not (op.has(RANDOM) or _all_literal(args))):
            # plain Python arithmetic, or a tensor built from values the source cannot spell
            # (the tensor becomes a constant where the trace uses it)
            return out
        if not tensor_out:
            if (self._tensor_inputs_traced(args) and not _is_size_op(op)
                    and not (op.has(INPLACE) or op.has(MUTATES))):
                warn_baked(f"converting a tensor to a Python {_python_kind(out)} ({op.name})")
                return out
        params = schema.params
        if (out is not None and args and out is args[0] and not op.has(INPLACE)
                and any(p.type.kind == "Device" for p in params)):
            return out  # x.to(device) on the one device there is: x itself, nothing to record
        inputs = []
        for i, a in enumerate(args):
            st = params[i].type if i < len(params) else None
            inputs.append(self.value_of(a, st))
        if not returns:
            out_types: list = []
        elif len(returns) == 1:
            out_types = [self._result_type(returns[0], out)]
        else:
            out_types = [T.TupleType(tuple(_value_type(o) for o in out))]
        node = G.Node(G.OP, op=op, inputs=inputs, output_types=out_types)
        self.graph.block.append(node)
        if not returns:
            return out
        result = node.output
        if op.has(INPLACE) and dispatch.is_tensor(out) and id(out) in self._values:
            return out  # later uses keep reading the same (mutated) storage through its Value
        return self._bind_output(out, result)

    def _result_type(self, st, out: Any) -> T.Type:
        if st.kind == "Tensor":
            return T.TensorType
        from ..typecheck.resolve import stype_to_type
        t = stype_to_type(st, {})
        if t == T.AnyType or t == T.NumberType or _contains_any(t):
            return _value_type(out)
        return t

    def _bind_output(self, out: Any, v: G.Value) -> Any:
        if dispatch.is_tensor(out):
            self.bind_tensor(out, v)
            return out
        if isinstance(out, bool) or out is None or isinstance(out, str):
            return out
        if isinstance(out, int):
            return TracedInt(out, v)
        if isinstance(out, float):
            return TracedFloat(out, v)
        if isinstance(out, (list, tuple)):
            kind = G.TUPLE_UNPACK if isinstance(out, tuple) else G.LIST_UNPACK
            elem_types = [_value_type(o) for o in out]
            node = G.Node(kind, inputs=[v], output_types=elem_types)
            self.graph.block.append(node)
            items = [self._bind_output(o, ov) for o, ov in zip(out, node.outputs)]
            return _rebuild(out, items)
        return out


_CLONE = registry.get("clone")


def _literal(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, dtypes.DType)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_literal(v) for v in value)
    return False


def _all_literal(args: tuple) -> bool:
    """Whether every argument is a tensor or a value ``.code`` can write as a literal."""
    return all(dispatch.is_tensor(a) or _literal(a) for a in args)


def _rebuild(like, items: list):
    """A container of ``like``'s type holding ``items`` (named tuples included)."""
    kind = type(like)
    if kind in (list, tuple):
        return kind(items)
    if isinstance(like, tuple) and hasattr(kind, "_fields"):
        return kind(*items)
    try:
        return kind(items)
    except Exception:  # an exotic container: a plain one of the same kind still indexes
        return list(items) if isinstance(like, list) else tuple(items)


def _contains_any(t: T.Type) -> bool:
    if t == T.AnyType:
        return True
    if isinstance(t, T.ListType):
        return _contains_any(t.elem)
    if isinstance(t, T.TupleType):
        return any(_contains_any(e) for e in t.elems)
    return False


def _is_typevar(st) -> bool:
    return st.kind not in ("Tensor", "int", "float", "bool", "str", "Scalar", "ScalarType",
                           "Device", "Any", "list", "tuple", "dict", "optional", "Layout",
                           "MemoryFormat", "Generator", "Storage", "None", "number")


def _is_size_op(op: OpDef) -> bool:
    return op.has(SHAPE_QUERY)


def _python_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _plain_arg(x: Any) -> Any:
    """``x`` with traced numbers made plain; containers are copied only when they hold one."""
    if isinstance(x, (TracedInt, TracedFloat)):
        return _plain(x)
    if isinstance(x, (list, tuple)) and any(isinstance(e, (TracedInt, TracedFloat, list, tuple))
                                            for e in x):
        return _plain(x)
    return x


def _plain(x: Any) -> Any:
    if isinstance(x, TracedInt):
        return int(x)
    if isinstance(x, TracedFloat):
        return float(x)
    if isinstance(x, list):
        return [_plain(e) for e in x]
    if isinstance(x, tuple):
        return tuple(_plain(e) for e in x)
    return x


# ------------------------------------------------------------------ Tensor's Python-level surface

class _TensorPatches:
    """While tracing, Tensor's metadata reads record size ops and its conversions warn."""

    def __init__(self, handler: TracingHandler):
        from .tensor import Size, Tensor
        self.Tensor = Tensor
        self.Size = Size
        self.handler = handler
        self.saved: dict = {}

    def __enter__(self):
        Tensor = self.Tensor
        h = self.handler
        orig = {name: Tensor.__dict__[name] for name in
                ("shape", "size", "dim", "__len__", "item", "tolist", "__bool__", "__float__",
                 "__int__", "__index__", "numel")}
        self.saved = orig
        Size = self.Size
        size_op, dim_op, numel_op = registry.get("size.int"), registry.get("dim"), registry.get("numel")

        def traced_size(t, i):
            return registry.bind(size_op, t, i)

        def shape(t):
            if h.is_traced(t) and _called_from_user():
                return Size(traced_size(t, i) for i in range(t._data.ndim))
            return orig["shape"].fget(t)

        def size(t, dim=None):
            if h.is_traced(t) and _called_from_user():
                if dim is None:
                    return Size(traced_size(t, i) for i in range(t._data.ndim))
                return traced_size(t, int(dim))
            return orig["size"](t, dim)

        def dim(t):
            if h.is_traced(t) and _called_from_user():
                return registry.bind(dim_op, t)
            return orig["dim"](t)

        def numel(t):
            if h.is_traced(t) and _called_from_user():
                return registry.bind(numel_op, t)
            return orig["numel"](t)

        def length(t):
            if h.is_traced(t) and _called_from_user() and t._data.ndim:
                return traced_size(t, 0)
            return orig["__len__"](t)

        def converting(name, what):
            fn = orig[name]

            def conv(t, *a, **k):
                if h.is_traced(t):
                    warn_baked(what)
                return fn(t, *a, **k)
            conv.__name__ = name
            return conv

        Tensor.shape = property(shape)
        Tensor.size = size
        Tensor.dim = dim
        Tensor.numel = numel
        Tensor.__len__ = length
        Tensor.item = converting("item", "converting a tensor to a Python number (item())")
        Tensor.tolist = converting("tolist", "converting a tensor to a Python list (tolist())")
        Tensor.__bool__ = converting("__bool__", "converting a tensor to a Python boolean "
                                                 "(a data-dependent branch or bool())")
        Tensor.__float__ = converting("__float__", "converting a tensor to a Python float")
        Tensor.__int__ = converting("__int__", "converting a tensor to a Python int")
        Tensor.__index__ = converting("__index__", "converting a tensor to a Python index")
        return self

    def __exit__(self, *exc) -> None:
        for name, value in self.saved.items():
            setattr(self.Tensor, name, value)


class trace_scope:
    """``with trace_scope(graph) as h:`` records every op applied inside the block into graph."""

    def __init__(self, graph: G.Graph):
        self.handler = TracingHandler(graph)
        self._patches = _TensorPatches(self.handler)
        self._scope = registry.handler_scope(self.handler)

    def __enter__(self) -> TracingHandler:
        self.handler._below = registry.current_handler()
        self._scope.__enter__()
        try:
            self._patches.__enter__()
        except BaseException:
            self._scope.__exit__(None, None, None)
            raise
        return self.handler

    def __exit__(self, *exc) -> None:
        try:
            self._patches.__exit__(*exc)
        finally:
            self._scope.__exit__(*exc)


# ------------------------------------------------------------------ cleaning up

def _keeps(node: G.Node) -> bool:
    if node.kind == G.OP:
        op = node.op
        return op.has(INPLACE) or op.has(MUTATES) or op.has(SIDE_EFFECT) or op.has(RANDOM)
    return node.kind in G.SIDE_EFFECT_KINDS


def eliminate_dead_nodes(graph: G.Graph) -> None:
    """Drop recorded nodes nothing reads (size reads whose result was not used, ...)."""
    returned = set(graph.outputs)
    for node in reversed(list(graph.block.nodes)):
        if _keeps(node):
            continue
        if any(o.uses or o in returned for o in node.outputs):
            continue
        node.destroy()


__all__ = ["TracerWarning", "TracingError", "TracingHandler", "TracedInt", "TracedFloat",
           "trace_scope", "eliminate_dead_nodes", "warn_baked", "user_frame"]
