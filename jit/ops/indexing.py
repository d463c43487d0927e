"""Indexing: ``tensor[key]`` and ``tensor[key] = value``, and the gather/scatter family.

``getitem`` and ``setitem`` implement PyTorch's indexing by composing registered ops through
``call``, so autograd, tracing and graph autodiff see ordinary ops: integers are ``select``,
slices ``slice``, ``None`` ``unsqueeze`` (all views), and integer or boolean tensors and lists
one ``index`` (advanced indexing, which copies). Unlike NumPy, integers are applied first as
selections and never take part in advanced indexing, which decides where the indexed dims go.
Assignment writes through a view with ``copy_``/``fill_``, or with ``index_put_``.
"""
from __future__ import annotations

import math

import numpy as np

from ...kernels import load_on_first_use
from ..ir import dtypes
from .dispatch import call, is_tensor
from .registry import INPLACE, NONDIFFERENTIABLE, Namespace, bind, get, register
from .shape import contiguous, broadcast_shapes, shape_of, slice_bounds, wrap_dim

T = (Namespace.TORCH,)
# Numba's kernels load on the first call of one of them, not when the registry is imported.
_ik = load_on_first_use("indexing")
# bound directly, skipping overload resolution: indexing is the hottest path in eager code
_SELECT, _SLICE = get("select.int"), get("slice.Tensor")
_UNSQUEEZE, _ALIAS = get("unsqueeze"), get("alias")


# ------------------------------------------------------------------ tensor[key]

def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_bool_tensor(v) -> bool:
    return is_tensor(v) and str(v.dtype).endswith(("bool", "uint8"))


def _consumed(item) -> int:
    """How many dims of the indexed tensor an index item uses up."""
    if item is None or item is Ellipsis or isinstance(item, (bool, np.bool_)):
        return 0
    if is_tensor(item) and _is_bool_tensor(item):
        return item.dim()
    return 1


def _index_tensor(item):
    """Integer or boolean index data as a Tensor."""
    if is_tensor(item):
        return item
    t = call("tensor", item)
    if t.numel() == 0:
        t = call("tensor", item, dtype=dtypes.int64)  # x[[]] selects nothing, as a long index
    return t


def _check_index_dtype(t) -> None:
    name = str(t.dtype)
    if not name.endswith(("int64", "int32", "int16", "int8", "uint8", "bool")):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _apply_basic(x, key):
    """Apply the integer, slice, None and Ellipsis parts of ``key`` to ``x`` (views only).

    Returns the view and the advanced indices as ``{dim of the view: (index tensor, dims it
    covers)}``.
    """
    items = list(key) if isinstance(key, tuple) else [key]
    ndim = x.dim()
    if sum(1 for it in items if it is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(it) for it in items)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    result, dim, advanced = x, 0, {}
    for item in items:
        if item is None:
            result = bind(_UNSQUEEZE, result, dim)
            dim += 1
        elif item is Ellipsis:
            dim += ndim - used
        elif isinstance(item, (bool, np.bool_)):
            result = bind(_UNSQUEEZE, result, dim)
            if not item:
                result = bind(_SLICE, result, dim, 0, 0, 1)
            dim += 1
        elif _is_int(item):
            result = bind(_SELECT, result, dim, int(item))
        elif isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            if not (item.start is None and item.stop is None and step == 1):
                result = bind(_SLICE, result, dim, _opt_int(item.start), _opt_int(item.stop), step)
            dim += 1
        elif is_tensor(item) or isinstance(item, (list, tuple)):
            t = _index_tensor(item)
            _check_index_dtype(t)
            if _is_bool_tensor(t):
                if t.dim() == 0:
                    result = bind(_UNSQUEEZE, result, dim)
                    if not t.item():
                        result = bind(_SLICE, result, dim, 0, 0, 1)
                    dim += 1
                    continue
                _check_mask_shape(t, result, dim)
                advanced[dim] = (t, t.dim())  # ``index`` takes the mask itself, as nonzero()
                dim += t.dim()
            elif t.dim() == 0 and is_tensor(item):
                result = bind(_SELECT, result, dim, int(t.item()))
            else:
                advanced[dim] = (t, 1)
                dim += 1
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                             "Variables are valid indices (got " + type(item).__name__ + ")")
    return result, advanced


def _opt_int(v):
    if v is None:
        return None
    if is_tensor(v):
        return int(v.item())
    return int(v)


