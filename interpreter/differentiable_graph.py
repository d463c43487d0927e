"""Running ``prim::DifferentiableGraph`` nodes.

When autograd has nothing to record (grad mode off, or no tensor argument requires grad) the
region's subgraph runs as it is. Otherwise, per input signature (dtype, shape and
requires_grad of each tensor argument, and the value of each other argument: the graphs are
specialised on them), ``jit.autodiff`` builds a forward and a backward graph, both optimised
by the pass pipeline (so their pointwise chains fuse). A call then runs the forward graph with
grad mode off (so fused kernels run whole) and records one node on the eager tape whose
backward runs the backward graph on the saved values.

Where the graph route does not apply (a gradient rule needs the tensor data, a tracer is
recording, arguments that cannot key a cache, a failure while building the graphs) the
subgraph runs with grad mode on and every op records its own tape node, so gradients always
work.
"""
from __future__ import annotations

from typing import Any, Optional

from ..jit import autodiff
from ..jit.ir import graph as G
from ..jit.ops import registry
from . import autograd
from .autograd import FunctionNode, edge_of
from .executor import PreparedGraph, register_kind
from .runtime import _saved, _wrap_view, check_saved

MAX_SIGNATURES = 16
_handlers = registry._handlers
_UNHASHABLE = object()
# the derived graphs are differentiated already
_NOT_ON_DERIVED = frozenset({"create_autodiff_subgraphs"})


def _hashable(x: Any) -> Any:
    if x is None or isinstance(x, (bool, int, float, str)):
        return (type(x), x)
    if isinstance(x, (list, tuple)):
        items = tuple(_hashable(e) for e in x)
        return _UNHASHABLE if _UNHASHABLE in items else (type(x), items)
    try:
        hash(x)
    except TypeError:
        return _UNHASHABLE
    return (type(x), x)


def _optimise(graph: G.Graph) -> G.Graph:
    from ..jit.passes.pipeline import DEFAULT_PASSES, run_pipeline
    passes = [p for p in DEFAULT_PASSES if p.name not in _NOT_ON_DERIVED]
    return run_pipeline(graph, passes)


class _Compiled:
    """The forward and backward plans of one signature."""

    __slots__ = ("d", "forward", "backward", "grad_outputs", "grad_inputs", "saved")

    def __init__(self, d: autodiff.Derivative, program):
        self.d = d
        self.forward = PreparedGraph(_optimise(d.forward), program)
        self.backward = PreparedGraph(_optimise(d.backward), program)
        self.grad_outputs = d.grad_outputs
        self.grad_inputs = d.grad_inputs
        self.saved = d.saved


