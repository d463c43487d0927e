"""The benchmarks' shared harness: pre-warmed, interleaved rounds, medians, the environment.

The machines are shared 2-vCPU VMs, so every number here is a median of interleaved rounds
(variant A, B, A, B, ...) after a warm-up, and ratios come from the same run. Each sample
records process CPU time and wall time; CPU time is the default statistic because wall time
on a busy machine mostly measures the neighbours (both are kept in the JSON).

A bench script exposes ``run(harness) -> list[dict]``; each row is made by :meth:`Harness.row`
or :meth:`Harness.compare`. ``bench/run_all.py`` collects the rows of every script.
"""
from __future__ import annotations

import ctypes
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, Iterable, List, Optional

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")

_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY",
             "GOMP_SPINCOUNT", "THP_MEM_ALLOC_ENABLE")


# ------------------------------------------------------------------ thread pools

def _openblas():
    """NumPy's OpenBLAS as a ctypes library, and the symbol suffix of its build."""
    base = os.path.dirname(np.__file__)
    for path in sorted(glob.glob(os.path.join(base, "..", "numpy.libs", "*openblas*"))
                       + glob.glob(os.path.join(base, "..", "scipy_openblas*", "lib", "*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                               ("openblas_", "64_"), ("openblas_", "")):
            if hasattr(lib, f"{prefix}get_num_threads{suffix}"):
                return lib, prefix, suffix
    return None


def openblas_info() -> dict:
    found = _openblas()
    if found is None:
        return {}
    lib, prefix, suffix = found
    info = {}
    get_core = getattr(lib, f"{prefix}get_corename{suffix}", None)
    if get_core is not None:
        get_core.restype = ctypes.c_char_p
        info["corename"] = get_core().decode()
    get_cfg = getattr(lib, f"{prefix}get_config{suffix}", None)
    if get_cfg is not None:
        get_cfg.restype = ctypes.c_char_p
        info["config"] = get_cfg().decode()
    info["threads"] = getattr(lib, f"{prefix}get_num_threads{suffix}")()
    return info


def set_threads(n: int) -> None:
    """The same thread count for every pool in the process (OpenBLAS, Numba, torch if loaded)."""
    found = _openblas()
    if found is not None:
        lib, prefix, suffix = found
        getattr(lib, f"{prefix}set_num_threads{suffix}")(int(n))
    try:
        import numba
        numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))
    except Exception:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(int(n))


def thread_pools() -> dict:
    pools = {"openblas": openblas_info()}
    try:
        import numba
        pools["numba"] = {"threads": numba.get_num_threads(),
                          "max": numba.config.NUMBA_NUM_THREADS,
                          "layer": numba.config.THREADING_LAYER}
    except Exception:
        pass
    try:
        import threadpoolctl  # optional
        pools["threadpoolctl"] = threadpoolctl.threadpool_info()
    except ImportError:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        pools["torch"] = {"threads": torch.get_num_threads(),
                          "interop": torch.get_num_interop_threads(),
                          "version": torch.__version__}
    return pools


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except Exception:
        return None


def environment() -> dict:
    import numba
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "commit": _git_commit(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "env": {k: os.environ.get(k) for k in _ENV_VARS},
        "threads": thread_pools(),
    }
    return env


def stream_bandwidth(nbytes: int = 64 << 20, repeat: int = 7) -> float:
    """Copy bandwidth in GB/s (bytes read + bytes written over time), single-threaded NumPy."""
    src = np.ones(nbytes // 8, dtype=np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(repeat):  # CPU time: on a busy machine wall time counts the neighbours
        t0 = time.process_time()
        np.copyto(dst, src)
        times.append(time.process_time() - t0)
    return 2 * src.nbytes / max(min(times), 1e-9) / 1e9


# ------------------------------------------------------------------ timing

def _sample(fn: Callable, number: int) -> tuple:
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(number):
        fn()
    return (time.process_time() - c0) / number, (time.perf_counter() - w0) / number


def calibrate(fn: Callable, target: float = 0.02, limit: int = 100_000) -> int:
    """Calls per sample so that one sample takes about ``target`` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target / 4 or n >= limit:
            return max(1, min(limit, int(n * target / max(dt, 1e-9))))
        n *= 4


class Harness:
    """Interleaved rounds of several variants of one benchmark, reported as medians."""

    def __init__(self, rounds: int = 5, target: float = 0.02, warmup: float = 0.05,
                 stat: str = "cpu", quick: bool = False):
        self.rounds = 3 if quick else rounds
        self.target = target / 4 if quick else target
        self.warmup = warmup
        self.stat = stat
        self.quick = quick
        self.env: dict = {}

    def compare(self, bench: str, name: str, variants: Dict[str, Callable],
                baseline: Optional[str] = None, subject: Optional[str] = None,
                number: Optional[int] = None, **extra) -> dict:
        """Time each variant ``rounds`` times, interleaved; the row holds medians and a ratio
        ``subject / baseline`` (the first and second variants unless named)."""
        names = list(variants)
        subject = subject or names[0]
        baseline = baseline or (names[1] if len(names) > 1 else None)
        counts = {}
        for v, fn in variants.items():
            end = time.perf_counter() + self.warmup  # warm caches, JITs, vCPU frequency
            fn()
            while time.perf_counter() < end:
                fn()
            counts[v] = number or calibrate(fn, self.target)
        cpu = {v: [] for v in names}
        wall = {v: [] for v in names}
        for _ in range(self.rounds):
            for v in names:
                c, w = _sample(variants[v], counts[v])
                cpu[v].append(c)
                wall[v].append(w)
        return self.row(bench, name, {v: statistics.median(cpu[v]) for v in names},
                        wall={v: statistics.median(wall[v]) for v in names},
                        subject=subject, baseline=baseline, calls=counts, **extra)

    def row(self, bench: str, name: str, times: Dict[str, Optional[float]], *,
            subject: Optional[str] = None, baseline: Optional[str] = None,
            wall: Optional[dict] = None, **extra) -> dict:
        names = list(times)
        subject = subject or names[0]
        if baseline is None and len(names) > 1:
            baseline = names[1]
        ratio = None
        if baseline and times.get(subject) and times.get(baseline):
            ratio = times[subject] / times[baseline]
        stat = f"{self.stat} time, median of {self.rounds} interleaved rounds"
        row = {"bench": bench, "name": name, "times": times, "stat": stat,
               "subject": subject, "baseline": baseline, "ratio": ratio}
        if wall is not None:
            row["wall"] = wall
            if baseline and wall.get(subject) and wall.get(baseline):
                row["wall_ratio"] = wall[subject] / wall[baseline]
        row.update(extra)
        return row


# ------------------------------------------------------------------ output

def fmt_time(t: Optional[float]) -> str:
    if t is None:
        return "-"
    if t < 1e-6:
        return f"{t * 1e9:.0f} ns"
    if t < 1e-3:
        return f"{t * 1e6:.2f} us"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def print_env(env: dict, file=None) -> None:
    file = file or sys.stdout
    th = env.get("threads", {})
    ob = th.get("openblas", {})
    parts = [f"cpu: {env.get('cpu')} x{env.get('cpus')}",
             f"load {' '.join(f'{x:.1f}' for x in env.get('loadavg') or [])}",
             f"python {env.get('python')}, numpy {env.get('numpy')}, numba {env.get('numba')}"]
    print("; ".join(parts), file=file)
    envs = " ".join(f"{k}={v}" for k, v in env.get("env", {}).items() if v is not None)
    print(f"env: {envs or '(no thread or BLAS variables set)'}", file=file)
    pools = [f"openblas {ob.get('corename', '?')} x{ob.get('threads', '?')}"]
    if "numba" in th:
        pools.append(f"numba x{th['numba']['threads']} ({th['numba']['layer']})")
    if "torch" in th:
        pools.append(f"torch {th['torch']['version']} x{th['torch']['threads']}")
    print("threads: " + ", ".join(pools), file=file)
    if env.get("stream_gbs"):
        print(f"stream copy bandwidth: {env['stream_gbs']:.1f} GB/s (1 thread)", file=file)


def print_table(rows: Iterable[dict], title: Optional[str] = None, file=None) -> None:
    file = file or sys.stdout
    rows = list(rows)
    if not rows:
        return
    if title:
        print(f"\n== {title}", file=file)
    variants: List[str] = []
    for r in rows:
        for v in r["times"]:
            if v not in variants:
                variants.append(v)
    width = max(len(r["name"]) for r in rows)
    width = max(width, 9)
    head = f"{'benchmark':<{width}} " + " ".join(f"{v:>13}" for v in variants) + f" {'ratio':>8}"
    print(head, file=file)
    print("-" * len(head), file=file)
    for r in rows:
        cells = " ".join(f"{fmt_time(r['times'].get(v)):>13}" for v in variants)
        ratio = f"{r['ratio']:.2f}x" if r.get("ratio") is not None else "-"
        note = f"  {r['note']}" if r.get("note") else ""
        print(f"{r['name']:<{width}} {cells} {ratio:>8}{note}", file=file)
    footers: dict = {}
    for r in rows:
        if r.get("ratio") is not None:
            footers.setdefault((r.get("subject"), r.get("baseline"), r.get("stat")), None)
    for s, b, stat in footers:
        print(f"ratio = {s} / {b} ({stat})", file=file)


def write_json(path: str, payload: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1, default=str)
    os.replace(tmp, path)


def standalone(run: Callable, description: str, argv: Optional[list] = None,
               add_args: Optional[Callable] = None) -> list:
    """``python bench/x.py``: parse the common flags, run, print the table, optionally save."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for every pool (OpenBLAS, Numba, torch); default 1")
    ap.add_argument("--json", help="write the rows and the environment here")
    if add_args is not None:
        add_args(ap)
    args = ap.parse_args(argv)
    h = Harness(rounds=args.rounds, quick=args.quick)
    h.args = args
    h.threads = args.threads
    rows = run(h)
    env = environment()
    env.update(h.env)
    env["stream_gbs"] = stream_bandwidth()
    print_env(env)
    by_bench: Dict[str, list] = {}
    for r in rows:
        by_bench.setdefault(r.get("group") or r["bench"], []).append(r)
    for title, group in by_bench.items():
        print_table(group, title)
    if args.json:
        write_json(args.json, {"environment": env, "rows": rows})
    return rows
