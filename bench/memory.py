"""What the memory planner and the caching allocator save.

    python bench/memory.py [--rounds 15]

Cases (float32): the tanh-GELU chain over 16M elements, and an MLP forward at batch 256
(784 -> 1024 -> 1024 -> 10, ReLU, biases). Each is compiled twice in one process: once with
the default pipeline (``plan_memory`` on: fused kernels write into buffers from the caching
allocator) and once with ``TENSORSCRIPT_DISABLE_PASSES=plan_memory`` (every fused result is a
fresh ``np.empty``). The caller drops each result before the next call, as a loop over
batches does. Wall-clock medians of interleaved rounds (A B A B ...) after a warm-up; the
ratio is ``unplanned / planned`` (above 1, planning is faster). Page faults per call come from
``getrusage`` (minor faults), which is where a fresh large buffer pays.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import environment, print_env  # noqa: E402

import tensorscript as ts  # noqa: E402

GELU = """
import torch
def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
"""

MLP = """
import torch
def mlp(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
        w3: torch.Tensor, b3: torch.Tensor) -> torch.Tensor:
    h = torch.relu(torch.matmul(x, w1) + b1)
    h = torch.relu(torch.matmul(h, w2) + b2)
    return torch.matmul(h, w3) + b3
"""


def compile_variant(source: str, name: str, planned: bool, args):
    previous = os.environ.get("TENSORSCRIPT_DISABLE_PASSES")
    if not planned:
        os.environ["TENSORSCRIPT_DISABLE_PASSES"] = ",".join(
            p for p in [previous, "plan_memory"] if p)
    try:
        fn = getattr(ts.CompilationUnit(source), name)
        fn(*args)  # specialisation runs the pipeline on the first call
    finally:
        if previous is None:
            os.environ.pop("TENSORSCRIPT_DISABLE_PASSES", None)
        else:
            os.environ["TENSORSCRIPT_DISABLE_PASSES"] = previous
    return fn


def sample(fn, args, number: int) -> tuple:
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(number):
        out = fn(*args)
        del out
    elapsed = (time.perf_counter() - start) / number
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / number
    return elapsed, faults


def compare(name: str, source: str, fn_name: str, args, rounds: int, number: int) -> dict:
    variants = {"planned": compile_variant(source, fn_name, True, args),
                "unplanned": compile_variant(source, fn_name, False, args)}
    np.testing.assert_allclose(variants["planned"](*args).numpy(),
                               variants["unplanned"](*args).numpy(), rtol=1e-6, atol=1e-6)
    for fn in variants.values():  # warm-up
        sample(fn, args, number)
    times = {k: [] for k in variants}
    faults = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            t, f = sample(fn, args, number)
            times[k].append(t)
            faults[k].append(f)
    row = {"case": name}
    for k in variants:
        row[k] = statistics.median(times[k])
        row[k + "_faults"] = statistics.median(faults[k])
    row["ratio"] = row["unplanned"] / row["planned"]
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    opts = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x16 = ts.tensor(rng.standard_normal(1 << 24).astype(np.float32))
    mlp_args = [ts.tensor(rng.standard_normal(s).astype(np.float32) * 0.05)
                for s in [(256, 784), (784, 1024), (1024,), (1024, 1024), (1024,), (1024, 10), (10,)]]
    rows = [compare("gelu chain 16M", GELU, "gelu", [x16], opts.rounds, 3),
            compare("mlp forward b=256", MLP, "mlp", mlp_args, opts.rounds, 10)]
    print_env(environment())
    print(f"{'case':<20} {'planned':>10} {'unplanned':>10} {'ratio':>6} {'faults/call':>22}")
    for r in rows:
        print(f"{r['case']:<20} {r['planned'] * 1e3:>8.2f}ms {r['unplanned'] * 1e3:>8.2f}ms "
              f"{r['ratio']:>6.2f} {r['planned_faults']:>10.0f} vs {r['unplanned_faults']:>8.0f}")


if __name__ == "__main__":
    main()
