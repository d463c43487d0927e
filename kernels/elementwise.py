"""Elementwise CPU kernels that NumPy has no single ufunc for.

Each is a Numba ufunc (``@vectorize``, so strides and broadcasting come for free) compiled for
float32 and float64 and cached on disk; float16 inputs compute in float32. Written as one pass
over memory instead of NumPy's chain of temporaries.
"""
from __future__ import annotations

import math

import numpy as np
from numba import vectorize

_SIGS = ["float32(float32)", "float64(float64)"]
_OPTS = dict(nopython=True, cache=True)


@vectorize(_SIGS, **_OPTS)
def _sigmoid(x):
    # exp(-x) overflows to inf for very negative x, and 1 / inf is the correct 0
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


@vectorize(_SIGS, **_OPTS)
def _silu(x):
    if x >= 0:
        return x / (1 + math.exp(-x))
    e = math.exp(x)
    return x * e / (1 + e)


@vectorize(_SIGS, **_OPTS)
def _erf(x):
    return math.erf(x)


@vectorize(_SIGS, **_OPTS)
def _erfc(x):
    return math.erfc(x)


@vectorize(_SIGS, **_OPTS)
def _gelu(x):
    return 0.5 * x * (1 + math.erf(x * 0.7071067811865476))


@vectorize(_SIGS, **_OPTS)
def _gelu_tanh(x):
    return 0.5 * x * (1 + math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


def _half_safe(ufunc):
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype == np.float16:
            return ufunc(x.astype(np.float32)).astype(np.float16)
        return ufunc(x)
    run.__name__ = ufunc.__name__.lstrip("_")
    return run


sigmoid = _half_safe(_sigmoid)
silu = _half_safe(_silu)
erf = _half_safe(_erf)
erfc = _half_safe(_erfc)
gelu = _half_safe(_gelu)
gelu_tanh = _half_safe(_gelu_tanh)
