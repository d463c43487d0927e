"""``ts.trace``: run a Python function once on example inputs and keep the ops it applied.

The result, a :class:`TracedFunction`, runs the recorded graph on the executor (through the
runtime's handler, so autograd records a tape as for any script) and prints it back as
TensorScript source (``.code``) that ``ts.CompilationUnit`` compiles to the same function.

Tensor constants (weights the function reads from globals, tensors it built outside the op
registry) stay in the graph as ``prim::Constant`` nodes holding the Tensor. ``.code`` gives
each one a builder function ``_constant_<name>()`` that recreates it from literals, so the
source is a complete script on its own; ``ts.save`` stores the same tensors in safetensors.
"""
from __future__ import annotations

import inspect
import math
import re
from typing import Any, Callable, Optional

import numpy as np

from .interpreter.executor import PreparedGraph, Program, run_prepared
from .interpreter.tracer import (TracedFloat, TracedInt, TracerWarning, TracingError,
                                 eliminate_dead_nodes, trace_scope)
from .jit.codegen import _Printer, literal
from .jit.ir import graph as G
from .jit.ir import types as T
from .jit.ops import dispatch, registry


class TracingCheckError(TracingError):
    """Tracing on ``check_inputs`` recorded another graph than on the example inputs."""


# ------------------------------------------------------------------ source for tensor constants

def constant_builder_source(fname: str, t) -> str:
    """A function that rebuilds tensor ``t`` exactly from literals."""
    arr = np.asarray(t._data)
    dt = t.dtype
    dtype = f"torch.{dt.name}"
    shape = [int(s) for s in arr.shape]
    if arr.size == 0:
        expr = f"torch.zeros({literal(shape)}, dtype={dtype})"
    elif arr.ndim == 0:
        expr = f"torch.tensor({literal(_py(arr.reshape(())))}, dtype={dtype})"
    else:
        items = [_number(_py(v)) for v in arr.reshape(-1)]
        rows = [", ".join(items[i:i + _PER_LINE]) for i in range(0, len(items), _PER_LINE)]
        flat = "[" + (",\n        ".join(rows)) + "]"
        expr = f"torch.tensor({flat}, dtype={dtype})"
        if arr.ndim != 1:
            expr += f".reshape({literal(shape)})"
    return f"def {fname}() -> torch.Tensor:\n    return {expr}\n"


_PER_LINE = 8


