"""Reductions, scans, sorting and softmax (see registry.py for what an entry holds).

Kernels take NumPy arrays and return arrays of exactly PyTorch's result dtype; NumPy returns
scalars from whole-array reductions, so results pass through ``np.asarray``. Gradient rules
use public ops only (``call`` and Tensor operators).
"""
from __future__ import annotations

import math

import numpy as np

from ...kernels import load_on_first_use
from ...kernels import reductions as _rk
from ..ir import dtypes
from .dispatch import call
from .registry import NONDIFFERENTIABLE, REDUCTION, Namespace, register
from .shape import contiguous, shape_of, sum_to, wrap_dim, wrap_dims

# Numba's kernels load on the first call of one of them, not when the registry is imported.
_rw = load_on_first_use("rowwise")
_scan = load_on_first_use("scan")

T = (Namespace.TORCH,)
TF = (Namespace.TORCH, Namespace.FUNCTIONAL)


def _dtype_name(a: np.ndarray) -> str:
    names = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
             "bool": "Bool", "int16": "Short", "int8": "Char", "uint8": "Byte", "float16": "Half"}
    return names.get(a.dtype.name, a.dtype.name)


def _is_float(a: np.ndarray) -> bool:
    return a.dtype.kind == "f"


def _axes(a: np.ndarray, dim, op: str) -> tuple:
    """Reduction axes for ``dim`` (None or [] mean every axis), wrapped and deduplicated."""
    if dim is None or (isinstance(dim, list) and len(dim) == 0):
        return tuple(range(a.ndim))
    dims = wrap_dims(dim if isinstance(dim, list) else [dim], a.ndim)
    if a.ndim == 0:
        return ()
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}(): dim {dims[0]} appears multiple times in the list of dims")
    return tuple(dims)


def _keep(result, a: np.ndarray, axes: tuple, keepdim: bool) -> np.ndarray:
    result = np.asarray(result)
    if keepdim and a.ndim:
        shape = [1 if d in axes else s for d, s in enumerate(a.shape)]
        result = result.reshape(shape)
    return result


def _accumulate_dtype(a: np.ndarray, dtype) -> np.dtype:
    """sum/prod/cumsum promote bool and integers to int64 unless a dtype is given."""
    if dtype is not None:
        return dtype.np
    if a.dtype.kind in "biu":
        return np.dtype(np.int64)
    return a.dtype


def _float_only(a: np.ndarray, op: str, dtype=None) -> np.ndarray:
    if dtype is not None:
        a = a.astype(dtype.np)
    if not _is_float(a):
        raise RuntimeError(f"{op}(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_dtype_name(a)}")
    return a


def _nonempty(a: np.ndarray, axes: tuple, op: str) -> None:
    for d in axes:
        if a.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    if not axes and a.size == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for "
                           "input.numel() == 0.")


# ------------------------------------------------------------------ gradient helpers

def unreduce(g, in_shape: list, dims, keepdim: bool):
    """Broadcast a reduction's gradient back to the input's shape."""
    if not keepdim and len(in_shape):
        for d in sorted(dims):
            g = call("unsqueeze", g, d)
    return call("expand", g, list(in_shape))


def _axes_for(x, dim) -> list:
    n = len(shape_of(x))
    if dim is None or (isinstance(dim, list) and len(dim) == 0):
        return list(range(n))
    dims = wrap_dims(dim if isinstance(dim, list) else [dim], n)
    return dims if n else []


def _count(x, axes) -> int:
    shape = shape_of(x)
    return math.prod([shape[d] for d in axes]) if axes else 1


# ------------------------------------------------------------------ sum, mean, prod

_F32 = np.dtype(np.float32)


def _whole(dim) -> bool:
    return dim is None or (isinstance(dim, list) and not dim)


def _float32_result(value: float, a: np.ndarray, keepdim: bool) -> np.ndarray:
    """A value the kernel already rounded to float32 (Numba returns it as a Python float)."""
    r = np.array(value, dtype=_F32)
    return r.reshape((1,) * a.ndim) if keepdim and a.ndim else r


def _sum(a, dim, keepdim, dtype):
    if dtype is None and a.dtype == _F32 and _whole(dim):
        return _float32_result(_rw.sum_f32(a.ravel()), a, keepdim)
    axes = _axes(a, dim, "sum")
    out_dtype = _accumulate_dtype(a, dtype)
    r = np.sum(a, axis=axes, dtype=out_dtype)
    return _keep(r, a, axes, keepdim).astype(out_dtype, copy=False)


def _sum_grad(ctx, g):
    x, dim, keepdim = ctx.args[0], ctx.args[1], ctx.args[2]
    return (unreduce(g, shape_of(x), _axes_for(x, dim), keepdim),)


register("sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? "
         "dtype=None) -> Tensor",
         impl=_sum, grad=_sum_grad, tags={REDUCTION}, method=True, namespaces=T)
register("sum(Tensor self, *, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dtype: _sum(a, None, False, dtype),
         grad=lambda ctx, g: (call("expand", g, shape_of(ctx.args[0])),),
         tags={REDUCTION}, method=True, namespaces=T)


def _sum_to_size(a, size):
    return sum_to(a, list(size))


register("sum_to_size(Tensor self, int[] size) -> Tensor", impl=_sum_to_size,
         grad=lambda ctx, g: (call("expand", g, shape_of(ctx.args[0])),),
         tags={REDUCTION}, method=True)


def _mean(a, dim, keepdim, dtype):
    if dtype is None and a.dtype == _F32 and _whole(dim) and a.size:
        return _float32_result(_rw.mean_f32(a.ravel()), a, keepdim)
    a = _float_only(a, "mean", dtype)
    axes = _axes(a, dim, "mean")
    n = math.prod([a.shape[d] for d in axes]) if axes else 1
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.asarray(np.sum(a, axis=axes) / a.dtype.type(n), dtype=a.dtype)
    return _keep(r, a, axes, keepdim)