class DifferentiableRegion:
    def __init__(self, subgraph: G.Graph, program, direct: bool):
        self.subgraph = subgraph
        self.program = program
        self.plain = PreparedGraph(subgraph, program, direct)
        self.n_out = len(subgraph.outputs)
        self.cache: dict = {}

    # -------------------------------------------------------------- dispatch

    def __call__(self, args: list) -> Any:
        if autograd._grad_enabled and len(_handlers) == 1:
            for a in args:
                if getattr(a, "_requires_grad", False):
                    return self.run_with_grad(args)
        return self.plain(*args)

    def _key(self, args: list) -> Any:
        key = []
        for a in args:
            if getattr(type(a), "_ts_tensor", False):
                d = a._data
                key.append((d.dtype, d.shape, a._requires_grad))
            else:
                h = _hashable(a)
                if h is _UNHASHABLE:
                    return None
                key.append(h)
        return tuple(key)

    def _compile(self, key, args: list) -> Optional[_Compiled]:
        flags = [bool(getattr(a, "_requires_grad", False)) for a in args]
        try:
            with autograd.no_grad():
                d = autodiff.differentiate(self.subgraph, list(args), flags)
            compiled = _Compiled(d, self.program)
        except autodiff.NotDifferentiable:
            compiled = None
        if len(self.cache) < MAX_SIGNATURES:
            self.cache[key] = compiled
        return compiled

    def run_with_grad(self, args: list) -> Any:
        key = self._key(args)
        compiled = None
        if key is not None:
            compiled = self.cache.get(key, _UNHASHABLE)
            if compiled is _UNHASHABLE:
                compiled = self._compile(key, args)
        if compiled is None:
            return self.plain(*args)  # each op records its own tape node
        return self._run(compiled, args)

    # -------------------------------------------------------------- the graph route

    def _run(self, c: _Compiled, args: list) -> Any:
        prev = autograd._grad_enabled
        autograd._set_enabled(False)
        try:
            res = c.forward(*args)
        finally:
            autograd._set_enabled(prev)
        if len(c.d.forward.outputs) == 1:
            res = (res,)
        outs = list(res[:self.n_out])
        # a result that is an argument (or another result) gets its own Tensor to carry history
        seen = {id(a) for a in args if getattr(type(a), "_ts_tensor", False)}
        for k, o in enumerate(outs):
            if getattr(type(o), "_ts_tensor", False):
                if id(o) in seen:
                    outs[k] = o = _wrap_view(o._data, o, autograd_view=False)
                seen.add(id(o))
        if not c.grad_inputs:
            return outs[0] if self.n_out == 1 else tuple(outs)

        edges = [edge_of(args[i]) for i in c.grad_inputs]
        input_meta = [(args[i]._data.shape, args[i]._data.dtype) for i in c.grad_inputs]
        out_meta = [(o._data.shape, o._data.dtype) for o in outs]
        node = FunctionNode("DifferentiableGraphBackward", None, edges, input_meta, out_meta)
        for nr, o in enumerate(outs):
            if o._data.dtype.kind == "f":
                o._requires_grad = True
                o._grad_fn = node
                o._output_nr = nr
        # what the backward reads must not change before it runs (the eager tape's rule): the
        # arguments and results are saved as aliases that remember their version
        by_id = {id(t): t for t in outs}
        saved = []
        for kind, i in c.saved:
            t = args[i] if kind == "input" else by_id.get(id(res[i]), res[i])
            saved.append(_saved(t) if kind == "input" or id(t) in by_id else t)
        grad_outputs = c.grad_outputs
        backward_plan = c.backward

        def backward(*grads):
            if node.released:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Specify "
                    "retain_graph=True if you need to backward through the graph a second time.")
            if autograd._grad_enabled:
                return self._eager_backward(args, c.grad_inputs, grads)
            values = [grads[k] for k in grad_outputs]
            for t in saved:
                if t._saved_version is not None:
                    check_saved(t)
                values.append(t)
            r = backward_plan(*values)
            return (r,) if len(backward_plan.output_slots) == 1 else r

        node.backward_fn = backward
        return outs[0] if self.n_out == 1 else tuple(outs)


    def _eager_backward(self, args: list, grad_inputs: list, grads: tuple) -> tuple:
        """With ``create_graph`` the gradients need a history of their own: differentiate the
        region again on the eager tape, from the same arguments."""
        res = self.plain(*args)
        outs = [res] if self.n_out == 1 else list(res)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if getattr(o, "_requires_grad", False) and g is not None]
        inputs = [args[i] for i in grad_inputs]
        if not pairs:
            return (None,) * len(inputs)
        return autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                             create_graph=True, allow_unused=True)


def _prepare_differentiable_graph(pg: PreparedGraph, node: G.Node):
    ins, outs = pg.ins(node), pg.outs(node)
    region = DifferentiableRegion(node.attrs["subgraph"], pg.program, pg.direct)
    if len(outs) == 1:
        (o,) = outs

        def differentiable_graph(f):
            f[o] = region([f[s] for s in ins])
        return differentiable_graph

    def differentiable_graph_many(f):
        r = region([f[s] for s in ins])
        for s, v in zip(outs, r):
            f[s] = v
    return differentiable_graph_many


register_kind(G.DIFFERENTIABLE_GRAPH, _prepare_differentiable_graph)

__all__ = ["DifferentiableRegion", "MAX_SIGNATURES"]