def _check_mask_shape(mask, result, dim: int) -> None:
    ms, rs = shape_of(mask), shape_of(result)
    for j, s in enumerate(ms):
        if s != rs[dim + j]:
            raise IndexError(f"The shape of the mask {ms} at index {j} does not match the shape of "
                             f"the indexed tensor {rs} at index {dim + j}")


def _index_list(advanced: dict) -> list:
    """``index``'s argument: one entry per indexed dim (a mask covers as many dims as it has)."""
    out, d, end = [], 0, max(advanced) + 1
    while d < end:
        if d in advanced:
            t, k = advanced[d]
            out.append(t)
            d += k
        else:
            out.append(None)
            d += 1
    return out


def getitem(x, key):
    """``x[key]`` with PyTorch's semantics."""
    if isinstance(key, tuple) and len(key) == 0:
        return bind(_ALIAS, x)
    result, advanced = _apply_basic(x, key)
    if advanced:
        result = bind(_INDEX, result, _index_list(advanced))
    elif result is x:
        result = bind(_ALIAS, x)
    return result


def setitem(x, key, value) -> None:
    """``x[key] = value``: writes into ``x``'s storage (scalar or broadcasting tensor value)."""
    if isinstance(key, tuple) and len(key) == 0:
        key = Ellipsis
    target, advanced = _apply_basic(x, key)
    if isinstance(value, (list, tuple, np.ndarray)):
        value = call("tensor", value, dtype=x.dtype)
    if advanced:
        if not is_tensor(value):
            value = call("full", [], value, dtype=x.dtype)
        call("index_put_", target, _index_list(advanced), value)
    elif is_tensor(value):
        call("copy_", target, value)
    else:
        call("fill_", target, value)


# ------------------------------------------------------------------ index, index_put

def _index_arrays(a: np.ndarray, indices: list, op: str) -> tuple:
    """The NumPy index tuple for ``indices`` (None: the whole dim), with PyTorch's checks."""
    if len(indices) > a.ndim:
        raise IndexError(f"too many indices for tensor of dimension {a.ndim} (got {len(indices)})")
    key, dim = [], 0
    for idx in indices:
        if idx is None:
            key.append(slice(None))
            dim += 1
            continue
        if idx.dtype == np.bool_ or idx.dtype == np.uint8:
            mask = idx.astype(np.bool_, copy=False)
            for j, s in enumerate(mask.shape):
                if dim + j >= a.ndim or s != a.shape[dim + j]:
                    raise IndexError(f"The shape of the mask {list(mask.shape)} at index {j} does "
                                     f"not match the shape of the indexed tensor {list(a.shape)} "
                                     f"at index {dim + j}")
            key.append(mask)  # NumPy expands a mask in a key exactly as nonzero() would
            dim += mask.ndim
            continue
        if idx.dtype.kind not in "iu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        n = a.shape[dim]
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            bad = lo if lo < -n else (hi if hi >= n else None)
            if bad is not None:
                raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {dim} with "
                                 f"size {n}")
        key.append(idx.astype(np.int64, copy=False))
        dim += 1
    return tuple(key)


def _index(a, indices):
    return contiguous(a[_index_arrays(a, indices, "index")])


def _index_grad(ctx, g):
    x, indices = ctx.args
    return (call("index_put", call("zeros_like", x), indices, g, True),)


_INDEX = register("index.Tensor(Tensor self, Tensor?[] indices) -> Tensor", impl=_index,
                  grad=_index_grad, namespaces=T)


def _index_put_into(out, indices, values, accumulate):
    key = _index_arrays(out, indices, "index_put")
    values = values.astype(out.dtype, copy=False)
    if accumulate:
        flat_key = []
        for k in key:
            flat_key.extend(np.nonzero(k) if getattr(k, "dtype", None) == np.bool_ else (k,))
        key = tuple(flat_key)
        np.add.at(out, key, np.broadcast_to(values, out[key].shape))
    else:
        out[key] = values
    return out


def _index_put_grad(ctx, g):
    x, indices, values, accumulate = ctx.args
    picked = call("index", g, indices)
    gx = g if accumulate else call("index_put", g, indices, call("zeros_like", picked))
    return gx, None, picked


register("index_put_(Tensor self, Tensor?[] indices, Tensor values, bool accumulate=False) -> "
         "Tensor",
         impl=_index_put_into, grad=_index_put_grad, tags={INPLACE}, method=True, namespaces=T)
