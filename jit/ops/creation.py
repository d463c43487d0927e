"""Creation and conversion ops: tensor, zeros, arange, rand, to, clone, copy_, ...

Impls receive arrays and Python values (see registry.py). Creation ops take ``dtype``,
``device`` and ``requires_grad`` keywords like PyTorch's; the runtime checks the device and
sets ``requires_grad`` on the result, so impls only build the array.

Random numbers come from one NumPy ``Generator`` (PCG64), reseeded by ``manual_seed``: the same
seed gives the same numbers in every process, though not PyTorch's numbers.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import dtypes
from .dispatch import is_tensor
from .registry import INPLACE, NONDIFFERENTIABLE, RANDOM, VIEW, Namespace, register

T = (Namespace.TORCH,)
_OPTS = "*, ScalarType? dtype=None, Device? device=None, bool requires_grad=False"
_LIKE_OPTS = "*, ScalarType? dtype=None, Device? device=None, bool requires_grad=False, str? memory_format=None"

_rng = np.random.default_rng(0)


def generator() -> np.random.Generator:
    return _rng


def _manual_seed(seed):
    global _rng
    _rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)


register("manual_seed(int seed) -> ()", impl=_manual_seed, tags={"side_effect"}, namespaces=T,
         doc="Reseed the generator behind rand, randn, randint and dropout.")
register("seed() -> int", impl=lambda: _manual_seed(np.random.SeedSequence().entropy % 2**63) or 0,
         tags={"side_effect"}, namespaces=T)


def _np(dtype, default=None):
    if dtype is None:
        return None if default is None else default.np
    return dtype.np


def _float_np(dtype):
    if dtype is None:
        return dtypes.DEFAULT_FLOAT.np
    return dtype.np


# ------------------------------------------------------------------ from data

def _infer_dtype(data) -> np.dtype:
    """PyTorch's inference for nested Python data: any float -> float32, any int -> int64."""
    kinds = set()

    def walk(x):
        if is_tensor(x) or isinstance(x, np.ndarray):
            a = np.asarray(x)
            kinds.add({"b": "b", "f": "f"}.get(a.dtype.kind, "i") if a.dtype.kind in "biuf" else "f")
            if a.dtype.kind == "f":
                kinds.add(("np", a.dtype))
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, (bool, np.bool_)):
            kinds.add("b")
        elif isinstance(x, (int, np.integer)):
            kinds.add("i")
        elif isinstance(x, (float, np.floating)):
            kinds.add("f")
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    walk(data)
    if "f" in kinds:
        return np.dtype(np.float32)
    if "i" in kinds:
        return np.dtype(np.int64)
    if "b" in kinds:
        return np.dtype(np.bool_)
    return np.dtype(np.float32)


def _to_array(data) -> np.ndarray:
    if is_tensor(data):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and any(is_tensor(v) or isinstance(v, (list, tuple)) for v in data):
        parts = [_to_array(v) for v in data]
        if len({p.shape for p in parts}) > 1:
            raise ValueError(f"expected sequence of length {len(parts[0])} at dim 1 (got "
                             f"{len(parts[-1])})")
        return np.stack(parts) if parts else np.array([])
    return np.asarray(data)


def _tensor(data, dtype, device, requires_grad):
    if isinstance(data, np.ndarray) or is_tensor(data):
        src = np.asarray(data)
        target = dtype.np if dtype is not None else (src.dtype if src.dtype.kind in "biuf" else np.dtype(np.float32))
        if src.dtype.kind not in "biuf":
            raise TypeError(f"can't convert np.ndarray of type {src.dtype}")
        dtypes.from_numpy(target)
        return np.array(src, dtype=target, copy=True)
    target = dtype.np if dtype is not None else _infer_dtype(data)
    arr = _to_array(data)
    if arr.dtype == object:
        raise ValueError("expected a rectangular nested sequence of numbers")
    if arr.dtype.kind == "f" and target.kind in "iu":
        arr = np.trunc(arr)
    return np.array(arr, dtype=target, copy=True)


