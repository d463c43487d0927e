"""Numbers: arithmetic, comparison and bitwise operators on int, float and bool, the
conversions ``int()``/``float()``/``bool()``/``str()``, and the numeric builtins
(``abs``, ``min``, ``max``, ``round``, ``divmod``, ``pow``).

Semantics are TorchScript's, which differ from Python's in a few places:

- ``int / int`` and ``int ** int`` are floats (``2 ** 3 == 8.0``, ``2 ** -1 == 0.5``).
- Float arithmetic never raises: division by zero gives ``inf`` or ``nan`` (``1 / 0`` too,
  since true division is float division), ``x % 0.0`` and ``x // 0.0`` give ``nan``/``inf``,
  and an out-of-domain ``**`` gives ``nan``, as C does.
- ``//`` and ``%`` round toward negative infinity, as Python does; on floats they are computed
  as TorchScript does (``floor(a / b)`` and ``fmod(b + fmod(a, b), b)``). Integer ``//`` and
  ``%`` by zero raise ZeroDivisionError.
- ``round`` returns a float and rounds halves to even; ``min``/``max`` of an int and a float
  is a float.
- ``str(2.0)`` is ``"2."`` and ``str(0.1)`` is ``"0.10000000000000001"`` (strings.format_value).

Ints are Python ints: a TorchScript int is 64-bit and wraps on overflow, ours grow instead,
so results agree whenever they fit in 64 bits.

Each operator has the overloads ``int``, ``float``, ``int_float``, ``float_int`` (so that
mixed arithmetic resolves exactly), then ``Scalar_Scalar`` for values typed as numbers.
"""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .dispatch import is_tensor
from .registry import NONDIFFERENTIABLE, Namespace, register
from .strings import format_value

_INF = math.inf
_NAN = math.nan
_BUILTIN = (Namespace.BUILTINS,)


# ------------------------------------------------------------------ float arithmetic as C does it

def true_divide(a: float, b: float) -> float:
    """``a / b`` in IEEE arithmetic: a zero divisor gives a signed infinity or nan."""
    try:
        return float(a) / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _floor(x: float) -> float:
    if not math.isfinite(x):
        return x
    r = float(math.floor(x))
    return math.copysign(r, x) if r == 0.0 else r


def float_floor_divide(a: float, b: float) -> float:
    return _floor(true_divide(a, b))


def _fmod(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)
    except ValueError:  # an infinite dividend or a zero divisor
        return _NAN


def float_remainder(a: float, b: float) -> float:
    """``a % b`` with the sign of ``b``, as TorchScript computes it."""
    return _fmod(b + _fmod(a, b), b)


def float_pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), np.float64(b)))


def _int_floor_divide(a: int, b: int) -> int:
    return a // b


def _int_remainder(a: int, b: int) -> int:
    return a % b


def _scalar_floor_divide(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return float_floor_divide(a, b)
    return a // b


def _scalar_remainder(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return float_remainder(a, b)
    return a % b


# ------------------------------------------------------------------ binary operators

def _int_true_divide(a: int, b: int) -> float:
    return true_divide(float(a), float(b))


def _int_pow(a: int, b: int) -> float:
    return float_pow(float(a), float(b))


# name: (int impl, float impl, result type of int op, extra namespaces)
_ARITHMETIC: dict[str, tuple] = {
    "add": (operator.add, operator.add, "int", ()),
    "sub": (operator.sub, operator.sub, "int", ()),
    "mul": (operator.mul, operator.mul, "int", ()),
    "div": (_int_true_divide, true_divide, "float", ()),
    "floor_divide": (_int_floor_divide, float_floor_divide, "int", ()),
    "remainder": (_int_remainder, float_remainder, "int", ()),
    "pow": (_int_pow, float_pow, "float", (Namespace.MATH, Namespace.BUILTINS)),
}
_SCALAR_IMPLS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "div": lambda a, b: true_divide(float(a), float(b)),
    "floor_divide": _scalar_floor_divide, "remainder": _scalar_remainder,
    "pow": lambda a, b: float_pow(float(a), float(b)),
}
_SCALAR_RESULT = {"div": "float", "pow": "float"}

for _name, (_int_fn, _float_fn, _int_result, _ns) in _ARITHMETIC.items():
    register(f"{_name}.int(int a, int b) -> {_int_result}", _int_fn, namespaces=_ns)
    # an int mixed with a float already gives a float in Python, so the float impl serves all
    register(f"{_name}.float(float a, float b) -> float", _float_fn, namespaces=_ns)
    register(f"{_name}.int_float(int a, float b) -> float", _float_fn, namespaces=_ns)
    register(f"{_name}.float_int(float a, int b) -> float", _float_fn, namespaces=_ns)
    register(f"{_name}.Scalar_Scalar(Scalar a, Scalar b) -> {_SCALAR_RESULT.get(_name, 'Scalar')}",
             _SCALAR_IMPLS[_name], namespaces=_ns)

_BITWISE = {
    "bitwise_and": operator.and_, "bitwise_or": operator.or_, "bitwise_xor": operator.xor,
    "bitwise_left_shift": operator.lshift, "bitwise_right_shift": operator.rshift,
}
for _name, _fn in _BITWISE.items():
    register(f"{_name}.int(int a, int b) -> int", _fn)
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    register(f"{_name}.bool(bool a, bool b) -> bool", _BITWISE[_name])

_COMPARISONS = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}
for _name, _fn in _COMPARISONS.items():
    register(f"{_name}.int(int a, int b) -> bool", _fn)
    register(f"{_name}.float(float a, float b) -> bool", _fn)
    register(f"{_name}.int_float(int a, float b) -> bool", _fn)
    register(f"{_name}.float_int(float a, int b) -> bool", _fn)
    register(f"{_name}.bool(bool a, bool b) -> bool", _fn)
    register(f"{_name}.Scalar_Scalar(Scalar a, Scalar b) -> bool", _fn)
