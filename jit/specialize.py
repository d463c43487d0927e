"""Shape specialisation: a graph compiled for the dtypes, shapes and requires_grad flags of the
tensor arguments of a call, behind a cheap guard.

- ``SpecializedPlans`` sits on a compiled function. Each call checks the guard: the
  ``(dtype, shape, requires_grad)`` of each tensor parameter, compared with the previous
  call's first (one or two tensors), else looked up as a key in the variants. On a miss
  the graph is copied, its inputs get ``TensorMeta``s, and the pass pipeline runs again, which
  now includes ``specialize_shapes``: metas are propagated through every op and shape queries
  (``x.size(0)``, ``x.dim()``, ``x.shape``, ``len(x)``, ``x.numel()``) become constants, so
  ``fold_constants`` can take branches and ``simplify_algebra`` can prove identities. The plan
  made from it serves every later call with that key: the first call already runs the
  specialised graph, so it agrees with later ones bit for bit.
- After ``MAX_VARIANTS`` keys, a miss specialises on dtypes and ranks only (sizes dynamic),
  again up to ``MAX_VARIANTS``; beyond that the generic graph runs.
- ``TENSORSCRIPT_DISABLE_PASSES=specialize`` switches specialisation off (the generic graph
  always runs); ``...=specialize_shapes`` keeps the variants but propagates nothing.

Propagation is an abstract interpretation of the graph (``propagate_shapes``): an op's output
meta comes from its registry ``meta`` rule when it has one, else from running its impl on
stand-in zero arrays of the known dtypes and shapes, only for ops that are pure (not random,
side_effect or mutates) and whose output shape does not depend on the data; an in-place op
returns its first argument's meta; anything else is unknown. ``If`` outputs join their two
blocks' metas, ``Loop`` carried values iterate the body to a fixed point.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Optional

import numpy as np

from .ir import dtypes
from .ir import graph as G
from .ir import types as T
from .ir.meta import TensorMeta, tensor_meta
from .ops import registry as R
from .passes.fold_constants import NO_VALUE, constant_value, insert_constant, is_immutable
from .passes.unroll_loops import _copy_nodes

MAX_VARIANTS = 8
# Stand-ins larger than this are zero-strided views of one element: no memory, and an op
# reading them stays cheap enough for a first call.
_SMALL = 1 << 16

_NOT_EVALUATED = frozenset({R.RANDOM, R.SIDE_EFFECT, R.MUTATES})
# Ops whose output shape depends on the values in their arguments (by base name).
DATA_DEPENDENT = frozenset({"nonzero", "nonzero_numpy", "argwhere", "masked_select", "unique",
                            "unique_consecutive", "repeat_interleave", "bincount", "index"})
_UNKNOWN = object()


# ------------------------------------------------------------------ metas

def meta_of_array(a: np.ndarray, requires_grad: Optional[bool] = None) -> Optional[TensorMeta]:
    try:
        dtype = dtypes.from_numpy(a.dtype)
    except Exception:
        return None
    return TensorMeta(dtype, tuple(int(d) for d in a.shape), requires_grad)


def join(a: Any, b: Any) -> Any:
    """The most precise meta that holds for both ``a`` and ``b``."""
    if a == b:
        return a
    if isinstance(a, TensorMeta) and isinstance(b, TensorMeta):
        dtype = a.dtype if a.dtype == b.dtype else None
        grad = a.requires_grad if a.requires_grad == b.requires_grad else None
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            shape = None
        else:
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return TensorMeta(dtype, shape, grad)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(join(x, y) for x, y in zip(a, b))
    return None


# Sizes given to dimensions only known at run time, one per probe: an output dimension that
# comes out the same for both is taken as static, one that differs is dynamic.
_PROBES = (13, 17)


def _stand_in(meta: TensorMeta, pointwise: bool, probe: int) -> np.ndarray:
    np_dtype = meta.dtype.np
    if pointwise:
        return np.zeros((1,) * len(meta.shape), dtype=np_dtype)
    shape = tuple(probe if d is None else d for d in meta.shape)
    if int(np.prod(shape, dtype=np.int64)) <= _SMALL:
        return np.zeros(shape, dtype=np_dtype)
    return np.broadcast_to(np.zeros((), dtype=np_dtype), shape)


def _is_tensor_type(t: T.Type) -> bool:
    return t == T.TensorType or (isinstance(t, T.OptionalType) and t.elem == T.TensorType)


def _argument(v: G.Value, pointwise: bool, shapes: list, probe: int):
    """A stand-in for an input and its memo key part, or _UNKNOWN."""
    meta = tensor_meta(v)
    if meta is not None:
        if meta.dtype is None or meta.shape is None:
            return _UNKNOWN
        shapes.append(meta.shape)
        return _stand_in(meta, pointwise, probe), ("T", meta.dtype.name, meta.shape)
    if v.type == T.TensorType:
        return _UNKNOWN
    value = constant_value(v)
    if value is not NO_VALUE:
        if getattr(type(value), "_ts_tensor", False):
            return value._data, ("id", id(value))
        if isinstance(value, list):
            value = tuple(value)
            if not is_immutable(value):
                return _UNKNOWN
            return list(value), ("L", value)
        if not is_immutable(value):
            return _UNKNOWN
        return value, ("C", type(value).__name__, value)
    node = v.node
    if node is not None and node.kind == G.LIST_CONSTRUCT:
        items, keys = [], []
        for item in node.inputs:
            r = _argument(item, False, shapes, probe)
            if r is _UNKNOWN:
                return _UNKNOWN
            items.append(r[0])
            keys.append(r[1])
        return items, ("L", tuple(keys))
    return _UNKNOWN


_memo: dict = {}


def _evaluate(node: G.Node) -> Any:
    """The output meta(s) of an op node, or None."""
    op = node.op
    if op.tags & _NOT_EVALUATED or op.name in DATA_DEPENDENT or len(node.outputs) != 1:
        return None
    if op.has(R.INPLACE):
        return tensor_meta(node.inputs[0]) if node.inputs else None
    out_type = node.output.type
    if not (out_type == T.TensorType or (isinstance(out_type, T.TupleType)
                                         and any(e == T.TensorType for e in out_type.elems))):
        return None
    pointwise = op.has(R.POINTWISE)
    runs = []
    for probe in _PROBES:
        shapes: list = []
        args, keys = [], []
        for v in node.inputs:
            r = _argument(v, pointwise, shapes, probe)
            if r is _UNKNOWN:
                return None
            args.append(r[0])
            keys.append(r[1])
        runs.append((args, shapes))
        dynamic = any(None in shape for shape in shapes)
        if not dynamic:
            break
    key = (op.qualified_name, tuple(keys))
    try:
        hit = _memo.get(key, _UNKNOWN)
    except TypeError:
        key, hit = None, _UNKNOWN
    if hit is not _UNKNOWN:
        return hit
    results = [_run(op, node, args, pointwise, shapes) for args, shapes in runs]
    result = results[0]
    for other in results[1:]:
        result = join(result, other)
    if key is not None:
        if len(_memo) > 4096:
            _memo.clear()
        _memo[key] = result
    return result


def _run(op: R.OpDef, node: G.Node, args: list, pointwise: bool, shapes: list) -> Any:
    from .passes.fold_constants import _widen

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if op.meta is not None:
                return op.meta(*args)
            out = op.impl(*_widen(node, args))
    except Exception:  # the op fails on these arguments: it will at run time too
        return None
    if isinstance(out, np.ndarray):
        meta = meta_of_array(out)
        if meta is not None and pointwise:
            try:
                shape = _broadcast(shapes)
            except ValueError:
                return None
            if len(shape) != len(meta.shape):
                return None
            meta = TensorMeta(meta.dtype, shape)
        return meta
    if isinstance(out, tuple):
        if pointwise:
            return None
        return tuple(meta_of_array(o) if isinstance(o, np.ndarray) else None for o in out)
    return None


def _broadcast(shapes: list) -> tuple:
    """Broadcasting of shapes with dynamic (None) sizes: a None against a size n > 1 is n
    (or an error at run time), against 1 or None it stays None."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for k in range(rank):
        dims = [s[len(s) - rank + k] for s in shapes if len(s) - rank + k >= 0]
        fixed = {d for d in dims if d is not None and d != 1}
        if len(fixed) > 1:
            raise ValueError("shapes do not broadcast")
        if fixed:
            out.append(fixed.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


# ------------------------------------------------------------------ propagation

def _clear(block: G.Block) -> None:
    for n in block.nodes:
        for o in n.outputs:
            o.meta = None
        for b in n.blocks:
            for p in b.params:
                p.meta = None
            _clear(b)


def _node(node: G.Node) -> None:
    kind = node.kind
    if kind == G.OP:
        if node.outputs:
            node.outputs[0].meta = _evaluate(node)
    elif kind == G.CONSTANT:
        value = node.attrs.get("value")
        if getattr(type(value), "_ts_tensor", False):
            node.output.meta = meta_of_array(value._data, bool(value.requires_grad))
    elif kind == G.IF:
        for b in node.blocks:
            _block(b)
        then, other = node.blocks
        for k, o in enumerate(node.outputs):
            o.meta = join(then.returns[k].meta, other.returns[k].meta)
    elif kind == G.LOOP:
        _loop(node)
    elif kind == G.TUPLE_CONSTRUCT:
        metas = tuple(v.meta for v in node.inputs)
        node.output.meta = metas if any(m is not None for m in metas) else None
    elif kind == G.TUPLE_INDEX and len(node.inputs) == 1:
        src = node.inputs[0].meta
        i = node.attrs.get("index")
        node.output.meta = src[i] if isinstance(src, tuple) and isinstance(i, int) and -len(src) <= i < len(src) else None
    elif kind == G.TUPLE_UNPACK:
        src = node.inputs[0].meta
        for k, o in enumerate(node.outputs):
            o.meta = src[k] if isinstance(src, tuple) and len(src) == len(node.outputs) else None
    elif kind == G.UNCHECKED_CAST:
        node.output.meta = node.inputs[0].meta


def _loop(node: G.Node) -> None:
    body = node.blocks[0]
    carried = [v.meta for v in node.inputs[2:]]
    for attempt in range(6):
        body.params[0].meta = None
        for p, m in zip(body.params[1:], carried):
            p.meta = m
        _block(body)
        joined = [join(m, r.meta) for m, r in zip(carried, body.returns[1:])]
        if joined == carried:
            break
        if attempt >= 3:  # the lattice is shallow; give up precision rather than iterate on
            joined = [None for _ in carried]
        carried = joined
    for o, m in zip(node.outputs, carried):
        o.meta = m


def _block(block: G.Block) -> None:
    for n in block.nodes:
        _node(n)


def propagate_shapes(graph: G.Graph) -> G.Graph:
    """Annotate every value with what the inputs' metas imply (inputs are left as they are)."""
    _clear(graph.block)
    _block(graph.block)
    return graph


# ------------------------------------------------------------------ folding shape queries

def _query_value(node: G.Node) -> Any:
    name = node.op.qualified_name
    meta = tensor_meta(node.inputs[0])
    if meta is None or meta.shape is None:
        return _UNKNOWN
    shape = meta.shape
    if name in ("dim", "ndimension", "ndim"):
        return len(shape)
    if name == "size.int":
        d = constant_value(node.inputs[1])
        if type(d) is not int or not -len(shape) <= d < len(shape):
            return _UNKNOWN
        size = shape[d]
        return _UNKNOWN if size is None else size
    if None in shape:
        return _UNKNOWN
    if name in ("numel", "nelement"):
        return int(np.prod(shape, dtype=np.int64))
    if name == "len.Tensor":
        return shape[0] if shape else _UNKNOWN
    if name in ("size", "shape"):
        return list(shape)
    return _UNKNOWN


def fold_shape_queries(graph: G.Graph) -> G.Graph:
    for node in list(graph.nodes()):
        if node.kind != G.OP or not node.op.has(R.SHAPE_QUERY) or not node.outputs:
            continue
        value = _query_value(node)
        if value is _UNKNOWN:
            continue
        if isinstance(value, list):
            # A fresh list per execution, as the op makes: fold_constants reads through it.
            items = [insert_constant(node, d, T.IntType) for d in value]
            replacement = G.Node(G.LIST_CONSTRUCT, inputs=items, output_types=[node.output.type],
                                 span=node.span)
            node.owner.insert_before(node, replacement)
            result = replacement.output
        else:
            result = insert_constant(node, value, node.output.type)
        node.output.replace_all_uses_with(result)
        for b in _blocks_returning(graph, node.output):
            b.set_returns([result if v is node.output else v for v in b.returns])
        node.destroy()
    return graph


def _blocks_returning(graph: G.Graph, v: G.Value) -> list:
    blocks = [graph.block] + [b for n in graph.nodes() for b in n.blocks]
    return [b for b in blocks if v in b.returns]


def specialize_shapes(graph: G.Graph) -> G.Graph:
    """The pipeline's pass: nothing for a generic graph (no input carries a meta)."""
    if not any(v.meta is not None for v in graph.inputs):
        return graph
    propagate_shapes(graph)
    return fold_shape_queries(graph)


# ------------------------------------------------------------------ specialising a graph

def copy_graph(graph: G.Graph) -> G.Graph:
    g = G.Graph(graph.name)
    g.signature = graph.signature
    env: dict = {}
    for v in graph.inputs:
        env[v] = g.add_input(v.type, v.name)
    _copy_nodes(graph.block, env, g.block.append)
    g.block.set_returns([env.get(v, v) for v in graph.outputs])
    return g


def specialize(graph: G.Graph, metas: dict, passes: Optional[list] = None) -> G.Graph:
    """A copy of ``graph`` for inputs with these metas (input index -> TensorMeta), optimised
    by ``passes`` (default: the pipeline's)."""
    from .passes.pipeline import run_pipeline

    g = copy_graph(graph)
    for i, m in metas.items():
        g.inputs[i].meta = m
    g = run_pipeline(g, passes)
    propagate_shapes(g)  # nodes the passes made get their metas too
    return g


def enabled() -> bool:
    disabled = {s.strip() for s in os.environ.get("TENSORSCRIPT_DISABLE_PASSES", "").split(",")}
    return "specialize" not in disabled


def _relaxed(key: tuple) -> tuple:
    return tuple((char, len(shape), rg) for char, shape, rg in _entries(key))


def _entries(key: tuple) -> list:
    """A flat guard key ``(dtype char, shape, requires_grad, ...)`` as triples."""
    return [key[k:k + 3] for k in range(0, len(key), 3)]


def _key_function(positions: tuple) -> Callable:
    """``key(args)``: the guard key, one flat tuple. The dtype is its one-character code:
    hashing a numpy dtype object is much slower."""
    def key(args):
        out = []
        for k in positions:
            t = args[k]
            d = t._data
            out += (d.dtype.char, d.shape, t._requires_grad)
        return tuple(out)
    return key


def _plan_function(positions: tuple, key: Callable, plans: dict, miss: Callable) -> Callable:
    """``plan(args)``. Calls mostly repeat the previous call's shapes, so the previous key's
    parts are compared first, without building or hashing a key."""
    def lookup(args):
        k = key(args)
        p = plans.get(k)
        return miss(k) if p is None else p

    if len(positions) == 1:
        (i,) = positions
        last_dtype = last_shape = last_grad = last_plan = None

        def plan1(args):
            nonlocal last_dtype, last_shape, last_grad, last_plan
            t = args[i]
            d = t._data
            dtype, shape, grad = d.dtype, d.shape, t._requires_grad
            if dtype is last_dtype and shape == last_shape and grad is last_grad:
                return last_plan
            p = lookup(args)
            last_dtype, last_shape, last_grad, last_plan = dtype, shape, grad, p
            return p
        return plan1
    if len(positions) == 2:
        i, j = positions
        last = None  # (dtype, shape, requires_grad) of both, as one tuple
        last_plan2 = None

        def plan2(args):
            nonlocal last, last_plan2
            a, b = args[i], args[j]
            da, db = a._data, b._data
            now = (da.dtype, da.shape, a._requires_grad, db.dtype, db.shape, b._requires_grad)
            if now == last:
                return last_plan2
            p = lookup(args)
            last, last_plan2 = now, p
            return p
        return plan2
    return lookup


class SpecializedPlans:
    """The guard and the variants of one graph. ``prepare(graph)`` makes a runnable plan;
    ``plan(args)`` returns the one for these arguments (``args`` in parameter order)."""

    def __init__(self, graph: G.Graph, tensor_positions, prepare: Callable, generic: Callable,
                 max_variants: int = MAX_VARIANTS):
        self.graph = graph
        self.positions = tuple(tensor_positions)
        self.prepare = prepare
        self.generic = generic  # () -> the generic plan
        self.max_variants = max_variants
        self.plans: dict = {}
        self.graphs: dict = {}
        self.relaxed: dict = {}
        self.key = _key_function(self.positions)
        self.plan = _plan_function(self.positions, self.key, self.plans, self._miss)

    def graph_for(self, args) -> G.Graph:
        key = self.key(args)
        if key not in self.plans:
            self._miss(key)
        return self.graphs.get(key) or self.graphs.get(("relaxed", _relaxed(key))) or self.graph

    def _miss(self, key: tuple):
        entries = _entries(key)
        if len(self.plans) < self.max_variants:
            metas = {i: TensorMeta(dtypes.from_numpy(np.dtype(char)), tuple(shape), bool(rg))
                     for i, (char, shape, rg) in zip(self.positions, entries)}
            p = self._make(key, metas)
            self.plans[key] = p
            return p
        rkey = _relaxed(key)
        p = self.relaxed.get(rkey)
        if p is None:
            if len(self.relaxed) < self.max_variants:
                metas = {i: TensorMeta(dtypes.from_numpy(np.dtype(char)), (None,) * rank, bool(rg))
                         for i, (char, rank, rg) in zip(self.positions, rkey)}
                p = self._make(("relaxed", rkey), metas)
            else:
                p = self.generic()
            self.relaxed[rkey] = p
        return p

    def _make(self, key, metas: dict):
        try:
            g = specialize(self.graph, metas)
        except Exception:
            if "PYTEST_CURRENT_TEST" in os.environ:
                raise
            return self.generic()  # a specialisation bug must not break a working program
        self.graphs[key] = g
        return self.prepare(g)


__all__ = ["SpecializedPlans", "specialize", "specialize_shapes", "propagate_shapes",
           "fold_shape_queries", "copy_graph", "join", "meta_of_array", "enabled",
           "MAX_VARIANTS", "DATA_DEPENDENT"]