def _mean_grad(ctx, g):
    x, dim, keepdim = ctx.args[0], ctx.args[1], ctx.args[2]
    axes = _axes_for(x, dim)
    return (unreduce(g, shape_of(x), axes, keepdim) / _count(x, axes),)


register("mean.dim(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None) -> "
         "Tensor",
         impl=_mean, grad=_mean_grad, tags={REDUCTION}, method=True, namespaces=T)
register("mean(Tensor self, *, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dtype: _mean(a, None, False, dtype),
         grad=lambda ctx, g: (call("expand", g / max(len_of(ctx.args[0]), 1),
                                   shape_of(ctx.args[0])),),
         tags={REDUCTION}, method=True, namespaces=T)


def _prod(a, dim, keepdim, dtype):
    axes = _axes(a, dim, "prod")
    out_dtype = _accumulate_dtype(a, dtype)
    r = np.prod(a, axis=axes, dtype=out_dtype)
    return _keep(r, a, axes, keepdim).astype(out_dtype, copy=False)


def _prod_along(x, g, dim: int):
    """d prod / d x_k along ``dim`` as the product of everything else: exact with zeros."""
    n = shape_of(x)[dim]
    if n <= 1:
        return g
    ones = call("ones_like", call("narrow", x, dim, 0, 1))
    left = call("cat", [ones, call("cumprod", call("narrow", x, dim, 0, n - 1), dim)], dim)
    rev = call("flip", call("narrow", x, dim, 1, n - 1), [dim])
    right = call("cat", [call("flip", call("cumprod", rev, dim), [dim]), ones], dim)
    return g * left * right


def _prod_dim_grad(ctx, g):
    x, dim, keepdim = ctx.args[0], ctx.args[1], ctx.args[2]
    shape = shape_of(x)
    if not shape:
        return (g,)
    d = wrap_dim(dim, len(shape))
    return (_prod_along(x, unreduce(g, shape, [d], keepdim), d),)


def _prod_grad(ctx, g):
    x = ctx.args[0]
    shape = shape_of(x)
    flat = call("reshape", x, [-1])
    gf = call("expand", call("reshape", g, [1]), [len_of(flat)])
    return (call("reshape", _prod_along(flat, gf, 0), shape),)


def len_of(x) -> int:
    return math.prod(shape_of(x)) if shape_of(x) else 1


register("prod.dim_int(Tensor self, int dim, bool keepdim=False, *, ScalarType? dtype=None) -> "
         "Tensor",
         impl=_prod, grad=_prod_dim_grad, tags={REDUCTION}, method=True, namespaces=T)
register("prod(Tensor self, *, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dtype: _prod(a, None, False, dtype), grad=_prod_grad,
         tags={REDUCTION}, method=True, namespaces=T)


# ------------------------------------------------------------------ max, min, amax, amin, argmax

# Small tensors of these dtypes take one compiled call; large ones NumPy's SIMD argmax.
_EXTREME_KERNEL_MAX_SIZE = 1 << 14
_EXTREME_KERNEL_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int64,
                                                         np.int32))


def _extreme_dim(a, dim, keepdim, largest: bool, op: str):
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return a.copy(), np.zeros((), dtype=np.int64)
    _nonempty(a, (d,), op)
    if a.size <= _EXTREME_KERNEL_MAX_SIZE and a.dtype in _EXTREME_KERNEL_DTYPES:
        return _extreme_dim_kernel(a, d, keepdim, largest)
    idx = np.argmax(a, axis=d) if largest else np.argmin(a, axis=d)
    idx = np.expand_dims(idx, d)
    values = np.take_along_axis(a, idx, axis=d)
    if not keepdim:
        values, idx = np.squeeze(values, d), np.squeeze(idx, d)
    return contiguous(values), contiguous(idx, dtype=np.int64)


def _extreme_dim_kernel(a, d: int, keepdim: bool, largest: bool):
    x = np.ascontiguousarray(a)
    shape = x.shape
    outer, inner = math.prod(shape[:d]), math.prod(shape[d + 1:])
    out_shape = shape[:d] + (1,) + shape[d + 1:] if keepdim else shape[:d] + shape[d + 1:]
    values = np.empty(out_shape, x.dtype)
    indices = np.empty(out_shape, np.int64)
    _rw.extreme_along(x.reshape(outer, shape[d], inner), values.reshape(outer, inner),
                      indices.reshape(outer, inner), largest)
    return values, indices


def _extreme_dim_grad(ctx, g, _gi=None):
    x, dim, keepdim = ctx.args[0], ctx.args[1], ctx.args[2]
    shape = shape_of(x)
    if not shape:
        return (g,)
    d = wrap_dim(dim, len(shape))
    idx = ctx.out[1]
    if not keepdim:
        g, idx = call("unsqueeze", g, d), call("unsqueeze", idx, d)
    return (call("scatter", call("zeros_like", x), d, idx, g),)


def _extreme_all(a, largest: bool, op: str):
    _nonempty(a, (), op)
    return np.asarray(np.max(a) if largest else np.min(a))


def _amax(a, dim, keepdim, largest: bool, op: str):
    axes = _axes(a, dim, op)
    _nonempty(a, axes, op)
    r = np.max(a, axis=axes) if largest else np.min(a, axis=axes)
    return _keep(r, a, axes, keepdim)


def _amax_grad(ctx, g):
    """Ties share the gradient evenly, as in PyTorch's amax/amin and whole-tensor max/min."""
    x = ctx.args[0]
    dim = ctx.args[1] if len(ctx.args) > 1 else None
    keepdim = ctx.args[2] if len(ctx.args) > 2 else False
    shape = shape_of(x)
    axes = _axes_for(x, dim)
    out = unreduce(ctx.out, shape, axes, keepdim)
    mask = x == out
    count = call("sum", mask, axes, True) if axes else call("sum", mask)
    return (unreduce(g, shape, axes, keepdim) / call("expand", count, shape) * mask,)