register(f"tensor(Any data, {_OPTS}) -> Tensor", impl=_tensor, namespaces=T,
         doc="A new tensor copying ``data`` (nested lists, scalars, arrays or tensors).")


def _as_tensor(data, dtype, device):
    if is_tensor(data):
        arr = data._data
        return arr if dtype is None or dtype.np == arr.dtype else arr.astype(dtype.np)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return data if dtype is None or dtype.np == data.dtype else data.astype(dtype.np)
    return _tensor(data, dtype, device, False)


register("as_tensor(Any data, ScalarType? dtype=None, Device? device=None) -> Tensor",
         impl=_as_tensor, namespaces=T)


def _from_numpy(arr):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    dtypes.from_numpy(arr.dtype)
    return arr


register("from_numpy(Any ndarray) -> Tensor", impl=_from_numpy, namespaces=T,
         doc="A tensor sharing ``ndarray``'s memory.")


# ------------------------------------------------------------------ filled tensors

def _shape(size) -> tuple:
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(size)


def _fill_dtype(value, dtype) -> np.dtype:
    if dtype is not None:
        return dtype.np
    return dtypes.result_type((), (), (dtypes.category_of_scalar(value),)).np


register(f"zeros(int[1] size, {_OPTS}) -> Tensor",
         impl=lambda size, dtype, device, rg: np.zeros(_shape(size), _float_np(dtype)), namespaces=T)
register(f"ones(int[1] size, {_OPTS}) -> Tensor",
         impl=lambda size, dtype, device, rg: np.ones(_shape(size), _float_np(dtype)), namespaces=T)
register(f"empty(int[1] size, {_OPTS}) -> Tensor",
         impl=lambda size, dtype, device, rg: np.zeros(_shape(size), _float_np(dtype)), namespaces=T,
         doc="Zero-filled: uninitialised memory is never handed out.")
register(f"full(int[1] size, Scalar fill_value, {_OPTS}) -> Tensor",
         impl=lambda size, v, dtype, device, rg: np.full(_shape(size), v, _fill_dtype(v, dtype)),
         namespaces=T)


def _like(fn):
    def impl(x, dtype, device, rg, memory_format):
        return fn(x.shape, x.dtype if dtype is None else dtype.np)
    return impl


register(f"zeros_like(Tensor self, {_LIKE_OPTS}) -> Tensor", impl=_like(np.zeros),
         namespaces=T, tags={NONDIFFERENTIABLE})
register(f"ones_like(Tensor self, {_LIKE_OPTS}) -> Tensor", impl=_like(np.ones),
         namespaces=T, tags={NONDIFFERENTIABLE})
register(f"empty_like(Tensor self, {_LIKE_OPTS}) -> Tensor", impl=_like(np.zeros),
         namespaces=T, tags={NONDIFFERENTIABLE})


def _cast_fill(value, np_dtype):
    if np.dtype(np_dtype).kind in "iu" and isinstance(value, float):
        value = math.trunc(value)
    return value


register(f"full_like(Tensor self, Scalar fill_value, {_LIKE_OPTS}) -> Tensor",
         impl=lambda x, v, dtype, device, rg, mf: np.full(
             x.shape, _cast_fill(v, x.dtype if dtype is None else dtype.np),
             x.dtype if dtype is None else dtype.np),
         namespaces=T, tags={NONDIFFERENTIABLE})


def _rand(shape, np_dtype):
    np_dtype = np.dtype(np_dtype)
    if np_dtype.kind != "f":
        raise RuntimeError(f'"check_uniform_bounds" not implemented for \'{np_dtype.name}\'')
    if np_dtype == np.float16:
        return _rng.random(shape, dtype=np.float32).astype(np.float16)
    return _rng.random(shape, dtype=np_dtype)


def _randn(shape, np_dtype):
    np_dtype = np.dtype(np_dtype)
    if np_dtype.kind != "f":
        raise RuntimeError(f'"normal_kernel_cpu" not implemented for \'{np_dtype.name}\'')
    if np_dtype == np.float16:
        return _rng.standard_normal(shape, dtype=np.float32).astype(np.float16)
    return _rng.standard_normal(shape, dtype=np_dtype)