register("index_put(Tensor self, Tensor?[] indices, Tensor values, bool accumulate=False) -> "
         "Tensor",
         impl=lambda a, i, v, acc: _index_put_into(a.copy(), i, v, acc), grad=_index_put_grad,
         method=True, namespaces=T)


# ------------------------------------------------------------------ gather and scatter

def _check_gather_shapes(a, dim, index, op, src=None):
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if index.ndim != a.ndim and not (index.ndim <= 1 and a.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if op == 'gather' else 'self'} tensor")
    for k in range(index.ndim):
        if k != dim and index.shape[k] > a.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(index.shape)} to be no larger than "
                               f"{'self' if op == 'gather' else 'self'} {list(a.shape)} apart from "
                               f"dimension {dim}")
        if src is not None and index.shape[k] > src.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(index.shape)} to be no larger than src {list(src.shape)}")


def _check_range(index, n, dim, op):
    if index.size:
        lo, hi = int(index.min()), int(index.max())
        bad = lo if lo < 0 else (hi if hi >= n else None)
        if bad is not None:
            raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {dim} with "
                               f"size {n}")


def _gather(a, dim, index, sparse_grad):
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        a = a.reshape(1)
    _check_gather_shapes(a, d, index, "gather")
    idx = index.reshape(1) if index.ndim == 0 else index
    _check_range(idx, a.shape[d], d, "gather")
    src = a[tuple(slice(0, s) if k != d else slice(None) for k, s in enumerate(idx.shape))]
    out = np.take_along_axis(src, idx.astype(np.int64, copy=False), axis=d)
    return contiguous(out.reshape(index.shape))


register("gather(Tensor self, int dim, Tensor index, *, bool sparse_grad=False) -> Tensor",
         impl=_gather,
         grad=lambda ctx, g: (call("scatter_add", call("zeros_like", ctx.args[0]), ctx.args[1],
                                   ctx.args[2], g),),
         method=True, namespaces=T)


def _scatter_into(out, dim, index, src, mode, op):
    """Scatter into ``out`` (written in place and returned)."""
    d = wrap_dim(dim, out.ndim)
    if index.size == 0:
        return out
    _check_gather_shapes(out, d, index, op, src if src.ndim else None)
    if src.ndim:
        src = src[tuple(slice(0, s) for s in index.shape)]
    src = np.broadcast_to(src.astype(out.dtype, copy=False), index.shape)
    work = out if out.flags.c_contiguous else contiguous(out)
    bad = _ik.scatter(work, d, index, src, mode)
    if bad >= 0:
        flat = index.reshape(-1)
        raise RuntimeError(f"{op}(): index {int(flat[bad])} is out of bounds for dimension {d} "
                           f"with size {out.shape[d] if out.ndim else 1}")
    if work is not out:
        out[...] = work
    return out


def _scalar_src(value, out):
    return np.asarray(value, dtype=out.dtype)


def _reduce_mode(reduce: str) -> int:
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    return _ik.REDUCE_MODES[reduce]


def _scatter_src_grad(ctx, g):
    x, dim, index, src = ctx.args[:4]
    return call("scatter", g, dim, index, 0.0), None, None, call("gather", g, dim, index)


def _scatter_value_grad(ctx, g):
    x, dim, index = ctx.args[:3]
    return (call("scatter", g, dim, index, 0.0),)


