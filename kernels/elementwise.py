"""Elementwise CPU kernels that NumPy has no single ufunc for.

float32 ``sigmoid``, ``silu``, ``gelu`` and ``gelu_tanh`` are single-pass Numba loops over
contiguous data built from ``fastmath``'s vectorizable exp/erfc: NumPy would need four to
eight passes over memory, and Numba's ``math.exp``/``math.erf`` are scalar libm calls here
(see PERFORMANCE.md). ``error_model='numpy'`` keeps divisions free of the ZeroDivisionError
branch that blocks vectorization. Results are within ``2e-6 * max(|reference|, 1)`` of a
float64 reference (tests/kernels/test_activation_kernels.py). Non-contiguous float32 inputs and
float64 take the NumPy chains and ``@vectorize`` ufuncs below; float16 computes in float32.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from numba import njit, vectorize

from . import fastmath as _fm

warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)  # exp overflow -> inf

_SIGS = ["float32(float32)", "float64(float64)"]
_OPTS = dict(nopython=True, cache=True)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


@vectorize(_SIGS, **_OPTS)
def _erf(x):
    return math.erf(x)


@vectorize(_SIGS, **_OPTS)
def _erfc(x):
    return math.erfc(x)


@vectorize(_SIGS, **_OPTS)
def _gelu(x):
    return 0.5 * x * (1 + math.erf(x * 0.7071067811865476))


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
def _sigmoid_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = _ONE / (_ONE + _fm.exp_f32(-x[i]))


@njit(**_LOOP)
def _silu_loop(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v / (_ONE + _fm.exp_f32(-v))


@njit(**_LOOP)
def _gelu_loop(x, out):
    # x * Phi(x) from erfc of |x|: no cancellation in 1 + erf(x) for negative x
    for i in range(x.shape[0]):
        v = x[i]
        half_c = _HALF * _fm.erfc_abs_f32(abs(v) * _RSQRT2)
        out[i] = v * (_ONE - half_c) if v >= _ZERO else v * half_c


@njit(**_LOOP)
def _gelu_tanh_loop(x, out):
    # 0.5 x (1 + tanh(u)) == x / (1 + exp(-2u)): relative accuracy for negative x too
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = v / (_ONE + _fm.exp_f32(-(v * (_K0 + _K1 * v * v))))


def _single_pass(loop, fallback):
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype == _F32 and x.flags.c_contiguous:
            out = np.empty(x.shape, _F32)
            loop(x.reshape(-1), out.reshape(-1))
            return out
        return fallback(x)
    return run


# ------------------------------------------------------------------ NumPy chains (float64, strided)

def _half_safe(ufunc):
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype == np.float16:
            return ufunc(x.astype(np.float32)).astype(np.float16)
        return ufunc(x)
    run.__name__ = getattr(ufunc, "__name__", "kernel").lstrip("_")
    return run


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
        return _gelu(x)


sigmoid = _half_safe(_single_pass(_sigmoid_loop, _sigmoid_np))
silu = _half_safe(_single_pass(_silu_loop, _silu_np))
erf = _half_safe(_erf)
erfc = _half_safe(_erfc)
gelu = _half_safe(_single_pass(_gelu_loop, _gelu_np))
gelu_tanh = _half_safe(_single_pass(_gelu_tanh_loop, _gelu_tanh_np))
