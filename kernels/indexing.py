"""Scatter-style kernels: accumulate into an array at indices, checking every index.

Each kernel returns the position (in its index array) of the first out-of-range index, or -1;
the op that called it turns that into the exception PyTorch raises. ``np.add.at`` would do the
accumulation but neither checks bounds in the same pass nor handles ``multiply``/``amax``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

ASSIGN, ADD, MULTIPLY, AMAX, AMIN = 0, 1, 2, 3, 4
REDUCE_MODES = {"assign": ASSIGN, "add": ADD, "sum": ADD, "multiply": MULTIPLY, "prod": MULTIPLY,
                "amax": AMAX, "amin": AMIN}


@njit(cache=True, error_model="numpy")
def scatter_flat(out, base, index, stride, size, src, mode):
    """``out[base[i] + index[i] * stride] (op)= src[i]`` for each i, ``index`` in [0, size)."""
    for i in range(index.shape[0]):
        j = index[i]
        if j < 0 or j >= size:
            return i
        k = base[i] + j * stride
        v = src[i]
        if mode == 0:
            out[k] = v
        elif mode == 1:
            out[k] += v
        elif mode == 2:
            out[k] *= v
        elif mode == 3:
            if not out[k] >= v:
                out[k] = v
        else:
            if not out[k] <= v:
                out[k] = v
    return -1


@njit(cache=True, error_model="numpy")
def index_add_3d(out, index, src, alpha):
    """``out[:, index[j], :] += alpha * src[:, j, :]``; ``out``, ``src`` are (outer, n, inner)."""
    n = out.shape[1]
    for j in range(index.shape[0]):
        t = index[j]
        if t < -n or t >= n:
            return j
    for o in range(out.shape[0]):
        for j in range(index.shape[0]):
            t = index[j]
            if t < 0:
                t += n
            for i in range(out.shape[2]):
                out[o, t, i] += alpha * src[o, j, i]
    return -1


def scatter(out: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray, mode: int) -> int:
    """Scatter ``src`` (shaped like ``index``) into the C-contiguous ``out`` along ``dim``."""
    shape = index.shape
    strides = [s // out.itemsize for s in out.strides]
    base = np.zeros(shape, dtype=np.int64)
    for d in range(index.ndim):
        if d != dim:
            ax = np.arange(shape[d], dtype=np.int64) * strides[d]
            base += ax.reshape([-1 if e == d else 1 for e in range(index.ndim)])
    flat_out = out.reshape(-1)
    if index.ndim == 0:
        base = base.reshape(1)
    flat_index = np.ascontiguousarray(index, dtype=np.int64).reshape(-1)
    bad = scatter_flat(flat_out, base.reshape(-1), flat_index,
                       strides[dim] if out.ndim else 0, out.shape[dim] if out.ndim else 1,
                       np.ascontiguousarray(src).reshape(-1), mode)
    return int(bad)
