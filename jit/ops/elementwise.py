"""Pointwise ops: arithmetic, math functions, comparisons, logical and bitwise ops, where.

Impls follow PyTorch's type promotion (``dtypes.result_type``): operands are cast to the result
dtype before the NumPy ufunc runs, so NumPy's own promotion never decides a dtype. Gradient rules
use public ops only. In-place variants (``add_``, ``exp_``, ...) are derived from the
out-of-place entry by :func:`register_inplace`, sharing its gradient rule.

``scalar_expr`` spells each op's body for the fuser: ``a``, ``b``, ``c`` are the tensor or
scalar operands in schema order, attributes go by their parameter names, and functions are
NumPy's names for the same scalar function (``exp``, ``maximum``, ``where``, ``erf``).
"""
from __future__ import annotations

import math
import warnings
from functools import partial

import numpy as np

from ...kernels import load_on_first_use
from ..ir import dtypes
from .registry import INPLACE, NONDIFFERENTIABLE, POINTWISE, Namespace, get, overloads, register

# NumPy warns on 1/0, log(0), overflow; PyTorch returns inf/nan silently. A filter scoped to
# this module costs nothing per call, unlike ``np.errstate``.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)

T = (Namespace.TORCH,)
PW = {POINTWISE}
PW_ND = {POINTWISE, NONDIFFERENTIABLE}

# Numba's kernels load on the first call of one of them, not when the registry is imported.
K = load_on_first_use("elementwise")

_F32 = np.dtype(np.float32)
_I64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)
_CAT = {"b": dtypes.BOOL, "u": dtypes.INT, "i": dtypes.INT, "f": dtypes.FLOAT}
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def torch_name(np_dtype) -> str:
    return _TORCH_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))


# ------------------------------------------------------------------ promotion

def result_dtype(*operands) -> np.dtype:
    """PyTorch's result dtype for arrays (``ndim == 0`` counts as a 0-d tensor) and Python scalars."""
    dims, zeros, cats = [], [], []
    for v in operands:
        if isinstance(v, np.ndarray):
            (dims if v.ndim else zeros).append(dtypes.from_numpy(v.dtype))
        elif v is not None:
            cats.append(dtypes.category_of_scalar(v))
    return dtypes.result_type(dims, zeros, cats).np


def _binary_dtype(a, b) -> np.dtype:
    if type(a) is np.ndarray:
        if type(b) is np.ndarray:
            if a.dtype == b.dtype:
                return a.dtype
        elif type(b) in (int, float, bool) and _SCALAR_CAT[type(b)] <= _CAT[a.dtype.kind]:
            return a.dtype
    return result_dtype(a, b)


_SCALAR_CAT = {bool: dtypes.BOOL, int: dtypes.INT, float: dtypes.FLOAT}


def cast(v, np_dtype):
    """An operand in ``np_dtype``: arrays converted, Python scalars made 0-d arrays (wrapping as C does)."""
    if type(v) is np.ndarray:
        return v if v.dtype == np_dtype else v.astype(np_dtype)
    if type(v) is float and np_dtype.kind == "f":
        return v  # a Python float is a weak scalar to NumPy: the array's dtype wins
    if np_dtype.kind in "iu" and isinstance(v, int) and not isinstance(v, bool):
        info = np.iinfo(np_dtype)
        if not info.min <= v <= info.max:
            return np.asarray(v & ((1 << (8 * np_dtype.itemsize)) - 1)).astype(np_dtype)
    return np.asarray(v, dtype=np_dtype)


def _to_float(a):
    """Integer and bool inputs of float functions compute in the default float dtype."""
    if a.dtype.kind == "f":
        return a
    return a.astype(_F32)


# ------------------------------------------------------------------ in-place variants

_CAN_CAST = {dtypes.BOOL: dtypes.BOOL, dtypes.INT: dtypes.INT, dtypes.FLOAT: dtypes.FLOAT}


def _check_cast(result: np.ndarray, out: np.ndarray) -> None:
    if _CAT[result.dtype.kind] > _CAT[out.dtype.kind]:
        raise RuntimeError(f"result type {torch_name(result.dtype)} can't be cast to the desired "
                           f"output type {torch_name(out.dtype)}")
    if result.shape != out.shape:
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast "
                           f"shape {list(result.shape)}")


def _same_kind_operand(self: np.ndarray, other) -> bool:
    """``other`` can be applied to ``self`` by a ufunc writing into ``self``, dtype unchanged."""
    if type(other) is np.ndarray:
        return other.dtype == self.dtype and other.shape == self.shape
    return type(other) in _SCALAR_CAT and _SCALAR_CAT[type(other)] <= _CAT[self.dtype.kind] \
        and self.dtype != _BOOL and (type(other) is not int or self.dtype.kind == "f")


def _fast_ufunc(ufunc, impl):
    """``self.op_(other)``: straight into ``self`` when no cast or broadcast of ``self`` is
    needed, else computed out of place and copied in."""
    def inplace_impl(self, other, *alpha):
        if (not alpha or alpha[0] == 1) and _same_kind_operand(self, other):
            ufunc(self, other, out=self)
            return self
        return _copy_into(self, impl(self, other, *alpha))
    return inplace_impl


def _fast_div(impl):
    def inplace_impl(self, other, *mode):
        if (not mode or mode[0] is None) and self.dtype.kind == "f" \
                and _same_kind_operand(self, other):
            np.true_divide(self, other, out=self)
            return self
        return _copy_into(self, impl(self, other, *mode))
    return inplace_impl


def _copy_into(self: np.ndarray, result: np.ndarray) -> np.ndarray:
    _check_cast(result, self)
    np.copyto(self, result, casting="unsafe")
    return self


def _copy_inplace(impl):
    def inplace_impl(self, *rest):
        return _copy_into(self, impl(self, *rest))
    return inplace_impl


