"""Vectorizable transcendental functions for generated kernels.

Numba has no SVML here, so ``math.exp`` and ``math.tanh`` compile to scalar libm calls that
stop the loop vectorizer (about 15 ns per tanh). These are straight-line polynomial
approximations built from multiplies, adds, compares, selects and bit casts, which LLVM turns
into AVX-512 code. Every function is inlined into the kernel that calls it.

Accuracy (float32, measured against a float64 reference by tests/kernels/test_fastmath.py):
every result is within ``2e-6 * max(|reference|, 1)``; exp and log are within a few ulp.
Inputs below float32's normal range (|exp result| < 1.2e-38) flush to zero. NaN and inf
propagate as in libm. float64 kernels use the ``*_f64`` functions, which are libm calls except
``exp_f64``: the float64 goals are correctness, and libm is exact to an ulp.

Constants are float32 in the float32 functions: a Python float would promote the arithmetic
to float64 and halve the vector width.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_OPTS = dict(inline="always", error_model="numpy", fastmath={"contract", "nsz", "arcp"}, cache=True)


@intrinsic
def _f32_from_bits(typingctx, bits):
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(32)) if bits.bitwidth > 32 else args[0]
        return builder.bitcast(low, ir.FloatType())
    return types.float32(bits), codegen


@intrinsic
def _bits_from_f32(typingctx, value):
    if value != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _f64_from_bits(typingctx, bits):
    if not isinstance(bits, types.Integer) or bits.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


# ------------------------------------------------------------------ float32

_F = np.float32
_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693145751953125)  # exactly representable; k * _LN2_HI is exact for |k| < 256
_LN2_LO = _F(1.4286068203094173e-06)
_EXP_HI = _F(88.72283)  # exp overflows float32 above this
_EXP_LO = _F(-87.0)  # below this the result is (nearly) subnormal: flushed to zero
_ONE = _F(1.0)
_HALF = _F(0.5)
_ZERO = _F(0.0)
_INF32 = _F(np.inf)
_TWO = _F(2.0)
# Taylor coefficients of e^r on |r| <= ln2/2 (degree 6: truncation 1.2e-7 relative)
_E2, _E3, _E4, _E5, _E6 = (_F(1 / 2), _F(1 / 6), _F(1 / 24), _F(1 / 120), _F(1 / 720))


@njit(**_OPTS)
def exp_f32(x):
    xc = x if x > _EXP_LO else _EXP_LO
    xc = xc if xc < _EXP_HI else _EXP_HI
    v = xc * _LOG2E
    # fptosi truncates and vectorizes (np.floor is a libm call); rounding half away from zero
    # keeps |r| <= ln2/2
    ki = np.int32(v + (_HALF if v >= _ZERO else -_HALF))
    k = _F(ki)
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = _ONE + r * (_ONE + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * _E6)))))
    # 2^(k-1) * 2 keeps the scale a normal float for k = 128
    scale = _f32_from_bits((ki + np.int32(126)) << np.int32(23))
    y = (p * scale) * _TWO
    y = _INF32 if x > _EXP_HI else y
    y = _ZERO if x < _EXP_LO else y
    return x if x != x else y


_SQRT_HALF_BITS = np.int32(0x3F3504F3)  # sqrt(0.5): mantissas are reduced to [sqrt(.5), sqrt(2))
_L3, _L5, _L7, _L9 = _F(2 / 3), _F(2 / 5), _F(2 / 7), _F(2 / 9)
_LN2 = _F(0.6931471805599453)
_TINY32 = _F(1.1754944e-38)
_TWO23 = _F(8388608.0)
_NAN32 = _F(np.nan)


@njit(**_OPTS)
def log_f32(x):
    sub = x < _TINY32
    xs = x * _TWO23 if sub else x
    bits = _bits_from_f32(xs)
    # shift the exponent so the mantissa lands in [sqrt(.5), sqrt(2))
    e = ((bits - _SQRT_HALF_BITS) >> np.int32(23))
    m = _f32_from_bits(bits - (e << np.int32(23)))
    ef = _F(e) - (_F(23.0) if sub else _ZERO)
    s = (m - _ONE) / (m + _ONE)
    s2 = s * s
    y = ef * _LN2 + s * (_F(2.0) + s2 * (_L3 + s2 * (_L5 + s2 * (_L7 + s2 * _L9))))
    y = -_INF32 if x == _ZERO else y
    y = _NAN32 if x < _ZERO else y
    y = _INF32 if x == _INF32 else y
    return x if x != x else y


_T3, _T5, _T7 = _F(-1 / 3), _F(2 / 15), _F(-17 / 315)
_TANH_SMALL = _F(0.0625)


@njit(**_OPTS)
def tanh_f32(x):
    ax = abs(x)
    big = _ONE - _TWO / (exp_f32(_TWO * ax) + _ONE)
    x2 = x * x
    small = x + x * x2 * (_T3 + x2 * (_T5 + x2 * _T7))
    t = small if ax < _TANH_SMALL else (big if x >= _ZERO else -big)
    return x if x != x else t


@njit(**_OPTS)
def sigmoid_f32(x):
    return _ONE / (_ONE + exp_f32(-x))


# Numerical Recipes' erfc(z) = t * exp(-z^2 + P(t)), t = 1 / (1 + z/2): 1.2e-7 relative
_P = tuple(_F(c) for c in (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                          0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277))
_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7, _P8, _P9 = _P


@njit(**_OPTS)
def erfc_abs_f32(z):
    t = _ONE / (_ONE + _HALF * z)
    p = _P0 + t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * (_P5 + t * (
        _P6 + t * (_P7 + t * (_P8 + t * _P9))))))))
    return t * exp_f32(-z * z + p)


_ERF_SMALL = _F(0.25)
_R1, _R3, _R5, _R7 = (_F(2 / math.sqrt(math.pi)), _F(-2 / (3 * math.sqrt(math.pi))),
                      _F(1 / (5 * math.sqrt(math.pi))), _F(-1 / (21 * math.sqrt(math.pi))))


@njit(**_OPTS)
def erf_f32(x):
    ax = abs(x)
    big = _ONE - erfc_abs_f32(ax)
    x2 = x * x
    small = x * (_R1 + x2 * (_R3 + x2 * (_R5 + x2 * _R7)))
    y = small if ax < _ERF_SMALL else (big if x >= _ZERO else -big)
    return x if x != x else y


@njit(**_OPTS)
def erfc_f32(x):
    ax = abs(x)
    c = erfc_abs_f32(ax)
    y = c if x >= _ZERO else _TWO - c
    return x if x != x else y


@njit(**_OPTS)
def log1p_f32(x):
    # log(1 + x) loses the low bits of x; the correction term (x - (u - 1)) / u restores them
    u = _ONE + x
    d = u - _ONE
    exact = d == _ZERO or u <= _ZERO or u == _INF32
    corr = _ZERO if exact else (x - d) / u
    y = log_f32(u) + corr
    return x if d == _ZERO else y


@njit(**_OPTS)
def expm1_f32(x):
    ax = abs(x)
    x2 = x * x
    small = x + x2 * (_E2 + x * (_E3 + x * (_E4 + x * _E5)))
    return small if ax < _F(0.125) else exp_f32(x) - _ONE


# ------------------------------------------------------------------ float64

_D = np.float64
_LOG2E64 = 1.4426950408889634
_LN2_HI64 = 0.6931471803691238
_LN2_LO64 = 1.9082149292705877e-10
_EXP_HI64 = 709.782712893384
_EXP_LO64 = -708.3964185322641
_C64 = tuple(1.0 / math.factorial(i) for i in range(2, 13))
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12 = _C64


@njit(**_OPTS)
def exp_f64(x):
    xc = x if x > _EXP_LO64 else _EXP_LO64
    xc = xc if xc < _EXP_HI64 else _EXP_HI64
    v = xc * _LOG2E64
    ki = np.int64(v + (0.5 if v >= 0.0 else -0.5))
    k = np.float64(ki)
    r = (xc - k * _LN2_HI64) - k * _LN2_LO64
    p = 1.0 + r * (1.0 + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (
        _C7 + r * (_C8 + r * (_C9 + r * (_C10 + r * (_C11 + r * _C12)))))))))))
    scale = _f64_from_bits((ki + np.int64(1022)) << np.int64(52))
    y = (p * scale) * 2.0
    y = np.inf if x > _EXP_HI64 else y
    y = 0.0 if x < _EXP_LO64 else y
    return x if x != x else y


@njit(**_OPTS)
def log_f64(x):
    return math.log(x) if x > 0.0 else (-np.inf if x == 0.0 else (x if x != x else np.nan))


@njit(**_OPTS)
def tanh_f64(x):
    return math.tanh(x)


@njit(**_OPTS)
def sigmoid_f64(x):
    return 1.0 / (1.0 + exp_f64(-x))


@njit(**_OPTS)
def erf_f64(x):
    return math.erf(x)


@njit(**_OPTS)
def erfc_f64(x):
    return math.erfc(x)


@njit(**_OPTS)
def log1p_f64(x):
    return math.log1p(x) if x >= -1.0 else (-np.inf if x == -1.0 else np.nan)


@njit(**_OPTS)
def expm1_f64(x):
    return math.expm1(x)


# name in a scalar expression -> (float32 function, float64 function)
FUNCTIONS = {
    "exp": ("exp_f32", "exp_f64"),
    "log": ("log_f32", "log_f64"),
    "tanh": ("tanh_f32", "tanh_f64"),
    "sigmoid": ("sigmoid_f32", "sigmoid_f64"),
    "erf": ("erf_f32", "erf_f64"),
    "erfc": ("erfc_f32", "erfc_f64"),
    "log1p": ("log1p_f32", "log1p_f64"),
    "expm1": ("expm1_f32", "expm1_f64"),
}



# ------------------------------------------------------------------ NaN-propagating extrema

@njit(**_OPTS)
def maximum(a, b):
    return a if (a > b) | (a != a) else b


@njit(**_OPTS)
def minimum(a, b):
    return a if (a < b) | (a != a) else b


@njit(**_OPTS)
def fmax(a, b):
    return a if (a > b) | (b != b) else b


@njit(**_OPTS)
def fmin(a, b):
    return a if (a < b) | (b != b) else b


__all__ = ["FUNCTIONS", "maximum", "minimum", "fmax", "fmin", "exp_f32", "log_f32", "tanh_f32", "sigmoid_f32", "erf_f32", "erfc_f32",
           "log1p_f32", "expm1_f32", "exp_f64", "log_f64", "tanh_f64", "sigmoid_f64", "erf_f64",
           "erfc_f64", "log1p_f64", "expm1_f64"]
