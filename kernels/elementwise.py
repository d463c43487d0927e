"""Elementwise CPU kernels: single-pass float32 loops, and what NumPy has no ufunc for.

float32 ``exp``, ``log``, ``tanh``, ``erf``, ``erfc``, ``sigmoid``, ``silu``, ``gelu``
and ``gelu_tanh`` are Numba loops over contiguous data built from ``fastmath``'s vectorizable
functions: NumPy would need up to eight passes over memory for the activations, and Numba's
``math.exp``/``math.erf`` are scalar libm calls here (see PERFORMANCE.md). The loops run on one
thread, vectorized 16 lanes wide, into results NumPy allocates. ``error_model='numpy'`` keeps
divisions free of the ZeroDivisionError branch that blocks vectorization. Results are within
``2e-6 * max(|reference|, 1)`` of a float64 reference (tests/kernels/test_activation_kernels.py,
tests/ops/test_elementwise_kernels.py). Non-contiguous float32 inputs and float64 take NumPy's
ufuncs, the NumPy chains and the ufuncs below (built on first use); float16 computes in float32.
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from numba import njit, vectorize

from . import fastmath as _fm
from .vector_width import wide_vectors

warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)  # exp overflow -> inf

_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)


# ------------------------------------------------------------------ ufuncs for float64 and strided

def _scalar_erf(x):
    return math.erf(x)


def _scalar_erfc(x):
    return math.erfc(x)


def _scalar_gelu(x):
    return 0.5 * x * (1 + math.erf(x * 0.7071067811865476))


@functools.cache
def _ufunc(scalar_function):
    """``scalar_function`` as a float32/float64 NumPy ufunc, built on its first use: building
    one loads its machine code for every signature, which the module's import should not pay."""
    return vectorize(["float32(float32)", "float64(float64)"], nopython=True,
                     cache=True)(scalar_function)


def _erf(x: np.ndarray) -> np.ndarray:
    return _ufunc(_scalar_erf)(x)


def _erfc(x: np.ndarray) -> np.ndarray:
    return _ufunc(_scalar_erfc)(x)


# ------------------------------------------------------------------ float32 single-pass loops
#
# fastmath's functions are inlined into these loops, and Numba's on-disk cache watches only
# this file: after editing fastmath.py, touch this file (or clear __pycache__) so that the
# loops recompile.

_LOOP = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract"})
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_ZERO = np.float32(0.0)
_RSQRT2 = np.float32(0.7071067811865476)
_K0 = np.float32(2 * 0.7978845608028654)  # 2 * sqrt(2 / pi)
_K1 = np.float32(2 * 0.7978845608028654 * 0.044715)


@njit(**_LOOP)
def _exp_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = _fm.exp_f32(x[i])


@njit(**_LOOP)
def _log_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = _fm.log_f32(x[i])


@njit(**_LOOP)
def _tanh_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = _fm.tanh_f32(x[i])


@njit(**_LOOP)
def _erf_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = _fm.erf_f32(x[i])


@njit(**_LOOP)
def _erfc_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = _fm.erfc_f32(x[i])


@njit(**_LOOP)
def _sigmoid_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = _ONE / (_ONE + _fm.exp_f32(-x[i]))


@njit(**_LOOP)
def _silu_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v / (_ONE + _fm.exp_f32(-v))


# GELU's float32 result needs erf only to an absolute 1e-6 (its error is scaled by |x| / 2 and
# measured against max(|gelu(x)|, 1)), which a rational function of x^2 gives without the exp
# and the division erfc needs for relative accuracy. The coefficients are Eigen's
# (``generic_fast_erf_float``); beyond |x| = 4 sqrt(2), gelu(x) is x or -0.0 in float32.
_N1, _N3, _N5, _N7, _N9, _N11, _N13 = (np.float32(c) for c in (  # numerator, odd powers
    -1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05,
    -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10))
_D0, _D2, _D4, _D6, _D8 = (np.float32(c) for c in (  # denominator, even powers
    -1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04,
    -1.45660718464996e-05))