# qualified name -> (out-of-place impl -> in-place impl); the rest compute and copy in
_INPLACE_KERNELS = {
    "add.Tensor": partial(_fast_ufunc, np.add), "add.Scalar": partial(_fast_ufunc, np.add),
    "sub.Tensor": partial(_fast_ufunc, np.subtract),
    "sub.Scalar": partial(_fast_ufunc, np.subtract),
    "mul.Tensor": partial(_fast_ufunc, np.multiply),
    "mul.Scalar": partial(_fast_ufunc, np.multiply),
    "div.Tensor": _fast_div, "div.Scalar": _fast_div,
}


def register_inplace(qualified_name: str, inplace_name: str | None = None, **overrides):
    """Register ``name_`` from the out-of-place entry: same schema, same gradient rule."""
    op = get(qualified_name)
    name = inplace_name or op.name + "_"
    text = name + op.schema_text[len(op.name):]
    inplace_impl = _INPLACE_KERNELS.get(op.qualified_name, _copy_inplace)(op.impl)
    tags = (set(op.tags) - {NONDIFFERENTIABLE}) | {INPLACE} if op.grad else set(op.tags) | {INPLACE}
    return register(text, impl=inplace_impl, grad=op.grad, tags=tags, method=True,
                    scalar_expr=op.scalar_expr, namespaces=overrides.get("namespaces", ()),
                    out_of_place=qualified_name)


def register_inplace_all(name: str, **kw) -> None:
    for op in list(overloads(name)):
        if op.schema.params and op.schema.params[0].type.is_tensor:
            register_inplace(op.qualified_name, **kw)


# ------------------------------------------------------------------ arithmetic

def _no_bool_sub(a, b):
    if a.dtype == _BOOL and (not isinstance(b, np.ndarray) or b.dtype == _BOOL):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if isinstance(b, np.ndarray) and b.dtype == _BOOL and a.dtype == _BOOL:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _check_alpha(dt, alpha):
    if isinstance(alpha, float) and dt.kind != "f":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, int) and not isinstance(alpha, bool) and dt == _BOOL and alpha not in (0, 1):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def _float_scalar(a, b) -> bool:
    """A float array with a Python float: NumPy's weak-scalar rule already gives PyTorch's dtype."""
    return type(b) is float and type(a) is np.ndarray and a.dtype.kind == "f"


def _add(a, b, alpha=1):
    if alpha == 1 and (type(b) is np.ndarray and a.dtype == b.dtype and a.dtype != _BOOL
                       or _float_scalar(a, b)):
        return np.add(a, b)
    dt = _binary_dtype(a, b)
    if alpha == 1:
        if dt == _BOOL:
            return np.logical_or(a, b)
        return np.add(cast(a, dt), cast(b, dt))
    _check_alpha(dt, alpha)
    return np.add(cast(a, dt), np.multiply(cast(b, dt), cast(alpha, dt)))


def _sub(a, b, alpha=1):
    if alpha == 1 and (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype
                       and a.dtype.kind == "f" or _float_scalar(a, b)):
        return np.subtract(a, b)
    dt = _binary_dtype(a, b)
    if dt == _BOOL:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha == 1:
        return np.subtract(cast(a, dt), cast(b, dt))
    _check_alpha(dt, alpha)
    return np.subtract(cast(a, dt), np.multiply(cast(b, dt), cast(alpha, dt)))


def _scale(g, alpha):
    return g if alpha == 1 else g * alpha


register("add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", impl=_add,
         grad=lambda ctx, g: (g, _scale(g, ctx.args[2])), tags=PW,
         scalar_expr="a + alpha * b", method=True, namespaces=T)
register("add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor", impl=_add,
         grad=lambda ctx, g: (g,), tags=PW, scalar_expr="a + alpha * b", method=True, namespaces=T)
register("sub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", impl=_sub,
         grad=lambda ctx, g: (g, -_scale(g, ctx.args[2])), tags=PW,
         scalar_expr="a - alpha * b", method=True, namespaces=T)
register("sub.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor", impl=_sub,
         grad=lambda ctx, g: (g,), tags=PW, scalar_expr="a - alpha * b", method=True, namespaces=T)
register("rsub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
         impl=lambda a, b, alpha: _sub(b, a, alpha),
         grad=lambda ctx, g: (-_scale(g, ctx.args[2]), g), tags=PW,
         scalar_expr="b - alpha * a", method=True, namespaces=T)
register("rsub.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
         impl=lambda a, b, alpha: _sub(b, a, alpha) if alpha == 1 else _sub(
             cast(b, _binary_dtype(a, b)), np.multiply(a, alpha)),
         grad=lambda ctx, g: (-_scale(g, ctx.args[2]),), tags=PW, scalar_expr="b - alpha * a",
         namespaces=T)


def _mul(a, b):
    if type(b) is np.ndarray and a.dtype == b.dtype and a.dtype != _BOOL or _float_scalar(a, b):
        return np.multiply(a, b)
    dt = _binary_dtype(a, b)
    if dt == _BOOL:
        return np.logical_and(a, b)
    return np.multiply(cast(a, dt), cast(b, dt))


register("mul.Tensor(Tensor self, Tensor other) -> Tensor", impl=_mul,
         grad=lambda ctx, g: (g * ctx.args[1], g * ctx.args[0]), tags=PW, scalar_expr="a * b",
         method=True, namespaces=T)
register("mul.Scalar(Tensor self, Scalar other) -> Tensor", impl=_mul,
         grad=lambda ctx, g: (g * ctx.args[1],), tags=PW, scalar_expr="a * b", method=True,
         namespaces=T)
register("multiply.Tensor(Tensor self, Tensor other) -> Tensor", impl=_mul,
         grad=lambda ctx, g: (g * ctx.args[1], g * ctx.args[0]), tags=PW, scalar_expr="a * b",
         method=True, namespaces=T)
register("multiply.Scalar(Tensor self, Scalar other) -> Tensor", impl=_mul,
         grad=lambda ctx, g: (g * ctx.args[1],), tags=PW, scalar_expr="a * b", method=True,
         namespaces=T)