for _suffix, _tags in (("", ()), ("_", (INPLACE,))):
    _fresh = (lambda a: a.copy()) if not _suffix else (lambda a: a)
    register(f"scatter{_suffix}.src(Tensor self, int dim, Tensor index, Tensor src) -> Tensor",
             impl=lambda a, dim, i, s, _f=_fresh: _scatter_into(_f(a), dim, i, s, _ik.ASSIGN,
                                                                "scatter"),
             grad=_scatter_src_grad, tags=_tags, method=True, namespaces=T if not _suffix else ())
    register(f"scatter{_suffix}.value(Tensor self, int dim, Tensor index, Scalar value) -> Tensor",
             impl=lambda a, dim, i, v, _f=_fresh: _scatter_into(_f(a), dim, i, _scalar_src(v, a),
                                                                _ik.ASSIGN, "scatter"),
             grad=_scatter_value_grad, tags=_tags, method=True, namespaces=T if not _suffix else ())
    register(f"scatter{_suffix}.reduce(Tensor self, int dim, Tensor index, Tensor src, *, str "
             "reduce) -> Tensor",
             impl=lambda a, dim, i, s, r, _f=_fresh: _scatter_into(_f(a), dim, i, s,
                                                                   _reduce_mode(r), "scatter"),
             tags=_tags, method=True, namespaces=T if not _suffix else ())
    register(f"scatter{_suffix}.value_reduce(Tensor self, int dim, Tensor index, Scalar value, *, "
             "str reduce) -> Tensor",
             impl=lambda a, dim, i, v, r, _f=_fresh: _scatter_into(_f(a), dim, i, _scalar_src(v, a),
                                                                   _reduce_mode(r), "scatter"),
             tags=_tags, method=True, namespaces=T if not _suffix else ())
    register(f"scatter_add{_suffix}(Tensor self, int dim, Tensor index, Tensor src) -> Tensor",
             impl=lambda a, dim, i, s, _f=_fresh: _scatter_into(_f(a), dim, i, s, _ik.ADD,
                                                                "scatter_add"),
             grad=lambda ctx, g: (g, None, None, call("gather", g, ctx.args[1], ctx.args[2])),
             tags=_tags, method=True, namespaces=T if not _suffix else ())


def _reduce_identity(reduce: str, dtype: np.dtype):
    """The value a reduction starts from when ``include_self=False`` leaves ``self`` out."""
    if reduce in ("sum", "prod"):
        return 0 if reduce == "sum" else 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return reduce == "amin"


def _scatter_reduce(a, dim, index, src, reduce, include_self):
    if reduce not in ("sum", "prod", "amax", "amin", "mean"):
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    out = a.copy()
    d = wrap_dim(dim, a.ndim)
    if reduce == "mean":
        counts = np.ones(a.shape, np.int64) if include_self else np.zeros(a.shape, np.int64)
        if not include_self:
            _scatter_into(out, d, index, np.zeros((), a.dtype), _ik.ASSIGN, "scatter_reduce")
        _scatter_into(out, d, index, src, _ik.ADD, "scatter_reduce")
        _scatter_into(counts, d, index, np.ones((), np.int64), _ik.ADD, "scatter_reduce")
        counts = np.maximum(counts, 1)
        if out.dtype.kind == "f":
            return (out / counts).astype(a.dtype)
        return np.floor_divide(out, counts).astype(a.dtype)
    mode = _ik.REDUCE_MODES[reduce]
    if not include_self:
        _scatter_into(out, d, index, np.asarray(_reduce_identity(reduce, a.dtype), a.dtype),
                      _ik.ASSIGN, "scatter_reduce")
    return _scatter_into(out, d, index, src, mode, "scatter_reduce")


def _scatter_reduce_grad(ctx, g):
    """PyTorch's scatter_reduce backward: ties of amax/amin share the gradient evenly, prod is
    exact with zeros, and with ``include_self=False`` the scattered positions of ``self`` get
    none."""
    x, dim, index, src, reduce, include_self = ctx.args[:6]
    out = ctx.out
    if reduce == "sum":
        g_self = g
        g_src = call("gather", g, dim, index)
    elif reduce == "mean":
        base = call("ones_like", g) if include_self else call("zeros_like", g)
        n = call("scatter_add", base, dim, index, call("ones_like", src))
        n = call("masked_fill", n, n == 0, 1.0)
        g_self = g / n
        g_src = call("gather", g_self, dim, index)
    elif reduce == "prod":
        masked_self = call("masked_fill", x, x == 0, 1.0)
        masked_self_result = call("scatter_reduce", masked_self, dim, index, src, reduce,
                                  include_self=include_self)
        g_self = g * masked_self_result / masked_self
        src_zero = src == 0
        num_zeros = call("gather", call("scatter_add", call("zeros_like", x), dim, index,
                                        src_zero.to(x.dtype)), dim, index)
        single_zero = call("logical_and", src_zero, num_zeros == 1)
        masked_src = call("masked_fill", src, single_zero, 1.0)
        masked_src_result = call("scatter_reduce", x, dim, index, masked_src, reduce,
                                 include_self=include_self)
        g_src = call("where", single_zero, call("gather", g * masked_src_result, dim, index),
                     call("gather", g * out, dim, index)
                     / call("masked_fill", src, src_zero, 1.0))
    else:
        value = call("gather", out, dim, index)
        self_is = (x == out).to(x.dtype)
        src_is = (src == value).to(x.dtype)
        share = g / call("scatter_add", self_is, dim, index, src_is)
        g_self = self_is * share
        g_src = src_is * call("gather", share, dim, index)
    if not include_self:
        g_self = call("scatter", g_self, dim, index, 0.0)
    return g_self, None, None, g_src