register(f"rand_like(Tensor self, {_LIKE_OPTS}) -> Tensor",
         impl=lambda x, dtype, device, rg, mf: _rand(x.shape, x.dtype if dtype is None else dtype.np),
         namespaces=T, tags={NONDIFFERENTIABLE, RANDOM})
register(f"randn_like(Tensor self, {_LIKE_OPTS}) -> Tensor",
         impl=lambda x, dtype, device, rg, mf: _randn(x.shape, x.dtype if dtype is None else dtype.np),
         namespaces=T, tags={NONDIFFERENTIABLE, RANDOM})
register(f"rand(int[1] size, {_OPTS}) -> Tensor",
         impl=lambda size, dtype, device, rg: _rand(_shape(size), _float_np(dtype)),
         namespaces=T, tags={RANDOM})
register(f"randn(int[1] size, {_OPTS}) -> Tensor",
         impl=lambda size, dtype, device, rg: _randn(_shape(size), _float_np(dtype)),
         namespaces=T, tags={RANDOM})


def _randint(low, high, size, dtype):
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _rng.integers(low, high, _shape(size), dtype=np.int64).astype(_np(dtype, dtypes.int64))


register(f"randint(int high, int[1] size, {_OPTS}) -> Tensor",
         impl=lambda high, size, dtype, device, rg: _randint(0, high, size, dtype),
         namespaces=T, tags={RANDOM})
register(f"randint.low(int low, int high, int[1] size, {_OPTS}) -> Tensor",
         impl=lambda low, high, size, dtype, device, rg: _randint(low, high, size, dtype),
         namespaces=T, tags={RANDOM})
register("randperm(int n, *, ScalarType? dtype=None, Device? device=None, bool requires_grad=False) -> Tensor",
         impl=lambda n, dtype, device, rg: _rng.permutation(n).astype(_np(dtype, dtypes.int64)),
         namespaces=T, tags={RANDOM})

# new_* methods: the dtype defaults to self's.
register(f"new_zeros(Tensor self, int[1] size, {_OPTS}) -> Tensor",
         impl=lambda x, size, dtype, device, rg: np.zeros(_shape(size), _np(dtype) or x.dtype),
         method=True, tags={NONDIFFERENTIABLE})
register(f"new_ones(Tensor self, int[1] size, {_OPTS}) -> Tensor",
         impl=lambda x, size, dtype, device, rg: np.ones(_shape(size), _np(dtype) or x.dtype),
         method=True, tags={NONDIFFERENTIABLE})
register(f"new_empty(Tensor self, int[1] size, {_OPTS}) -> Tensor",
         impl=lambda x, size, dtype, device, rg: np.zeros(_shape(size), _np(dtype) or x.dtype),
         method=True, tags={NONDIFFERENTIABLE})
register(f"new_full(Tensor self, int[1] size, Scalar fill_value, {_OPTS}) -> Tensor",
         impl=lambda x, size, v, dtype, device, rg: np.full(
             _shape(size), _cast_fill(v, _np(dtype) or x.dtype), _np(dtype) or x.dtype),
         method=True, tags={NONDIFFERENTIABLE})
register(f"new_tensor(Tensor self, Any data, {_OPTS}) -> Tensor",
         impl=lambda x, data, dtype, device, rg: _tensor(data, dtype or dtypes.from_numpy(x.dtype), device, rg),
         method=True, tags={NONDIFFERENTIABLE})


# ------------------------------------------------------------------ ranges

def _arange(start, end, step, dtype):
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.DEFAULT_FLOAT if is_float else dtypes.int64
    n = max(0, math.ceil((end - start) / step))
    if dtype.category == dtypes.FLOAT:
        return (start + np.arange(n, dtype=np.float64) * step).astype(dtype.np)
    return (np.arange(n, dtype=np.int64) * step + start).astype(dtype.np) if all(
        isinstance(v, int) for v in (start, step)) else np.trunc(
        start + np.arange(n, dtype=np.float64) * step).astype(dtype.np)