def _no_bool(dt, name):
    if dt == _BOOL:
        raise RuntimeError(f'"{name}_cpu" not implemented for \'Bool\'')


def _int_zero_check(b):
    if isinstance(b, np.ndarray):
        if b.dtype.kind in "iub" and not np.all(b):
            raise RuntimeError("ZeroDivisionError")
    elif b == 0:
        raise RuntimeError("ZeroDivisionError")


def _true_div(a, b):
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype
            and a.dtype.kind == "f" or _float_scalar(a, b)):
        return np.true_divide(a, b)
    dt = _binary_dtype(a, b)
    if dt.kind != "f":
        dt = _F32
    return np.true_divide(cast(a, dt), cast(b, dt))


def _floor_div(a, b):
    dt = _binary_dtype(a, b)
    if dt.kind in "iub":
        _no_bool(dt, "div_floor")
        _int_zero_check(b)
        return np.floor_divide(cast(a, dt), cast(b, dt))
    x, y = cast(a, dt), cast(b, dt)
    # PyTorch's floor division rounds the exact quotient, as Python's // does for floats
    return np.floor_divide(x, y)


def _trunc_div(a, b):
    dt = _binary_dtype(a, b)
    if dt.kind in "iub":
        _int_zero_check(b)
        x, y = cast(a, dt), cast(b, dt)
        if dt == _BOOL:
            return np.logical_and(x, y)
        q = np.floor_divide(x, y)
        fix = (np.remainder(x, y) != 0) & ((x < 0) != (y < 0))
        return (q + fix).astype(dt)
    return np.trunc(np.true_divide(cast(a, dt), cast(b, dt)))


def _div(a, b, rounding_mode=None):
    if rounding_mode is None:
        return _true_div(a, b)
    if rounding_mode == "floor":
        return _floor_div(a, b)
    if rounding_mode == "trunc":
        return _trunc_div(a, b)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


def _div_grad(ctx, g):
    a, b, mode = ctx.args[0], ctx.args[1], ctx.args[2] if len(ctx.args) > 2 else None
    if mode is not None:
        return (g * 0, g * 0)
    return (g / b, -g * a / (b * b))


def _div_scalar_grad(ctx, g):
    mode = ctx.args[2] if len(ctx.args) > 2 else None
    return (g * 0 if mode is not None else g / ctx.args[1],)


register("div.Tensor(Tensor self, Tensor other) -> Tensor", impl=_true_div, grad=_div_grad,
         tags=PW, scalar_expr="a / b", method=True, namespaces=T)
register("div.Scalar(Tensor self, Scalar other) -> Tensor", impl=_true_div, grad=_div_scalar_grad,
         tags=PW, scalar_expr="a / b", method=True, namespaces=T)
register("div.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode) -> Tensor", impl=_div,
         grad=_div_grad, tags=PW, method=True, namespaces=T)
register("div.Scalar_mode(Tensor self, Scalar other, *, str? rounding_mode) -> Tensor", impl=_div,
         grad=_div_scalar_grad, tags=PW, method=True, namespaces=T)
register("true_divide.Tensor(Tensor self, Tensor other) -> Tensor", impl=_true_div, grad=_div_grad,
         tags=PW, scalar_expr="a / b", method=True, namespaces=T)
register("true_divide.Scalar(Tensor self, Scalar other) -> Tensor", impl=_true_div,
         grad=_div_scalar_grad, tags=PW, scalar_expr="a / b", method=True, namespaces=T)
register("divide.Tensor(Tensor self, Tensor other) -> Tensor", impl=_true_div, grad=_div_grad,
         tags=PW, scalar_expr="a / b", method=True, namespaces=T)
register("divide.Scalar(Tensor self, Scalar other) -> Tensor", impl=_true_div,
         grad=_div_scalar_grad, tags=PW, scalar_expr="a / b", method=True, namespaces=T)
register("divide.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode) -> Tensor",
         impl=_div, grad=_div_grad, tags=PW, method=True, namespaces=T)
register("rdiv.Scalar(Tensor self, Scalar other) -> Tensor",
         impl=lambda a, b: _true_div(b, a),
         grad=lambda ctx, g: (-g * ctx.args[1] / (ctx.args[0] * ctx.args[0]),), tags=PW,
         scalar_expr="b / a")
register("floor_divide(Tensor self, Tensor other) -> Tensor", impl=_floor_div,
         grad=lambda ctx, g: (g * 0, g * 0), tags=PW, scalar_expr="floor(a / b)", method=True,
         namespaces=T)
register("floor_divide.Scalar(Tensor self, Scalar other) -> Tensor", impl=_floor_div,
         grad=lambda ctx, g: (g * 0,), tags=PW, scalar_expr="floor(a / b)", method=True,
         namespaces=T)
register("rfloor_divide.Scalar(Tensor self, Scalar other) -> Tensor",
         impl=lambda a, b: _floor_div(b, a), grad=lambda ctx, g: (g * 0,), tags=PW,
         scalar_expr="floor(b / a)")


def _remainder(a, b):
    dt = _binary_dtype(a, b)
    _no_bool(dt, "remainder")
    if dt.kind in "iub":
        _int_zero_check(b)
    return np.remainder(cast(a, dt), cast(b, dt))


def _fmod(a, b):
    dt = _binary_dtype(a, b)
    _no_bool(dt, "fmod")
    if dt.kind in "iub":
        _int_zero_check(b)
    return np.fmod(cast(a, dt), cast(b, dt))


register("remainder.Tensor(Tensor self, Tensor other) -> Tensor", impl=_remainder,
         grad=lambda ctx, g: (g, -g * ctx.args[0].div(ctx.args[1], rounding_mode="floor")),
         tags=PW, scalar_expr="a - floor(a / b) * b", method=True, namespaces=T)