register("scatter_reduce.two(Tensor self, int dim, Tensor index, Tensor src, str reduce, *, "
         "bool include_self=True) -> Tensor",
         impl=_scatter_reduce, grad=_scatter_reduce_grad, method=True, namespaces=T)


# ------------------------------------------------------------------ index_select and friends

def _index_vector(index, op):
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    if index.dtype.kind not in "iu":
        raise IndexError(f"{op}(): Expected dtype int32/int64 for index")
    return index.reshape(-1).astype(np.int64, copy=False)


def _index_select(a, dim, index):
    idx = _index_vector(index, "index_select")
    if a.ndim == 0:
        wrap_dim(dim, 0)
        if idx.size and (idx.min() < 0 or idx.max() > 0):
            raise IndexError("index out of range in self")
        return a.reshape(1)[idx].reshape(index.shape) if idx.size else a.reshape(1)[idx]
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"index_select(): index {bad} out of range in self (dimension {d} with "
                         f"size {n})")
    return contiguous(np.take(a, idx, axis=d))


register("index_select(Tensor self, int dim, Tensor index) -> Tensor", impl=_index_select,
         grad=lambda ctx, g: (call("index_add", call("zeros_like", ctx.args[0]), ctx.args[1],
                                   ctx.args[2], g),),
         method=True, namespaces=T)


def _as3d(a, d):
    outer = math.prod(a.shape[:d])
    inner = math.prod(a.shape[d + 1:])
    return a.reshape(outer, a.shape[d], inner)


def _index_add_into(out, dim, index, source, alpha):
    idx = _index_vector(index, "index_add")
    if out.ndim == 0:
        out1 = out.reshape(1)
        _index_add_into(out1, 0, idx, source.reshape(1) if source.ndim == 0 else source, alpha)
        return out
    d = wrap_dim(dim, out.ndim)
    src = source.reshape(1) if source.ndim == 0 else source
    expected = list(out.shape)
    expected[d] = idx.size
    if list(src.shape) != expected:
        raise RuntimeError("index_add_(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {list(out.shape)} at dimension {d} and "
                           f"source slice shape: {list(src.shape)} at dimension {d}.")
    if idx.size == 0 or out.size == 0:
        return out
    work = out if out.flags.c_contiguous else contiguous(out)
    src3 = contiguous(_as3d(src.astype(out.dtype, copy=False), d))
    bad = _ik.index_add_3d(_as3d(work, d), idx, src3, out.dtype.type(alpha))
    if bad >= 0:
        raise IndexError(f"index_add(): index {int(idx[bad])} is out of bounds for dimension {d} "
                         f"with size {out.shape[d]}")
    if work is not out:
        out[...] = work
    return out


def _index_add_grad(ctx, g):
    x, dim, index, source, alpha = ctx.args
    gs = call("index_select", g, dim, index)
    if alpha != 1:
        gs = gs * alpha
    return g, None, None, call("reshape", gs, shape_of(source))


register("index_add(Tensor self, int dim, Tensor index, Tensor source, *, Scalar alpha=1) -> "
         "Tensor",
         impl=lambda a, d, i, s, alpha: _index_add_into(a.copy(), d, i, s, alpha),
         grad=_index_add_grad,
         method=True, namespaces=T)
register("index_add_(Tensor self, int dim, Tensor index, Tensor source, *, Scalar alpha=1) -> "
         "Tensor",
         impl=_index_add_into, grad=_index_add_grad, tags={INPLACE}, method=True)


def _index_fill_into(out, dim, index, value):
    idx = _index_vector(index, "index_fill")
    if out.ndim == 0:
        wrap_dim(dim, 0)
        if idx.size and (idx.min() < -1 or idx.max() > 0):
            raise IndexError("index out of range in self")
        if idx.size:
            out[...] = value
        return out
    d = wrap_dim(dim, out.ndim)
    n = out.shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index_fill(): index {int(idx.max() if idx.max() >= n else idx.min())} "
                         f"is out of bounds for dimension {d} with size {n}")
    key = (slice(None),) * d + (idx, Ellipsis)
    out[key] = np.asarray(value).astype(out.dtype)
    return out


