"""Row kernels for normalization and the embedding scatter-add.

Single-threaded: these run next to BLAS calls in typical models (PERFORMANCE.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def layer_norm_rows(x, weight, bias, eps, out, mean, rstd):
    """Each (M, N) row is read from memory once: its statistics and its output are computed
    while the row is in cache. The variance is taken about the mean (no sum-of-squares
    cancellation) and accumulated in float64."""
    m, n = x.shape
    has_w = weight.shape[0] == n
    has_b = bias.shape[0] == n
    for i in range(m):
        s = 0.0
        for j in range(n):
            s += x[i, j]
        mu = s / n
        ss = 0.0
        for j in range(n):
            d = x[i, j] - mu
            ss += d * d
        r = 1.0 / np.sqrt(ss / n + eps)
        mean[i] = mu
        rstd[i] = r
        for j in range(n):
            y = (x[i, j] - mu) * r
            if has_w:
                y = y * weight[j]
            if has_b:
                y = y + bias[j]
            out[i, j] = y


@njit(cache=True, error_model="numpy")
def layer_norm_backward_rows(gy, x, weight, mean, rstd, gx, gw, gb):
    """gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * weight; gw and gb
    accumulate over rows in float64."""
    m, n = x.shape
    has_w = weight.shape[0] == n
    for i in range(m):
        mu = mean[i]
        r = rstd[i]
        sg = 0.0
        sgx = 0.0
        for j in range(n):
            xhat = (x[i, j] - mu) * r
            g = gy[i, j] * weight[j] if has_w else gy[i, j] * 1.0
            sg += g
            sgx += g * xhat
            gw[j] += gy[i, j] * xhat
            gb[j] += gy[i, j]
        sg /= n
        sgx /= n
        for j in range(n):
            xhat = (x[i, j] - mu) * r
            g = gy[i, j] * weight[j] if has_w else gy[i, j] * 1.0
            gx[i, j] = r * (g - sg - xhat * sgx)


@njit(cache=True, error_model="numpy")
def embedding_backward_kernel(gy, indices, padding_idx, gw):
    """gw[indices[i]] += gy[i]: repeated indices accumulate, padding_idx gets nothing."""
    m, d = gy.shape
    for i in range(m):
        k = indices[i]
        if k == padding_idx:
            continue
        for j in range(d):
            gw[k, j] += gy[i, j]


def empty_vector(dtype) -> np.ndarray:
    """The kernels' stand-in for an absent weight or bias (length 0 means "none")."""
    return np.empty(0, dtype=dtype)
