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


# ---------------------------------------------------------------- top-k in PyTorch's CPU order
#
# PyTorch's CPU topk fills (value, index) pairs in index order and, for k * 64 <= n, runs
# std::partial_sort over them; otherwise std::nth_element to k - 1 and, when sorted, std::sort
# of the first k - 1. The comparator looks at values only, so which of several equal values
# is kept, and in which order, is decided by libstdc++'s algorithms. They are reproduced here
# step by step so that ties come out as PyTorch returns them.

@njit(cache=True)
def _before(v, a, b, largest):
    """comp(a, b): NaN counts as larger than every number."""
    x, y = v[a], v[b]
    if largest:
        return (np.isnan(x) and not np.isnan(y)) or x > y
    return (not np.isnan(x) and np.isnan(y)) or x < y


@njit(cache=True)
def _swap(q, i, j):
    t = q[i]
    q[i] = q[j]
    q[j] = t


@njit(cache=True)
def _insertion_sort(v, q, first, last, largest):
    for i in range(first + 1, last):
        val = q[i]
        if _before(v, val, q[first], largest):
            for j in range(i, first, -1):
                q[j] = q[j - 1]
            q[first] = val
        else:
            j = i
            while _before(v, val, q[j - 1], largest):
                q[j] = q[j - 1]
                j -= 1
            q[j] = val


@njit(cache=True)
def _unguarded_insertion_sort(v, q, first, last, largest):
    for i in range(first, last):
        val = q[i]
        j = i
        while _before(v, val, q[j - 1], largest):
            q[j] = q[j - 1]
            j -= 1
        q[j] = val


@njit(cache=True)
def _move_median_to_first(v, q, result, a, b, c, largest):
    if _before(v, q[a], q[b], largest):
        if _before(v, q[b], q[c], largest):
            _swap(q, result, b)
        elif _before(v, q[a], q[c], largest):
            _swap(q, result, c)
        else:
            _swap(q, result, a)
    elif _before(v, q[a], q[c], largest):
        _swap(q, result, a)
    elif _before(v, q[b], q[c], largest):
        _swap(q, result, c)
    else:
        _swap(q, result, b)


@njit(cache=True)
def _partition_pivot(v, q, first, last, largest):
    mid = first + (last - first) // 2
    _move_median_to_first(v, q, first, first + 1, mid, last - 1, largest)
    lo, hi, pivot = first + 1, last, first
    while True:
        while _before(v, q[lo], q[pivot], largest):
            lo += 1
        hi -= 1
        while _before(v, q[pivot], q[hi], largest):
            hi -= 1
        if not lo < hi:
            return lo
        _swap(q, lo, hi)
        lo += 1


@njit(cache=True)
def _adjust_heap(v, q, first, hole, length, value, largest):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if _before(v, q[first + child], q[first + child - 1], largest):
            child -= 1
        q[first + hole] = q[first + child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        q[first + hole] = q[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and _before(v, q[first + parent], value, largest):
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value


@njit(cache=True)
def _make_heap(v, q, first, last, largest):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(v, q, first, parent, length, q[first + parent], largest)
        if parent == 0:
            return
        parent -= 1


@njit(cache=True)
def _pop_heap(v, q, first, last, result, largest):
    value = q[result]
    q[result] = q[first]
    _adjust_heap(v, q, first, 0, last - first, value, largest)


@njit(cache=True)
def _heap_select(v, q, first, middle, last, largest):
    _make_heap(v, q, first, middle, largest)
    for i in range(middle, last):
        if _before(v, q[i], q[first], largest):
            _pop_heap(v, q, first, middle, i, largest)


@njit(cache=True)
def _sort_heap(v, q, first, last, largest):
    while last - first > 1:
        last -= 1
        _pop_heap(v, q, first, last, last, largest)


@njit(cache=True)
def _log2(n):
    r = 0
    while n > 1:
        n >>= 1
        r += 1
    return r


@njit(cache=True)
def _sort(v, q, first, last, largest):
    """std::sort: introsort, then the final insertion sort."""
    if last - first < 2:
        return
    # explicit stack for the introsort loop (it recurses on the right part)
    stack_first = np.empty(128, np.int64)
    stack_last = np.empty(128, np.int64)
    stack_depth = np.empty(128, np.int64)
    top = 0
    stack_first[0], stack_last[0], stack_depth[0] = first, last, 2 * _log2(last - first)
    top = 1
    while top > 0:
        top -= 1
        f, l, depth = stack_first[top], stack_last[top], stack_depth[top]
        while l - f > 16:
            if depth == 0:
                _heap_select(v, q, f, l, l, largest)
                _sort_heap(v, q, f, l, largest)
                break
            depth -= 1
            cut = _partition_pivot(v, q, f, l, largest)
            stack_first[top], stack_last[top], stack_depth[top] = cut, l, depth
            top += 1
            l = cut
    if last - first > 16:
        _insertion_sort(v, q, first, first + 16, largest)
        _unguarded_insertion_sort(v, q, first + 16, last, largest)
    else:
        _insertion_sort(v, q, first, last, largest)


@njit(cache=True)
def _nth_element(v, q, first, nth, last, largest):
    depth = 2 * _log2(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(v, q, first, nth + 1, last, largest)
            _swap(q, first, nth)
            return
        depth -= 1
        cut = _partition_pivot(v, q, first, last, largest)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(v, q, first, last, largest)


@njit(cache=True)
def topk_rows(x, k, largest, sorted_):
    """Indices of the top ``k`` of each row of ``x`` (2-D), in PyTorch's CPU order."""
    rows, n = x.shape
    out = np.empty((rows, k), np.int64)
    q = np.empty(n, np.int64)
    for r in range(rows):
        v = x[r]
        for j in range(n):
            q[j] = j
        if k == 0:
            continue
        if k * 64 <= n:
            # std::partial_sort: heap_select, then sort_heap of the first k
            _heap_select(v, q, 0, k, n, largest)
            _sort_heap(v, q, 0, k, largest)
        else:
            _nth_element(v, q, 0, k - 1, n, largest)
            if sorted_:
                _sort(v, q, 0, k - 1, largest)
        for j in range(k):
            out[r, j] = q[j]
    return out
