"""Scans along the last axis that NumPy has no single call for."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def cumprod_backward_rows(x, g, out):
    """Gradient of ``cumprod`` for each row, exact when the row holds zeros.

    d out_j / d x_k = prod(x[:k]) * prod(x[k+1:j+1]) for j >= k, so the gradient at k is
    ``left_k * s_k`` with ``s_k = g_k + x_{k+1} * s_{k+1}``: no division by x.
    """
    rows, n = x.shape
    for r in range(rows):
        s = 0.0
        for k in range(n - 1, -1, -1):
            if k == n - 1:
                s = g[r, k]
            else:
                s = g[r, k] + x[r, k + 1] * s
            out[r, k] = s
        left = 1.0
        for k in range(n):
            out[r, k] = out[r, k] * left
            left = left * x[r, k]


def cumprod_backward_lastdim(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(g, dtype=x.dtype)
    out = np.empty_like(x)
    if x.size == 0:
        return out
    n = x.shape[-1]
    cumprod_backward_rows(x.reshape(-1, n), g.reshape(-1, n), out.reshape(-1, n))
    return out