register(f"arange(Scalar end, {_OPTS}) -> Tensor",
         impl=lambda end, dtype, device, rg: _arange(0, end, 1, dtype), namespaces=T)
register(f"arange.start(Scalar start, Scalar end, {_OPTS}) -> Tensor",
         impl=lambda start, end, dtype, device, rg: _arange(start, end, 1, dtype), namespaces=T)
register(f"arange.start_step(Scalar start, Scalar end, Scalar step, {_OPTS}) -> Tensor",
         impl=lambda start, end, step, dtype, device, rg: _arange(start, end, step, dtype),
         namespaces=T)


def _linspace(start, end, steps, dtype):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    target = _float_np(dtype)
    vals = np.linspace(float(start), float(end), steps, dtype=np.float64)
    if np.dtype(target).kind in "iu":
        vals = np.trunc(vals)
    return vals.astype(target)


register(f"linspace(Scalar start, Scalar end, int steps, {_OPTS}) -> Tensor",
         impl=lambda s, e, n, dtype, device, rg: _linspace(s, e, n, dtype), namespaces=T)
register(f"eye(int n, {_OPTS}) -> Tensor",
         impl=lambda n, dtype, device, rg: np.eye(n, dtype=_float_np(dtype)), namespaces=T)
register(f"eye.m(int n, int m, {_OPTS}) -> Tensor",
         impl=lambda n, m, dtype, device, rg: np.eye(n, m, dtype=_float_np(dtype)), namespaces=T)


def _check_2d(x, name):
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


def _tril(x, k):
    _check_2d(x, "tril")
    return np.tril(x, k)


def _triu(x, k):
    _check_2d(x, "triu")
    return np.triu(x, k)


register("tril(Tensor self, int diagonal=0) -> Tensor", impl=_tril,
         grad=lambda ctx, g: (g.tril(ctx.args[1]),), method=True, namespaces=T)
register("triu(Tensor self, int diagonal=0) -> Tensor", impl=_triu,
         grad=lambda ctx, g: (g.triu(ctx.args[1]),), method=True, namespaces=T)


def _write(name):
    def impl(x, k):
        x[...] = (np.tril if name == "tril" else np.triu)(x, k)
        return x
    return impl


register("tril_(Tensor self, int diagonal=0) -> Tensor", impl=_write("tril"),
         grad=lambda ctx, g: (g.tril(ctx.args[1]),), method=True, tags={INPLACE})
register("triu_(Tensor self, int diagonal=0) -> Tensor", impl=_write("triu"),
         grad=lambda ctx, g: (g.triu(ctx.args[1]),), method=True, tags={INPLACE})


# ------------------------------------------------------------------ in-place fills and copies

def _fill_scalar(x, value):
    if x.dtype.kind in "iu" and isinstance(value, float):
        value = math.trunc(value) if math.isfinite(value) else value
    x.fill(value)
    return x


def _fill_tensor(x, value):
    if value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    x[...] = value
    return x


register("fill_.Scalar(Tensor self, Scalar value) -> Tensor", impl=_fill_scalar,
         grad=lambda ctx, g: (g * 0,), method=True, tags={INPLACE}, namespaces=T)
register("fill_.Tensor(Tensor self, Tensor value) -> Tensor", impl=_fill_tensor,
         grad=lambda ctx, g: (g * 0, g.sum()), method=True, tags={INPLACE}, namespaces=T)


def _zero(x):
    x[...] = 0
    return x


register("zero_(Tensor self) -> Tensor", impl=_zero, grad=lambda ctx, g: (g * 0,), method=True,
         tags={INPLACE}, namespaces=T)


def _copy(x, src, non_blocking):
    try:
        shape = np.broadcast_shapes(src.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(src.shape, x.shape)) if shape else list(src.shape)}")
    if src.dtype.kind == "f" and x.dtype.kind in "iu":
        src = np.trunc(src)
    np.copyto(x, src, casting="unsafe")
    return x