for _name in ("eq", "ne"):
    register(f"{_name}.ScalarType(ScalarType a, ScalarType b) -> bool", _COMPARISONS[_name])
    register(f"{_name}.device(Device a, Device b) -> bool", _COMPARISONS[_name])


# ------------------------------------------------------------------ unary operators

register("neg.int(int a) -> int", operator.neg)
register("neg.float(float a) -> float", operator.neg)
register("neg.Scalar(Scalar a) -> Scalar", operator.neg)
register("pos.int(int a) -> int", operator.pos)
register("pos.float(float a) -> float", operator.pos)
register("pos.Scalar(Scalar a) -> Scalar", operator.pos)
register("bitwise_not.int(int a) -> int", operator.invert)
for _t in ("bool", "int", "float", "Scalar"):
    register(f"__not__.{_t}({_t} a) -> bool", operator.not_)


# ------------------------------------------------------------------ conversions

def _tensor_item(a: Any) -> Any:
    arr = a.numpy() if is_tensor(a) else np.asarray(a)
    if arr.size != 1:
        raise RuntimeError(f"a Tensor with {arr.size} elements cannot be converted to Scalar")
    return arr.reshape(()).item()


def _tensor_to_int(a: Any) -> int:
    return int(_tensor_item(a))


def _tensor_to_float(a: Any) -> float:
    return float(_tensor_item(a))


def _implicit_item(a: Any, integral: bool) -> Any:
    arr = a.numpy() if is_tensor(a) else np.asarray(a)
    if arr.ndim != 0:
        raise RuntimeError("Cannot input a tensor of dimension other than 0 as a scalar argument")
    if integral and arr.dtype.kind not in "iub":
        raise RuntimeError(
            f"Cannot input a tensor of type {arr.dtype} as an integral argument")
    return arr.reshape(()).item()


def _int_implicit(a: Any) -> int:
    return int(_implicit_item(a, True))


def _float_implicit(a: Any) -> float:
    return float(_implicit_item(a, False))


def _scalar_implicit(a: Any) -> Any:
    value = _implicit_item(a, False)
    return float(value) if isinstance(value, float) else int(value)


def _tensor_to_bool(a: Any) -> bool:
    arr = a.numpy() if is_tensor(a) else np.asarray(a)
    if arr.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if arr.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(arr.reshape(()).item())


def _tensor_is_false(a: Any) -> bool:
    return not _tensor_to_bool(a)


def _str_to_int(a: str) -> int:
    return int(a)


def _str_to_float(a: str) -> float:
    return float(a)


def _to_str(elem: Any) -> str:
    return format_value(elem)


