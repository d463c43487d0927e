"""Running ``prim::FusionGroup`` nodes: one generated kernel per group and input signature.

Preparing a group node reads its subgraph once (:class:`FusedGroup`). Each call looks at the
input arrays; the first call with a new signature (shapes, strides, dtypes, scalar kinds)
builds a plan:

1. dtypes: every op of the group is run by its NumPy reference on one-element arrays of the
   input dtypes (0-d inputs stay 0-d, so PyTorch's promotion of dimensioned vs 0-d tensors and
   Python scalars comes out exactly as unfused);
2. shapes: the domain is the broadcast of every value; reductions must reduce the last dim of
   the full domain; outputs must be the domain (or, for reductions, one value per row);
3. layout: dims of size 1 are dropped and adjacent dims merged wherever every input allows, so
   a contiguous chain runs as one flat loop and a bias-add as rows with a broadcast operand;
4. the kernel source comes from ``kernels.fusion`` and machine code from ``kernels.cache``.

Anything the plan cannot express (float16, integer division, a reduction over another dim, a
broadcast the kernel would get wrong, an op without a template, empty tensors, ...) makes the
signature run op by op through the subgraph: results are always those of the unfused ops.
The same happens whenever autograd must record (an input requires grad and grad mode is on) or
a tracer is active, so gradients and traces see the individual ops.

Groups of fewer than ``MIN_ELEMENTS`` elements run op by op too.

A call costs a few microseconds around the kernel, so everything a signature fixes is decided
when its plan is made: the previous call's plan is tried first by comparing shapes, strides
and dtypes (no key is built or hashed), the kernel is called through the compiled entry for
its argument types (``kernels.cache.compile_kernel``; no per-call typing by Numba's
dispatcher), and each input is passed as it is, as a flat view, as a span over its strided
elements or as a contiguous copy (negative strides), as its layout requires.

Outputs are allocated by NumPy (which asks for huge pages on large buffers) and passed to the
kernel; kernels never allocate. Where ``plan_memory`` marked the group, outputs of
``memory.MIN_BYTES`` and more come from the caching allocator. ``FusedGroup.run_arrays(...,
out=...)`` writes into buffers the caller reuses.
"""
from __future__ import annotations

import math
import os
from typing import Optional

import numpy as np

from ..jit.ir import graph as G
from ..jit.ir import types as T
from ..jit.ops import registry
from ..jit.ops.elementwise import result_dtype
from ..jit.passes.fuse_pointwise import operand_names, reduction_info
from ..kernels import load_on_first_use
from . import autograd
from . import memory
from .executor import PreparedGraph, register_kind
from .runtime import wrap

# The code generator and the kernel cache import Numba: they load with the first fused group.
kcache = load_on_first_use("cache")
kf = load_on_first_use("fusion")

PARALLEL_MIN = 1 << 18  # elements; below this a 2-thread barrier costs more than it saves
# Below this many elements a group runs op by op. A kernel is compiled once per machine (the
# disk cache keeps it), but that once is a fraction of a second to seconds, while tensors this
# small mostly live in tests and set-up code that runs a handful of times. From 1K elements on,
# one kernel call costs a few microseconds where the ops one by one cost several each.
MIN_ELEMENTS = int(os.environ.get("TENSORSCRIPT_FUSION_MIN_ELEMENTS", 1 << 10))
CHUNK = 1 << 15  # elements per parallel task of a flat pointwise kernel
_NO_SCALARS: list = []
_SCALAR_KIND = {bool: "bool", int: "int", float: "float"}
_handlers = registry._handlers


def _kernels_enabled() -> bool:
    """``TENSORSCRIPT_FUSION_KERNELS=0`` keeps the groups but runs them op by op (debugging)."""
    return os.environ.get("TENSORSCRIPT_FUSION_KERNELS", "1") != "0"


class _Node:
    __slots__ = ("op", "args", "names", "reduce", "keepdim", "dim")

    def __init__(self, op, args, names, reduce=None, keepdim=False, dim=None):
        self.op = op
        self.args = args  # per schema parameter: ("in", i) | ("arg", i) | ("val", k) | ("const", v)
        self.names = names
        self.reduce = reduce
        self.keepdim = keepdim
        self.dim = dim


