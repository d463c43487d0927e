"""The ``math`` module: functions on ints and floats, and its constants.

TorchScript computes these with the C library, so a value outside a function's domain gives
``nan`` or ``inf`` where Python's ``math`` raises (``math.sqrt(-1.0)`` is nan,
``math.log(0.0)`` is -inf, ``math.exp(1000.0)`` is inf). Functions on ints (``gcd``,
``factorial``) raise as Python does. ``floor``, ``ceil`` and ``trunc`` return ints.
``math.pow`` shares the ``pow`` overloads of the ``**`` operator (scalars.py).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .registry import Namespace, register
from .scalars import true_divide

_MATH = (Namespace.MATH,)

# Names the type checker resolves ``math.<name>`` to, as compile-time constants.
MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan, "tau": math.tau}


def _c_function(python_fn: Callable, numpy_fn: Callable) -> Callable:
    """``python_fn``, falling back to NumPy's IEEE result where Python raises."""
    def impl(a) -> float:
        try:
            return python_fn(a)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(numpy_fn(np.float64(a)))
    impl.__name__ = python_fn.__name__
    return impl


def _c_gamma(x: float) -> float:
    # tgamma: poles at zero keep the zero's sign, other poles and -inf are nan, overflow inf
    if x == 0:
        return math.copysign(math.inf, x)
    if x < 0 and (x == -math.inf or x == math.floor(x)):
        return math.nan
    return math.inf


def _gamma(a) -> float:
    try:
        return math.gamma(a)
    except (ValueError, OverflowError):
        return _c_gamma(float(a))


def _lgamma(a) -> float:
    try:
        return math.lgamma(a)
    except (ValueError, OverflowError):
        return math.inf


_UNARY: dict[str, Callable] = {
    "sqrt": _c_function(math.sqrt, np.sqrt),
    "exp": _c_function(math.exp, np.exp),
    "log": _c_function(math.log, np.log),
    "log2": _c_function(math.log2, np.log2),
    "log10": _c_function(math.log10, np.log10),
    "log1p": _c_function(math.log1p, np.log1p),
    "expm1": _c_function(math.expm1, np.expm1),
    "sin": _c_function(math.sin, np.sin),
    "cos": _c_function(math.cos, np.cos),
    "tan": _c_function(math.tan, np.tan),
    "asin": _c_function(math.asin, np.arcsin),
    "acos": _c_function(math.acos, np.arccos),
    "atan": _c_function(math.atan, np.arctan),
    "sinh": _c_function(math.sinh, np.sinh),
    "cosh": _c_function(math.cosh, np.cosh),
    "tanh": _c_function(math.tanh, np.tanh),
    "asinh": _c_function(math.asinh, np.arcsinh),
    "acosh": _c_function(math.acosh, np.arccosh),
    "atanh": _c_function(math.atanh, np.arctanh),
    "fabs": math.fabs,
    "erf": math.erf,
    "erfc": math.erfc,
    "gamma": _gamma,
    "lgamma": _lgamma,
    "degrees": _c_function(math.degrees, np.degrees),
    "radians": math.radians,
}
for _name, _fn in _UNARY.items():
    register(f"{_name}.int(int a) -> float", _fn, namespaces=_MATH)
    register(f"{_name}.float(float a) -> float", _fn, namespaces=_MATH)
    register(f"{_name}.Scalar(Scalar a) -> float", _fn, namespaces=_MATH)


def _log_base(a, b) -> float:
    return true_divide(_UNARY["log"](a), _UNARY["log"](b))


register("log.int_int(int a, int b) -> float", _log_base, namespaces=_MATH)
register("log.float_float(float a, float b) -> float", _log_base, namespaces=_MATH)


# ------------------------------------------------------------------ rounding to int

for _name, _fn in (("floor", math.floor), ("ceil", math.ceil), ("trunc", math.trunc)):
    register(f"{_name}.int(int a) -> int", _fn, namespaces=_MATH)
    register(f"{_name}.float(float a) -> int", _fn, namespaces=_MATH)
    register(f"{_name}.Scalar(Scalar a) -> int", _fn, namespaces=_MATH)


# ------------------------------------------------------------------ classification

for _name, _fn in (("isnan", math.isnan), ("isinf", math.isinf), ("isfinite", math.isfinite)):
    register(f"{_name}.int(int a) -> bool", _fn, namespaces=_MATH)
    register(f"{_name}.float(float a) -> bool", _fn, namespaces=_MATH)


# ------------------------------------------------------------------ two arguments

def _binary_c_function(python_fn: Callable, numpy_fn: Callable) -> Callable:
    def impl(a, b) -> float:
        try:
            return python_fn(a, b)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(numpy_fn(np.float64(a), np.float64(b)))
    impl.__name__ = python_fn.__name__
    return impl


_BINARY: dict[str, Callable] = {
    "atan2": _binary_c_function(math.atan2, np.arctan2),
    "fmod": _binary_c_function(math.fmod, np.fmod),
    "copysign": _binary_c_function(math.copysign, np.copysign),
    "hypot": _binary_c_function(math.hypot, np.hypot),
}
for _name, _fn in _BINARY.items():
    register(f"{_name}.int(int a, int b) -> float", _fn, namespaces=_MATH)
    register(f"{_name}.float(float a, float b) -> float", _fn, namespaces=_MATH)


def _ieee_remainder(a: float, b: float) -> float:
    try:
        return math.remainder(a, b)
    except ValueError:  # an infinite dividend or a zero divisor
        return math.nan


# ``math.remainder`` rounds the quotient to nearest, unlike ``%``; it shares only the name.
register("remainder.math_float(float a, float b) -> float", _ieee_remainder, namespaces=_MATH)


# ------------------------------------------------------------------ integers

def _factorial(a: int) -> int:
    return math.factorial(a)


register("gcd.int(int a, int b) -> int", math.gcd, namespaces=_MATH)
register("factorial.int(int a) -> int", _factorial, namespaces=_MATH)


# ------------------------------------------------------------------ decomposing floats

def _ldexp(x: float, i: int) -> float:
    try:
        return math.ldexp(x, i)
    except OverflowError:
        return math.copysign(math.inf, x)


def _isclose(a: float, b: float, rel_tol: float, abs_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


register("modf.float(float a) -> ((float, float))", math.modf, namespaces=_MATH)
register("frexp.float(float a) -> ((float, int))", math.frexp, namespaces=_MATH)
register("ldexp.float(float x, int i) -> float", _ldexp, namespaces=_MATH)
register("isclose.float(float a, float b, *, float rel_tol=1e-09, float abs_tol=0.0) -> bool",
         _isclose, namespaces=_MATH)