def _minmax_binary(a, b, largest: bool):
    rt = dtypes.result_type([dtypes.from_numpy(x.dtype) for x in (a, b) if x.ndim],
                            [dtypes.from_numpy(x.dtype) for x in (a, b) if not x.ndim])
    f = np.maximum if largest else np.minimum
    return np.asarray(f(a.astype(rt.np, copy=False), b.astype(rt.np, copy=False)))


def _minmax_binary_grad(largest: bool):
    def rule(ctx, g):
        a, b = ctx.args
        pick_a = (a > b) if largest else (a < b)
        tie = a == b
        ga = g * pick_a + g * tie * 0.5
        gb = g - ga
        return ga, gb
    return rule


for _name, _largest in (("max", True), ("min", False)):
    register(f"{_name}.dim(Tensor self, int dim, bool keepdim=False) -> "
             "(Tensor values, Tensor indices)",
             impl=lambda a, dim, keepdim, _l=_largest, _n=_name:
                 _extreme_dim(a, dim, keepdim, _l, _n),
             grad=_extreme_dim_grad, tags={REDUCTION}, method=True, namespaces=T)
    register(f"{_name}.other(Tensor self, Tensor other) -> Tensor",
             impl=lambda a, b, _l=_largest: _minmax_binary(a, b, _l),
             grad=_minmax_binary_grad(_largest), method=True, namespaces=T)
    register(f"{_name}(Tensor self) -> Tensor",
             impl=lambda a, _l=_largest, _n=_name: _extreme_all(a, _l, _n),
             grad=_amax_grad, tags={REDUCTION}, method=True, namespaces=T)
    register(f"a{_name}(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor",
             impl=lambda a, dim, keepdim, _l=_largest, _n=_name:
                 _amax(a, dim, keepdim, _l, "a" + _n),
             grad=_amax_grad, tags={REDUCTION}, method=True, namespaces=T)


def _argextreme(a, dim, keepdim, largest: bool, op: str):
    f = np.argmax if largest else np.argmin
    if dim is None:
        _nonempty(a, (), op)
        r = np.asarray(f(a.reshape(-1)), dtype=np.int64)
        return r.reshape([1] * a.ndim) if keepdim else r
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return np.zeros((), dtype=np.int64)
    d = wrap_dim(dim, a.ndim)
    _nonempty(a, (d,), op)
    r = f(a, axis=d)
    if keepdim:
        r = np.expand_dims(r, d)
    return np.asarray(r, dtype=np.int64)


register("argmax(Tensor self, int? dim=None, bool keepdim=False) -> Tensor",
         impl=lambda a, dim, keepdim: _argextreme(a, dim, keepdim, True, "argmax"),
         tags={REDUCTION, NONDIFFERENTIABLE}, method=True, namespaces=T)
register("argmin(Tensor self, int? dim=None, bool keepdim=False) -> Tensor",
         impl=lambda a, dim, keepdim: _argextreme(a, dim, keepdim, False, "argmin"),
         tags={REDUCTION, NONDIFFERENTIABLE}, method=True, namespaces=T)


# ------------------------------------------------------------------ var, std, norm, logsumexp

def _var(a, dim, correction, keepdim, take_sqrt: bool, op: str):
    if not _is_float(a):
        raise RuntimeError(f"{op}(): input dtype should be either floating point or complex "
                           "dtypes. "
                           f"Got {_dtype_name(a)} instead.")
    axes = _axes(a, dim, op)
    n = math.prod([a.shape[d] for d in axes]) if axes else 1
    c = 1 if correction is None else correction
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.mean(a, axis=axes, keepdims=True) if a.size else np.zeros([1] * a.ndim, a.dtype)
        dev = a - mean
        ss = np.sum(dev * dev, axis=axes)
        r = np.asarray(ss / a.dtype.type(max(n - c, 0)), dtype=a.dtype)
        if take_sqrt:
            r = np.sqrt(r)
    return _keep(r, a, axes, keepdim).astype(a.dtype, copy=False)


def _var_grad(take_sqrt: bool):
    def rule(ctx, g):
        x, dim, correction, keepdim = ctx.args[0], ctx.args[1], ctx.args[2], ctx.args[3]
        shape = shape_of(x)
        axes = _axes_for(x, dim)
        n = _count(x, axes)
        c = 1 if correction is None else correction
        mean = call("mean", x, axes, True) if axes else x
        scale = 2.0 / (n - c) if n > c else math.inf
        gx = unreduce(g, shape, axes, keepdim) * (x - mean) * scale
        if take_sqrt:
            gx = gx / (2.0 * unreduce(ctx.out, shape, axes, keepdim))
        return (gx,)
    return rule


def _unbiased(u):
    return 1 if u else 0


for _name, _sqrt in (("var", False), ("std", True)):
    register(f"{_name}.dim(Tensor self, int[1]? dim, bool unbiased=True, bool keepdim=False) -> "
             "Tensor",
             impl=lambda a, dim, u, keepdim, _s=_sqrt, _n=_name:
                 _var(a, dim, _unbiased(u), keepdim, _s, _n),
             grad=lambda ctx, g, _s=_sqrt: _var_grad(_s)(
                 _Args(ctx, (ctx.args[0], ctx.args[1], _unbiased(ctx.args[2]), ctx.args[3])), g),
             tags={REDUCTION}, method=True, namespaces=T)
    register(f"{_name}(Tensor self, bool unbiased=True) -> Tensor",
             impl=lambda a, u, _s=_sqrt, _n=_name: _var(a, None, _unbiased(u), False, _s, _n),
             grad=lambda ctx, g, _s=_sqrt: _var_grad(_s)(
                 _Args(ctx, (ctx.args[0], None, _unbiased(ctx.args[1]), False)), g),
             tags={REDUCTION}, method=True, namespaces=T)
    register(f"{_name}.correction(Tensor self, int[1]? dim=None, *, Scalar? correction=None, "
             f"bool keepdim=False) -> Tensor",
             impl=lambda a, dim, c, keepdim, _s=_sqrt, _n=_name: _var(a, dim, c, keepdim, _s, _n),
             grad=_var_grad(_sqrt), tags={REDUCTION}, method=True, namespaces=T)


