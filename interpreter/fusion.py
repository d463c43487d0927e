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

Outputs are allocated by NumPy (which asks for huge pages on large buffers) and passed to the
kernel; kernels never allocate. ``FusedGroup.run_arrays(..., out=...)`` writes into buffers the
caller reuses.
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
from ..kernels import cache as kcache
from ..kernels import fusion as kf
from . import autograd
from .executor import PreparedGraph, register_kind
from .runtime import wrap

PARALLEL_MIN = 1 << 18  # elements; below this a 2-thread barrier costs more than it saves
# Below this many elements a group runs op by op: compiling its kernel (seconds with an empty
# cache) would cost more than the kernel could ever save on tensors this small.
MIN_ELEMENTS = int(os.environ.get("TENSORSCRIPT_FUSION_MIN_ELEMENTS", 1 << 14))
CHUNK = 1 << 15  # elements per parallel task of a flat pointwise kernel
_FALLBACK = object()
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

    def __init__(self, subgraph: G.Graph, program, direct: bool):
        self.subgraph = subgraph
        self.unfused = PreparedGraph(subgraph, program, direct)
        self.plans: dict = {}
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
        if (self.nodes is None or len(_handlers) != 1
                or autograd._grad_enabled and any(
                    args[i]._requires_grad for i in self.tensor_params if args[i] is not None)):
            return self.unfused(*args)
        arrays = [args[i]._data for i in self.tensor_params]
        scalars = [args[i] for i in self.scalar_params]
        outs = self.run_arrays(arrays, scalars)
        if outs is None:
            return self.unfused(*args)
        if self.n_out == 1:
            return wrap(outs[0])
        return tuple(wrap(o) for o in outs)

    def run_arrays(self, arrays: list, scalars: list, out: Optional[list] = None):
        """Run on ndarrays (and Python scalars); None when this signature runs op by op."""
        if max((a.size for a in arrays), default=0) < MIN_ELEMENTS:
            return None
        key = tuple((a.shape, a.strides, a.dtype.char) for a in arrays)
        if scalars:
            key += tuple(type(s) for s in scalars)
        plan = self.plans.get(key)
        if plan is None:
            try:
                plan = self._plan(arrays, scalars)
            except kf.Unsupported:
                plan = _FALLBACK
            except Exception:
                plan = _FALLBACK
            if plan is not _FALLBACK:
                try:
                    result = plan.first_run(arrays, scalars, out)
                except Exception:
                    plan = _FALLBACK
                else:
                    self.plans[key] = plan
                    return result
            self.plans[key] = plan
        if plan is _FALLBACK:
            return None
        return plan.run(arrays, scalars, out)

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
        views, strides = [], []
        for a in arrays:
            if any(s < 0 or s % a.itemsize for s in a.strides):
                a = np.ascontiguousarray(a)
            st = [0] * len(domain)
            off = len(domain) - a.ndim
            for d in range(a.ndim):
                if a.shape[d] != 1:
                    st[off + d] = a.strides[d] // a.itemsize
            strides.append(st)
            views.append(a)
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
        spec = kf.KernelSpec(tuple((a.dtype.name, lay) for a, lay in zip(arrays, layouts)),
                             tuple(_SCALAR_KIND[type(s)] for s in scalars), tuple(steps),
                             tuple((k, dtypes[k].name, row) for k, row in zip(self.outputs, out_rows)),
                             len(outer), parallel)
        source = kf.generate_source(spec, "kernel")
        out_shapes = [shapes[k] for k in self.outputs]
        return _Plan(source, np.array(P, dtype=np.int64), out_shapes,
                     [dtypes[k] for k in self.outputs], [v is not a for v, a in zip(views, arrays)])

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


def _flat(a: np.ndarray) -> np.ndarray:
    """A 1-D view starting at ``a``'s first element and covering every element it reads."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    span = 1 + sum((n - 1) * (s // a.itemsize) for n, s in zip(a.shape, a.strides) if n > 1)
    return np.lib.stride_tricks.as_strided(a, shape=(span,), strides=(a.itemsize,))


class _Plan:
    __slots__ = ("source", "P", "out_shapes", "out_dtypes", "copy", "kernel", "needs_copy")

    def __init__(self, source, P, out_shapes, out_dtypes, copy):
        self.source = source
        self.P = P
        self.out_shapes = out_shapes
        self.out_dtypes = out_dtypes
        self.copy = copy
        self.needs_copy = any(copy)
        self.kernel = None

    def _args(self, arrays, scalars, out):
        if self.needs_copy:
            arrays = [np.ascontiguousarray(a) if c else a for a, c in zip(arrays, self.copy)]
        if out is None:
            out = [np.empty(s, dtype=d) for s, d in zip(self.out_shapes, self.out_dtypes)]
        return out, (self.P, *[_flat(a) for a in arrays], *[o.reshape(-1) for o in out], *scalars)

    def first_run(self, arrays, scalars, out):
        out, args = self._args(arrays, scalars, out)
        self.kernel = kcache.compile_kernel(self.source, "kernel", args)
        return out

    def run(self, arrays, scalars, out):
        out, args = self._args(arrays, scalars, out)
        self.kernel(*args)
        return out


def _prepare_fusion_group(pg, node: G.Node):
    ins, outs = pg.ins(node), pg.outs(node)
    group = FusedGroup(node.attrs["subgraph"], pg.program, pg.direct)
    if len(outs) == 1:
        (o,) = outs

        def fusion_group(f):
            f[o] = group(*[f[s] for s in ins])
        return fusion_group

    def fusion_group_many(f):
        r = group(*[f[s] for s in ins])
        for s, v in zip(outs, r):
            f[s] = v
    return fusion_group_many


register_kind(G.FUSION_GROUP, _prepare_fusion_group)

__all__ = ["FusedGroup", "PARALLEL_MIN", "MIN_ELEMENTS"]
