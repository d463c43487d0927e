"""Cost of calling a scripted function from Python, with shape specialisation on and off.

    .venv/bin/python bench/call_overhead.py

Interleaved rounds in one process (A B A B ...), medians; the functions do nothing, so the
numbers are the per-call overhead: argument binding, the specialisation guard, the executor.
"""
from __future__ import annotations

import os
import statistics
import time
import timeit

import numpy as np

import tensorscript as ts

SOURCE = """
def one(x: torch.Tensor) -> torch.Tensor:
    return x
def two(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x
def scalar(a: int) -> int:
    return a
"""


def unit(specialise: bool):
    old = os.environ.get("TENSORSCRIPT_DISABLE_PASSES")
    if not specialise:
        os.environ["TENSORSCRIPT_DISABLE_PASSES"] = "specialize"
    try:
        cu = ts.CompilationUnit(SOURCE)
        x = ts.tensor(np.ones((4, 4), np.float32))
        y = ts.tensor(np.ones(3, np.float32))
        calls = {"1 tensor": (cu.one, (x,)), "2 tensors": (cu.two, (x, y)), "int": (cu.scalar, (3,))}
        for fn, args in calls.values():
            fn(*args)  # the first call makes the plan (and the specialised variant)
        return calls
    finally:
        if old is None:
            os.environ.pop("TENSORSCRIPT_DISABLE_PASSES", None)
        else:
            os.environ["TENSORSCRIPT_DISABLE_PASSES"] = old


def per_call(fn, args, number=2000) -> float:
    # CPU time of this process: on a shared machine, time spent descheduled is not the call's.
    return timeit.timeit(lambda: fn(*args), number=number, timer=time.process_time) / number * 1e6


def main(rounds: int = 61) -> None:
    variants = {"specialised": unit(True), "generic": unit(False)}
    names = list(variants["generic"])
    deltas = {k: [] for k in names}
    times = {(v, k): [] for v in variants for k in names}
    # Fine interleaving (a thousand calls of each, in turn) keeps a noisy machine's drift out
    # of the difference.
    for _ in range(rounds):
        for k in names:
            g = per_call(*variants["generic"][k])
            s = per_call(*variants["specialised"][k])
            times[("generic", k)].append(g)
            times[("specialised", k)].append(s)
            deltas[k].append(s - g)
    print(f"{'call':12} {'generic us':>11} {'specialised us':>15} {'delta us':>9}")
    for k in names:
        g = statistics.median(times[("generic", k)])
        s = statistics.median(times[("specialised", k)])
        print(f"{k:12} {g:11.3f} {s:15.3f} {statistics.median(deltas[k]):+9.3f}")


if __name__ == "__main__":
    main()