class _Args:
    """A ctx with its arguments rearranged, so overloads can share one rule."""

    def __init__(self, ctx, args):
        self.args = args
        self.out = ctx.out


def _norm(a, p, dim, keepdim, dtype):
    if dtype is not None:
        a = a.astype(dtype.np)
    if not _is_float(a):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           "input. "
                           f"Got {_dtype_name(a)}")
    if p is None or p == "fro":
        p = 2
    axes = _axes(a, dim, "norm")
    x = np.abs(a)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if p == math.inf:
            r = np.max(x, axis=axes, initial=0) if x.size else np.zeros(())
        elif p == -math.inf:
            r = np.min(x, axis=axes)
        elif p == 0:
            r = np.sum(x != 0, axis=axes).astype(a.dtype)
        elif p == 1:
            r = np.sum(x, axis=axes)
        elif p == 2:
            r = np.sqrt(np.sum(x * x, axis=axes))
        else:
            r = np.sum(x ** a.dtype.type(p), axis=axes) ** a.dtype.type(1.0 / p)
    return _keep(np.asarray(r, dtype=a.dtype), a, axes, keepdim)


def _norm_grad(ctx, g):
    x, p, dim, keepdim = ctx.args[0], ctx.args[1], ctx.args[2], ctx.args[3]
    if p is None or p == "fro":
        p = 2
    shape = shape_of(x)
    axes = _axes_for(x, dim)
    gk = unreduce(g, shape, axes, keepdim)
    out = unreduce(ctx.out, shape, axes, keepdim)
    if p == 0:
        return (gk * 0.0,)
    if p == 1:
        return (gk * x.sign(),)
    if p in (math.inf, -math.inf):
        ax = x.abs()
        mask = ax == out
        count = call("sum", mask, axes, True) if axes else call("sum", mask)
        return (gk * x.sign() * mask / call("expand", count, shape),)
    safe = call("masked_fill", out, out == 0, 1.0)
    if p == 2:
        return (call("masked_fill", gk * x / safe, out == 0, 0.0),)
    scaled = x.sign() * x.abs() ** (p - 1) / safe ** (p - 1)
    return (call("masked_fill", gk * scaled, out == 0, 0.0),)


register("norm.ScalarOpt_dim(Tensor self, Scalar? p=2, int[1]? dim=None, bool keepdim=False, *, "
         "ScalarType? dtype=None) -> Tensor",
         impl=_norm, grad=_norm_grad, tags={REDUCTION}, method=True, namespaces=T)
register("norm.str(Tensor self, str p, int[1]? dim=None, bool keepdim=False, *, "
         "ScalarType? dtype=None) -> Tensor",
         impl=lambda a, p, dim, keepdim, dtype: _norm(a, _norm_name(p), dim, keepdim, dtype),
         grad=_norm_grad, tags={REDUCTION}, method=True, namespaces=T)


