"""A caching allocator for NumPy buffers, and the runner of buffer-planned kernels.

Large arrays cost more to allocate than to fill on the project's machines: a fresh 64 MiB
buffer pays thousands of page faults (the performance notes, "Memory allocation can cost
more than the kernel"). :class:`CachingAllocator` keeps freed buffers and hands them to later
requests of the same size, as PyTorch's caching allocator does:

- ``empty(shape, dtype)`` returns an array whose memory comes from a free buffer of that byte
  size when there is one, else from ``np.empty`` (NumPy asks the kernel for huge pages on
  buffers of 4 MiB and up, so even a miss pays few faults);
- the memory goes back to the pool by itself when the last array using it dies: every array
  handed out (and every view of it) keeps a small owner object alive through ``ndarray.base``,
  and the owner's finaliser returns the buffer. Nothing is ever reused while any view of it is
  alive, so the pool needs no help from its callers to stay correct;
- buffers under ``MIN_BYTES`` bypass the pool (malloc is cheap there), and at most
  ``MAX_CACHED_BYTES`` sit idle in it.

``plan_memory`` marks the fused kernels that write into caller-provided buffers; the fusion
runtime (``interpreter/fusion.py``) takes their outputs of ``MIN_BYTES`` and more from the pool,
so a chain's intermediates and the outputs of repeated calls reuse the same memory instead of
faulting in new pages (``TENSORSCRIPT_CACHING_ALLOCATOR=0`` when a graph is prepared makes them
allocate as before).
"""
from __future__ import annotations

import os
import threading

import numpy as np

MIN_BYTES = 1 << 20
MAX_CACHED_BYTES = 1 << 30
MAX_PER_SIZE = 4
PLANNED = "planned_outputs"  # node attribute set by plan_memory


class _Owner:
    """Owns one pooled buffer; NumPy arrays over it keep it alive through ``.base``."""

    __slots__ = ("raw", "pool", "__array_interface__")

    def __init__(self, raw: np.ndarray, pool: "CachingAllocator", shape: tuple, dtype: np.dtype):
        self.raw = raw
        self.pool = pool
        self.__array_interface__ = {
            "shape": shape, "typestr": dtype.str, "version": 3,
            "data": (raw.__array_interface__["data"][0], False),
            "descr": dtype.descr if dtype.fields else [("", dtype.str)],
        }

    def __del__(self):
        pool = self.pool
        if pool is not None:
            pool._give_back(self.raw)


class CachingAllocator:
    def __init__(self, max_cached_bytes: int = MAX_CACHED_BYTES, min_bytes: int = MIN_BYTES):
        self.max_cached_bytes = max_cached_bytes
        self.min_bytes = min_bytes
        self._free: dict = {}  # nbytes -> [raw uint8 arrays]
        self._lock = threading.Lock()
        self.cached_bytes = 0
        self.hits = 0
        self.misses = 0

    def empty(self, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        shape = tuple(int(s) for s in shape)
        nbytes = dtype.itemsize
        for s in shape:
            nbytes *= s
        if nbytes < self.min_bytes or dtype.hasobject:
            return np.empty(shape, dtype=dtype)
        raw = None
        with self._lock:
            stack = self._free.get(nbytes)
            if stack:
                raw = stack.pop()
                self.cached_bytes -= nbytes
        if raw is None:
            self.misses += 1
            raw = np.empty(nbytes, dtype=np.uint8)
        else:
            self.hits += 1
        return np.asarray(_Owner(raw, self, shape, dtype))

    def _give_back(self, raw: np.ndarray) -> None:
        nbytes = raw.nbytes
        with self._lock:
            if self.cached_bytes + nbytes > self.max_cached_bytes:
                return
            stack = self._free.setdefault(nbytes, [])
            if len(stack) >= MAX_PER_SIZE:
                return
            stack.append(raw)
            self.cached_bytes += nbytes

    def empty_cache(self) -> None:
        """Drop every idle buffer (the memory goes back to the system)."""
        with self._lock:
            self._free.clear()
            self.cached_bytes = 0

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "cached_bytes": self.cached_bytes}


ALLOCATOR = CachingAllocator()


def empty(shape, dtype) -> np.ndarray:
    return ALLOCATOR.empty(shape, dtype)


def enabled() -> bool:
    """Whether fused kernels take planned outputs from the pool (read when a graph is prepared)."""
    return os.environ.get("TENSORSCRIPT_CACHING_ALLOCATOR", "1") != "0"


__all__ = ["CachingAllocator", "ALLOCATOR", "empty", "enabled", "MIN_BYTES", "MAX_CACHED_BYTES",
           "PLANNED"]
