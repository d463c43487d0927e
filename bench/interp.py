"""Interpreter overhead: per-node dispatch, a scalar loop program and a list-heavy program.

Each program runs under tensorscript's graph executor and as plain CPython (and under
torch.jit.script when torch is importable), side by side in one process; the table gives
times and ratios against CPython.

    python bench/interp.py [--n-collatz N] [--n-list N] [--repeat R]
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import tensorscript as ts
from tensorscript.interpreter.executor import PreparedGraph, Program
from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir import types as T
from tensorscript.jit.ops import registry

COLLATZ = """
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
"""

LISTS = """
from typing import List

def list_work(n: int) -> int:
    xs: List[int] = []
    for i in range(n):
        xs.append(i * 7 % 13)
    total = 0
    for i in range(len(xs)):
        total += xs[i] * xs[len(xs) - 1 - i]
    ys: List[int] = []
    for x in xs:
        if x > 6:
            ys.append(x)
    return total + len(ys)
"""


def best_of(fn: Callable, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def chain_graph(op: registry.OpDef, n: int) -> G.Graph:
    """x -> op(x, y) -> op(.., y) ... n nodes, for the per-node cost."""
    g = G.Graph("chain")
    x = g.add_input(T.IntType, "x")
    y = g.add_input(T.IntType, "y")
    v = x
    for _ in range(n):
        v = g.block.append(G.Node(G.OP, op=op, inputs=[v, y], output_types=[T.IntType])).output
    g.block.set_returns([v])
    return g


def per_node(repeat: int) -> list:
    n = 2000
    pg = PreparedGraph(chain_graph(registry.get("add.int"), n), Program())
    pg(1, 1)
    # Many short runs, the best kept: per-node numbers are the floor, not the noise.
    runs = max(30, 10 * repeat)
    t_ts = best_of(lambda: [pg(1, 1) for _ in range(3)], runs) / (3 * n)
    ns: dict = {}
    exec("def py_chain(x, y):\n" + "    x = x + y\n" * n + "    return x\n", ns)
    py = ns["py_chain"]
    t_py = best_of(lambda: [py(1, 1) for _ in range(3)], runs) / (3 * n)
    # The bind path (what a tensor op pays before its kernel): a pass-through handler.

    class PassThrough(registry.Handler):
        def process(self, op, args):
            return op.impl(*args)

    with registry.handler_scope(PassThrough()):
        t_bind = best_of(lambda: [pg(1, 1) for _ in range(3)], runs) / (3 * n)
    return [("per node: add.int (direct kernel)", t_ts, t_py, None),
            ("per node: add.int (through bind)", t_bind, t_py, None)]


def torch_cu(source: str):
    try:
        import torch
    except ImportError:
        return None
    try:
        return torch.jit.CompilationUnit(source.replace("from typing import List\n", ""))
    except Exception:
        return None


def program_row(label: str, source: str, entry: str, arg: int, repeat: int) -> tuple:
    ns: dict = {}
    exec(source, ns)
    py = ns[entry]
    try:
        fn = getattr(ts.CompilationUnit(source), entry)
    except ts.CompileError as err:
        return (f"{label} (n={arg})", None, best_of(lambda: py(arg), repeat), None,
                f"does not compile yet: {err.message.splitlines()[0]}")
    expected = py(arg)
    got = fn(arg)
    if got != expected:
        raise SystemExit(f"{label}: tensorscript gave {got}, CPython {expected}")
    t_ts = best_of(lambda: fn(arg), repeat)
    t_py = best_of(lambda: py(arg), repeat)
    cu = torch_cu(source)
    t_torch = best_of(lambda: getattr(cu, entry)(arg), repeat) if cu is not None else None
    return (f"{label} (n={arg})", t_ts, t_py, t_torch)


def fmt_time(t) -> str:
    if t is None:
        return "-"
    if t < 1e-6:
        return f"{t * 1e9:.0f} ns"
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def run(harness) -> list:
    """Rows for bench/run_all.py: tensorscript against CPython (and torch.jit when present)."""
    repeat = 3
    out = per_node(repeat)
    out.append(program_row("collatz steps summed over 1..n", COLLATZ, "collatz_total", 20000,
                           repeat))
    out.append(program_row("list-heavy", LISTS, "list_work", 20000, repeat))
    rows = []
    for row in out:
        label, t_ts, t_py, t_torch = row[:4]
        times = {"tensorscript": t_ts, "CPython": t_py}
        if t_torch is not None:
            times["torch.jit"] = t_torch
        extra = {"note": row[4]} if len(row) > 4 else {}
        rows.append(harness.row("interp", label, times, baseline="CPython",
                                group="interp: graph executor vs CPython",
                                stat="wall time, best of runs", **extra))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-collatz", type=int, default=20000)
    ap.add_argument("--n-list", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = per_node(args.repeat)
    rows.append(program_row("collatz steps summed over 1..n", COLLATZ, "collatz_total", args.n_collatz, args.repeat))
    rows.append(program_row("list-heavy", LISTS, "list_work", args.n_list, args.repeat))
    header = ("benchmark", "tensorscript", "CPython", "ts/CPython", "torch.jit")
    print(f"{header[0]:<42} {header[1]:>13} {header[2]:>10} {header[3]:>11} {header[4]:>10}")
    notes = []
    for row in rows:
        label, t_ts, t_py, t_torch = row[:4]
        ratio = f"{t_ts / t_py:.2f}x" if t_ts is not None and t_py else "-"
        print(f"{label:<42} {fmt_time(t_ts):>13} {fmt_time(t_py):>10} {ratio:>11} {fmt_time(t_torch):>10}")
        if len(row) > 4:
            notes.append(f"{label}: {row[4]}")
    try:
        import torch  # noqa: F401
    except ImportError:
        notes.append("torch is not installed: the torch.jit column is empty")
    for note in notes:
        print("note:", note)


if __name__ == "__main__":
    main()
