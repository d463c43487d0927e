"""Vectorizable transcendental functions for generated kernels.

Numba has no SVML here, so ``math.exp`` and ``math.tanh`` compile to scalar libm calls that
stop the loop vectorizer (about 15 ns per tanh). These are straight-line approximations built
from multiplies, adds, compares, selects and bit casts, which LLVM turns into AVX2/AVX-512 code.
They are plain ``@njit`` functions: when a kernel's module is linked, LLVM inlines them into
the loop that calls them, so the loop still vectorizes, at a third of the compile time of
Numba's IR-level ``inline="always"`` (``bench/fastmath.py`` measures both).

Accuracy (float32, measured against a float64 reference by tests/kernels/test_fastmath.py):
every result is within ``2e-6 * max(|reference|, 1)``; exp and log are within 2.5 ulp,
tanh and erf within 7e-7. Results below float32's normal range (|exp result| < 1.8e-38) flush to
zero. NaN propagates and infinities give libm's limits (exp(inf) = inf, exp(-inf) = 0,
log(0) = -inf, log(x < 0) = NaN; tanh and erf of ±inf are ±1 to within the bound above).
float64 kernels use the ``*_f64`` functions, which are libm calls except ``exp_f64``: the
float64 goals are correctness, and libm is exact to an ulp.

Constants are float32 in the float32 functions: a Python float would promote the arithmetic
to float64 and halve the vector width. Clamps are written ``c if x > c else x`` so that a NaN
fails the compare and passes through, which spares the NaN selects.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_OPTS = dict(error_model="numpy", fastmath={"contract", "nsz", "arcp"}, cache=True)


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


_SQRT_HALF_BITS = 0x3F3504F3


@intrinsic
def _split_exponent(typingctx, value):
    """``(m, e)`` as float32 with ``value = m * 2**e`` and ``m`` in [sqrt(.5), sqrt(2)), for a
    positive normal float32 ``value``. In Python the integer steps would widen to int64, which
    halves the vector width."""
    if value != types.float32:
        return None
    pair = types.UniTuple(types.float32, 2)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        bits = builder.bitcast(args[0], i32)
        shift = ir.Constant(i32, 23)
        exponent = builder.ashr(builder.sub(bits, ir.Constant(i32, _SQRT_HALF_BITS)), shift)
        mantissa = builder.bitcast(builder.sub(bits, builder.shl(exponent, shift)), ir.FloatType())
        values = (mantissa, builder.sitofp(exponent, ir.FloatType()))
        return context.make_tuple(builder, pair, values)
    return pair(types.float32), codegen


@intrinsic
def _f64_from_bits(typingctx, bits):
    if not isinstance(bits, types.Integer) or bits.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


# ------------------------------------------------------------------ float32

_F = np.float32
_ONE = _F(1.0)
_HALF = _F(0.5)
_ZERO = _F(0.0)
_TWO = _F(2.0)
_INF32 = _F(np.inf)
_NAN32 = _F(np.nan)

_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693145751953125)  # 12 significant bits: k * _LN2_HI is exact for |k| < 2048
_LN2_LO = _F(1.4286068203094173e-06)
# Adding 1.5 * 2**23 rounds x / ln2 to the nearest integer k and leaves k + 126 in the low
# mantissa bits, so shifting the sum's bits left by 23 gives the float 2**(k - 1) with no
# float-to-int conversion; the polynomial computes 2 * e**r to make up the missing factor 2.
# k - 1 rather than k keeps 2**(k - 1) a normal float up to k = 128, where the product
# overflows to inf on its own.
_EXP_SHIFT = _F(1.5 * 2**23 + 126)
# Clamping x to [-87.5, 89] keeps k + 126 in [0, 254]: at 89 the product is already inf, at
# -87.5 the scale is already zero
_EXP_HI = _F(89.0)
_EXP_LO = _F(-87.5)
# 2 * (minimax polynomial of e**r on |r| <= ln2/2 with constant term 1, so that exp(0) is
# exactly 1; 9.5e-8 relative)
_X0, _X1, _X2, _X3, _X4, _X5 = (_F(2 * c) for c in (
    1.0, 0.9999997019767761, 0.4999915063381195, 0.1666763573884964, 0.04189793020486832,
    0.008290315046906471))


@njit(**_OPTS)
def exp_f32(x):
    xc = _EXP_HI if x > _EXP_HI else x
    xc = _EXP_LO if xc < _EXP_LO else xc
    shifted = xc * _LOG2E + _EXP_SHIFT
    k = shifted - _EXP_SHIFT
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = _X0 + r * (_X1 + r * (_X2 + r * (_X3 + r * (_X4 + r * _X5))))
    return p * _f32_from_bits(_bits_from_f32(shifted) << np.int32(23))


_LN2 = _F(0.6931471805599453)
_TINY32 = _F(1.1754944e-38)
_TWO23 = _F(8388608.0)
# log(1 + f) = f + f**2 * Q(f) on f in [sqrt(.5) - 1, sqrt(2) - 1], Q minimax: 7e-9 absolute
_G0, _G1, _G2, _G3, _G4, _G5, _G6, _G7 = (_F(c) for c in (
    -0.4999998211860657, 0.3333422541618347, -0.2500249147415161, 0.19953612983226776,
    -0.16552336513996124, 0.14979292452335358, -0.14441870152950287, 0.08733604848384857))


@njit(**_OPTS)
def log_f32(x):
    # subnormal inputs are scaled into the normal range first
    sub = x < _TINY32
    m, e = _split_exponent(x * _TWO23 if sub else x)
    f = m - _ONE
    e = e - (_F(23.0) if sub else _ZERO)
    q = _G0 + f * (_G1 + f * (_G2 + f * (_G3 + f * (_G4 + f * (_G5 + f * (_G6 + f * _G7))))))
    y = e * _LN2 + (f + (f * f) * q)
    y = -_INF32 if x == _ZERO else y
    y = _NAN32 if x < _ZERO else y
    return y if x < _INF32 else x  # inf and NaN are their own logs


# tanh(x) = x P(x**2) / Q(x**2), a rational minimax fit on [0, 7.9053] (Eigen's form, refitted
# to degree 9/6: 4.7e-7 absolute in float32); beyond 7.9053 tanh rounds to 1 in float32
_TANH_MAX = _F(7.9053111)
_TP0, _TP1, _TP2, _TP3, _TP4 = (_F(c) for c in (
    0.9999998211860657, 0.12720465660095215, 0.0027047372423112392, 7.225525223475415e-06,
    -6.25675067311704e-09))
_TQ1, _TQ2, _TQ3 = (_F(c) for c in (
    0.4605364203453064, 0.022885670885443687, 0.00019781861919909716))


@njit(**_OPTS)
def tanh_f32(x):
    xc = _TANH_MAX if x > _TANH_MAX else x
    xc = -_TANH_MAX if xc < -_TANH_MAX else xc
    x2 = xc * xc
    p = xc * (_TP0 + x2 * (_TP1 + x2 * (_TP2 + x2 * (_TP3 + x2 * _TP4))))
    q = _ONE + x2 * (_TQ1 + x2 * (_TQ2 + x2 * _TQ3))
    return p / q


@njit(**_OPTS)
def sigmoid_f32(x):
    # through exp rather than tanh: keeps the relative accuracy of tiny results for x << 0
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


# erf(x) = x P(x**2) / Q(x**2), a rational minimax fit on [0, 3.8325] (6.6e-7 absolute in
# float32); beyond 3.8325 erf rounds to 1 in float32
_ERF_MAX = _F(3.8325069)
_EP0, _EP1, _EP2, _EP3, _EP4, _EP5 = (_F(c) for c in (
    1.1283787488937378, 0.3709074556827545, 0.0731625109910965, 0.01054627075791359,
    0.0002691122645046562, -1.5501291272812523e-06))
_EQ1, _EQ2, _EQ3, _EQ4 = (_F(c) for c in (
    0.6620311737060547, 0.18556882441043854, 0.0287032388150692, 0.0024923691526055336))


@njit(**_OPTS)
def erf_f32(x):
    xc = _ERF_MAX if x > _ERF_MAX else x
    xc = -_ERF_MAX if xc < -_ERF_MAX else xc
    x2 = xc * xc
    p = xc * (_EP0 + x2 * (_EP1 + x2 * (_EP2 + x2 * (_EP3 + x2 * (_EP4 + x2 * _EP5)))))
    q = _ONE + x2 * (_EQ1 + x2 * (_EQ2 + x2 * (_EQ3 + x2 * _EQ4)))
    return p / q


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


# Taylor coefficients of e**x - 1 - x
_E2, _E3, _E4, _E5 = (_F(1 / 2), _F(1 / 6), _F(1 / 24), _F(1 / 120))


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


__all__ = ["FUNCTIONS", "maximum", "minimum", "fmax", "fmin", "exp_f32", "log_f32", "tanh_f32",
           "sigmoid_f32", "erf_f32", "erfc_f32", "erfc_abs_f32", "log1p_f32", "expm1_f32",
           "exp_f64", "log_f64", "tanh_f64", "sigmoid_f64", "erf_f64", "erfc_f64", "log1p_f64",
           "expm1_f64"]