register("remainder.Scalar(Tensor self, Scalar other) -> Tensor", impl=_remainder,
         grad=lambda ctx, g: (g,), tags=PW, scalar_expr="a - floor(a / b) * b", method=True,
         namespaces=T)
register("rremainder.Scalar(Tensor self, Scalar other) -> Tensor",
         impl=lambda a, b: _remainder(b, a),
         grad=lambda ctx, g: (-g * _floor_div_scalar_tensor(ctx.args[1], ctx.args[0]),), tags=PW,
         scalar_expr="b - floor(b / a) * a")


def _floor_div_scalar_tensor(s, t):
    return (t.reciprocal() * s).floor()


register("fmod.Tensor(Tensor self, Tensor other) -> Tensor", impl=_fmod,
         grad=lambda ctx, g: (g, -g * ctx.args[0].div(ctx.args[1], rounding_mode="trunc")),
         tags=PW, scalar_expr="fmod(a, b)", method=True, namespaces=T)
register("fmod.Scalar(Tensor self, Scalar other) -> Tensor", impl=_fmod,
         grad=lambda ctx, g: (g,), tags=PW, scalar_expr="fmod(a, b)", method=True, namespaces=T)


def _pow(a, b):
    dt = _binary_dtype(a, b)
    if dt == _BOOL:
        dt = _I64 if isinstance(b, int) and not isinstance(b, bool) else dt
    if dt.kind in "iu":
        if (isinstance(b, np.ndarray) and b.dtype.kind in "iu" and np.any(b < 0)) or (
                isinstance(b, int) and not isinstance(b, bool) and b < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    if dt == _BOOL:
        return np.logical_or(np.logical_not(cast(b, dt)), cast(a, dt))
    if isinstance(b, (int, float)) and not isinstance(b, bool) and type(a) is np.ndarray:
        x = cast(a, dt)
        if b == 2:
            return np.multiply(x, x)
        if b == 0.5 and dt.kind == "f":
            return np.sqrt(x)
    return np.power(cast(a, dt), cast(b, dt))


def _pow_scalar_grad(ctx, g):
    x, e = ctx.args[0], ctx.args[1]
    if e == 0:
        return (g * 0,)
    if e == 1:
        return (g,)
    if e == 2:
        return (g * 2 * x,)
    return (g * e * x.pow(e - 1),)


def _pow_tensor_grad(ctx, g):
    x, e = ctx.args[0], ctx.args[1]
    gx = g * e * x.pow(e - 1)
    safe_log = where_(x.eq(0) & e.ge(0), 0.0, x.log())
    return (gx, g * ctx.out * safe_log)


def where_(cond, a, b):
    from .dispatch import call
    return call("where", cond, a, b)


def _rpow_grad(ctx, g):
    base = ctx.args[1]
    if base == 0:
        return (g * 0,)
    return (g * ctx.out * math.log(base),)


register("pow.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor", impl=_pow,
         grad=_pow_scalar_grad, tags=PW, scalar_expr="a ** b", method=True, namespaces=T)
register("pow.Tensor_Tensor(Tensor self, Tensor exponent) -> Tensor", impl=_pow,
         grad=_pow_tensor_grad, tags=PW, scalar_expr="a ** b", method=True, namespaces=T)
register("pow.Scalar(Scalar self, Tensor exponent) -> Tensor", impl=_pow,
         grad=lambda ctx, g: (None, _rpow_grad(type("C", (), {"args": (ctx.args[1], ctx.args[0]),
                                                              "out": ctx.out})(), g)[0]),
         tags=PW, scalar_expr="a ** b", namespaces=T)
register("rpow.Scalar(Tensor self, Scalar other) -> Tensor", impl=lambda a, b: _pow(b, a),
         grad=_rpow_grad, tags=PW, scalar_expr="b ** a")
register("float_power.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor",
         impl=lambda a, b: np.power(a.astype(np.float64), float(b)),
         grad=lambda ctx, g: (g * ctx.args[1] * ctx.args[0].double().pow(ctx.args[1] - 1),),
         tags=PW, method=True, namespaces=T)


# ------------------------------------------------------------------ unary math

def _neg(a):
    if a.dtype == _BOOL:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return np.negative(a)


def _unary(name, impl, grad, expr, *, method=True, nondiff=False, namespaces=T):
    register(f"{name}(Tensor self) -> Tensor", impl=impl, grad=grad,
             tags=PW_ND if nondiff else PW, scalar_expr=expr, method=method, namespaces=namespaces)


def _float_fn(ufunc):
    def impl(a):
        if a.dtype.kind != "f":
            a = a.astype(_F32)
        return ufunc(a)
    return impl


def _float_kernel(name: str):
    """``_float_fn`` of ``kernels.elementwise.<name>``, looked up on each call: a lookup at
    registration would load the kernel module, and Numba with it."""
    def impl(a):
        if a.dtype.kind != "f":
            a = a.astype(_F32)
        return getattr(K, name)(a)
    return impl


def _same_int(ufunc):
    """Rounding functions keep integer dtypes (and are the identity on them)."""
    def impl(a):
        if a.dtype.kind in "iub":
            return a.copy()
        return ufunc(a)
    return impl


_LN2, _LN10 = math.log(2.0), math.log(10.0)
_zero_grad = lambda ctx, g: (g * 0,)  # noqa: E731
_unary("neg", _neg, lambda ctx, g: (-g,), "-a")
_unary("negative", _neg, lambda ctx, g: (-g,), "-a")
_unary("pos", lambda a: a.copy() if a.dtype != _BOOL else _neg(a), lambda ctx, g: (g,), "a")
_unary("positive", lambda a: a, lambda ctx, g: (g,), "a")
_unary("abs", lambda a: np.abs(a) if a.dtype != _BOOL else a.copy(),
       lambda ctx, g: (g * ctx.args[0].sign(),), "abs(a)")
_unary("absolute", lambda a: np.abs(a), lambda ctx, g: (g * ctx.args[0].sign(),), "abs(a)")
def _sign(a):
    """sign(NaN) is 0 in PyTorch (NumPy gives NaN)."""
    if a.dtype == _BOOL:
        return a.copy()
    out = np.sign(a)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        if nan.any():
            out = np.where(nan, 0, out).astype(a.dtype)
    return out


_unary("sign", _sign, _zero_grad, "sign(a)")
_unary("sgn", _sign, _zero_grad, "sign(a)")
_unary("square", lambda a: np.square(a.astype(np.int64) if a.dtype == _BOOL else a),
       lambda ctx, g: (g * 2 * ctx.args[0],), "a * a")
_unary("exp", _float_kernel("exp"), lambda ctx, g: (g * ctx.out,), "exp(a)")
_unary("exp2", _float_fn(np.exp2), lambda ctx, g: (g * ctx.out * _LN2,), "exp2(a)")
_unary("expm1", _float_fn(np.expm1), lambda ctx, g: (g * (ctx.out + 1),), "expm1(a)")
_unary("log", _float_kernel("log"), lambda ctx, g: (g / ctx.args[0],), "log(a)")
_unary("log2", _float_fn(np.log2), lambda ctx, g: (g / (ctx.args[0] * _LN2),), "log2(a)")
_unary("log10", _float_fn(np.log10), lambda ctx, g: (g / (ctx.args[0] * _LN10),), "log10(a)")
_unary("log1p", _float_fn(np.log1p), lambda ctx, g: (g / (ctx.args[0] + 1),), "log1p(a)")
_unary("sqrt", _float_fn(np.sqrt), lambda ctx, g: (g / (ctx.out * 2),), "sqrt(a)")
_unary("rsqrt", _float_fn(lambda x: np.reciprocal(np.sqrt(x))),
       lambda ctx, g: (g * ctx.out.pow(3) * -0.5,), "1 / sqrt(a)")
_unary("sin", _float_fn(np.sin), lambda ctx, g: (g * ctx.args[0].cos(),), "sin(a)")
_unary("cos", _float_fn(np.cos), lambda ctx, g: (-g * ctx.args[0].sin(),), "cos(a)")
_unary("tan", _float_fn(np.tan), lambda ctx, g: (g * (ctx.out * ctx.out + 1),), "tan(a)")
_unary("asin", _float_fn(np.arcsin), lambda ctx, g: (g * (1 - ctx.args[0] * ctx.args[0]).rsqrt(),), "asin(a)")
_unary("acos", _float_fn(np.arccos), lambda ctx, g: (-g * (1 - ctx.args[0] * ctx.args[0]).rsqrt(),), "acos(a)")
_unary("atan", _float_fn(np.arctan), lambda ctx, g: (g / (ctx.args[0] * ctx.args[0] + 1),), "atan(a)")
_unary("arcsin", _float_fn(np.arcsin), lambda ctx, g: (g * (1 - ctx.args[0] * ctx.args[0]).rsqrt(),), "asin(a)")
_unary("arccos", _float_fn(np.arccos), lambda ctx, g: (-g * (1 - ctx.args[0] * ctx.args[0]).rsqrt(),), "acos(a)")
_unary("arctan", _float_fn(np.arctan), lambda ctx, g: (g / (ctx.args[0] * ctx.args[0] + 1),), "atan(a)")
_unary("sinh", _float_fn(np.sinh), lambda ctx, g: (g * ctx.args[0].cosh(),), "sinh(a)")
_unary("cosh", _float_fn(np.cosh), lambda ctx, g: (g * ctx.args[0].sinh(),), "cosh(a)")
_unary("tanh", _float_kernel("tanh"), lambda ctx, g: (g * (1 - ctx.out * ctx.out),), "tanh(a)")
_unary("sigmoid", _float_kernel("sigmoid"), lambda ctx, g: (g * ctx.out * (1 - ctx.out),),
       "1 / (1 + exp(-a))")
_unary("erf", _float_kernel("erf"),
       lambda ctx, g: (g * (ctx.args[0] * ctx.args[0] * -1).exp() * (2 / math.sqrt(math.pi)),), "erf(a)")
_unary("erfc", _float_kernel("erfc"),
       lambda ctx, g: (g * (ctx.args[0] * ctx.args[0] * -1).exp() * (-2 / math.sqrt(math.pi)),), "erfc(a)")
_unary("floor", _same_int(np.floor), _zero_grad, "floor(a)")
_unary("ceil", _same_int(np.ceil), _zero_grad, "ceil(a)")
_unary("trunc", _same_int(np.trunc), _zero_grad, "trunc(a)")
_unary("fix", _same_int(np.trunc), _zero_grad, "trunc(a)")


def _frac(a):
    if a.dtype.kind != "f":
        raise RuntimeError(f'"frac_cpu" not implemented for \'{torch_name(a.dtype)}\'')
    return a - np.trunc(a)


_unary("frac", _frac, lambda ctx, g: (g,), "a - trunc(a)")
_unary("reciprocal", _float_fn(np.reciprocal), lambda ctx, g: (-g * ctx.out * ctx.out,), "1 / a")
_ZERO_ARRAYS: dict = {}


def _relu(a):
    if a.dtype == _BOOL:
        return a.copy()
    # a 0-d zero of the same dtype: NumPy converts a Python 0 on every call, which costs more
    # than the whole maximum on a small tensor
    zero = _ZERO_ARRAYS.get(a.dtype)
    if zero is None:
        zero = _ZERO_ARRAYS[a.dtype] = np.zeros((), a.dtype)
    return np.maximum(a, zero)


_unary("relu", _relu, lambda ctx, g: (g * (ctx.out > 0),), "maximum(a, 0)")
_unary("silu", _float_kernel("silu"), lambda ctx, g: (g * _silu_grad(ctx.args[0]),), "a / (1 + exp(-a))",
       namespaces=(Namespace.TORCH, Namespace.FUNCTIONAL))


def _silu_grad(x):
    s = x.sigmoid()
    return s * (1 + x * (1 - s))


def _round(a):
    if a.dtype.kind in "iub":
        return a.copy()
    return np.round(a)


def _round_decimals(a, decimals):
    if a.dtype.kind in "iub":
        return a.copy()
    return np.round(a, decimals)


register("round(Tensor self) -> Tensor", impl=_round, grad=_zero_grad, tags=PW,
         scalar_expr="round(a)", method=True, namespaces=T)
register("round.decimals(Tensor self, *, int decimals) -> Tensor", impl=_round_decimals,
         grad=_zero_grad, tags=PW, method=True, namespaces=T)


def _gelu(a, approximate="none"):
    if approximate == "none":
        return K.gelu(_to_float(a))
    if approximate == "tanh":
        return K.gelu_tanh(_to_float(a))
    raise RuntimeError("approximate argument must be either none or tanh.")


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_grad(ctx, g):
    x, approximate = ctx.args[0], ctx.args[1]
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        t = inner.tanh()
        dinner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
        return (g * (0.5 * (1 + t) + x * 0.5 * (1 - t * t) * dinner),)
    cdf = ((x * (1 / math.sqrt(2.0))).erf() + 1) * 0.5
    pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


register("gelu(Tensor self, *, str approximate=\"none\") -> Tensor", impl=_gelu, grad=_gelu_grad,
         tags=PW, scalar_expr="0.5 * a * (1 + erf(a * 0.7071067811865476))", method=True,
         namespaces=(Namespace.TORCH, Namespace.FUNCTIONAL))


def _softplus(a, beta=1, threshold=20):
    x = _to_float(a)
    bx = x * np.asarray(beta, x.dtype)
    soft = np.log1p(np.exp(-np.abs(bx))) + np.maximum(bx, 0)
    return np.where(bx > threshold, x, soft / np.asarray(beta, x.dtype)).astype(x.dtype)


def _softplus_grad(ctx, g):
    x, beta, threshold = ctx.args[0], ctx.args[1], ctx.args[2]
    bx = x * beta
    return (where_(bx > threshold, g, g * bx.sigmoid()),)


register("softplus(Tensor self, Scalar beta=1, Scalar threshold=20) -> Tensor", impl=_softplus,
         grad=_softplus_grad, tags=PW, scalar_expr="log1p(exp(a * beta)) / beta",
         method=True, namespaces=(Namespace.TORCH, Namespace.FUNCTIONAL))


def _atan2(a, b):
    dt = _binary_dtype(a, b)
    if dt.kind != "f":
        dt = _F32
    return np.arctan2(cast(a, dt), cast(b, dt))


def _atan2_grad(ctx, g):
    y, x = ctx.args[0], ctx.args[1]
    denom = x * x + y * y
    return (g * x / denom, -g * y / denom)


register("atan2(Tensor self, Tensor other) -> Tensor", impl=_atan2, grad=_atan2_grad, tags=PW,
         scalar_expr="atan2(a, b)", method=True, namespaces=T)
register("arctan2(Tensor self, Tensor other) -> Tensor", impl=_atan2, grad=_atan2_grad, tags=PW,
         scalar_expr="atan2(a, b)", method=True, namespaces=T)


def _float_binary(ufunc):
    def impl(a, b):
        dt = _binary_dtype(a, b)
        if dt.kind != "f":
            dt = _F32
        return np.asarray(ufunc(cast(a, dt), cast(b, dt)), dtype=dt)
    return impl


def _hypot_grad(ctx, g):
    a, b = ctx.args[0], ctx.args[1]
    return (g * a / ctx.out, g * b / ctx.out)


def _copysign_grad(ctx, g):
    from .dispatch import call
    a, out = ctx.args[0], ctx.out
    ratio = call("where", a == 0, 0.0, out / call("where", a == 0, 1.0, a))
    return (g * ratio, None)


register("hypot(Tensor self, Tensor other) -> Tensor", impl=_float_binary(np.hypot),
         grad=_hypot_grad, method=True, namespaces=T)
register("copysign.Tensor(Tensor self, Tensor other) -> Tensor",
         impl=_float_binary(np.copysign), grad=_copysign_grad, method=True, namespaces=T)
register("copysign.Scalar(Tensor self, Scalar other) -> Tensor",
         impl=_float_binary(np.copysign), grad=_copysign_grad, method=True, namespaces=T)


def _addc(name, combine):
    def impl(a, t1, t2, value):
        dt = result_dtype(a, t1, t2)
        if name == "addcdiv" and dt.kind != "f":
            raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                               "future release addcdiv will perform a true division of tensor1 "
                               "and tensor2.")
        prod = combine(cast(t1, dt), cast(t2, dt))
        return np.asarray(cast(a, dt) + cast(value, dt) * prod, dtype=dt)
    return impl