_GELU_EDGE = np.float32(4 * 1.4142135623730951)


@njit(**_LOOP)
def _gelu_loop(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        v = x[i]
        z = v * _RSQRT2
        z2 = z * z
        p = z * (_N1 + z2 * (_N3 + z2 * (_N5 + z2 * (_N7 + z2 * (_N9 + z2 * (_N11 + z2 * _N13))))))
        q = _D0 + z2 * (_D2 + z2 * (_D4 + z2 * (_D6 + z2 * _D8)))
        y = _HALF * v * (_ONE + p / q)
        y = v if v > _GELU_EDGE else y
        y = v * _ZERO if v < -_GELU_EDGE else y  # -0.0, and nan for -inf as in PyTorch
        out[i] = v if v != v else y


@njit(**_LOOP)
def _gelu_tanh_loop(x, out):
    wide_vectors()
    # 0.5 x (1 + tanh(u)) == x / (1 + exp(-2u)): relative accuracy for negative x too
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v / (_ONE + _fm.exp_f32(-(v * (_K0 + _K1 * v * v))))


def _run_loop(loop, x: np.ndarray) -> np.ndarray:
    """``loop`` over C-contiguous float32 ``x`` into a NumPy-allocated result: NumPy's
    allocator asks for huge pages for large buffers, Numba's would page-fault every 4 KiB."""
    out = np.empty_like(x)
    loop(x.ravel(), out.ravel())
    return out


# NumPy's own float32 exp, log and tanh are SIMD loops too, and a ufunc call costs a third of
# a Numba dispatch: below this many elements they win.
_LOOP_MIN = 4096


def _loop_or_ufunc(loop, ufunc):
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype is _F32 and x.size >= _LOOP_MIN and x.flags.c_contiguous:
            return _run_loop(loop, x)
        return ufunc(x)
    run.__name__ = ufunc.__name__
    return run


def _loop_or_fallback(loop, fallback):
    """The loop for every C-contiguous float32 array; float16 computes in float32."""
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype is _F32 and x.flags.c_contiguous:
            return _run_loop(loop, x)
        if x.dtype == _F16:
            return run(x.astype(_F32)).astype(_F16)
        return fallback(x)
    run.__name__ = fallback.__name__.strip("_").removesuffix("_np")
    return run


# ------------------------------------------------------------------ NumPy chains (float64, strided)

def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) keeps relative accuracy at both ends; e^-x overflowing to inf gives 0
    out = np.negative(x, out=np.empty_like(x))  # out= keeps 0-d results arrays
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _silu_np(x: np.ndarray) -> np.ndarray:
    out = _sigmoid_np(x)
    out *= x
    return out


_C0 = 0.7978845608028654  # sqrt(2 / pi)
_C1 = 0.044715


def _gelu_tanh_np(x: np.ndarray) -> np.ndarray:
    t = x.dtype.type
    out = np.multiply(x, x, out=np.empty_like(x))
    out *= t(_C0 * _C1)
    out += t(_C0)
    out *= x
    np.tanh(out, out=out)
    out += 1
    out *= x
    out *= t(0.5)
    return out


def _gelu_np(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # gelu(-inf) is nan, as in PyTorch
        return _ufunc(_scalar_gelu)(x)


exp = _loop_or_ufunc(_exp_loop, np.exp)
log = _loop_or_ufunc(_log_loop, np.log)
tanh = _loop_or_ufunc(_tanh_loop, np.tanh)
sigmoid = _loop_or_fallback(_sigmoid_loop, _sigmoid_np)
silu = _loop_or_fallback(_silu_loop, _silu_np)
erf = _loop_or_fallback(_erf_loop, _erf)
erfc = _loop_or_fallback(_erfc_loop, _erfc)
gelu = _loop_or_fallback(_gelu_loop, _gelu_np)
gelu_tanh = _loop_or_fallback(_gelu_tanh_loop, _gelu_tanh_np)