def _index_fill_grad(ctx, g):
    x, dim, index = ctx.args[:3]
    return (call("index_fill", g, dim, index, 0.0),)


def _index_fill_tensor_grad(ctx, g):
    x, dim, index = ctx.args[:3]
    picked = call("index_select", g, dim, index)
    return call("index_fill", g, dim, index, 0.0), None, None, call("sum", picked)


def _value_0d(v, op):
    if v.ndim != 0:
        raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                           f"{v.ndim} dimension(s).")
    return v


register("index_fill.int_Scalar(Tensor self, int dim, Tensor index, Scalar value) -> Tensor",
         impl=lambda a, d, i, v: _index_fill_into(a.copy(), d, i, v), grad=_index_fill_grad,
         method=True, namespaces=T)
register("index_fill.int_Tensor(Tensor self, int dim, Tensor index, Tensor value) -> Tensor",
         impl=lambda a, d, i, v: _index_fill_into(a.copy(), d, i, _value_0d(v, "index_fill")),
         grad=_index_fill_tensor_grad, method=True, namespaces=T)
register("index_fill_.int_Scalar(Tensor self, int dim, Tensor index, Scalar value) -> Tensor",
         impl=_index_fill_into, grad=_index_fill_grad, tags={INPLACE}, method=True)
register("index_fill_.int_Tensor(Tensor self, int dim, Tensor index, Tensor value) -> Tensor",
         impl=lambda a, d, i, v: _index_fill_into(a, d, i, _value_0d(v, "index_fill_")),
         grad=_index_fill_tensor_grad, tags={INPLACE}, method=True)


def _index_copy_into(out, dim, index, source):
    idx = _index_vector(index, "index_copy")
    d = wrap_dim(dim, out.ndim)
    n = out.shape[d] if out.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index_copy_(): index {int(idx.max())} is out of bounds for dimension "
                         f"{d} with size {n}")
    if out.ndim == 0:
        if idx.size:
            out[...] = source.reshape(())
        return out
    out[(slice(None),) * d + (idx, Ellipsis)] = source.astype(out.dtype, copy=False)
    return out


def _index_copy_grad(ctx, g):
    x, dim, index, source = ctx.args
    return (call("index_fill", g, dim, index, 0.0), None, None,
            call("reshape", call("index_select", g, dim, index), shape_of(source)))


register("index_copy(Tensor self, int dim, Tensor index, Tensor source) -> Tensor",
         impl=lambda a, d, i, s: _index_copy_into(a.copy(), d, i, s), grad=_index_copy_grad,
         method=True, namespaces=T)
register("index_copy_(Tensor self, int dim, Tensor index, Tensor source) -> Tensor",
         impl=_index_copy_into, grad=_index_copy_grad, tags={INPLACE}, method=True)


# ------------------------------------------------------------------ masks

def _mask(mask, op):
    if mask.dtype != np.bool_:
        if mask.dtype == np.uint8:
            return mask.astype(np.bool_)
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{_torch_name(mask.dtype)}")
    return mask


def _torch_name(dt) -> str:
    return {"float32": "float", "float64": "double", "int64": "long", "int32": "int"}.get(dt.name,
                                                                                          dt.name)


def _masked_fill(a, mask, value, inplace: bool):
    mask = _mask(mask, "masked_fill_")
    if inplace:
        if broadcast_shapes(a.shape, mask.shape) != list(a.shape):
            raise RuntimeError(f"masked_fill_: mask of shape {list(mask.shape)} cannot be "
                               f"broadcast to self of shape {list(a.shape)}")
        out = a
    else:
        out = np.array(np.broadcast_to(a, broadcast_shapes(a.shape, mask.shape)))
    if a.dtype.kind in "iub" and isinstance(value, float) and not float(value).is_integer():
        raise RuntimeError(f"value cannot be converted to type {_torch_name(a.dtype)} without "
                           "overflow")
    np.copyto(out, np.asarray(value).astype(out.dtype), where=np.broadcast_to(mask, out.shape))
    return out


def _masked_fill_grad(ctx, g):
    return (call("masked_fill", g, ctx.args[1], 0.0),)