def _addcmul_grad(ctx, g):
    _, t1, t2, value = ctx.args[:4]
    return (g, g * t2 * value, g * t1 * value)


def _addcdiv_grad(ctx, g):
    _, t1, t2, value = ctx.args[:4]
    return (g, g * value / t2, -g * value * t1 / (t2 * t2))


register("addcmul(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
         impl=_addc("addcmul", np.multiply), grad=_addcmul_grad, method=True, namespaces=T)
register("addcdiv(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
         impl=_addc("addcdiv", np.divide), grad=_addcdiv_grad, method=True, namespaces=T)


# ------------------------------------------------------------------ clamp, maximum, lerp, where

def _clamp(a, lo=None, hi=None):
    if lo is None and hi is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    dt = result_dtype(a, lo, hi) if a.ndim else result_dtype(a[None], lo, hi)
    x = cast(a, dt)
    if lo is not None:
        x = np.maximum(x, cast(lo, dt))
    if hi is not None:
        x = np.minimum(x, cast(hi, dt))
    return x if x is not a else x.copy()


def _clamp_grad(ctx, g):
    x, lo, hi = ctx.args[0], ctx.args[1], ctx.args[2]
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        m = x <= hi
        mask = m if mask is None else mask & m
    return (g * mask,)


def _clamp_tensor_grad(ctx, g):
    x, lo, hi = ctx.args[0], ctx.args[1], ctx.args[2]
    mask = None
    glo = ghi = None
    if lo is not None:
        mask = x >= lo
        glo = g * (x < lo)
    if hi is not None:
        m = x <= hi
        mask = m if mask is None else mask & m
        ghi = g * (x > hi)
    return (g * mask, glo, ghi)


