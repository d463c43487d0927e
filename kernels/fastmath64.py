"""Vectorizable float64 sin and cos, within an ulp of libm.

``math.sin`` in Numba is a scalar libm call (10-20 ns) that stops the loop vectorizer. These
are fdlibm's algorithms (FreeBSD ``e_rem_pio2.c``, ``k_sin.c``, ``k_cos.c``) without a branch:
a Cody-Waite reduction ``x - n*pi/2`` (two steps, always both), both minimax kernels on
[-pi/4, pi/4], and a select on the quadrant, inlined by Numba into the caller.

They are exact only where ``within_bound`` holds (|x| < 2**19 * pi, so not inf or nan); the
caller checks that, and calls libm for the rest: ``scalar_codegen`` checks once per region and
reruns a region that met such an argument with libm's calls.

Accuracy, measured by tests/kernels/test_fastmath64.py against ``math.sin``/``math.cos``
(glibc, correctly rounded in practice) on 2.6M random arguments and the 10M doubles closest to
multiples of pi/2 below the bound: at most 1 ulp, relative error below 2.3e-16, and about one
result in thirty differs from libm's in the last bit. The reduction keeps pi/2 to 119 bits,
which the worst cancellation below the bound needs (one step is off by 2e11 ulp there).

The polynomials use explicit fused multiply-adds (``_fma``, the llvm.fma intrinsic): shorter
chains and one rounding per step. Nothing is reassociated: the functions carry no fast-math
flags (Numba's inlining would give them the caller's anyway).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# Cody-Waite: pi/2 = _PIO2_1 + _PIO2_2 + _PIO2_2T to 119 bits, the first two with 33
# significant bits, so n * part is exact for |n| < 2**20
_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079632673412561417e+00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_2T = 2.02226624879595063154e-21
# adding then subtracting 1.5 * 2**52 rounds a float below 2**51 to the nearest integer
_ROUNDER = 6755399441055744.0
REDUCTION_BOUND = 2.0 ** 19 * math.pi  # |n| <= 2**20 below this

# fdlibm's minimax coefficients on [-pi/4, pi/4]
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11

_OPTS = dict(inline="always", error_model="numpy", cache=True)


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (llvm.fma: one instruction on every x86-64 with FMA3)."""
    if not all(t == types.float64 for t in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):
        f64 = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f64], ir.FunctionType(f64, [f64] * 3))
        return builder.call(fn, args)
    return types.float64(types.float64, types.float64, types.float64), codegen


@njit(**_OPTS)
def _sin_quarter_turns(x, quarter_turns):
    """sin(x + quarter_turns * pi/2) for ``within_bound(x)``; one body, as Numba's inlining of
    nested calls multiplies the compile time."""
    # reduction: x - n*pi/2 = y + yy to 119 bits, |y| <= pi/4 (e_rem_pio2.c, medium case)
    fn = (x * _INV_PIO2 + _ROUNDER) - _ROUNDER
    r = x - fn * _PIO2_1
    t = r
    w = fn * _PIO2_2
    r = t - w
    w = fn * _PIO2_2T - ((t - r) - w)
    y = r - w
    yy = (r - y) - w
    n = np.int64(fn) + quarter_turns
    z = y * y
    z2 = z * z
    # sin(y + yy) (k_sin.c)
    r = _fma(z * z2, _fma(z, _S6, _S5), _fma(z, _fma(z, _S4, _S3), _S2))
    v = z * y
    sin_y = y - _fma(-v, _S1, _fma(z, _fma(-v, r, 0.5 * yy), -yy))
    # cos(y + yy) (k_cos.c); (1 - head) - hz recovers what rounding 1 - hz lost
    r = _fma(z2 * z2, _fma(z, _fma(z, _C6, _C5), _C4), z * _fma(z, _fma(z, _C3, _C2), _C1))
    hz = 0.5 * z
    head = 1.0 - hz
    cos_y = head + (((1.0 - head) - hz) + _fma(z, r, -(y * yy)))
    v = cos_y if n & 1 else sin_y
    return -v if n & 2 else v


@njit(**_OPTS)
def within_bound(x):
    """Whether ``sin_reduced``/``cos_reduced`` are exact at ``x`` (false for inf and nan)."""
    return abs(x) < REDUCTION_BOUND


@njit(**_OPTS)
def sin_reduced(x):
    """sin(x) where ``within_bound(x)``, without a branch (a loop of it vectorizes); elsewhere
    sin(0), a finite value that keeps what the caller computes from it defined."""
    return _sin_quarter_turns(x if within_bound(x) else 0.0, 0)


@njit(**_OPTS)
def cos_reduced(x):
    """cos(x) where ``within_bound(x)``, without a branch; elsewhere cos(0)."""
    return _sin_quarter_turns(x if within_bound(x) else 0.0, 1)


# name of the ``math`` function -> its branch-free form here
FUNCTIONS = {"sin": "sin_reduced", "cos": "cos_reduced"}

__all__ = ["sin_reduced", "cos_reduced", "within_bound", "FUNCTIONS", "REDUCTION_BOUND"]
