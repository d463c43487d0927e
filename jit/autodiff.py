"""Graph autodiff: a straight-line region becomes a forward graph and a backward graph.

The region is a ``Graph`` with no control flow whose nodes are op nodes (each with a gradient
rule, or nondifferentiable), ``prim::FusionGroup`` nodes (their ops are inlined first),
constants and list constructions. :func:`differentiate` takes the region and the run-time
arguments of one call and returns a :class:`Derivative`:

- ``forward``: the region with its ops inlined, returning the region's outputs followed by the
  intermediate values the backward reads;
- ``backward``: from the gradients of the region's float outputs and the saved values to the
  gradients of the inputs that require grad.

The backward graph is built the way the eager tape computes gradients, with the same rules:
the region is evaluated once on the call's arguments, then each op's registry ``grad`` rule
runs in reverse order on those values under a recording handler, which appends every op a
rule applies to the backward graph. Gradients reaching a value from several uses are summed,
and gradients computed in a broadcast shape are summed back with ``sum_to_size`` (cast to the
input's dtype), exactly as the eager engine does. Rules read shapes and scalar arguments as
Python values, so the graphs are specialised on the call's shapes, dtypes and non-tensor
arguments: the caller keys its cache on them. Values the rules read from the forward pass become
inputs of the backward graph, so the forward saves only what is read.

:class:`NotDifferentiable` means the region cannot be differentiated as a graph (a rule turned
a tensor's data into a Python value, or read the random generator); the caller then runs the
region on the eager tape.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .ir import graph as G
from .ir import types as T
from .lower_support import constant_type
from .ops import dispatch, registry
from .ops.registry import (INPLACE, MUTATES, NONDIFFERENTIABLE, RANDOM, SHAPE_QUERY, SIDE_EFFECT,
                           Handler, OpDef)

_NEVER = frozenset({INPLACE, MUTATES, RANDOM, SIDE_EFFECT})
# ops whose non-tensor results depend only on shapes, which the graphs are specialised on


class NotDifferentiable(Exception):
    """The region cannot be differentiated as a graph; run it on the eager tape instead."""


# ------------------------------------------------------------------ what a region may hold

def contains_tensor(t: T.Type) -> bool:
    if t == T.TensorType or t == T.AnyType:
        return True
    if isinstance(t, (T.ListType, T.OptionalType)):
        return contains_tensor(t.elem)
    if isinstance(t, T.TupleType):
        return any(contains_tensor(e) for e in t.elems)
    if isinstance(t, T.DictType):
        return contains_tensor(t.key) or contains_tensor(t.value)
    if isinstance(t, T.UnionType):
        return any(contains_tensor(m) for m in t.members)
    return False


def differentiable_op(op: OpDef) -> bool:
    """An op the graph differentiator handles: pure, one tensor result, a rule or no gradient."""
    if op.tags & _NEVER or op.extra.get("needs_handler"):
        return False
    returns = op.schema.returns
    if len(returns) != 1 or returns[0].kind != "Tensor":
        return False
    if any(p.name == "requires_grad" for p in op.schema.params):
        return False  # makes a leaf of its own, which the region's one tape node must not own
    return op.grad is not None or op.has(NONDIFFERENTIABLE)


def differentiable_node(node: G.Node) -> bool:
    if node.kind == G.OP:
        return (differentiable_op(node.op) and len(node.outputs) == 1
                and node.outputs[0].type == T.TensorType)
    if node.kind == G.FUSION_GROUP:
        sub = node.attrs.get("subgraph")
        return (isinstance(sub, G.Graph) and all(o.type == T.TensorType for o in node.outputs)
                and all(n.kind == G.CONSTANT or (n.kind == G.OP and differentiable_node(n))
                        for n in sub.nodes()))
    return False


# ------------------------------------------------------------------ inlining fusion groups

def flatten(region: G.Graph) -> G.Graph:
    """A copy of ``region`` with every fusion group replaced by the ops it runs."""
    flat = G.Graph(region.name)
    env: dict = {}
    for p in region.inputs:
        env[p] = flat.add_input(p.type, p.name)
    _copy_into(region.block, flat.block, env)
    flat.block.set_returns([env[v] for v in region.outputs])
    return flat


def _copy_into(src: G.Block, dst: G.Block, env: dict) -> None:
    for n in src.nodes:
        if n.kind == G.FUSION_GROUP:
            sub = n.attrs["subgraph"]
            inner = dict(zip(sub.inputs, (env[v] for v in n.inputs)))
            _copy_into(sub.block, dst, inner)
            for o, r in zip(n.outputs, sub.outputs):
                env[o] = inner[r]
            continue
        if n.blocks:
            raise NotDifferentiable(f"{n.kind} has blocks")
        copy = dst.append(G.Node(n.kind, op=n.op, inputs=[env[v] for v in n.inputs],
                                 output_types=[o.type for o in n.outputs], attrs=dict(n.attrs),
                                 span=n.span))
        for o, c in zip(n.outputs, copy.outputs):
            c.name = o.name
            env[o] = c


# ------------------------------------------------------------------ evaluating the region

def _widen(op: OpDef, node: G.Node, args: list) -> list:
    """A single int where the schema wants ``int[N]`` is repeated N times (as the executor does)."""
    params = op.schema.params
    for i, v in enumerate(node.inputs):
        if i >= len(params):
            break
        st = params[i].type
        if st.kind == "optional":
            st = st.args[0]
        if st.kind == "list" and st.size and v.type == T.IntType and isinstance(args[i], int):
            args[i] = [args[i]] * st.size
    return args


def evaluate(flat: G.Graph, args: list) -> dict:
    """Every value of the region for these arguments (run through the active handler)."""
    env = dict(zip(flat.inputs, args))
    for n in flat.block.nodes:
        if n.kind == G.CONSTANT:
            env[n.outputs[0]] = n.attrs.get("value")
        elif n.kind == G.LIST_CONSTRUCT:
            env[n.outputs[0]] = [env[v] for v in n.inputs]
        elif n.kind == G.OP:
            env[n.outputs[0]] = registry.bind(n.op, *_widen(n.op, n, [env[v] for v in n.inputs]))
        else:
            raise NotDifferentiable(f"cannot differentiate {n.kind}")
    return env


# ------------------------------------------------------------------ recording the backward

class _Ctx:
    """What a gradient rule reads: ``args`` in schema order, ``out`` the result, and
    ``needs_input_grad`` whether each argument carries gradient (a rule skips the others)."""

    __slots__ = ("op", "args", "out", "needs_input_grad")

    def __init__(self, op, args, out, needs_input_grad):
        self.op = op
        self.args = args
        self.out = out
        self.needs_input_grad = needs_input_grad


class _Recorder(Handler):
    """Runs each op through the handler below it and appends it to ``graph``.

    Tensors are known by identity (and kept alive, so identities stay unique): those produced
    here map to the recorded node's output; tensors of the forward pass become backward inputs
    the first time a rule reads them; any other tensor becomes a constant.
    """

    def __init__(self, graph: G.Graph, forward_ids: dict):
        self.graph = graph
        self.forward_ids = forward_ids  # id(tensor) -> (tensor, forward Value)
        self.values: dict = {}  # id(tensor) -> (tensor, Value)
        self.saved: list = []  # forward Values read, in the order of the backward's inputs
        self.below: Optional[Handler] = None
        self._depth = 0

    def bind(self, t: Any, v: G.Value) -> None:
        self.values[id(t)] = (t, v)

    def input_for(self, t: Any) -> G.Value:
        hit = self.values.get(id(t))
        if hit is not None:
            return hit[1]
        fwd = self.forward_ids.get(id(t))
        if fwd is not None:
            v = self.graph.add_input(T.TensorType, fwd[1].name)
            self.saved.append(fwd[1])
            self.bind(t, v)
            return v
        return self._constant(t, T.TensorType)

    def _constant(self, value: Any, type_: T.Type) -> G.Value:
        node = self.graph.block.append(G.Node(G.CONSTANT, output_types=[type_], attrs={"value": value}))
        return node.outputs[0]

    def _known(self, x: Any) -> bool:
        if dispatch.is_tensor(x):
            return id(x) in self.values or id(x) in self.forward_ids
        if isinstance(x, (list, tuple)):
            return any(self._known(e) for e in x)
        return False

    def _arg(self, x: Any, st) -> G.Value:
        if dispatch.is_tensor(x):
            return self.input_for(x)
        if isinstance(x, (list, tuple)) and any(dispatch.is_tensor(e) for e in x):
            items = [self._arg(e, None) if e is not None else self._constant(None, T.NoneType)
                     for e in x]
            elem = T.TensorType
            if any(e is None for e in x):
                elem = T.OptionalType(T.TensorType)
            node = self.graph.block.append(G.Node(G.LIST_CONSTRUCT, inputs=items,
                                                  output_types=[T.ListType(elem)]))
            return node.outputs[0]
        if x is None:
            return self._constant(None, T.NoneType)
        if isinstance(x, tuple):
            x = list(x)
        t = constant_type(x)
        if st is not None and st.kind in ("float",) and isinstance(x, int) and not isinstance(x, bool):
            x, t = float(x), T.FloatType
        return self._constant(x, t)

    def process(self, op: OpDef, args: tuple) -> Any:
        if self._depth:
            return self.below.process(op, args)
        self._depth += 1
        try:
            out = self.below.process(op, args)
        finally:
            self._depth -= 1
        if not any(self._known(a) for a in args):
            if op.has(RANDOM):
                raise NotDifferentiable(f"a gradient rule reads the generator ({op.name})")
            return out  # built from constants only: a constant where it is used
        if op.tags & _NEVER:
            raise NotDifferentiable(f"a gradient rule applies {op.name}")
        returns = op.schema.returns
        if len(returns) == 1 and returns[0].kind == "Tensor":
            params = op.schema.params
            inputs = [self._arg(a, params[i].type if i < len(params) else None)
                      for i, a in enumerate(args)]
            node = self.graph.block.append(G.Node(G.OP, op=op, inputs=inputs,
                                                  output_types=[T.TensorType]))
            self.bind(out, node.outputs[0])
            return out
        if isinstance(out, (list, tuple)) and out and all(dispatch.is_tensor(o) for o in out):
            params = op.schema.params
            inputs = [self._arg(a, params[i].type if i < len(params) else None)
                      for i, a in enumerate(args)]
            if isinstance(out, tuple):
                whole = T.TupleType(tuple(T.TensorType for _ in out))
                unpack = G.TUPLE_UNPACK
            else:
                whole = T.ListType(T.TensorType)
                unpack = G.LIST_UNPACK
            node = self.graph.block.append(G.Node(G.OP, op=op, inputs=inputs, output_types=[whole]))
            parts = self.graph.block.append(G.Node(unpack, inputs=[node.outputs[0]],
                                                   output_types=[T.TensorType] * len(out)))
            for t, v in zip(out, parts.outputs):
                self.bind(t, v)
            return out
        if op.has(SHAPE_QUERY):
            return out
        raise NotDifferentiable(f"a gradient rule reads tensor data as a Python value ({op.name})")


@dataclass
class Derivative:
    """The two graphs for one input signature, and how their values line up with the region's.

    ``backward`` takes ``[grad of outputs[k] for k in grad_outputs] + saved``; each entry of
    ``saved`` is ``("input", i)`` (the region's i-th argument) or ``("output", j)`` (the
    forward graph's j-th output). It returns the gradients of ``inputs[i] for i in grad_inputs``.
    """

    forward: G.Graph
    backward: G.Graph
    n_outputs: int
    grad_outputs: list
    grad_inputs: list
    saved: list
    saved_input_indices: list


def _is_float_tensor(x: Any) -> bool:
    return dispatch.is_tensor(x) and x._data.dtype.kind == "f"


def differentiate(region: G.Graph, args: list, requires_grad: list) -> Derivative:
    """Forward and backward graphs of ``region`` for this call (``requires_grad[i]``: whether
    argument i requires grad). Run it with grad mode off."""
    flat = flatten(region)
    env = evaluate(flat, args)

    # which values carry gradient
    rg: set = set()
    for p, flag, a in zip(flat.inputs, requires_grad, args):
        if flag and _is_float_tensor(a):
            rg.add(p)
    for n in flat.block.nodes:
        if n.kind == G.LIST_CONSTRUCT:
            if any(v in rg for v in n.inputs):
                rg.add(n.outputs[0])
        elif n.kind == G.OP and not n.op.has(NONDIFFERENTIABLE):
            if any(v in rg for v in n.inputs) and _is_float_tensor(env[n.outputs[0]]):
                rg.add(n.outputs[0])

    forward_ids: dict = {}
    for v, x in env.items():
        if dispatch.is_tensor(x) and id(x) not in forward_ids:
            forward_ids[id(x)] = (x, v)

    bwd = G.Graph(f"{region.name}_backward")
    rec = _Recorder(bwd, forward_ids)
    grads: dict = {}  # Value -> concrete gradient (recorded)
    grad_outputs = []
    seeds = []
    for k, o in enumerate(flat.outputs):
        if o not in rg:
            continue
        x = env[o]
        seed = dispatch.call("ones_like", x)
        v = bwd.add_input(T.TensorType, f"grad_{o.name}" if o.name else "grad")
        seeds.append(seed)
        grad_outputs.append(k)
        rec.bind(seed, v)

    rec.below = registry.current_handler()
    with registry.handler_scope(rec):
        for k, seed in zip(grad_outputs, seeds):
            _accumulate(grads, flat.outputs[k], seed)
        for n in reversed(flat.block.nodes):
            if n.kind != G.OP or n.outputs[0] not in rg:
                continue
            g = grads.get(n.outputs[0])
            if g is None:
                continue  # no gradient reaches this node: nothing flows on from it
            _apply_rule(n, env, rg, g, grads)
        results = []
        grad_inputs = []
        for i, p in enumerate(flat.inputs):
            g = grads.get(p)
            if p in rg and g is not None:
                grad_inputs.append(i)
                results.append(rec.input_for(g))

    # saved inputs are the region's own arguments; the rest the forward must return
    fwd = flat
    input_index = {p: i for i, p in enumerate(flat.inputs)}
    saved = []
    saved_inputs = []
    extra = []
    for v in rec.saved:
        if v in input_index:
            saved.append(("input", input_index[v]))
            saved_inputs.append(input_index[v])
        else:
            saved.append(("output", len(flat.outputs) + len(extra)))
            extra.append(v)
    fwd.block.set_returns(list(flat.outputs) + extra)
    bwd.block.set_returns(results)
    return Derivative(fwd, bwd, len(region.outputs), grad_outputs, grad_inputs, saved, saved_inputs)


def _accumulate(grads: dict, v: G.Value, g: Any) -> None:
    prev = grads.get(v)
    grads[v] = g if prev is None else prev + g


def _reduce_to(g: Any, like: Any) -> Any:
    """A gradient in the shape and dtype of the value it is for (the eager engine's rule)."""
    if not dispatch.is_tensor(g):
        g = dispatch.call("full_like", like, g)
    if tuple(g._data.shape) != tuple(like._data.shape):
        g = dispatch.call("sum_to_size", g, list(like._data.shape))
    if g._data.dtype != like._data.dtype:
        g = g.to(like.dtype)
    return g


def _apply_rule(n: G.Node, env: dict, rg: set, g: Any, grads: dict) -> None:
    op = n.op
    args = _widen(op, n, [env[v] for v in n.inputs])
    needs = tuple(v in rg for v in n.inputs)
    results = op.grad(_Ctx(op, tuple(args), env[n.outputs[0]], needs), g)
    if not isinstance(results, (tuple, list)):
        results = (results,)
    for i, v in enumerate(n.inputs):
        if v not in rg or i >= len(results) or results[i] is None:
            continue
        r = results[i]
        if v.type == T.TensorType:
            _accumulate(grads, v, _reduce_to(r, env[v]))
        elif v.node is not None and v.node.kind == G.LIST_CONSTRUCT:
            for elem, ri in zip(v.node.inputs, r):
                if elem in rg and ri is not None:
                    _accumulate(grads, elem, _reduce_to(ri, env[elem]))


__all__ = ["Derivative", "NotDifferentiable", "differentiate", "differentiable_node",
           "differentiable_op", "flatten", "evaluate", "contains_tensor"]