def _masked_fill_tensor_grad(ctx, g):
    x, mask, value = ctx.args
    return (call("masked_fill", g, mask, 0.0), None, call("sum", call("masked_select", g, mask)))


register("masked_fill.Scalar(Tensor self, Tensor mask, Scalar value) -> Tensor",
         impl=lambda a, m, v: _masked_fill(a, m, v, False), grad=_masked_fill_grad,
         method=True, namespaces=T)
register("masked_fill.Tensor(Tensor self, Tensor mask, Tensor value) -> Tensor",
         impl=lambda a, m, v: _masked_fill(a, m, _value_0d(v, "masked_fill_").item(), False),
         grad=_masked_fill_tensor_grad, method=True, namespaces=T)
register("masked_fill_.Scalar(Tensor self, Tensor mask, Scalar value) -> Tensor",
         impl=lambda a, m, v: _masked_fill(a, m, v, True), grad=_masked_fill_grad,
         tags={INPLACE}, method=True)
register("masked_fill_.Tensor(Tensor self, Tensor mask, Tensor value) -> Tensor",
         impl=lambda a, m, v: _masked_fill(a, m, _value_0d(v, "masked_fill_").item(), True),
         grad=_masked_fill_tensor_grad, tags={INPLACE}, method=True)


def _masked_select(a, mask):
    mask = _mask(mask, "masked_select")
    shape = broadcast_shapes(a.shape, mask.shape)
    return contiguous(np.broadcast_to(a, shape)[np.broadcast_to(mask, shape)])


def _masked_select_grad(ctx, g):
    x, mask = ctx.args
    shape = broadcast_shapes(shape_of(x), shape_of(mask))
    zeros = call("expand", call("zeros_like", x), shape)
    return (call("masked_scatter", zeros, mask, g),)


register("masked_select(Tensor self, Tensor mask) -> Tensor", impl=_masked_select,
         grad=_masked_select_grad, method=True, namespaces=T)


def _masked_scatter(a, mask, source, inplace: bool):
    mask = _mask(mask, "masked_scatter_")
    shape = broadcast_shapes(a.shape, mask.shape)
    if inplace:
        if shape != list(a.shape):
            raise RuntimeError("masked_scatter_: expected mask to be broadcastable to self of "
                               f"shape {list(a.shape)}, got {list(mask.shape)}")
        out = a
    else:
        out = np.array(np.broadcast_to(a, shape))
    m = np.broadcast_to(mask, shape)
    count = int(m.sum())
    if source.size < count:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as "
                           f"ones in mask ({count}), got {source.size}")
    out[m] = source.reshape(-1)[:count].astype(out.dtype, copy=False)
    return out


def _masked_scatter_grad(ctx, g):
    x, mask, source = ctx.args
    picked = call("masked_select", g, mask)
    n = len_of(source)
    k = shape_of(picked)[0]
    if k < n:
        pad = call("zeros_like", call("reshape", source, [-1]))
        picked = call("cat", [picked, call("narrow", pad, 0, 0, n - k)], 0)
    return (call("masked_fill", g, mask, 0.0), None, call("reshape", picked, shape_of(source)))


def len_of(t) -> int:
    return math.prod(shape_of(t)) if shape_of(t) else 1


register("masked_scatter(Tensor self, Tensor mask, Tensor source) -> Tensor",
         impl=lambda a, m, s: _masked_scatter(a, m, s, False), grad=_masked_scatter_grad,
         method=True, namespaces=T)
register("masked_scatter_(Tensor self, Tensor mask, Tensor source) -> Tensor",
         impl=lambda a, m, s: _masked_scatter(a, m, s, True), grad=_masked_scatter_grad,
         tags={INPLACE}, method=True)


# ------------------------------------------------------------------ take, take_along_dim

def _take(a, index):
    if index.dtype.kind not in "iu":
        raise IndexError("take(): Expected a long tensor for index")
    n = a.size
    if index.size:
        lo, hi = int(index.min()), int(index.max())
        bad = lo if lo < -n else (hi if hi >= n else None)
        if bad is not None:
            raise IndexError(f"take(): out of range: tried to access index {bad} on a tensor of "
                             f"{n} elements.")
    return contiguous(a.reshape(-1)[index.astype(np.int64, copy=False)])


def _take_grad(ctx, g):
    x, index = ctx.args
    flat = call("zeros_like", call("reshape", x, [-1]))
    return (call("reshape", call("index_put", flat, [index], g, True), shape_of(x)),)