for _name in ("clamp", "clip"):
    register(f"{_name}(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor", impl=_clamp,
             grad=_clamp_grad, tags=PW, scalar_expr="minimum(maximum(a, min), max)", method=True,
             namespaces=T)
    register(f"{_name}.Tensor(Tensor self, Tensor? min=None, Tensor? max=None) -> Tensor",
             impl=_clamp, grad=_clamp_tensor_grad, tags=PW, scalar_expr="minimum(maximum(a, b), c)",
             method=True, namespaces=T)
register("clamp_min(Tensor self, Scalar min) -> Tensor", impl=lambda a, lo: _clamp(a, lo, None),
         grad=lambda ctx, g: (g * (ctx.args[0] >= ctx.args[1]),), tags=PW,
         scalar_expr="maximum(a, min)", method=True, namespaces=T)
register("clamp_max(Tensor self, Scalar max) -> Tensor", impl=lambda a, hi: _clamp(a, None, hi),
         grad=lambda ctx, g: (g * (ctx.args[0] <= ctx.args[1]),), tags=PW,
         scalar_expr="minimum(a, max)", method=True, namespaces=T)


def _extremum(ufunc):
    def impl(a, b):
        dt = _binary_dtype(a, b)
        return ufunc(cast(a, dt), cast(b, dt))
    return impl