register("copy_(Tensor self, Tensor src, bool non_blocking=False) -> Tensor", impl=_copy,
         grad=lambda ctx, g: (g * 0, g), method=True, tags={INPLACE})

register("clone(Tensor self, *, str? memory_format=None) -> Tensor",
         impl=lambda x, mf: np.array(x, copy=True, order="C"),
         grad=lambda ctx, g: (g,), method=True, namespaces=T, scalar_expr="a")
register("contiguous(Tensor self, *, str? memory_format=None) -> Tensor",
         impl=lambda x, mf: x if x.flags.c_contiguous else np.ascontiguousarray(x),
         grad=lambda ctx, g: (g,), method=True)
register("detach(Tensor self) -> Tensor", impl=lambda x: x.view(), method=True, namespaces=T,
         tags={VIEW, NONDIFFERENTIABLE},
         doc="A view of the same storage outside the autograd graph.")


def _item(x):
    if x.size != 1:
        raise RuntimeError(f"a Tensor with {x.size} elements cannot be converted to Scalar")
    return x.reshape(()).item()


register("item(Tensor self) -> Scalar", impl=_item, method=True, tags={NONDIFFERENTIABLE})


# ------------------------------------------------------------------ dtype conversion

def _cast(x, np_dtype, copy=False):
    np_dtype = np.dtype(np_dtype)
    if x.dtype == np_dtype:
        return np.array(x, copy=True) if copy else x
    if x.dtype.kind == "f" and np_dtype.kind in "iu":
        with np.errstate(invalid="ignore"):
            return np.trunc(x).astype(np_dtype)
    return x.astype(np_dtype)


def _cast_grad(ctx, g):
    return (g.to(ctx.args[0].dtype),)


register("to.dtype(Tensor self, ScalarType dtype, bool non_blocking=False, bool copy=False) -> Tensor",
         impl=lambda x, dtype, nb, copy: _cast(x, dtype.np, copy), grad=_cast_grad, method=True)
register("to.device(Tensor self, Device device, ScalarType? dtype=None, bool non_blocking=False, bool copy=False) -> Tensor",
         impl=lambda x, device, dtype, nb, copy: _cast(x, dtype.np if dtype is not None else x.dtype, copy),
         grad=_cast_grad, method=True)
register("to.other(Tensor self, Tensor other, bool non_blocking=False, bool copy=False) -> Tensor",
         impl=lambda x, other, nb, copy: _cast(x, other.dtype, copy), grad=_cast_grad, method=True)
register("type_as(Tensor self, Tensor other) -> Tensor",
         impl=lambda x, other: _cast(x, other.dtype), grad=_cast_grad, method=True)
register("cpu(Tensor self) -> Tensor", impl=lambda x: x, grad=lambda ctx, g: (g,), method=True)

for _name, _dt in (("float", dtypes.float32), ("double", dtypes.float64), ("half", dtypes.float16),
                   ("int", dtypes.int32), ("long", dtypes.int64), ("short", dtypes.int16),
                   ("char", dtypes.int8), ("byte", dtypes.uint8), ("bool", dtypes.bool_)):
    register(f"{_name}.method(Tensor self) -> Tensor",
             impl=lambda x, _np_dtype=_dt.np: _cast(x, _np_dtype), grad=_cast_grad, method=True,
             doc=f"``self.to({_dt.name})``")


_TYPE_NAMES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
               "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
               "int32": "torch.IntTensor", "int16": "torch.ShortTensor", "int8": "torch.CharTensor",
               "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor"}

register("type.dtype(Tensor self, ScalarType dtype, bool non_blocking=False) -> Tensor",
         impl=lambda x, dtype, nb: _cast(x, dtype.np), grad=_cast_grad, method=True)
register("type(Tensor self) -> str", impl=lambda x: _TYPE_NAMES[x.dtype.name], method=True,
         tags={NONDIFFERENTIABLE}, doc="PyTorch's legacy type name, ``torch.FloatTensor``.")


