"""2-D pooling kernels over (B, H, W) planes, B = batch * channels (1-D pooling is H=1).

Window arithmetic follows PyTorch's CPU kernels, so padded and ceil-mode windows, the
divisor of average pooling and the overlapping windows of adaptive pooling match exactly.
Max pooling records the flat index h * W + w of each maximum (PyTorch's ``indices``); a NaN
in a window wins, as in PyTorch.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def pooled_size(
    size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool
) -> int:
    numer = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numer // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


@njit(cache=True, error_model="numpy")
def max_pool2d_kernel(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    nb, h, w = x.shape
    _, oh, ow = out.shape
    for b in range(nb):
        for i in range(oh):
            h0 = i * sh - ph
            for j in range(ow):
                w0 = j * sw - pw
                best = -np.inf
                best_at = -1
                for a in range(kh):
                    r = h0 + a * dh
                    if r < 0 or r >= h:
                        continue
                    for c in range(kw):
                        col = w0 + c * dw
                        if col < 0 or col >= w:
                            continue
                        v = x[b, r, col]
                        if best_at == -1 or v > best or np.isnan(v):
                            best = v
                            best_at = r * w + col
                out[b, i, j] = best
                idx[b, i, j] = best_at


@njit(cache=True, error_model="numpy")
def max_pool2d_backward_kernel(gy, idx, gx):
    nb, oh, ow = gy.shape
    w = gx.shape[2]
    for b in range(nb):
        for i in range(oh):
            for j in range(ow):
                k = idx[b, i, j]
                if k >= 0:
                    gx[b, k // w, k % w] += gy[b, i, j]


@njit(cache=True, error_model="numpy")
def _avg_window(i, stride, pad, kernel, size):
    start = i * stride - pad
    end = min(start + kernel, size + pad)
    padded = end - start
    start = max(start, 0)
    end = min(end, size)
    return start, end, padded


@njit(cache=True, error_model="numpy")
def avg_pool2d_kernel(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    nb, h, w = x.shape
    _, oh, ow = out.shape
    for b in range(nb):
        for i in range(oh):
            r0, r1, prow = _avg_window(i, sh, ph, kh, h)
            for j in range(ow):
                c0, c1, pcol = _avg_window(j, sw, pw, kw, w)
                acc = x.dtype.type(0)
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        acc += x[b, r, c]
                if divisor > 0:
                    d = divisor
                elif count_include_pad:
                    d = prow * pcol
                else:
                    d = (r1 - r0) * (c1 - c0)
                if r0 >= r1 or c0 >= c1:
                    out[b, i, j] = 0
                else:
                    out[b, i, j] = acc / d


@njit(cache=True, error_model="numpy")
def avg_pool2d_backward_kernel(gy, gx, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    nb, h, w = gx.shape
    _, oh, ow = gy.shape
    for b in range(nb):
        for i in range(oh):
            r0, r1, prow = _avg_window(i, sh, ph, kh, h)
            for j in range(ow):
                c0, c1, pcol = _avg_window(j, sw, pw, kw, w)
                if r0 >= r1 or c0 >= c1:
                    continue
                if divisor > 0:
                    d = divisor
                elif count_include_pad:
                    d = prow * pcol
                else:
                    d = (r1 - r0) * (c1 - c0)
                g = gy[b, i, j] / d
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        gx[b, r, c] += g


def adaptive_bounds(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's windows: [floor(i*I/O), ceil((i+1)*I/O)), overlapping when O does not divide I."""
    i = np.arange(out_size)
    start = (i * in_size) // out_size
    end = -((-(i + 1) * in_size) // out_size)
    return start.astype(np.int64), end.astype(np.int64)


@njit(cache=True, error_model="numpy")
def adaptive_avg_pool2d_kernel(x, out, hs, he, ws, we):
    nb = x.shape[0]
    _, oh, ow = out.shape
    for b in range(nb):
        for i in range(oh):
            for j in range(ow):
                acc = x.dtype.type(0)
                for r in range(hs[i], he[i]):
                    for c in range(ws[j], we[j]):
                        acc += x[b, r, c]
                out[b, i, j] = acc / ((he[i] - hs[i]) * (we[j] - ws[j]))


@njit(cache=True, error_model="numpy")
def adaptive_avg_pool2d_backward_kernel(gy, gx, hs, he, ws, we):
    nb = gy.shape[0]
    _, oh, ow = gy.shape
    for b in range(nb):
        for i in range(oh):
            for j in range(ow):
                g = gy[b, i, j] / ((he[i] - hs[i]) * (we[j] - ws[j]))
                for r in range(hs[i], he[i]):
                    for c in range(ws[j], we[j]):
                        gx[b, r, c] += g


@njit(cache=True, error_model="numpy")
def adaptive_max_pool2d_kernel(x, out, idx, hs, he, ws, we):
    nb, _, w = x.shape
    _, oh, ow = out.shape
    for b in range(nb):
        for i in range(oh):
            for j in range(ow):
                best = -np.inf
                best_at = -1
                for r in range(hs[i], he[i]):
                    for c in range(ws[j], we[j]):
                        v = x[b, r, c]
                        if best_at == -1 or v > best or np.isnan(v):
                            best = v
                            best_at = r * w + c
                out[b, i, j] = best
                idx[b, i, j] = best_at
