"""Elementwise CPU kernels that NumPy has no single ufunc for.

``erf``, ``erfc`` and the erf-based ``gelu`` are Numba ufuncs (``@vectorize``: strides and
broadcasting come for free) compiled for float32 and float64 and cached on disk. The
sigmoid and tanh based ones are short NumPy chains written into one buffer: NumPy's ``tanh``/``exp`` are
SIMD-vectorized, while Numba calls scalar libm here (about 10x slower per element, see
PERFORMANCE.md). float16 inputs compute in float32.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from numba import vectorize

warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)  # exp overflow -> inf

_SIGS = ["float32(float32)", "float64(float64)"]
_OPTS = dict(nopython=True, cache=True)


@vectorize(_SIGS, **_OPTS)
def _erf(x):
    return math.erf(x)


@vectorize(_SIGS, **_OPTS)
def _erfc(x):
    return math.erfc(x)


@vectorize(_SIGS, **_OPTS)
def _gelu(x):
    return 0.5 * x * (1 + math.erf(x * 0.7071067811865476))


def _half_safe(ufunc):
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype == np.float16:
            return ufunc(x.astype(np.float32)).astype(np.float16)
        return ufunc(x)
    run.__name__ = getattr(ufunc, "__name__", "kernel").lstrip("_")
    return run


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) keeps relative accuracy at both ends; e^-x overflowing to inf gives 0
    out = np.negative(x, out=np.empty_like(x))  # out= keeps 0-d results arrays
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _silu(x: np.ndarray) -> np.ndarray:
    out = _sigmoid(x)
    out *= x
    return out


_C0 = 0.7978845608028654  # sqrt(2 / pi)
_C1 = 0.044715


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
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


sigmoid = _half_safe(_sigmoid)
silu = _half_safe(_silu)
erf = _half_safe(_erf)
erfc = _half_safe(_erfc)
gelu = _half_safe(_gelu)
gelu_tanh = _half_safe(_gelu_tanh)
