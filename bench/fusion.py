"""Fused pointwise kernels against PyTorch, NumPy and the memory-bandwidth floor.

    python bench/fusion.py [--rounds 5] [--quick] [--threads 2] [--json PATH]

Cases (float32): the tanh-GELU written as a chain of elementwise ops at 16M, 1M and 1K
elements; softmax and layer_norm written as compositions over [4096, 1024]. Variants, all
timed in one run, pre-warmed and interleaved: tensorscript scripted (a new result tensor, and
at 16M also into a reused buffer), PyTorch eager running the same composition, torch.jit.script
of it, torch.compile of it (skipped with a note when it fails here), PyTorch's built-in kernel
where one exists, NumPy, and a copy of the same bytes (the stream-bandwidth floor).

Times are medians of wall-clock time with 2 threads (CPU time would charge a 2-thread kernel
twice) and of process CPU time with ``--threads 1`` (immune to a busy machine's time slicing). Ratios are
``other / tensorscript``: above 1, tensorscript is faster. Results go to
``bench/results/fusion.json`` together with OPENBLAS_CORETYPE and the thread pools.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, environment, fmt_time, print_env, set_threads, stream_bandwidth, write_json  # noqa: E402

import tensorscript as ts  # noqa: E402
from tensorscript.interpreter import fusion  # noqa: E402
from tensorscript.interpreter.executor import Program  # noqa: E402
from tensorscript.jit.ir import graph as G  # noqa: E402

SOURCE = '''
import torch
def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))

def softmax(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)

def layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mu = x.mean(-1, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdim=True)
    return xc / torch.sqrt(var + 1e-5) * w + b
'''

GOALS = {  # (case, variant): minimum ratio variant / tensorscript
    ("gelu 16M", "torch eager"): 25, ("gelu 16M", "torch.compile"): 4,
    ("gelu 1M", "torch eager"): 10, ("gelu 1M", "torch.compile"): 3.5,
    ("gelu 1K", "torch eager"): 5,
    ("softmax [4096,1024]", "torch builtin"): 1.0, ("softmax [4096,1024]", "torch eager"): 3,
    ("layer_norm [4096,1024]", "torch builtin"): 1.0, ("layer_norm [4096,1024]", "torch eager"): 3,
}


def _np_gelu(x):
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(np.float32(0.7978845608) * (
        x + np.float32(0.044715) * x * x * x)))


def _np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdims=True)
    return xc / np.sqrt(var + np.float32(1e-5)) * w + b


def _torch_variants(torch, name, args):
    """Eager composition, jit.script and torch.compile of the same source; notes on failures."""
    ns: dict = {}
    exec(SOURCE, {"torch": torch}, ns)
    fn = ns[name]
    out = {"torch eager": lambda: fn(*args)}
    notes = {}
    try:
        # TorchScript's CompilationUnit takes no import statements
        body = "\n".join(line for line in SOURCE.splitlines() if not line.startswith("import ")) + "\n"
        scripted = torch.jit.CompilationUnit(body)
        sfn = getattr(scripted, name)
        sfn(*args)
        out["torch.jit.script"] = lambda: sfn(*args)
    except Exception as exc:
        notes["torch.jit.script"] = f"failed: {type(exc).__name__}"
    try:
        compiled = torch.compile(fn)
        compiled(*args)
        out["torch.compile"] = lambda: compiled(*args)
    except Exception as exc:
        notes["torch.compile"] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    return out, notes


def _time(variants: dict, rounds: int, target: float) -> tuple:
    """Median wall and process-CPU seconds per call of each variant, interleaved rounds."""
    counts = {}
    for name, fn in variants.items():
        fn()
        end = time.perf_counter() + 0.1
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() < end or n < 2:
            fn()
            n += 1
        per = (time.perf_counter() - t0) / n
        counts[name] = max(1, int(target / max(per, 1e-9)))
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            fn()  # wake the vCPUs and the pool after the previous variant
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(counts[name]):
                fn()
            wall[name].append((time.perf_counter() - t0) / counts[name])
            cpu[name].append((time.process_time() - c0) / counts[name])
    return ({k: float(np.median(v)) for k, v in wall.items()},
            {k: float(np.median(v)) for k, v in cpu.items()})


def _group(fn) -> fusion.FusedGroup:
    (node,) = [n for n in fn.graph.nodes() if n.kind == G.FUSION_GROUP]
    return fusion.FusedGroup(node.attrs["subgraph"], Program(), True)


def run(rounds: int, quick: bool, threads: int) -> list:
    try:
        import torch
    except ImportError:
        torch = None
    set_threads(threads)
    cu = ts.CompilationUnit(SOURCE)
    rng = np.random.default_rng(0)
    target = 0.03 if quick else 0.1
    rows = []
    cases = [("gelu 16M", "gelu", (1 << 24,)), ("gelu 1M", "gelu", (1 << 20,)),
             ("gelu 1K", "gelu", (1 << 10,)),
             ("softmax [4096,1024]", "softmax", (4096, 1024)),
             ("layer_norm [4096,1024]", "layer_norm", (4096, 1024))]
    for case, name, shape in cases:
        x = rng.standard_normal(shape).astype(np.float32)
        arrays = [x]
        if name == "layer_norm":
            arrays += [rng.standard_normal(shape[-1:]).astype(np.float32) for _ in range(2)]
        ts_args = [ts.from_numpy(a) for a in arrays]
        fn = getattr(cu, name)
        variants = {"tensorscript": lambda fn=fn, a=ts_args: fn(*a)}
        notes = {}
        if case == "gelu 16M":
            group = _group(fn)
            buf = [np.empty_like(x)]
            variants["ts into buffer"] = lambda g=group, a=arrays, b=buf: g.run_arrays(a, [], out=b)
        if torch is not None:
            t_args = [torch.from_numpy(a) for a in arrays]
            if name == "softmax":
                variants["torch builtin"] = lambda a=t_args: torch.softmax(a[0], -1)
            elif name == "layer_norm":
                variants["torch builtin"] = lambda a=t_args: torch.nn.functional.layer_norm(
                    a[0], a[0].shape[-1:], a[1], a[2], 1e-5)
            tv, tn = _torch_variants(torch, name, t_args)
            variants.update(tv)
            notes.update(tn)
        np_fn = {"gelu": _np_gelu, "softmax": _np_softmax, "layer_norm": _np_layer_norm}[name]
        variants["numpy"] = lambda f=np_fn, a=arrays: f(*a)
        src, dst = x.copy(), np.empty_like(x)
        variants["copy (stream)"] = lambda s=src, d=dst: np.copyto(d, s)
        want = np_fn(*arrays)
        got = fn(*ts_args).numpy()
        err = float(np.max(np.abs(got - want)))
        times, cpu = _time(variants, rounds, target)
        stat = times if threads > 1 else cpu  # one thread: CPU time is immune to time slicing
        base = stat["tensorscript"]
        ratios = {v: t / base for v, t in stat.items() if v != "tensorscript"}
        row = {"case": case, "elements": int(np.prod(shape)), "times": stat, "wall": times,
               "cpu": cpu, "stat": "wall" if threads > 1 else "cpu", "ratios": ratios,
               "notes": notes, "max_abs_err_vs_numpy": err, "threads": threads}
        if "ts into buffer" in times:
            row["into_buffer_fraction_of_stream"] = times["copy (stream)"] / times["ts into buffer"]
        row["goals"] = {v: {"goal": g, "reached": ratios.get(v, 0) >= g}
                        for (c, v), g in GOALS.items() if c == case and v in ratios}
        rows.append(row)
    return rows


def _ratio(row: dict, variant: str) -> str:
    r = row["ratios"].get(variant)
    return "-" if r is None else f"{r:.2f}x"


def main(argv=None) -> list:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None, help="default: bench/results/fusion.json "
                    "(fusion-1t.json with --threads 1)")
    args = ap.parse_args(argv)
    rows = run(3 if args.quick else args.rounds, args.quick, args.threads)
    env = environment()
    env["stream_gbs"] = stream_bandwidth()
    print_env(env)
    variants: list = []
    for r in rows:
        for v in r["times"]:
            if v not in variants:
                variants.append(v)
    print(f"\n{'case':<24}" + "".join(f"{v:>18}" for v in variants))
    for r in rows:
        print(f"{r['case']:<24}" + "".join(f"{fmt_time(r['times'].get(v)):>18}" for v in variants))
    print(f"\nratio = variant time / tensorscript time (above 1: tensorscript faster; "
          f"{rows[0]['stat']} time, {args.threads} thread(s))")
    print(f"{'case':<24}" + "".join(f"{v:>18}" for v in variants[1:]))
    for r in rows:
        cells = "".join(f"{_ratio(r, v):>18}" for v in variants[1:])
        print(f"{r['case']:<24}{cells}")
    for r in rows:
        for v, note in r["notes"].items():
            print(f"note: {r['case']}: {v} {note}")
        if "into_buffer_fraction_of_stream" in r:
            print(f"{r['case']}: into a reused buffer at "
                  f"{100 * r['into_buffer_fraction_of_stream']:.0f}% of the copy bandwidth")
        for v, g in r["goals"].items():
            print(f"goal {r['case']} vs {v}: >= {g['goal']}x: "
                  f"{'reached' if g['reached'] else 'not reached'} ({r['ratios'][v]:.2f}x)")
    path = args.json or os.path.join(RESULTS, "fusion.json" if args.threads > 1 else "fusion-1t.json")
    write_json(path, {"environment": env, "rows": rows})
    return rows


if __name__ == "__main__":
    main()
