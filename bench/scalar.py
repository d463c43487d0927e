"""Compiled scalar code: loops over ints and floats, tensorscript vs CPython vs torch.jit.script.

Two programs: collatz steps summed over 1..n (integer ``%``, ``//``, a data-dependent ``while``
inside a ``for``) and midpoint-rule integrals of ``x * x`` and ``sin(x)`` with 1M steps.
Each runs as plain CPython, under tensorscript (the loop is one compiled region) and under
torch.jit.script when torch is importable, and with the region pass disabled (the interpreter)
for reference. Every variant is pre-warmed (compiled and called once), then the variants are
interleaved for ``--repeat`` rounds; the table gives medians and ratios from this one run.

    python bench/scalar.py [--n-collatz N] [--n-integral N] [--repeat R] [--no-interpreter]
                           [--cpu-time]

``--cpu-time`` times with the process's CPU time instead of the wall clock: every variant is
single-threaded here, so on a shared machine it leaves out the time others' processes ran.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable

import tensorscript as ts

SOURCE = """
import math

def collatz_total(n: int) -> int:
    total = 0
    for i in range(1, n + 1):
        x = i
        while x != 1:
            if x % 2 == 0:
                x = x // 2
            else:
                x = 3 * x + 1
            total += 1
    return total

def integral(n: int) -> float:
    h = 1.0 / n
    s = 0.0
    for i in range(n):
        x = (i + 0.5) * h
        s += x * x * h
    return s

def integral_sin(n: int) -> float:
    h = 1.0 / n
    s = 0.0
    for i in range(n):
        x = (i + 0.5) * h
        s += math.sin(x) * h
    return s
"""


def timed(fn: Callable, arg, clock: Callable = time.perf_counter) -> float:
    t0 = clock()
    fn(arg)
    return clock() - t0


def fmt(t) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def variants(with_interpreter: bool) -> dict:
    ns: dict = {}
    exec(SOURCE, ns)
    out = {"CPython": ns}
    start = time.perf_counter()
    out["tensorscript"] = ts.CompilationUnit(SOURCE)
    out["_compile_s"] = time.perf_counter() - start
    if with_interpreter:
        saved = os.environ.get("TENSORSCRIPT_DISABLE_PASSES")
        os.environ["TENSORSCRIPT_DISABLE_PASSES"] = "compile_scalar_regions"
        try:
            out["ts interpreter"] = ts.CompilationUnit(SOURCE)
        finally:
            if saved is None:
                del os.environ["TENSORSCRIPT_DISABLE_PASSES"]
            else:
                os.environ["TENSORSCRIPT_DISABLE_PASSES"] = saved
    try:
        out["torch.jit"] = torch_scripted()
    except Exception:  # torch is optional: its column stays empty
        pass
    return out


def torch_scripted() -> dict:
    """torch.jit.script of each function (it reads the source from a file, and resolves
    ``math`` from the function's globals, which a CompilationUnit string cannot)."""
    import importlib.util
    import tempfile

    import torch

    path = os.path.join(tempfile.mkdtemp(prefix="ts-bench-"), "scalar_programs.py")
    with open(path, "w") as f:
        f.write(SOURCE)
    spec = importlib.util.spec_from_file_location("scalar_programs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: torch.jit.script(getattr(module, name))
            for name in ("collatz_total", "integral", "integral_sin")}


def entry(unit, name: str) -> Callable:
    return unit[name] if isinstance(unit, dict) else getattr(unit, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-collatz", type=int, default=100000)
    ap.add_argument("--n-integral", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-interpreter", action="store_true",
                    help="skip the interpreted reference (the slowest column)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="process CPU time instead of wall time (for a shared machine)")
    args = ap.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    units = variants(not args.no_interpreter)
    compile_s = units.pop("_compile_s")
    cases = [("collatz steps summed over 1..n", "collatz_total", args.n_collatz),
             ("midpoint integral of x*x", "integral", args.n_integral),
             ("midpoint integral of sin(x)", "integral_sin", args.n_integral)]
    names = [k for k in ("tensorscript", "CPython", "torch.jit", "ts interpreter") if k in units]
    results = {}
    for label, fn_name, n in cases:
        fns = {k: entry(units[k], fn_name) for k in names}
        expected = fns["CPython"](n)
        for k, fn in fns.items():  # pre-warm: compile, load, first call
            got = fn(n)
            ok = got == expected if isinstance(expected, int) else abs(got - expected) <= 1e-9 * abs(expected)
            if not ok:
                raise SystemExit(f"{label}: {k} gave {got!r}, CPython {expected!r}")
        times: dict = {k: [] for k in names}
        for _ in range(args.repeat):
            for k in names:
                if k == "ts interpreter" and len(times[k]) >= 1:
                    continue  # one run is enough to show the scale
                times[k].append(timed(fns[k], n, clock))
        results[(label, n)] = {k: statistics.median(v) for k, v in times.items()}
    print(f"tensorscript compile (parse .. passes, all functions): {fmt(compile_s)}; "
          f"Numba compiles or loads each region on its first call (pre-warmed here)")
    print(f"medians of {args.repeat} interleaved rounds (the interpreter: one run), "
          f"{'process CPU' if args.cpu_time else 'wall'} time")
    header = f"{'benchmark':<44} " + " ".join(f"{k:>14}" for k in names)
    header += f" {'vs CPython':>11} {'vs torch.jit':>13}"
    print(header)
    for (label, n), t in results.items():
        row = f"{label + f' (n={n})':<44} " + " ".join(f"{fmt(t.get(k)):>14}" for k in names)
        ts_t = t["tensorscript"]
        row += f" {t['CPython'] / ts_t:>10.1f}x"
        row += f" {t['torch.jit'] / ts_t:>12.1f}x" if "torch.jit" in t else f" {'-':>13}"
        print(row)
    print("ratios: how many times faster tensorscript is (higher is better)")


if __name__ == "__main__":
    main()