def _matrix_norm(a, ord_, dims, keepdim):
    """1, -1, inf, -inf, 2, -2 and 'fro'/'nuc' matrix norms over the two axes ``dims``."""
    d0, d1 = (wrap_dim(d, a.ndim) for d in dims)
    if ord_ == "fro":
        return _norm(a, 2, [d0, d1], keepdim, None)
    x = np.abs(a)
    if ord_ in (1, -1, math.inf, -math.inf):
        summed, other = (d0, d1) if ord_ in (1, -1) else (d1, d0)
        s = np.sum(x, axis=summed, keepdims=True)
        r = (np.max if ord_ > 0 else np.min)(s, axis=other, keepdims=True)
    elif ord_ in (2, -2, "nuc"):
        moved = np.moveaxis(a, (d0, d1), (-2, -1))
        sv = np.linalg.svd(moved, compute_uv=False)
        r = sv.sum(-1) if ord_ == "nuc" else (sv.max(-1) if ord_ == 2 else sv.min(-1))
        r = np.expand_dims(np.expand_dims(r, -1), -1)
        r = np.moveaxis(r, (-2, -1), (d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord_} not supported.")
    if not keepdim:
        r = np.squeeze(r, axis=(d0, d1))
    return np.asarray(r, dtype=a.dtype)


def _linalg_norm(a, ord_, dim, keepdim, dtype):
    if dtype is not None:
        a = a.astype(dtype.np)
    if not _is_float(a):
        raise RuntimeError("linalg.norm: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype_name(a)}")
    if ord_ is None:
        return _norm(a, 2, dim, keepdim, None)
    if dim is not None and len(dim) == 2 or dim is None and a.ndim == 2:
        return _matrix_norm(a, ord_, dim if dim is not None else [0, 1], keepdim)
    if dim is None and a.ndim != 1:
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {a.ndim}D.")
    return _norm(a, ord_, dim, keepdim, None)


def _linalg_norm_grad(ctx, g):
    x, ord_, dim = ctx.args[0], ctx.args[1], ctx.args[2]
    if ord_ is not None and (dim is not None and len(dim) == 2 or dim is None and x.dim() == 2):
        if ord_ != "fro":
            raise RuntimeError(f"linalg.norm: the gradient of the matrix norm of order {ord_} "
                               "is not supported")
        ord_ = 2
    return _norm_grad(_Args(ctx, (x, ord_, dim, ctx.args[3])), g)


LINALG = (Namespace.LINALG,)
register("vector_norm(Tensor self, Scalar ord=2, int[1]? dim=None, bool keepdim=False, *, "
         "ScalarType? dtype=None) -> Tensor",
         impl=_norm, grad=_norm_grad, tags={REDUCTION}, namespaces=LINALG)
register("norm.linalg(Tensor self, Scalar? ord=None, int[1]? dim=None, bool keepdim=False, *, "
         "ScalarType? dtype=None) -> Tensor",
         impl=_linalg_norm, grad=_linalg_norm_grad, tags={REDUCTION}, namespaces=LINALG)
register("norm.linalg_str(Tensor self, str ord, int[1]? dim=None, bool keepdim=False, *, "
         "ScalarType? dtype=None) -> Tensor",
         impl=_linalg_norm, grad=_linalg_norm_grad, tags={REDUCTION}, namespaces=LINALG)
register("matrix_norm(Tensor self, Scalar ord='fro', int[] dim=[-2, -1], bool keepdim=False, *, "
         "ScalarType? dtype=None) -> Tensor",
         impl=lambda a, o, dim, keepdim, dtype: _linalg_norm(a, o, dim, keepdim, dtype),
         grad=_linalg_norm_grad, tags={REDUCTION}, namespaces=LINALG)


def _trace(a):
    if a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
    return np.asarray(np.trace(a), dtype=_accumulate_dtype(a, None))


def _trace_grad(ctx, g):
    n, m = shape_of(ctx.args[0])
    return (call("eye", n, m, dtype=ctx.args[0].dtype) * g,)


register("trace(Tensor self) -> Tensor", impl=_trace, grad=_trace_grad, tags={REDUCTION},
         method=True, namespaces=T)


def _aminmax(a, dim, keepdim):
    axes = None if dim is None else [dim]
    return (_amax(a, axes if axes else [], keepdim, False, "aminmax"),
            _amax(a, axes if axes else [], keepdim, True, "aminmax"))


register("aminmax(Tensor self, *, int? dim=None, bool keepdim=False) -> (Tensor min, Tensor max)",
         impl=_aminmax, tags={NONDIFFERENTIABLE}, method=True, namespaces=T)


def _norm_name(p: str):
    if p != "fro":
        raise RuntimeError(f"norm(): unsupported norm type {p!r}; only 'fro' and numeric p are "
                           "supported")
    return 2


def _logsumexp(a, dim, keepdim):
    if not _is_float(a):
        a = a.astype(dtypes.DEFAULT_FLOAT.np)
    axes = _axes(a, dim, "logsumexp")
    if a.size == 0:
        return _keep(np.full([s for d, s in enumerate(a.shape) if d not in axes], -np.inf, a.dtype),
                     a, axes, keepdim)
    m = np.max(a, axis=axes, keepdims=True)
    m = np.where(np.isinf(m), 0, m).astype(a.dtype)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
    if not keepdim:
        r = r.reshape([s for d, s in enumerate(a.shape) if d not in axes])
    return np.asarray(r, dtype=a.dtype)


def _logsumexp_grad(ctx, g):
    x, dim, keepdim = ctx.args
    shape = shape_of(x)
    axes = _axes_for(x, dim)
    out = unreduce(ctx.out, shape, axes, keepdim)
    return (unreduce(g, shape, axes, keepdim) * (x - out).exp(),)


register("logsumexp(Tensor self, int[1] dim, bool keepdim=False) -> Tensor", impl=_logsumexp,
         grad=_logsumexp_grad, tags={REDUCTION}, method=True, namespaces=T)


# ------------------------------------------------------------------ softmax

def _softmax(a, dim, dtype, log: bool):
    if dtype is None and a.dtype == _F32 and a.ndim and a.size:
        return softmax_f32(a, wrap_dim(dim, a.ndim), log)
    op = "log_softmax" if log else "softmax"
    if dtype is not None:
        a = a.astype(dtype.np)
    if not _is_float(a):
        raise RuntimeError(f"\"{op}_lastdim_kernel_impl\" not implemented for '{_dtype_name(a)}'")
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return np.asarray(np.zeros((), a.dtype) if log else np.ones((), a.dtype))
    d = wrap_dim(dim, a.ndim)
    if a.dtype == _F32 and a.size:
        return softmax_f32(a, d, log)
    return _rk.log_softmax(a, d) if log else _rk.softmax(a, d)


def softmax_f32(a: np.ndarray, d: int, log: bool) -> np.ndarray:
    """Softmax of a non-empty float32 array along axis ``d``: one compiled call, one pass over
    memory (each row stays in cache between its max, exp and scale loops)."""
    x = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    out = np.empty_like(x)
    n = x.shape[d]
    if d == x.ndim - 1:
        rows, out_rows = (x, out) if x.ndim == 2 else (x.reshape(-1, n), out.reshape(-1, n))
        _rw.softmax_lastdim_f32(rows, out_rows, log)
    else:
        inner = math.prod(x.shape[d + 1:])
        _rw.softmax_inner_f32(x.reshape(-1, n, inner), out.reshape(-1, n, inner), log)
    return out


def _softmax_grad(ctx, g):
    y, dim = ctx.out, ctx.args[1]
    if not shape_of(y):
        return (g * 0.0,)
    return (y * (g - call("sum", g * y, [dim], True)),)


def _log_softmax_grad(ctx, g):
    y, dim = ctx.out, ctx.args[1]
    if not shape_of(y):
        return (g * 0.0,)
    return (g - y.exp() * call("sum", g, [dim], True),)


register("softmax.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dim, dtype: _softmax(a, dim, dtype, False), grad=_softmax_grad,
         method=True, namespaces=TF)
register("log_softmax.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dim, dtype: _softmax(a, dim, dtype, True), grad=_log_softmax_grad,
         method=True, namespaces=TF)


# ------------------------------------------------------------------ scans

def _cumulative(a, dim, dtype, f):
    out_dtype = _accumulate_dtype(a, dtype)
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return a.astype(out_dtype)
    d = wrap_dim(dim, a.ndim)
    return np.asarray(f(a, axis=d, dtype=out_dtype))


def _cumsum_grad(ctx, g):
    x, dim = ctx.args[0], ctx.args[1]
    if not shape_of(x):
        return (g,)
    return (call("flip", call("cumsum", call("flip", g, [dim]), dim), [dim]),)


def _cumprod_backward(grad, x, dim):
    if x.ndim == 0:
        return np.asarray(grad, dtype=x.dtype).copy()
    d = wrap_dim(dim, x.ndim)
    xm = np.moveaxis(x, d, -1)
    gm = np.moveaxis(grad, d, -1)
    return contiguous(np.moveaxis(_scan.cumprod_backward_lastdim(xm, gm), -1, d))


register("cumsum(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dim, dtype: _cumulative(a, dim, dtype, np.cumsum), grad=_cumsum_grad,
         method=True, namespaces=T)
def _reversed_cumsum(t, d):
    return call("flip", call("cumsum", call("flip", t, [d]), d), [d])


def _cumprod_grad(ctx, g):
    """Exact at zeros and written with differentiable ops, so it has gradients of its own.

    Before the first zero along ``dim`` the gradient is ``rev_cumsum(g * out) / x``; at the first
    zero it is ``rev_cumsum(g * cumprod(y))`` with ``y`` the input with that zero set to 1;
    after it, zero (as the first zero times that sum over ``y``, up to the second zero)."""
    x, dim = ctx.args[0], ctx.args[1]
    if x.dim() == 0:
        return (g,)
    d = wrap_dim(dim, x.dim())
    out = ctx.out
    is_zero = x == 0
    seen = call("cumsum", is_zero, d)
    before = seen == 0
    first = call("logical_and", is_zero, seen == 1)
    part_before = _reversed_cumsum(g * out, d) / call("where", before, x, 1.0)
    y = call("where", first, 1.0, x)
    after_first = _reversed_cumsum(g * call("cumprod", y, d), d)
    # between the first and the second zero the value is 0, but it depends on the first zero
    mid = call("logical_and", seen == 1, call("logical_not", is_zero))
    x_first = call("sum", call("where", first, x, 0.0), [d], True)
    part_mid = x_first * after_first / call("where", mid, y, 1.0)
    rest = call("where", mid, part_mid, 0.0)
    return (call("where", before, part_before, call("where", first, after_first, rest)),)


register("cumprod(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor",
         impl=lambda a, dim, dtype: _cumulative(a, dim, dtype, np.cumprod),
         grad=_cumprod_grad, method=True, namespaces=T)
# The gradient of cumprod, exact at zeros, as one kernel (first order only).
register("cumprod_backward(Tensor grad, Tensor self, int dim) -> Tensor", impl=_cumprod_backward)


# ------------------------------------------------------------------ logical reductions, counting

def _all_any(a, dim, keepdim, f, op):
    axes = _axes(a, dim, op)
    return _keep(f(a, axis=axes), a, axes, keepdim).astype(np.bool_, copy=False)


register("all.dims(Tensor self, int[1]? dim=None, bool keepdim=False) -> Tensor",
         impl=lambda a, dim, keepdim: _all_any(a, dim, keepdim, np.all, "all"),
         tags={REDUCTION, NONDIFFERENTIABLE}, method=True, namespaces=T)
register("any.dims(Tensor self, int[1]? dim=None, bool keepdim=False) -> Tensor",
         impl=lambda a, dim, keepdim: _all_any(a, dim, keepdim, np.any, "any"),
         tags={REDUCTION, NONDIFFERENTIABLE}, method=True, namespaces=T)


def _count_nonzero(a, dim):
    axes = _axes(a, dim, "count_nonzero")
    return np.asarray(np.count_nonzero(a, axis=axes), dtype=np.int64)


register("count_nonzero(Tensor self, int[1]? dim=None) -> Tensor", impl=_count_nonzero,
         tags={REDUCTION, NONDIFFERENTIABLE}, method=True, namespaces=T)


# ------------------------------------------------------------------ sorting

def sort_along(a: np.ndarray, d: int, descending: bool) -> tuple:
    """Stable sort along axis ``d``; NaN counts as the largest value, as in PyTorch."""
    if descending:
        n = a.shape[d]
        rev = np.flip(a, d)
        idx = n - 1 - np.flip(np.argsort(rev, axis=d, kind="stable"), d)
    else:
        idx = np.argsort(a, axis=d, kind="stable")
    idx = contiguous(idx, dtype=np.int64)
    return np.take_along_axis(a, idx, axis=d), idx


def _sort(a, dim, descending, stable):
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return a.copy(), np.zeros((), np.int64)
    return sort_along(a, wrap_dim(dim, a.ndim), descending)


def _take_grad(ctx, g, _gi=None):
    """Gradient of ops whose values are ``self`` gathered at the returned indices."""
    x, dim = ctx.args[0], ctx.args[_take_grad_dim(ctx)]
    if not shape_of(x):
        return (g,)
    d = wrap_dim(dim, len(shape_of(x)))
    return (call("scatter", call("zeros_like", x), d, ctx.out[1], g),)


def _take_grad_dim(ctx) -> int:
    return 2 if ctx.op.name == "topk" else 1


register("sort(Tensor self, int dim=-1, bool descending=False, *, bool? stable=False) -> "
         "(Tensor values, Tensor indices)",
         impl=_sort, grad=_take_grad, method=True, namespaces=T)
register("argsort(Tensor self, int dim=-1, bool descending=False, *, bool stable=False) -> Tensor",
         impl=lambda a, dim, desc, stable: _sort(a, dim, desc, stable)[1],
         tags={NONDIFFERENTIABLE}, method=True, namespaces=T)
register("msort(Tensor self) -> Tensor", impl=lambda a: _sort(a, 0, False, True)[0],
         grad=lambda ctx, g: (call("scatter", call("zeros_like", ctx.args[0]), 0,
                                   call("argsort", ctx.args[0], 0), g),),
         method=True, namespaces=T)


def _topk(a, k, dim, largest, sorted_):
    if a.ndim == 0:
        wrap_dim(dim, 0)
        if k > 1:
            raise RuntimeError("selected index k out of range")
        if k == 1:
            return a.copy(), np.zeros((), np.int64)
        return a.reshape(1)[:0], np.zeros(0, np.int64)
    d = wrap_dim(dim, a.ndim)
    if k < 0 or k > a.shape[d]:
        raise RuntimeError("selected index k out of range")
    moved = np.moveaxis(a, d, -1)
    rows = np.ascontiguousarray(moved.reshape(-1, a.shape[d]))
    if rows.dtype == np.bool_:
        rows = rows.astype(np.int8)
    idx = _scan.topk_rows(rows, k, largest, sorted_)
    idx = idx.reshape(moved.shape[:-1] + (k,))
    values = np.take_along_axis(moved, idx, -1)
    return contiguous(np.moveaxis(values, -1, d)), contiguous(np.moveaxis(idx, -1, d))


register("topk(Tensor self, int k, int dim=-1, bool largest=True, bool sorted=True) -> "
         "(Tensor values, Tensor indices)",
         impl=_topk, grad=_take_grad, method=True, namespaces=T)


def _kthvalue(a, k, dim, keepdim):
    d = wrap_dim(dim, a.ndim) if a.ndim else 0
    if a.ndim == 0:
        if k != 1:
            raise RuntimeError("kthvalue(): selected number k out of range")
        return a.copy(), np.zeros((), np.int64)
    if not 1 <= k <= a.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, idx = sort_along(a, d, False)
    values, idx = np.take(values, [k - 1], axis=d), np.take(idx, [k - 1], axis=d)
    if not keepdim:
        values, idx = np.squeeze(values, d), np.squeeze(idx, d)
    return contiguous(values), contiguous(idx)


def _median_dim(a, dim, keepdim):
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return a.copy(), np.zeros((), np.int64)
    d = wrap_dim(dim, a.ndim)
    _nonempty(a, (d,), "median")
    values, idx = sort_along(a, d, False)
    n = a.shape[d]
    k = np.full(np.delete(np.array(a.shape), d), (n - 1) // 2, dtype=np.int64)
    if _is_float(a):
        nans = np.isnan(a).sum(axis=d)
        k = np.where(nans > 0, n - nans, k)  # a NaN in the row is the median, like PyTorch
    k = np.expand_dims(k, d)
    values, idx = np.take_along_axis(values, k, d), np.take_along_axis(idx, k, d)
    if not keepdim:
        values, idx = np.squeeze(values, d), np.squeeze(idx, d)
    return contiguous(values), contiguous(idx)


def _median_all(a):
    if a.size == 0:
        return np.asarray(np.nan if _is_float(a) else 0, dtype=a.dtype)
    return np.asarray(_median_dim(a.reshape(-1), 0, False)[0])


def _median_all_grad(ctx, g):
    x = ctx.args[0]
    flat = call("reshape", x, [-1])
    _, idx = call("median", flat, 0, True)
    gf = call("scatter", call("zeros_like", flat), 0, idx, call("reshape", g, [1]))
    return (call("reshape", gf, shape_of(x)),)


register("median.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)",
         impl=_median_dim, grad=_extreme_dim_grad, method=True, namespaces=T)
register("median(Tensor self) -> Tensor", impl=_median_all, grad=_median_all_grad,
         method=True, namespaces=T)
register("kthvalue(Tensor self, int k, int dim=-1, bool keepdim=False) -> (Tensor values, Tensor "
         "indices)",
         impl=_kthvalue,
         grad=lambda ctx, g, gi=None: _extreme_dim_grad(
             _Args(ctx, (ctx.args[0], ctx.args[2], ctx.args[3])), g),
         method=True, namespaces=T)


def _unique(a, sorted_, return_inverse, return_counts, dim):
    if dim is not None:
        raise RuntimeError("unique(): the dim argument is not supported")
    values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
    return (np.asarray(values, dtype=a.dtype), np.asarray(inverse, np.int64).reshape(a.shape),
            np.asarray(counts, np.int64))


def _unique_values(a, sorted_, dim):
    if dim is None:
        return np.unique(a.reshape(-1))
    return contiguous(np.unique(a, axis=wrap_dim(dim, a.ndim)))


register("unique(Tensor self, bool sorted=True, *, int? dim=None) -> Tensor", impl=_unique_values,
         tags={NONDIFFERENTIABLE}, method=True, namespaces=T)
register("_unique2(Tensor self, bool sorted=True, bool return_inverse=False, bool "
         "return_counts=False, "
         "int? dim=None) -> (Tensor, Tensor, Tensor)",
         impl=_unique, tags={NONDIFFERENTIABLE})


# ------------------------------------------------------------------ var_mean, nansum, nanmean

def _var_mean(a, dim, correction, keepdim, take_sqrt: bool, op: str):
    spread = _var(a, dim, correction, keepdim, take_sqrt, op)
    axes = _axes(a, dim, op)
    n = math.prod([a.shape[d] for d in axes]) if axes else 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.asarray(np.sum(a, axis=axes) / a.dtype.type(n), dtype=a.dtype)
    return spread, _keep(mean, a, axes, keepdim)


def _var_mean_grad(take_sqrt: bool):
    def rule(ctx, g_spread, g_mean):
        x, dim, correction, keepdim = ctx.args[:4]
        spread_ctx = _Args(ctx, (x, dim, correction, keepdim))
        spread_ctx.out = ctx.out[0]
        gx = _var_grad(take_sqrt)(spread_ctx, g_spread)[0]
        axes = _axes_for(x, dim)
        return (gx + unreduce(g_mean, shape_of(x), axes, keepdim) / _count(x, axes),)
    return rule


for _name, _sqrt in (("var_mean", False), ("std_mean", True)):
    register(f"{_name}.dim(Tensor self, int[1]? dim, bool unbiased=True, bool keepdim=False) -> "
             "(Tensor, Tensor)",
             impl=lambda a, dim, u, keepdim, _s=_sqrt, _n=_name:
                 _var_mean(a, dim, _unbiased(u), keepdim, _s, _n),
             grad=lambda ctx, gs, gm, _s=_sqrt: _var_mean_grad(_s)(
                 _Args(ctx, (ctx.args[0], ctx.args[1], _unbiased(ctx.args[2]), ctx.args[3])),
                 gs, gm),
             tags={REDUCTION}, namespaces=T)
    register(f"{_name}(Tensor self, bool unbiased=True) -> (Tensor, Tensor)",
             impl=lambda a, u, _s=_sqrt, _n=_name: _var_mean(a, None, _unbiased(u), False, _s, _n),
             grad=lambda ctx, gs, gm, _s=_sqrt: _var_mean_grad(_s)(
                 _Args(ctx, (ctx.args[0], None, _unbiased(ctx.args[1]), False)), gs, gm),
             tags={REDUCTION}, namespaces=T)
    register(f"{_name}.correction(Tensor self, int[1]? dim=None, *, Scalar? correction=None, "
             "bool keepdim=False) -> (Tensor, Tensor)",
             impl=lambda a, dim, c, keepdim, _s=_sqrt, _n=_name:
                 _var_mean(a, dim, c, keepdim, _s, _n),
             grad=_var_mean_grad(_sqrt), tags={REDUCTION}, namespaces=T)


def _nansum(a, dim, keepdim, dtype):
    if _is_float(a):
        a = np.where(np.isnan(a), a.dtype.type(0), a)
    return _sum(a, dim, keepdim, dtype)


def _nanmean(a, dim, keepdim, dtype):
    a = _float_only(a, "nanmean", dtype)
    axes = _axes(a, dim, "nanmean")
    valid = ~np.isnan(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sum(np.where(valid, a, a.dtype.type(0)), axis=axes) / np.sum(valid, axis=axes)
    return _keep(np.asarray(r, dtype=a.dtype), a, axes, keepdim)


def _nansum_grad(ctx, g):
    x, dim, keepdim = ctx.args[:3]
    keep = call("logical_not", call("isnan", x))
    return (unreduce(g, shape_of(x), _axes_for(x, dim), keepdim) * keep,)


def _nanmean_grad(ctx, g):
    x, dim, keepdim = ctx.args[:3]
    axes = _axes_for(x, dim)
    keep = call("logical_not", call("isnan", x))
    count = call("sum", keep, axes, True) if axes else call("sum", keep)
    return (unreduce(g, shape_of(x), axes, keepdim) * keep / call("expand", count, shape_of(x)),)


register("nansum(Tensor self, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) "
         "-> Tensor",
         impl=_nansum, grad=_nansum_grad, tags={REDUCTION}, method=True, namespaces=T)
register("nanmean(Tensor self, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) "
         "-> Tensor",
         impl=_nanmean, grad=_nanmean_grad, tags={REDUCTION}, method=True, namespaces=T)


# ------------------------------------------------------------------ searching sorted values

def _searchsorted(seq, values, out_int32, right, side, sorter):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError("torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites")
        right = side == "right"
    how = "right" if right else "left"
    out_dtype = np.int32 if out_int32 else np.int64
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter.astype(np.int64), axis=-1)
    if seq.ndim <= 1:
        return np.asarray(np.searchsorted(seq.reshape(-1), values, side=how), dtype=out_dtype)
    if seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries and input should have the same "
                           f"leading dimensions, but got {list(seq.shape)} and "
                           f"{list(values.shape)}")
    rows_seq = seq.reshape(-1, seq.shape[-1])
    rows_val = values.reshape(-1, values.shape[-1])
    out = np.empty(rows_val.shape, dtype=out_dtype)
    for r in range(rows_seq.shape[0]):
        out[r] = np.searchsorted(rows_seq[r], rows_val[r], side=how)
    return out.reshape(values.shape)


def _bucketize(a, boundaries, out_int32, right):
    if boundaries.ndim != 1:
        raise RuntimeError("bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return _searchsorted(boundaries, a, out_int32, right, None, None)


register("searchsorted.Tensor(Tensor sorted_sequence, Tensor self, *, bool out_int32=False, "
         "bool right=False, str? side=None, Tensor? sorter=None) -> Tensor",
         impl=_searchsorted, tags={NONDIFFERENTIABLE}, namespaces=T)
register("bucketize.Tensor(Tensor self, Tensor boundaries, *, bool out_int32=False, "
         "bool right=False) -> Tensor",
         impl=lambda a, b, out_int32, right: _bucketize(a, b, out_int32, right),
         tags={NONDIFFERENTIABLE}, namespaces=T)


# ------------------------------------------------------------------ running extremes

def _cumextreme(a, dim, largest: bool):
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return a.copy(), np.zeros((), np.int64)
    d = wrap_dim(dim, a.ndim)
    if a.shape[d] == 0:
        return a.copy(), np.zeros(a.shape, np.int64)
    values = (np.maximum if largest else np.minimum).accumulate(a, axis=d)
    # PyTorch moves the index on ties (>=) and stops at the first NaN
    hit = a == values
    if _is_float(a):
        nan = np.isnan(a)
        hit |= nan & (np.cumsum(nan, axis=d) == 1)
    shape = [1] * a.ndim
    shape[d] = a.shape[d]
    positions = np.where(hit, np.arange(a.shape[d]).reshape(shape), 0)
    return contiguous(values), contiguous(np.maximum.accumulate(positions, axis=d), np.int64)


def _cumextreme_grad(ctx, g, _gi=None):
    x, dim = ctx.args
    if not shape_of(x):
        return (g,)
    d = wrap_dim(dim, len(shape_of(x)))
    return (call("scatter_add", call("zeros_like", x), d, ctx.out[1], g),)


register("cummax(Tensor self, int dim) -> (Tensor values, Tensor indices)",
         impl=lambda a, dim: _cumextreme(a, dim, True), grad=_cumextreme_grad, method=True,
         namespaces=T)
register("cummin(Tensor self, int dim) -> (Tensor values, Tensor indices)",
         impl=lambda a, dim: _cumextreme(a, dim, False), grad=_cumextreme_grad, method=True,
         namespaces=T)
