"""fastmath's float32 approximations in a vectorized loop, and what inlining them costs to compile.

    python bench/fastmath.py [--rounds 5] [--quick] [--threads 1] [--json PATH]

Throughput: a 1-thread Numba loop ``out[j] = fm.<f>_f32(x[j])`` over 64K (in cache) and 1M
float32 elements, against NumPy's ufunc where one exists and PyTorch's op (when installed), all
writing into a preallocated output, interleaved. Ratios are fastmath / other (below 1: faster).
Each row also carries the largest error seen against a float64 reference, in the unit the tests
bound: ``|result - reference| / max(|reference|, 1)``.

Compile time: a GELU-chain kernel shaped like the generated fused kernels (tanh, sigmoid, erf
and exp of one input), compiled from scratch, calling fastmath's plain ``@njit`` functions
(LLVM inlines them) against the same functions recompiled with Numba's IR-level
``inline="always"``. The second variant still calls the plain ``exp_f32`` inside sigmoid, so
it slightly understates what IR-level inlining of everything costs.
"""
from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Harness, set_threads, standalone, thread_pools  # noqa: E402

from numba import njit  # noqa: E402

from tensorscript.kernels import fastmath as fm  # noqa: E402

SIZES = {"64K": 1 << 16, "1M": 1 << 20}
_erf = np.vectorize(math.erf, otypes=[np.float64])
# name -> (input range, float64 reference, NumPy ufunc or None, torch op name or None)
CASES = {
    "exp": ((-80.0, 80.0), np.exp, np.exp, "exp"),
    "log": ((1e-3, 1e3), np.log, np.log, "log"),
    "tanh": ((-6.0, 6.0), np.tanh, np.tanh, "tanh"),
    "sigmoid": ((-20.0, 20.0), lambda v: 1 / (1 + np.exp(-v)), None, "sigmoid"),
    "erf": ((-4.0, 4.0), _erf, None, "erf"),
}
_FLAGS = {"contract", "nsz", "arcp"}


def _loop(f):
    @njit(error_model="numpy", fastmath=_FLAGS, boundscheck=False, nogil=True)
    def run(x, out):
        for j in range(x.size):
            out[j] = f(x[j])
    return run


def _max_error(name, x, out):
    ref = CASES[name][1](x.astype(np.float64))
    return float(np.max(np.abs(out - ref) / np.maximum(np.abs(ref), 1)))


def throughput(h: Harness, torch) -> list:
    rows = []
    rng = np.random.default_rng(0)
    for name, ((lo, hi), _, ufunc, torch_op) in CASES.items():
        loop = _loop(getattr(fm, fm.FUNCTIONS[name][0]))
        for size, n in SIZES.items():
            if name == "log":
                x = np.exp(rng.uniform(np.log(lo), np.log(hi), n)).astype(np.float32)
            else:
                x = rng.uniform(lo, hi, n).astype(np.float32)
            out = np.empty_like(x)
            variants = {"fastmath": lambda x=x, out=out: loop(x, out)}
            if ufunc is not None:
                variants["numpy"] = lambda x=x, out=out, u=ufunc: u(x, out=out)
            if torch is not None:
                tx, tout = torch.from_numpy(x), torch.empty(n, dtype=torch.float32)
                op = getattr(torch, torch_op)
                variants["torch"] = lambda tx=tx, tout=tout, op=op: op(tx, out=tout)
            loop(x, out)
            error = _max_error(name, x, out)
            row = h.compare("fastmath", f"{name}_f32 {size}", variants, group="throughput",
                            max_error=error)
            row["ns_per_element"] = row["times"]["fastmath"] / n * 1e9
            row["note"] = f"{row['ns_per_element']:.3f} ns/element, max error {error:.1e}"
            rows.append(row)
    return rows


_CHAIN = '''
k0 = np.float32(0.5)
k1 = np.float32(1.0)
k2 = np.float32(0.7978845608)
k3 = np.float32(0.044715)


@njit(error_model="numpy", fastmath={flags}, boundscheck=False, nogil=True)
def kernel(x0, out0, out1):
    for j in range(x0.size):
        i0 = x0[j]
        v0 = k0 * i0 * (k1 + tanh_f32(k2 * (i0 + k3 * i0 * i0 * i0)))
        v1 = v0 * sigmoid_f32(v0) + erf_f32(v0 * k2)
        out0[j] = v0
        out1[j] = v1 + exp_f32(-v1)
'''


def _compile_seconds(callees: dict) -> float:
    """CPU seconds to type and compile a fresh GELU-chain kernel calling ``callees``."""
    scope = {"np": np, "njit": njit, **callees}
    exec(_CHAIN.replace("{flags}", repr(_FLAGS)), scope)
    x = np.linspace(-3, 3, 64, dtype=np.float32)
    start = time.process_time()
    scope["kernel"](x, np.empty_like(x), np.empty_like(x))
    return time.process_time() - start


def compile_time(h: Harness) -> list:
    names = ("tanh_f32", "sigmoid_f32", "erf_f32", "exp_f32")
    plain = {n: getattr(fm, n) for n in names}
    inlined = {n: njit(inline="always", error_model="numpy", fastmath=_FLAGS)(plain[n].py_func)
               for n in names}
    for f in plain.values():  # the callees themselves compile (or load) once per process
        f(np.float32(0.5))
    samples = {"plain callees": [], 'inline="always"': []}
    for _ in range(h.rounds):
        samples["plain callees"].append(_compile_seconds(plain))
        samples['inline="always"'].append(_compile_seconds(inlined))
    times = {k: float(np.median(v)) for k, v in samples.items()}
    return [h.row("fastmath", "compile GELU-chain kernel", times, group="compile",
                  stat_note="CPU seconds to compile one kernel, median")]


def run(h: Harness) -> list:
    try:
        import torch
    except ImportError:
        torch = None
    set_threads(getattr(h, "threads", 1))
    h.env["threads"] = thread_pools()
    return throughput(h, torch) + compile_time(h)


def main(argv=None) -> list:
    return standalone(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