def _number(v) -> str:
    if isinstance(v, float) and math.isfinite(v):
        return repr(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return literal(v)


def _py(v) -> Any:
    if v.dtype.kind == "b":
        return bool(v)
    if v.dtype.kind in "iu":
        return int(v)
    return float(v)


def _is_tensor_constant(v: G.Value) -> bool:
    node = v.node
    return node is not None and node.kind == G.CONSTANT and dispatch.is_tensor(node.attrs.get("value"))


class _TracePrinter(_Printer):
    def ref(self, v: G.Value) -> str:
        if _is_tensor_constant(v):
            return self.names[v]
        return super().ref(v)


def tensor_constant_nodes(graph: G.Graph) -> list:
    return [n for n in graph.block.nodes
            if n.kind == G.CONSTANT and dispatch.is_tensor(n.attrs.get("value"))]


def traced_source(graph: G.Graph, name: str) -> str:
    """``graph`` as a script: one builder function per tensor constant, then the function."""
    printer = _TracePrinter()
    for v in graph.inputs:
        printer.name(v, v.name or "arg")
    parts = []
    for node in tensor_constant_nodes(graph):
        cname = node.attrs["name"]
        builder = f"_constant_{cname}"
        printer.used.add(builder)
        local = printer.name(node.output, cname)
        printer.emit(f"{local} = {builder}()")
        parts.append(constant_builder_source(builder, node.attrs["value"]))
    parts.append(printer.function(graph, name))
    return "\n\n".join(parts)


# ------------------------------------------------------------------ the traced function

class TracedFunction:
    """A function recorded by :func:`trace`: call it on new inputs of the same structure."""

    def __init__(self, name: str, graph: G.Graph, python_fn: Optional[Callable] = None):
        self.name = name
        self.qualified_name = name
        self._graph = graph
        self._program = Program({name: graph})
        self._prepared: Optional[PreparedGraph] = None
        self._code: Optional[str] = None
        self._python_fn = python_fn
        if python_fn is not None:
            self.__doc__ = python_fn.__doc__
            self.__wrapped__ = python_fn

    @property
    def graph(self) -> G.Graph:
        return self._graph

    @property
    def code(self) -> str:
        if self._code is None:
            self._code = traced_source(self._graph, self.name)
        return self._code

    @property
    def constants(self) -> dict:
        """Tensor constants by name (``c0``, ``c1``, ...), as ``.code`` and ``ts.save`` name them."""
        return {n.attrs["name"]: n.attrs["value"] for n in tensor_constant_nodes(self._graph)}

    @property
    def schema(self) -> str:
        from .compiler import schema_type
        params = ", ".join(f"{schema_type(v.type)} {v.name}" for v in self._graph.inputs)
        outs = self._graph.outputs
        ret = schema_type(outs[0].type) if len(outs) == 1 else "()"
        return f"{self.name}({params}) -> {ret}"

    def save(self, path) -> None:
        from .serialization import save
        save(self, path)

    def __repr__(self) -> str:
        return f"<TracedFunction {self.schema}>"

    def __call__(self, *args):
        inputs = self._graph.inputs
        if len(args) != len(inputs):
            raise TypeError(f"{self.name}() takes {len(inputs)} argument(s) but {len(args)} "
                            "were given")
        pg = self._prepared
        if pg is None:
            pg = self._prepared = self._program.prepared(self.name)
        return run_prepared(pg, list(args))


# ------------------------------------------------------------------ tracing

def _param_names(fn: Callable, n: int) -> list:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names += [f"arg{i}" for i in range(len(names), n)]
    return names[:n]


def _input_type(value: Any, where: str) -> T.Type:
    if dispatch.is_tensor(value):
        return T.TensorType
    if isinstance(value, bool):
        return T.BoolType
    if isinstance(value, int):
        return T.IntType
    if isinstance(value, float):
        return T.FloatType
    if isinstance(value, tuple):
        return T.TupleType(tuple(_input_type(v, f"{where}[{i}]") for i, v in enumerate(value)))
    if isinstance(value, list):
        if not value:
            raise TracingError(f"{where}: an empty list cannot be a traced input")
        types = [_input_type(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if any(t != types[0] for t in types):
            raise TracingError(f"{where}: the items of a list input must all have one type")
        return T.ListType(types[0])
    if isinstance(value, dict):
        if not value:
            raise TracingError(f"{where}: an empty dict cannot be a traced input")
        keys = [_input_type(k, where) for k in value]
        vals = [_input_type(v, f"{where}[{k!r}]") for k, v in value.items()]
        if any(k not in (T.StrType, T.IntType) for k in keys) or len(set(map(str, keys))) != 1 \
                or len(set(map(str, vals))) != 1:
            raise TracingError(f"{where}: dict inputs need str or int keys and one value type")
        return T.DictType(keys[0], vals[0])
    if isinstance(value, str):
        return T.StrType
    raise TracingError(f"{where}: cannot trace an input of type {type(value).__name__} "
                       "(tensors, numbers and tuples, lists and dicts of them are accepted)")


_DICT_GETITEM = None


def _bind_input(h, value: Any, v: G.Value) -> Any:
    """The run-time value the function sees for graph input ``v`` (its parts bound to Values)."""
    global _DICT_GETITEM
    graph = h.graph
    if dispatch.is_tensor(value):
        h.bind_tensor(value, v)
        return value
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return TracedInt(value, v)
    if isinstance(value, float):
        return TracedFloat(value, v)
    if isinstance(value, (tuple, list)):
        kind = G.TUPLE_UNPACK if isinstance(value, tuple) else G.LIST_UNPACK
        elem_types = (list(v.type.elems) if isinstance(v.type, T.TupleType)
                      else [v.type.elem] * len(value))
        node = graph.block.append(G.Node(kind, inputs=[v], output_types=elem_types))
        items = [_bind_input(h, e, o) for e, o in zip(value, node.outputs)]
        return type(value)(items)
    if isinstance(value, dict):
        if _DICT_GETITEM is None:
            _DICT_GETITEM = next(op for op in registry.overloads("__getitem__")
                                 if op.schema.params[0].type.kind == "dict")
        out = {}
        for k, item in value.items():
            key = h.constant(k)
            node = graph.block.append(G.Node(G.OP, op=_DICT_GETITEM, inputs=[v, key],
                                             output_types=[v.type.value]))
            out[k] = _bind_input(h, item, node.output)
        return out
    return value


def _output_value(h, out: Any, where: str = "output") -> G.Value:
    graph = h.graph
    if dispatch.is_tensor(out):
        return h.value_of(out)
    if isinstance(out, (TracedInt, TracedFloat)):
        return out._ts_value
    if isinstance(out, tuple):
        items = [_output_value(h, o, f"{where}[{i}]") for i, o in enumerate(out)]
        node = G.Node(G.TUPLE_CONSTRUCT, inputs=items,
                      output_types=[T.TupleType(tuple(i.type for i in items))])
        return graph.block.append(node).output
    if isinstance(out, list):
        items = [_output_value(h, o, f"{where}[{i}]") for i, o in enumerate(out)]
        if not items:
            return h.constant([], T.ListType(T.TensorType))
        if any(i.type != items[0].type for i in items):
            raise TracingError(f"{where}: the items of a returned list must all have one type")
        node = G.Node(G.LIST_CONSTRUCT, inputs=items, output_types=[T.ListType(items[0].type)])
        return graph.block.append(node).output
    if isinstance(out, dict):
        ins = []
        for k, o in out.items():
            ins.append(h.constant(k))
            ins.append(_output_value(h, o, f"{where}[{k!r}]"))
        if not out:
            raise TracingError(f"{where}: cannot return an empty dict from a traced function")
        node = G.Node(G.DICT_CONSTRUCT, inputs=ins, output_types=[T.DictType(ins[0].type, ins[1].type)])
        return graph.block.append(node).output
    if out is None or isinstance(out, (bool, int, float, str)):
        return h.constant(out)
    raise TracingError(f"{where}: a traced function cannot return a {type(out).__name__}")


def _trace_once(fn: Callable, inputs: tuple, name: str) -> G.Graph:
    graph = G.Graph(name)
    names = _param_names(fn, len(inputs))
    with trace_scope(graph) as h:
        args = []
        for pname, value in zip(names, inputs):
            v = graph.add_input(_input_type(value, f"input '{pname}'"), pname)
            args.append(_bind_input(h, value, v))
        out = fn(*args)
        graph.block.set_returns([_output_value(h, out)])
    eliminate_dead_nodes(graph)
    return graph


def _node_signature(node: G.Node) -> str:
    attrs = {k: v for k, v in node.attrs.items() if k != "value"}
    value = node.attrs.get("value")
    if node.kind == G.CONSTANT:
        if dispatch.is_tensor(value):
            return f"prim::Constant[tensor {list(value.shape)} {value.dtype}]"
        return f"prim::Constant[value={value!r}]"
    ins = ", ".join(str(v.type) for v in node.inputs)
    return f"{node.name}{attrs or ''}({ins})"


def _wiring(nodes: list, inputs: list) -> list:
    """For each node, where its inputs come from: ("node", index, output) or ("input", index)."""
    position = {id(n): i for i, n in enumerate(nodes)}
    params = {id(v): i for i, v in enumerate(inputs)}
    out = []
    for n in nodes:
        row = []
        for v in n.inputs:
            if v.node is not None:
                row.append(("node", position.get(id(v.node), -1), v.index))
            else:
                row.append(("input", params.get(id(v), -1)))
        out.append(row)
    return out


def _compare_graphs(first: G.Graph, other: G.Graph, which: int) -> None:
    a, b = list(first.nodes()), list(other.nodes())
    wa, wb = _wiring(a, first.inputs), _wiring(b, other.inputs)
    for i, (x, y) in enumerate(zip(a, b)):
        sx, sy = _node_signature(x), _node_signature(y)
        if sx != sy or wa[i] != wb[i]:
            raise TracingCheckError(
                f"tracing on check_inputs[{which}] recorded a different graph: node {i} is "
                f"{sy} but the trace on example_inputs recorded {sx} there; the function's "
                "control flow or constants depend on its inputs, so the trace does not "
                "generalize")
    if len(a) != len(b):
        raise TracingCheckError(
            f"tracing on check_inputs[{which}] recorded {len(b)} nodes, the trace on "
            f"example_inputs {len(a)}: the function's control flow depends on its inputs")


def _as_tuple(example_inputs: Any) -> tuple:
    if isinstance(example_inputs, tuple):
        return example_inputs
    return (example_inputs,)


def is_tracing() -> bool:
    """True while ``ts.trace`` is running the function (``torch.jit.is_tracing()``)."""
    from .interpreter.tracer import TracingHandler
    return any(isinstance(h, TracingHandler) for h in registry._handlers)


_NOT_GIVEN = object()


def trace(fn: Callable, example_inputs: Any = _NOT_GIVEN, check_inputs: Optional[list] = None,
          strict: bool = True) -> TracedFunction:
    """Run ``fn(*example_inputs)`` once, recording every tensor op into a graph.

    Python control flow is evaluated at trace time (loops unrolled, the branch taken kept);
    converting a tensor to a Python value bakes the value in and warns with
    :class:`TracerWarning`. ``check_inputs``: more input tuples; each is traced again and the
    first node where its graph differs is reported as a :class:`TracingCheckError`.
    ``strict=False`` allows returning mutable containers (lists, dicts), as in TorchScript.
    """
    if example_inputs is _NOT_GIVEN:
        if getattr(type(fn), "_ts_tensor", False):
            # ``torch.trace(matrix)``: the sum of the diagonal, when ``torch`` is this module
            return dispatch.call_function(registry.Namespace.TORCH, "trace", fn)
        raise TypeError("trace() missing 1 required positional argument: 'example_inputs'")
    if isinstance(fn, TracedFunction):
        return fn
    from .nn.modules.module import Module
    if isinstance(fn, Module):
        from .nn.trace_module import trace_module
        return trace_module(fn, example_inputs, check_inputs, strict)
    if not callable(fn):
        raise TypeError(f"ts.trace expects a function, got {type(fn).__name__}")
    inputs = _as_tuple(example_inputs)
    raw_name = getattr(fn, "__name__", None) or "traced"
    name = re.sub(r"\W", "_", raw_name)
    if name == "_lambda_" or not name or name[0].isdigit():
        name = "traced_fn"
    graph = _trace_once(fn, inputs, name)
    if strict:
        out_t = graph.outputs[0].type
        if isinstance(out_t, (T.ListType, T.DictType)) and graph.outputs[0].node is not None \
                and graph.outputs[0].node.kind in (G.LIST_CONSTRUCT, G.DICT_CONSTRUCT):
            raise TracingError("a traced function returned a list or dict: pass strict=False to "
                               "accept mutable outputs")
    for k, other in enumerate(check_inputs or ()):
        _compare_graphs(graph, _trace_once(fn, _as_tuple(other), name), k)
    return TracedFunction(name, graph, python_fn=fn)


__all__ = ["trace", "is_tracing", "TracedFunction", "TracerWarning", "TracingError", "TracingCheckError",
           "traced_source", "constant_builder_source"]