def _maximum_grad(ctx, g):
    a, b = ctx.args[0], ctx.args[1]
    share = (a > b) + (a == b) * 0.5
    return (g * share, g * (1 - share))


def _minimum_grad(ctx, g):
    a, b = ctx.args[0], ctx.args[1]
    share = (a < b) + (a == b) * 0.5
    return (g * share, g * (1 - share))


register("maximum(Tensor self, Tensor other) -> Tensor", impl=_extremum(np.maximum),
         grad=_maximum_grad, tags=PW, scalar_expr="maximum(a, b)", method=True, namespaces=T)
register("minimum(Tensor self, Tensor other) -> Tensor", impl=_extremum(np.minimum),
         grad=_minimum_grad, tags=PW, scalar_expr="minimum(a, b)", method=True, namespaces=T)
register("fmax(Tensor self, Tensor other) -> Tensor", impl=_extremum(np.fmax),
         grad=_maximum_grad, tags=PW, scalar_expr="fmax(a, b)", method=True, namespaces=T)
register("fmin(Tensor self, Tensor other) -> Tensor", impl=_extremum(np.fmin),
         grad=_minimum_grad, tags=PW, scalar_expr="fmin(a, b)", method=True, namespaces=T)


def _lerp(a, b, w):
    dt = result_dtype(a, b)
    if isinstance(w, np.ndarray):
        dt = np.promote_types(dt, w.dtype) if w.dtype.kind == "f" else dt
    if dt.kind != "f":
        raise RuntimeError(f'"lerp_kernel_scalar" not implemented for \'{torch_name(dt)}\'')
    x, y = cast(a, dt), cast(b, dt)
    return (x + cast(w, dt) * (y - x)).astype(dt)


register("lerp.Scalar(Tensor self, Tensor end, Scalar weight) -> Tensor", impl=_lerp,
         grad=lambda ctx, g: (g * (1 - ctx.args[2]), g * ctx.args[2]), tags=PW,
         scalar_expr="a + weight * (b - a)", method=True, namespaces=T)
register("lerp.Tensor(Tensor self, Tensor end, Tensor weight) -> Tensor", impl=_lerp,
         grad=lambda ctx, g: (g * (1 - ctx.args[2]), g * ctx.args[2],
                              g * (ctx.args[1] - ctx.args[0])),
         tags=PW, scalar_expr="a + c * (b - a)", method=True, namespaces=T)


def _where(cond, a, b):
    if (cond.dtype == _BOOL and type(a) is np.ndarray and type(b) is np.ndarray
            and a.dtype == b.dtype):
        return np.where(cond, a, b)
    if cond.dtype != _BOOL:
        if cond.dtype == np.uint8:
            cond = cond.astype(_BOOL)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                               f"with dtype {torch_name(cond.dtype)}")
    dt = _where_dtype(a, b)
    return np.where(cond, cast(a, dt), cast(b, dt)).astype(dt, copy=False)


def _where_dtype(a, b) -> np.dtype:
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        cat = max(dtypes.category_of_scalar(a), dtypes.category_of_scalar(b))
        return {dtypes.BOOL: _BOOL, dtypes.INT: _I64, dtypes.FLOAT: _F32}[cat]
    return _binary_dtype(a, b)


def _where_grad(ctx, g):
    cond, a, b = ctx.args[0], ctx.args[1], ctx.args[2]
    ga = where_(cond, g, 0.0) if _is_t(a) else None
    gb = where_(cond, 0.0, g) if _is_t(b) else None
    return (None, ga, gb)


def _is_t(v) -> bool:
    return getattr(type(v), "_ts_tensor", False)


register("where.self(Tensor condition, Tensor self, Tensor other) -> Tensor", impl=_where,
         grad=_where_grad, tags=PW, scalar_expr="where(a, b, c)", namespaces=T)
register("where.ScalarOther(Tensor condition, Tensor self, Scalar other) -> Tensor", impl=_where,
         grad=_where_grad, tags=PW, scalar_expr="where(a, b, c)", namespaces=T)