class FusedGroup:
    """A fusion group's subgraph, ready to run as generated kernels."""

    def __init__(self, subgraph: G.Graph, program, direct: bool, pooled: bool = False):
        self.subgraph = subgraph
        self.unfused = PreparedGraph(subgraph, program, direct)
        self.plans: dict = {}
        # Calls mostly repeat the previous signature: its plan is checked before any key is built.
        self._last: Optional[_Plan] = None
        # Outputs of memory.MIN_BYTES and more come from the caching allocator (plan_memory
        # marked the node), so repeated calls reuse pages instead of faulting in new ones.
        self.pooled = pooled
        self.nodes: Optional[list] = self._analyze(subgraph) if _kernels_enabled() else None
        params = subgraph.inputs
        self.tensor_params = [i for i, p in enumerate(params) if p.type == T.TensorType]
        self.scalar_params = [i for i, p in enumerate(params) if p.type != T.TensorType]
        self.n_out = len(subgraph.outputs)

    # ---------------------------------------------------------------- analysis

    def _analyze(self, sub: G.Graph) -> Optional[list]:
        refs: dict = {}
        n_t = n_s = 0
        for p in sub.inputs:
            if p.type == T.TensorType:
                refs[p] = ("in", n_t)
                n_t += 1
            elif p.type in (T.IntType, T.FloatType, T.BoolType, T.NumberType):
                refs[p] = ("arg", n_s)
                n_s += 1
            else:
                return None
        nodes = []
        for n in sub.block.nodes:
            if n.kind == G.CONSTANT:
                refs[n.outputs[0]] = ("const", n.attrs.get("value"))
                continue
            if n.kind != G.OP or len(n.outputs) != 1:
                return None
            args = []
            for v in n.inputs:
                r = refs.get(v)
                if r is None:
                    return None
                args.append(r)
            if n.op.has(registry.POINTWISE):
                names = operand_names(n.op)
                if names is None:
                    return None
                nodes.append(_Node(n.op, args, names))
            else:
                info = reduction_info(n)
                if info is None:
                    return None
                dim = args[1][1]
                dim = dim[0] if isinstance(dim, list) else dim
                nodes.append(_Node(n.op, args, ("a",), reduce=info[0], keepdim=info[1], dim=dim))
            refs[n.outputs[0]] = ("val", len(nodes) - 1)
        self.outputs = []
        for v in sub.outputs:
            r = refs.get(v)
            if r is None or r[0] != "val":
                return None
            self.outputs.append(r[1])
        return nodes

    # ---------------------------------------------------------------- running

    def __call__(self, *args):
        return self.run(args)

    def run(self, args):
        """The group's outputs for its inputs ``args`` (Tensors and Python scalars)."""
        if self.nodes is None or len(_handlers) != 1:
            return self.unfused(*args)
        tensor_params = self.tensor_params
        if autograd._grad_enabled:
            for i in tensor_params:
                if args[i]._requires_grad:
                    return self.unfused(*args)
        arrays = [args[i]._data for i in tensor_params]
        scalars = [args[i] for i in self.scalar_params] if self.scalar_params else _NO_SCALARS
        plan = self._last  # _plan_for, inlined on the hot path
        if plan is None or plan.signature != [(a.shape, a.strides, a.dtype) for a in arrays] \
                or scalars and plan.scalar_types != [type(s) for s in scalars]:
            plan = self._lookup(arrays, scalars)
        launch = plan.launch
        if launch is None:
            return self.unfused(*args)
        outs = launch(arrays, scalars)
        if self.n_out == 1:
            return wrap(outs[0])
        return tuple([wrap(o) for o in outs])

    def run_arrays(self, arrays: list, scalars: list, out: Optional[list] = None):
        """Run on ndarrays (and Python scalars), into ``out`` when given; None when this
        signature runs op by op."""
        plan = self._plan_for(arrays, scalars)
        if plan.launch is None:
            return None
        if out is not None:
            return plan.launch_into(arrays, scalars, out)
        return plan.launch(arrays, scalars)

    def _plan_for(self, arrays: list, scalars: list) -> "_Plan":
        plan = self._last
        if plan is None or plan.signature != [(a.shape, a.strides, a.dtype) for a in arrays] \
                or scalars and plan.scalar_types != [type(s) for s in scalars]:
            plan = self._lookup(arrays, scalars)
        return plan

    def _lookup(self, arrays: list, scalars: list) -> "_Plan":
        signature = [(a.shape, a.strides, a.dtype) for a in arrays]
        scalar_types = [type(s) for s in scalars]
        key = (*signature, *scalar_types)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self._make_plan(arrays, scalars)
            plan.signature, plan.scalar_types = signature, scalar_types
        self._last = plan
        return plan

    def _make_plan(self, arrays: list, scalars: list) -> "_Plan":
        """The plan for a new signature: compiled (or loaded) now, so the first call already
        runs the kernel; a plan that runs op by op when anything stands in the way."""
        if max((a.size for a in arrays), default=0) < MIN_ELEMENTS:
            return _Plan.op_by_op()
        try:
            plan = self._plan(arrays, scalars)
            plan.compile(arrays, scalars, self.pooled)
        except Exception:  # kf.Unsupported, or a kernel Numba cannot type: the ops run instead
            return _Plan.op_by_op()
        return plan

    # ---------------------------------------------------------------- planning

    def _plan(self, arrays: list, scalars: list) -> "_Plan":
        nodes = self.nodes
        # 1. dtypes, by running the references on one-element samples
        samples = [np.ones((1,) * a.ndim, dtype=a.dtype) for a in arrays]
        values: list = []

        def actual(ref):
            kind, x = ref
            if kind == "in":
                return samples[x]
            if kind == "arg":
                return scalars[x]
            if kind == "val":
                return values[x]
            return x

        computes = []
        with np.errstate(all="ignore"):
            for nd in nodes:
                a = [actual(r) for r in nd.args]
                out = np.asarray(nd.op.impl(*a))
                values.append(out)
                if nd.reduce:
                    computes.append(out.dtype)
                elif out.dtype == np.bool_:
                    operands = [x for x, r in zip(a, nd.args) if r[0] != "const" or
                                isinstance(x, (int, float, bool))]
                    computes.append(np.dtype(result_dtype(*operands)))
                else:
                    computes.append(out.dtype)
        dtypes = [v.dtype for v in values]
        # 2. shapes
        shapes: list = []

        def shape_of(ref):
            kind, x = ref
            if kind == "in":
                return arrays[x].shape
            if kind == "val":
                return shapes[x]
            return ()

        for nd in nodes:
            if nd.reduce:
                s = shape_of(nd.args[0])
                if not s:
                    raise kf.Unsupported("reduction of a 0-d tensor")
                d = nd.dim + len(s) if nd.dim < 0 else nd.dim
                if d != len(s) - 1:
                    raise kf.Unsupported("reduction over a dim other than the last")
                shapes.append(s[:-1] + (1,) if nd.keepdim else s[:-1])
            else:
                shapes.append(np.broadcast_shapes(*[shape_of(r) for r in nd.args]))
        domain = np.broadcast_shapes(*[a.shape for a in arrays],
                                     *[s for nd, s in zip(nodes, shapes) if not nd.reduce])
        reduces = any(nd.reduce for nd in nodes)
        if reduces:
            domain = np.broadcast_shapes(domain, *[shape_of(nd.args[0]) for nd in nodes if nd.reduce])
        if any(d == 0 for d in domain):
            raise kf.Unsupported("empty tensor")
        row_shapes = (domain[:-1] + (1,), domain[:-1]) if reduces else ()
        for k, (nd, s) in enumerate(zip(nodes, shapes)):
            if nd.reduce:
                if shape_of(nd.args[0]) != domain:
                    raise kf.Unsupported("a reduction over a broadcast operand")
                if not nd.keepdim and any(r == ("val", k) for m in nodes for r in m.args):
                    raise kf.Unsupported("keepdim=False reduction read inside the group")
        out_rows = []
        for k in self.outputs:
            if shapes[k] == domain and not nodes[k].reduce:
                out_rows.append(False)
            elif reduces and shapes[k] in row_shapes and self._row_value(k, arrays, domain):
                out_rows.append(True)
            else:
                raise kf.Unsupported("an output smaller than the domain")
        # 3. layout: per-input element strides in the domain, then coalesced
        flatten, strides = [], []
        for a in arrays:
            flatten.append(_flattener(a))
            if flatten[-1] is _contiguous_copy:
                a = np.ascontiguousarray(a)
            st = [0] * len(domain)
            off = len(domain) - a.ndim
            for d in range(a.ndim):
                if a.shape[d] != 1:
                    st[off + d] = a.strides[d] // a.itemsize
            strides.append(st)
        dims = [d for d in range(len(domain)) if domain[d] != 1]
        if reduces and (not dims or dims[-1] != len(domain) - 1):
            dims.append(len(domain) - 1)
        sizes = [domain[d] for d in dims]
        per_input = [[st[d] for d in dims] for st in strides]
        sizes, per_input = _coalesce(sizes, per_input, keep_last=reduces)
        if not sizes:
            sizes, per_input = [1], [[0] for _ in per_input]
        C = sizes[-1]
        outer = sizes[:-1]
        R = math.prod(outer)
        total = R * C
        parallel = total >= PARALLEL_MIN
        if reduces:
            # CH rows per task: enough tasks to balance two threads, one scratch block each
            CH = max(1, -(-R // 64)) if parallel else R
            NCH = -(-R // CH)
        else:
            CH = min(C, CHUNK) if parallel else C
            NCH = -(-C // CH)
        layouts = []
        P = [R, C, CH, NCH, *outer]
        for st in per_input:
            t = st[-1]
            layouts.append(kf.INNER_BCAST if t == 0 else kf.INNER_CONTIG if t == 1 else kf.INNER_STRIDED)
            P.extend(st[:-1])
            P.append(t)
        # 4. the spec
        steps = []
        for k, nd in enumerate(nodes):
            ops = []
            for r in (nd.args[:1] if nd.reduce else nd.args):
                kind, x = r
                if kind == "in":
                    ops.append(kf.Operand("in", x, arrays[x].dtype.name))
                elif kind == "arg":
                    ops.append(kf.Operand("arg", x, _SCALAR_KIND[type(scalars[x])]))
                elif kind == "val":
                    ops.append(kf.Operand("val", x, dtypes[x].name))
                else:
                    if x is not None and not isinstance(x, (bool, int, float)):
                        raise kf.Unsupported(f"constant {x!r}")
                    ops.append(kf.Operand("const", x, _SCALAR_KIND.get(type(x), "none")))
            expr = nd.reduce if nd.reduce else nd.op.scalar_expr
            steps.append(kf.Step(expr, nd.names, tuple(ops), dtypes[k].name, computes[k].name,
                                 bool(nd.reduce)))
        if not all(a.dtype.isnative for a in arrays):
            raise kf.Unsupported("a byte order other than the machine's")
        spec = kf.KernelSpec(tuple((a.dtype.name, lay) for a, lay in zip(arrays, layouts)),
                             tuple(_SCALAR_KIND[type(s)] for s in scalars), tuple(steps),
                             tuple((k, dtypes[k].name, row) for k, row in zip(self.outputs, out_rows)),
                             len(outer), parallel)
        source = kf.generate_source(spec, "kernel")
        out_shapes = [shapes[k] for k in self.outputs]
        return _Plan(source, np.array(P, dtype=np.int64), out_shapes,
                     [dtypes[k] for k in self.outputs], flatten)

    def _row_value(self, k: int, arrays: list, domain) -> bool:
        """Whether value ``k`` is one number per row (it depends on no full-row input)."""
        nd = self.nodes[k]
        if nd.reduce:
            return True
        for kind, x in nd.args:
            if kind == "in":
                a = arrays[x]
                if a.ndim and a.shape[-1] != 1 and domain[-1] != 1:
                    return False
            elif kind == "val" and not self._row_value(x, arrays, domain):
                return False
        return True


def _coalesce(sizes: list, per_input: list, keep_last: bool):
    """Merge dim d into d+1 where every input steps through both as through one dim."""
    sizes = list(sizes)
    per_input = [list(st) for st in per_input]
    d = len(sizes) - 2
    while d >= 0:
        last = d + 1 == len(sizes) - 1
        if not (keep_last and last) and all(st[d] == st[d + 1] * sizes[d + 1] for st in per_input):
            sizes[d + 1] *= sizes[d]
            del sizes[d]
            for st in per_input:
                del st[d]
        d -= 1
    return sizes, per_input


def _span(a: np.ndarray) -> np.ndarray:
    """A 1-D view starting at ``a``'s first element and covering every element it reads."""
    span = 1 + sum((n - 1) * (s // a.itemsize) for n, s in zip(a.shape, a.strides) if n > 1)
    return np.lib.stride_tricks.as_strided(a, shape=(span,), strides=(a.itemsize,))


def _contiguous_copy(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).ravel()


_ravel = np.ndarray.ravel  # a view for C-contiguous arrays, the only ones it is given


def _flattener(a: np.ndarray):
    """How ``a`` becomes the 1-D array a kernel indexes (None: it already is one). Shape and
    strides decide it, and they are part of a plan's signature, so a plan decides it once."""
    if any(s < 0 or s % a.itemsize for s in a.strides):
        return _contiguous_copy
    if a.flags.c_contiguous:
        return None if a.ndim == 1 else _ravel
    return _span


class _Plan:
    """How one signature runs: ``launch(arrays, scalars)`` returns new outputs,
    ``launch_into(arrays, scalars, out)`` fills the caller's; ``launch`` is None for a
    signature that runs op by op."""

    __slots__ = ("source", "P", "out_shapes", "out_dtypes", "flatten", "signature",
                 "scalar_types", "entry", "launch")

    def __init__(self, source, P, out_shapes, out_dtypes, flatten):
        self.source = source
        self.P = P
        self.out_shapes = out_shapes
        self.out_dtypes = out_dtypes
        self.flatten = flatten
        self.signature = self.scalar_types = None
        self.entry = self.launch = None

    @classmethod
    def op_by_op(cls) -> "_Plan":
        return cls(None, None, [], [], [])

    def _inputs(self, arrays: list) -> list:
        return [a if f is None else f(a) for a, f in zip(arrays, self.flatten)]

    def compile(self, arrays: list, scalars: list, pooled: bool) -> None:
        outs = [np.empty(s, dtype=d) for s, d in zip(self.out_shapes, self.out_dtypes)]
        args = (self.P, *self._inputs(arrays), *[o.reshape(-1) for o in outs], *scalars)
        self.entry = kcache.compile_kernel(self.source, "kernel", args)
        allocators = []
        for shape, dtype in zip(self.out_shapes, self.out_dtypes):
            nbytes = math.prod(shape) * dtype.itemsize
            allocators.append(memory.ALLOCATOR.empty if pooled and nbytes >= memory.MIN_BYTES
                              else np.empty)
        self.launch = _launcher(self.entry, self.P, self.flatten, allocators, self.out_shapes,
                                self.out_dtypes)

    def launch_into(self, arrays: list, scalars: list, out: list) -> list:
        flat_out = []
        for o, shape, dtype in zip(out, self.out_shapes, self.out_dtypes):
            if o.shape != tuple(shape) or o.dtype != dtype or not o.flags.c_contiguous \
                    or not o.flags.writeable:
                raise ValueError(f"an output buffer must be a writable C-contiguous {dtype} "
                                 f"array of shape {tuple(shape)}")
            flat_out.append(o.reshape(-1))
        self.entry(self.P, *self._inputs(arrays), *flat_out, *scalars)
        return out


def _launcher(entry, P, flatten: list, allocators: list, shapes: list, dtypes: list):
    """``launch(arrays, scalars) -> outputs`` for one plan, with everything that the signature
    fixes decided here: which inputs need a 1-D view, which outputs come from the pool."""
    shapes = [tuple(s) for s in shapes]
    if len(shapes) == 1 and not any(flatten):
        (alloc,), (shape,), (dtype,) = allocators, shapes, dtypes
        if len(shape) == 1:
            def launch_flat(arrays, scalars):
                o = alloc(shape, dtype)
                entry(P, *arrays, o, *scalars)
                return [o]
            return launch_flat

        def launch_one(arrays, scalars):
            o = alloc(shape, dtype)
            entry(P, *arrays, o.reshape(-1), *scalars)
            return [o]
        return launch_one
    outputs = list(zip(allocators, shapes, dtypes))

    def launch(arrays, scalars):
        outs = [alloc(shape, dtype) for alloc, shape, dtype in outputs]
        entry(P, *[a if f is None else f(a) for a, f in zip(arrays, flatten)],
              *[o.reshape(-1) for o in outs], *scalars)
        return outs
    return launch


def _prepare_fusion_group(pg, node: G.Node):
    ins, outs = pg.ins(node), pg.outs(node)
    pooled = bool(node.attrs.get(memory.PLANNED)) and memory.enabled()
    group = FusedGroup(node.attrs["subgraph"], pg.program, pg.direct, pooled)
    run = group.run
    if len(outs) == 1:
        (o,) = outs

        def fusion_group(f):
            f[o] = run([f[s] for s in ins])
        return fusion_group

    def fusion_group_many(f):
        r = run([f[s] for s in ins])
        for s, v in zip(outs, r):
            f[s] = v
    return fusion_group_many


register_kind(G.FUSION_GROUP, _prepare_fusion_group)

__all__ = ["FusedGroup", "PARALLEL_MIN", "MIN_ELEMENTS"]
