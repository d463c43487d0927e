"""Softmax and log-softmax along one axis for float16 and float64.

float32 has compiled row kernels (``rowwise.py``, built on ``fastmath.exp_f32``); the other
float dtypes keep these vectorized NumPy passes, which work along any axis without a
transposed copy and use libm's exp. The temporaries are reused in place.
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