def _cuda(x, device):
    raise RuntimeError("CUDA tensors are not available in eager mode: tensorscript's eager "
                       "tensors live on the CPU (compiled CUDA kernels run through scripts)")


register("cuda(Tensor self, Device? device=None) -> Tensor", impl=_cuda, method=True)


def _uniform(x, low, high):
    if x.dtype.kind != "f":
        raise RuntimeError(f'"check_uniform_bounds" not implemented for \'{x.dtype.name}\'')
    x[...] = _rng.uniform(low, high, x.shape)
    return x


def _normal(x, mean, std):
    if x.dtype.kind != "f":
        raise RuntimeError(f'"normal_kernel_cpu" not implemented for \'{x.dtype.name}\'')
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    x[...] = _rng.normal(mean, std, x.shape)
    return x


register("uniform_(Tensor self, float from=0, float to=1) -> Tensor", impl=_uniform,
         grad=lambda ctx, g: (g * 0,), method=True, tags={INPLACE, RANDOM})
register("normal_(Tensor self, float mean=0, float std=1) -> Tensor", impl=_normal,
         grad=lambda ctx, g: (g * 0,), method=True, tags={INPLACE, RANDOM})
register("bernoulli(Tensor self) -> Tensor",
         impl=lambda p: (_rng.random(p.shape) < p).astype(p.dtype), method=True, namespaces=T,
         tags={RANDOM, NONDIFFERENTIABLE})
register("bernoulli.p(Tensor self, float p) -> Tensor",
         impl=lambda x, p: (_rng.random(x.shape) < p).astype(x.dtype), method=True, namespaces=T,
         tags={RANDOM, NONDIFFERENTIABLE})


# ------------------------------------------------------------------ index helpers and counts

def _tri_indices(row, col, offset, dtype, upper):
    r, c = np.indices((row, col)) if row > 0 and col > 0 else (np.zeros((0, 0), np.int64),) * 2
    keep = (c - r >= offset) if upper else (c - r <= offset)
    return np.stack([r[keep], c[keep]]).astype(_np(dtype, dtypes.int64))


register("triu_indices(int row, int col, int offset=0, *, ScalarType? dtype=None, Layout? "
         "layout=None, Device? device=None, bool? pin_memory=None) -> Tensor",
         impl=lambda r, c, o, dtype, *rest: _tri_indices(r, c, o, dtype, True),
         tags={NONDIFFERENTIABLE}, namespaces=T)
register("tril_indices(int row, int col, int offset=0, *, ScalarType? dtype=None, Layout? "
         "layout=None, Device? device=None, bool? pin_memory=None) -> Tensor",
         impl=lambda r, c, o, dtype, *rest: _tri_indices(r, c, o, dtype, False),
         tags={NONDIFFERENTIABLE}, namespaces=T)


def _logspace(start, end, steps, base, dtype):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _float_np(dtype)
    exps = np.linspace(float(start), float(end), steps, dtype=np.float64)
    return np.asarray(np.power(float(base), exps), dtype=dt)


register("logspace(Scalar start, Scalar end, int steps, float base=10.0, *, ScalarType? "
         "dtype=None, Layout? layout=None, Device? device=None, bool? pin_memory=None) -> Tensor",
         impl=lambda s, e, n, b, dtype, *rest: _logspace(s, e, n, b, dtype),
         tags={NONDIFFERENTIABLE}, namespaces=T)


def _bincount(a, weights, minlength):
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return np.bincount(a, minlength=minlength).astype(np.int64)
    dt = np.float64 if weights.dtype == np.float64 else np.float32
    if weights.dtype.kind != "f":
        dt = np.float64
    return np.bincount(a, weights=weights.astype(np.float64), minlength=minlength).astype(dt)


register("bincount(Tensor self, Tensor? weights=None, int minlength=0) -> Tensor",
         impl=_bincount, tags={NONDIFFERENTIABLE}, method=True, namespaces=T)