register("take(Tensor self, Tensor index) -> Tensor", impl=_take, grad=_take_grad, method=True,
         namespaces=T)


def _take_along_dim(a, indices, dim):
    if dim is None:
        return _gather(a.reshape(-1), 0, indices.reshape(-1), False)
    d = wrap_dim(dim, a.ndim)
    if a.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {a.ndim} dimensions for input, and "
                           f"{indices.ndim} dimensions for indices")
    sa, si = list(a.shape), list(indices.shape)
    sa[d] = si[d] = 1
    shape = broadcast_shapes(sa, si)
    ta = list(shape)
    ta[d] = a.shape[d]
    ti = list(shape)
    ti[d] = indices.shape[d]
    return _gather(np.broadcast_to(a, ta), d, np.broadcast_to(indices, ti), False)


def _take_along_dim_grad(ctx, g):
    x, indices, dim = ctx.args
    if dim is None:
        flat = call("zeros_like", call("reshape", x, [-1]))
        gi = call("scatter_add", flat, 0, call("reshape", indices, [-1]), call("reshape", g, [-1]))
        return (call("reshape", gi, shape_of(x)),)
    d = wrap_dim(dim, len(shape_of(x)))
    gshape = shape_of(g)
    xs = list(gshape)
    xs[d] = shape_of(x)[d]
    # the gradient in the broadcast shape; the engine sums it back to the shape of ``self``
    zeros = call("expand", call("zeros_like", x), xs)
    return (call("scatter_add", zeros, d, call("expand", indices, gshape), g),)


register("take_along_dim(Tensor self, Tensor indices, int? dim=None) -> Tensor",
         impl=_take_along_dim,
         grad=_take_along_dim_grad, method=True, namespaces=T)


# ------------------------------------------------------------------ nonzero

def _nonzero(a):
    return contiguous(np.argwhere(a), dtype=np.int64)


def _nonzero_tuple(a):
    if a.ndim == 0:
        return [np.asarray(np.nonzero(a.reshape(1))[0], dtype=np.int64)]
    return [np.asarray(i, dtype=np.int64) for i in np.nonzero(a)]


register("nonzero(Tensor self) -> Tensor", impl=_nonzero, tags={NONDIFFERENTIABLE}, method=True,
         namespaces=T)
register("nonzero.as_tuple(Tensor self, *, bool as_tuple) -> Tensor[]",
         impl=lambda a, as_tuple: _nonzero_tuple(a) if as_tuple else _nonzero(a),
         tags={NONDIFFERENTIABLE}, method=True, namespaces=T)
register("nonzero_numpy(Tensor self) -> Tensor[]", impl=_nonzero_tuple, tags={NONDIFFERENTIABLE},
         method=True)
register("argwhere(Tensor self) -> Tensor", impl=_nonzero, tags={NONDIFFERENTIABLE}, method=True,
         namespaces=T)
register("where(Tensor condition) -> Tensor[]", impl=_nonzero_tuple, tags={NONDIFFERENTIABLE},
         namespaces=T)


# ------------------------------------------------------------------ scatter forms of views

def _select_scatter(a, src, dim, index):
    out = a.copy()
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if index < -n or index >= n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(a.shape)} at dimension {d}")
    out[(slice(None),) * d + (index, Ellipsis)] = src
    return out


def _slice_scatter(a, src, dim, start, end, step):
    out = a.copy()
    d = wrap_dim(dim, a.ndim)
    s, e = slice_bounds(a.shape[d], start, end, step)
    out[(slice(None),) * d + (slice(s, e, step), Ellipsis)] = src
    return out


register("select_scatter(Tensor self, Tensor src, int dim, int index) -> Tensor",
         impl=_select_scatter,
         grad=lambda ctx, g: (call("select_scatter", g, call("zeros_like", ctx.args[1]),
                                   *ctx.args[2:]),
                              call("select", g, *ctx.args[2:])),
         method=True, namespaces=T)
register("slice_scatter(Tensor self, Tensor src, int dim=0, int? start=None, int? end=None, int "
         "step=1) -> Tensor", impl=_slice_scatter,
         grad=lambda ctx, g: (call("slice_scatter", g, call("zeros_like", ctx.args[1]),
                                   *ctx.args[2:]),
                              call("slice", g, *ctx.args[2:])),
         method=True, namespaces=T)