_TENSOR = {"tags": {NONDIFFERENTIABLE}, "namespaces": _BUILTIN}
register("int.int(int a) -> int", int, namespaces=_BUILTIN)
register("int.bool(bool a) -> int", int, namespaces=_BUILTIN)
register("int.float(float a) -> int", int, namespaces=_BUILTIN)
register("int.Scalar(Scalar a) -> int", int, namespaces=_BUILTIN)
register("int.str(str a) -> int", _str_to_int, namespaces=_BUILTIN)
register("int.Tensor(Tensor a) -> int", _tensor_to_int, **_TENSOR)
register("float.float(float a) -> float", float, namespaces=_BUILTIN)
register("float.int(int a) -> float", float, namespaces=_BUILTIN)
register("float.bool(bool a) -> float", float, namespaces=_BUILTIN)
register("float.Scalar(Scalar a) -> float", float, namespaces=_BUILTIN)
register("float.str(str a) -> float", _str_to_float, namespaces=_BUILTIN)
register("float.Tensor(Tensor a) -> float", _tensor_to_float, **_TENSOR)
# The conversions TorchScript makes where a 0-dim Tensor is passed or returned as a number.
_IMPLICIT = {"tags": {NONDIFFERENTIABLE}, "namespaces": (Namespace.OPERATOR,)}
register("IntImplicit.Tensor(Tensor a) -> int", _int_implicit, **_IMPLICIT)
register("FloatImplicit.Tensor(Tensor a) -> float", _float_implicit, **_IMPLICIT)
register("ScalarImplicit.Tensor(Tensor a) -> Scalar", _scalar_implicit, **_IMPLICIT)
register("bool.bool(bool a) -> bool", bool, namespaces=_BUILTIN)
register("bool.int(int a) -> bool", bool, namespaces=_BUILTIN)
register("bool.float(float a) -> bool", bool, namespaces=_BUILTIN)
register("bool.Scalar(Scalar a) -> bool", bool, namespaces=_BUILTIN)
register("bool.Tensor(Tensor a) -> bool", _tensor_to_bool, **_TENSOR)
register("__not__.Tensor(Tensor a) -> bool", _tensor_is_false, tags={NONDIFFERENTIABLE})
for _t in ("int", "float", "bool", "str"):
    register(f"str.{_t}({_t} elem) -> str", _to_str, namespaces=_BUILTIN)
register("str.t(t elem) -> str", _to_str, namespaces=_BUILTIN)


# ------------------------------------------------------------------ numeric builtins

def _min(a, b):
    # TorchScript's ``a < b ? a : b``, which differs from Python's min when ``b`` is nan
    return a if a < b else b


def _max(a, b):
    return a if a > b else b


def _float_min(a, b) -> float:
    return float(_min(a, b))


def _float_max(a, b) -> float:
    return float(_max(a, b))


def _list_min(self: list):
    if not self:
        raise ValueError("min() arg is an empty sequence")
    return min(self)


def _list_max(self: list):
    if not self:
        raise ValueError("max() arg is an empty sequence")
    return max(self)


def _round(a) -> float:
    if isinstance(a, float) and not math.isfinite(a):
        return a
    return float(round(a))


def _round_ndigits(a: float, ndigits: int) -> float:
    return float(round(a, ndigits))


def _int_divmod(x: int, y: int) -> tuple:
    return divmod(x, y)


def _float_divmod(x: float, y: float) -> tuple:
    if y == 0:
        raise ZeroDivisionError("float divmod()")
    return float_floor_divide(x, y), float_remainder(x, y)


register("abs.int(int a) -> int", abs, namespaces=_BUILTIN)
register("abs.float(float a) -> float", abs, namespaces=_BUILTIN)
register("abs.Scalar(Scalar a) -> Scalar", abs, namespaces=_BUILTIN)
for _name, _fn, _float_fn, _list_fn in (("min", _min, _float_min, _list_min),
                                         ("max", _max, _float_max, _list_max)):
    register(f"{_name}.int(int a, int b) -> int", _fn, namespaces=_BUILTIN)
    register(f"{_name}.float(float a, float b) -> float", _float_fn, namespaces=_BUILTIN)
    register(f"{_name}.int_float(int a, float b) -> float", _float_fn, namespaces=_BUILTIN)
    register(f"{_name}.float_int(float a, int b) -> float", _float_fn, namespaces=_BUILTIN)
    register(f"{_name}.str(str a, str b) -> str", _fn, namespaces=_BUILTIN)
    for _t in ("int", "float", "bool", "str"):
        register(f"{_name}.self_{_t}({_t}[] self) -> {_t}", _list_fn, namespaces=_BUILTIN)
register("round.int(int a) -> float", _round, namespaces=_BUILTIN)
register("round.float(float a) -> float", _round, namespaces=_BUILTIN)
register("round.Scalar(Scalar a) -> float", _round, namespaces=_BUILTIN)
register("round.float_ndigits(float a, int ndigits) -> float", _round_ndigits,
         namespaces=_BUILTIN)
register("divmod.int(int x, int y) -> ((int, int))", _int_divmod, namespaces=_BUILTIN)
register("divmod.float(float x, float y) -> ((float, float))", _float_divmod, namespaces=_BUILTIN)
register("divmod.int_float(int x, float y) -> ((float, float))", _float_divmod,
         namespaces=_BUILTIN)
register("divmod.float_int(float x, int y) -> ((float, float))", _float_divmod,
         namespaces=_BUILTIN)
