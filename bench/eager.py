"""Per-op overhead of eager tensors on tiny inputs, and throughput at 1M elements.

    python bench/eager.py [--torch]

Times are per-process CPU time (minimum of 3 repeats); variants are interleaved (A B A B) and
medians of rounds reported, as docs/PERFORMANCE.md asks; with
``--torch`` (the optional ``bench`` extra) PyTorch eager runs side by side and ratios are printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit

import numpy as np

import tensorscript as ts

CASES = {
    "a + b": lambda m, a, b: a + b,
    "a * 2.0": lambda m, a, b: a * 2.0,
    "a.exp()": lambda m, a, b: a.exp(),
    "m.add(a, b)": lambda m, a, b: m.add(a, b),
    "a.add_(b)": lambda m, a, b: a.add_(b),
    "a < b": lambda m, a, b: a < b,
    "m.where(a < b, a, b)": lambda m, a, b: m.where(a < b, a, b),
    "m.sigmoid(a)": lambda m, a, b: m.sigmoid(a),
    "a * b (grad)": None,
}


def _inputs(mod, n, grad=False):
    a = mod.ones(n) if mod is not ts else ts.ones(n)
    b = mod.ones(n)
    if grad:
        a.requires_grad_()
    return a, b


def _time(fn, number: int) -> float:
    # CPU time of this process: on the shared 2-vCPU machines wall time mostly measures neighbours
    timer = timeit.Timer(fn, timer=time.process_time)
    return min(timer.repeat(number=number, repeat=3)) / number


def run(with_torch: bool, rounds: int = 3) -> None:
    mods = [("tensorscript", ts)]
    if with_torch:
        import torch
        torch.set_num_threads(1)
        mods.append(("torch", torch))
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')}")
    for size, number in ((3, 20000), (1_000_000, 20)):
        print(f"\n-- {size} elements, median of {rounds} interleaved rounds (us per call)")
        for name, case in CASES.items():
            times = {m: [] for m, _ in mods}
            for _ in range(rounds):
                for mname, mod in mods:
                    if case is None:
                        a, b = _inputs(mod, size, grad=True)
                        fn = lambda: a * b  # noqa: E731
                    else:
                        a, b = _inputs(mod, size)
                        fn = (lambda c=case, m=mod, a=a, b=b: c(m, a, b))
                    fn()
                    times[mname].append(_time(fn, number) * 1e6)
            med = {m: statistics.median(v) for m, v in times.items()}
            line = f"{name:24s} " + "  ".join(f"{m} {t:9.2f}" for m, t in med.items())
            if with_torch:
                line += f"   ratio ts/torch {med['tensorscript'] / med['torch']:.2f}"
            print(line)
    x = np.ones(3, np.float32)
    print(f"\nnumpy np.add on 3 elements: {_time(lambda: np.add(x, x), 20000) * 1e6:.2f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--torch", action="store_true")
    args = parser.parse_args()
    run(args.torch)
    sys.exit(0)