register("where.ScalarSelf(Tensor condition, Scalar self, Tensor other) -> Tensor", impl=_where,
         grad=_where_grad, tags=PW, scalar_expr="where(a, b, c)", namespaces=T)
register("where.Scalar(Tensor condition, Scalar self, Scalar other) -> Tensor", impl=_where,
         grad=_where_grad, tags=PW, scalar_expr="where(a, b, c)", namespaces=T)


def _nan_to_num(a, nan=0.0, posinf=None, neginf=None):
    if a.dtype.kind != "f":
        return a.copy()
    info = np.finfo(a.dtype)
    return np.nan_to_num(a, nan=nan, posinf=info.max if posinf is None else posinf,
                         neginf=info.min if neginf is None else neginf)


register("nan_to_num(Tensor self, float? nan=0.0, float? posinf=None, float? neginf=None) -> Tensor",
         impl=_nan_to_num, grad=lambda ctx, g: (g * ctx.args[0].isfinite(),), tags=PW,
         method=True, namespaces=T)


# ------------------------------------------------------------------ comparisons and logic

def _compare(ufunc):
    def impl(a, b):
        return ufunc(a, b)
    return impl


for _name, _uf, _sym in (("eq", np.equal, "=="), ("ne", np.not_equal, "!="), ("lt", np.less, "<"),
                         ("le", np.less_equal, "<="), ("gt", np.greater, ">"),
                         ("ge", np.greater_equal, ">=")):
    register(f"{_name}.Tensor(Tensor self, Tensor other) -> Tensor", impl=_compare(_uf),
             tags=PW_ND, scalar_expr=f"a {_sym} b", method=True, namespaces=T)
    register(f"{_name}.Scalar(Tensor self, Scalar other) -> Tensor", impl=_compare(_uf),
             tags=PW_ND, scalar_expr=f"a {_sym} b", method=True, namespaces=T)
for _alias, _name in (("greater", "gt"), ("less", "lt"), ("greater_equal", "ge"),
                      ("less_equal", "le"), ("not_equal", "ne")):
    for _ov in ("Tensor", "Scalar"):
        _src = get(f"{_name}.{_ov}")
        register(_alias + _src.schema_text[len(_name):], impl=_src.impl, tags=PW_ND,
                 scalar_expr=_src.scalar_expr, method=True, namespaces=T)

for _name, _uf, _expr in (("logical_and", np.logical_and, "a and b"),
                          ("logical_or", np.logical_or, "a or b"),
                          ("logical_xor", np.logical_xor, "a != b")):
    register(f"{_name}(Tensor self, Tensor other) -> Tensor", impl=_uf, tags=PW_ND,
             scalar_expr=_expr, method=True, namespaces=T)
register("logical_not(Tensor self) -> Tensor", impl=np.logical_not, tags=PW_ND,
         scalar_expr="not a", method=True, namespaces=T)
register("isnan(Tensor self) -> Tensor", impl=np.isnan, tags=PW_ND, scalar_expr="a != a",
         method=True, namespaces=T)
register("isinf(Tensor self) -> Tensor", impl=np.isinf, tags=PW_ND, scalar_expr="isinf(a)",
         method=True, namespaces=T)
register("isfinite(Tensor self) -> Tensor", impl=np.isfinite, tags=PW_ND,
         scalar_expr="isfinite(a)", method=True, namespaces=T)
register("isposinf(Tensor self) -> Tensor", impl=np.isposinf, tags=PW_ND, method=True, namespaces=T)
register("isneginf(Tensor self) -> Tensor", impl=np.isneginf, tags=PW_ND, method=True, namespaces=T)
register("signbit(Tensor self) -> Tensor", impl=np.signbit, tags=PW_ND, method=True, namespaces=T)


def _bitwise(ufunc, name):
    def impl(a, b):
        dt = _binary_dtype(a, b)
        if dt.kind == "f":
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{torch_name(dt)}\'')
        return ufunc(cast(a, dt), cast(b, dt))
    return impl


for _name, _uf, _sym in (("bitwise_and", np.bitwise_and, "&"), ("bitwise_or", np.bitwise_or, "|"),
                         ("bitwise_xor", np.bitwise_xor, "^"),
                         ("bitwise_left_shift", np.left_shift, "<<"),
                         ("bitwise_right_shift", np.right_shift, ">>")):
    register(f"{_name}.Tensor(Tensor self, Tensor other) -> Tensor", impl=_bitwise(_uf, _name),
             tags=PW_ND, scalar_expr=f"a {_sym} b", method=True, namespaces=T)
    register(f"{_name}.Tensor_Scalar(Tensor self, Scalar other) -> Tensor",
             impl=_bitwise(_uf, _name), tags=PW_ND, scalar_expr=f"a {_sym} b", method=True,
             namespaces=T)


def _bitwise_not(a):
    if a.dtype.kind == "f":
        raise TypeError(f"~ (bitwise_not) is only supported for integer and bool tensors, got "
                        f"{torch_name(a.dtype)}")
    return np.invert(a)


register("bitwise_not(Tensor self) -> Tensor", impl=_bitwise_not, tags=PW_ND, scalar_expr="~a",
         method=True, namespaces=T)


# ------------------------------------------------------------------ in-place variants

for _name in ("add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
              "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "lerp", "atan2",
              "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
              "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
              "bitwise_left_shift", "bitwise_right_shift", "nan_to_num", "round",
              "neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
              "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
              "sigmoid", "erf", "erfc", "floor", "ceil", "trunc", "frac", "reciprocal", "relu",
              "silu", "gelu", "softplus", "negative", "multiply", "divide", "square", "hypot",
              "copysign", "addcmul", "addcdiv"):
    register_inplace_all(_name)
for _name in ("relu_", "sigmoid_", "tanh_", "exp_", "clamp_", "sqrt_", "zero_", "fill_"):
    for _op in overloads(_name):
        if Namespace.TORCH not in _op.namespaces:
            _op.namespaces = _op.namespaces + (Namespace.TORCH,)
