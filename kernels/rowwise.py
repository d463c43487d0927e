"""Whole-array sums, softmax and max/min along one axis as single Numba passes.

NumPy takes several calls (and temporaries) for each of these, and on small tensors its
per-call overhead is most of the time, so each op here is one compiled call.

Loops index with ``uint64``: a signed index makes Numba emit negative-index wraparound, which
stops LLVM's loop vectorizer. The max loop of softmax keeps an explicit set of lanes because LLVM
does not vectorize a select-based max over one accumulator. ``exp_f32`` is inlined into its
loop, whose fastmath flags leave the order of its operations alone (``reassoc`` would undo its
Cody-Waite range reduction); sums that may be reordered live in functions of their own.

Axes other than the last are handled without a transposed copy by viewing the contiguous
array as ``(outer, n, inner)`` and vectorizing over ``inner``.

Numba's on-disk cache watches only this file: after editing fastmath.py, touch this file (or
clear ``__pycache__``) so that the kernels that inline its functions recompile.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from .fastmath import exp_f32
from .vector_width import wide_vectors


_EXACT = dict(cache=True, error_model="numpy", fastmath={"contract", "nsz", "arcp"})
_REORDERED = dict(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz"})

# Blocks of 128 are split over LLVM's vector accumulators (16 float32 lanes with wide vectors:
# 8 sequential adds per lane, then a tree over the lanes), and the block sums are added in
# float64: more accurate than NumPy's pairwise summation, which adds 16 elements per
# accumulator and then log2(n / 128) levels in float32.
_SUM_BLOCK = 128


@njit(**_REORDERED)
def _block_sum(x, base, count):
    wide_vectors()
    s = np.float32(0)
    for i in range(count):
        s += x[base + i]
    return s


@njit(cache=True, error_model="numpy")
def _total(x):
    n = uint64(x.size)
    blocks = n // uint64(_SUM_BLOCK)
    total = 0.0
    for b in range(blocks):
        total += _block_sum(x, b * uint64(_SUM_BLOCK), uint64(_SUM_BLOCK))
    rest = n - blocks * uint64(_SUM_BLOCK)
    if rest:
        total += _block_sum(x, blocks * uint64(_SUM_BLOCK), rest)
    return total


# Rounding to float32 in here overflows to inf quietly, as PyTorch's sum does.

@njit(cache=True, error_model="numpy")
def sum_f32(x):
    """Sum of a contiguous 1-D float32 array."""
    return np.float32(_total(x))


@njit(cache=True, error_model="numpy")
def mean_f32(x):
    """Mean of a non-empty contiguous 1-D float32 array: the float32 sum over the count, as
    PyTorch divides (a sum that overflows gives inf)."""
    return np.float32(_total(x)) / np.float32(x.size)


# ------------------------------------------------------------------ softmax

_LANES = 256


@njit(cache=True, error_model="numpy", inline="always")
def _fold(lanes, values):
    """lanes[i] = max(lanes[i], values[i]), NaN in ``values`` ignored."""
    for i in range(uint64(values.size)):
        v = values[i]
        lanes[i] = v if v > lanes[i] else lanes[i]


@njit(cache=True, error_model="numpy")
def _row_max(row, lanes):
    """max of ``row``, NaN ignored unless ``row[0]`` is NaN; ``lanes`` is scratch whose size is
    a power of two.

    Lanes are folded with unit-stride slices, which LLVM vectorizes as an elementwise select;
    256 of them hide the latency of the compare-and-select chain. The last partial block and
    the lanes themselves are folded the same way, halving, so short rows stay vectorized."""
    n = uint64(row.size)
    width = uint64(lanes.size)
    while width >= uint64(2) * n:  # short rows fold fewer lanes
        width = width // uint64(2)
    lanes[:width] = row[0]
    for start in range(uint64(0), n, width):
        block = row[start:min(start + width, n)]
        _fold(lanes[:block.size], block)
    while width > uint64(1):
        width = width // uint64(2)
        _fold(lanes[:width], lanes[width:width * uint64(2)])
    return lanes[0]


@njit(**_EXACT)
def _exp_shifted(row, shift, out):
    wide_vectors()
    for i in range(uint64(row.size)):
        out[i] = exp_f32(row[i] - shift)


@njit(**_REORDERED)
def _row_sum(row):
    s = np.float32(0)
    for i in range(uint64(row.size)):
        s += row[i]
    return s


@njit(**_EXACT)
def _softmax_row(row, m, dst, log):
    """``dst`` = softmax of ``row`` given its max ``m``; a NaN that ``m`` misses still makes
    the sum, and so the row, NaN."""
    _exp_shifted(row, m, dst)
    s = _row_sum(dst)
    if log:
        log_s = np.float32(math.log(s))
        for i in range(uint64(row.size)):
            dst[i] = (row[i] - m) - log_s
    else:
        inv = np.float32(1) / s
        for i in range(uint64(row.size)):
            dst[i] = dst[i] * inv


# Rows this short take a plain max loop: the lanes' scratch costs more than they save.
_SHORT_ROW = 16


@njit(**_EXACT)
def softmax_lastdim_f32(x, out, log):
    """Softmax (or log-softmax) of each row of a C-contiguous 2-D float32 array into ``out``.

    ``exp(x - max)`` as in PyTorch: a row of -inf only, or one holding +inf or NaN, gives NaN.
    """
    rows, n = x.shape
    if n <= _SHORT_ROW:
        for r in range(uint64(rows)):
            row = x[r]
            m = row[0]
            for i in range(uint64(n)):
                m = row[i] if row[i] > m else m
            _softmax_row(row, m, out[r], log)
        return
    lanes = np.empty(_LANES, np.float32)
    for r in range(uint64(rows)):
        _softmax_row(x[r], _row_max(x[r], lanes), out[r], log)


@njit(**_EXACT)
def softmax_inner_f32(x, out, log):
    """Softmax along axis 1 of a C-contiguous ``(outer, n, inner)`` float32 array into ``out``:
    the loops run along ``inner``, so a non-last axis needs no transposed copy."""
    wide_vectors()
    outer, n, inner = x.shape
    m = np.empty(inner, np.float32)
    s = np.empty(inner, np.float32)
    for o in range(uint64(outer)):
        src = x[o]
        dst = out[o]
        m[:] = src[0]
        for k in range(uint64(1), uint64(n)):
            for j in range(uint64(inner)):
                v = src[k, j]
                m[j] = v if v > m[j] else m[j]
        s[:] = 0
        for k in range(uint64(n)):
            for j in range(uint64(inner)):
                e = exp_f32(src[k, j] - m[j])
                dst[k, j] = e
                s[j] += e
        if log:
            for j in range(uint64(inner)):
                s[j] = np.float32(math.log(s[j]))
            for k in range(uint64(n)):
                for j in range(uint64(inner)):
                    dst[k, j] = (src[k, j] - m[j]) - s[j]
        else:
            for j in range(uint64(inner)):
                s[j] = np.float32(1) / s[j]
            for k in range(uint64(n)):
                for j in range(uint64(inner)):
                    dst[k, j] = dst[k, j] * s[j]


# ------------------------------------------------------------------ max / min with indices

@njit(cache=True, error_model="numpy")
def extreme_along(x, values, indices, largest):
    """max (or min) along axis 1 of a C-contiguous ``(outer, n, inner)`` array, ``n >= 1``, and
    the index of its first occurrence, into ``values`` and ``indices`` of shape
    ``(outer, inner)``. The first NaN wins, as in PyTorch.

    One scalar pass for small tensors, where the call is the cost: for long rows NumPy's
    SIMD argmax is faster."""
    outer, n, inner = x.shape
    for o in range(uint64(outer)):
        best = values[o]
        at = indices[o]
        best[:] = x[o, 0]
        at[:] = 0
        for k in range(1, n):
            for j in range(uint64(inner)):
                v = x[o, k, j]
                b = best[j]
                if b == b and ((v > b if largest else v < b) or v != v):
                    best[j] = v
                    at[j] = k
