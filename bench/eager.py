"""Eager tensors side by side with PyTorch eager: per-op overhead on tiny tensors, throughput
at 1M float32 elements.

    python bench/eager.py [--rounds 5] [--quick] [--threads 1] [--only NAME,...] [--json PATH]

Every case runs the same expression on tensorscript and on torch (when installed: the ``bench``
extra), on the same data, interleaved; ratios are tensorscript / torch (below 1: faster).
Both libraries get the same thread count (``--threads``, 1 by default: NumPy's ufuncs are
single-threaded, and on 2 shared vCPUs the 1-thread numbers are the stable ones). The
``floor`` column of the 1M table is the bytes the op must move over the measured copy
bandwidth.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Harness, set_threads, standalone, stream_bandwidth, thread_pools  # noqa: E402

import tensorscript as ts  # noqa: E402
import tensorscript.nn.functional as tsF  # noqa: E402

TINY = (4, 4)
LARGE = (1000, 1000)  # 1M elements
MATMUL = {"tiny": 4, "large": 512}

# name -> (expression on (m, F, d), bytes moved per element of the large case, or None)
# ``d`` holds the inputs: a, b (float32), pos (positive), c (bool mask), mm (square matrix)
CASES = {
    "add a + b": (lambda m, F, d: d.a + d.b, 12),
    "mul a * b": (lambda m, F, d: d.a * d.b, 12),
    "sub a - 1.5": (lambda m, F, d: d.a - 1.5, 8),
    "div a / 3.0": (lambda m, F, d: d.a / 3.0, 8),
    "exp": (lambda m, F, d: d.a.exp(), 8),
    "log": (lambda m, F, d: d.pos.log(), 8),
    "tanh": (lambda m, F, d: d.a.tanh(), 8),
    "sigmoid": (lambda m, F, d: d.a.sigmoid(), 8),
    "relu": (lambda m, F, d: d.a.relu(), 8),
    "gelu (F.gelu)": (lambda m, F, d: F.gelu(d.a), 8),
    "silu (F.silu)": (lambda m, F, d: F.silu(d.a), 8),
    "sum": (lambda m, F, d: d.a.sum(), 4),
    "mean": (lambda m, F, d: d.a.mean(), 4),
    "max(dim=1)": (lambda m, F, d: d.a.max(dim=1), 4),
    "softmax(dim=-1)": (lambda m, F, d: m.softmax(d.a, -1), 8),
    "matmul": (lambda m, F, d: d.mm @ d.mm, None),
    "where(c, a, b)": (lambda m, F, d: m.where(d.c, d.a, d.b), 13),
    "compare a < b": (lambda m, F, d: d.a < d.b, 9),
    "t().contiguous()": (lambda m, F, d: d.a.t().contiguous(), 8),
    "slice a[1:-1]": (lambda m, F, d: d.a[1:-1], None),
    "in-place a.add_(b)": (lambda m, F, d: d.acc.add_(d.b), 12),
    "a * b, a requires grad": (lambda m, F, d: d.ga * d.b, 12),
}


class Inputs:
    def __init__(self, mod, arrays: dict):
        for k, v in arrays.items():
            setattr(self, k, mod.from_numpy(v.copy()))
        self.acc = mod.from_numpy(np.zeros_like(arrays["a"]))
        self.ga = mod.from_numpy(arrays["a"].copy()).requires_grad_()


def _arrays(shape, n_mm: int) -> dict:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    return {"a": a, "b": b, "pos": np.abs(a) + np.float32(0.1), "c": a < b,
            "mm": rng.standard_normal((n_mm, n_mm)).astype(np.float32)}


def _to_numpy(v):
    if isinstance(v, (tuple, list)):
        return _to_numpy(v[0])
    v = v.detach() if hasattr(v, "detach") else v
    return np.asarray(v.numpy() if hasattr(v, "numpy") else v)


def _check(name: str, got, want) -> str:
    g, w = _to_numpy(got), _to_numpy(want)
    if g.shape != w.shape or not np.allclose(g.astype(np.float64), w.astype(np.float64),
                                             rtol=1e-4, atol=1e-5):
        return "results differ from torch"
    return ""


def run(h: Harness) -> list:
    try:
        import torch
        import torch.nn.functional as torchF
    except ImportError:
        torch = torchF = None
    threads = getattr(h, "threads", 1)
    set_threads(threads)
    only = getattr(getattr(h, "args", None), "only", None)
    selected = {k: v for k, v in CASES.items()
                if not only or any(s.strip() in k for s in only.split(","))}
    bw = stream_bandwidth()
    h.env["stream_gbs"] = bw
    h.env["threads"] = thread_pools()  # as the cases ran: torch's pool included
    rows = []
    for size, shape in (("tiny", TINY), ("large", LARGE)):
        arrays = _arrays(shape, MATMUL[size])
        d_ts = Inputs(ts, arrays)
        d_t = Inputs(torch, arrays) if torch is not None else None
        group = ("eager: per-op overhead, 4x4 float32" if size == "tiny" else
                 "eager: throughput, 1000x1000 float32 (1M elements; matmul 512x512)")
        for name, (expr, bytes_per) in selected.items():
            variants = {"tensorscript": (lambda e=expr, d=d_ts: e(ts, tsF, d))}
            note = ""
            if d_t is not None:
                variants["torch"] = (lambda e=expr, d=d_t: e(torch, torchF, d))
                if "add_" not in name:
                    note = _check(name, variants["tensorscript"](), variants["torch"]())
            row = h.compare("eager", f"{name} [{size}]", variants, group=group, size=size)
            if size == "large" and bytes_per:
                row["times"]["floor"] = bytes_per * int(np.prod(shape)) / (bw * 1e9)
            if note:
                row["note"] = note
            rows.append(row)
        del d_ts, d_t
    return rows


def _add_args(ap) -> None:
    ap.add_argument("--only", help="comma-separated substrings of case names")


def main(argv=None) -> list:
    return standalone(run, __doc__.splitlines()[0], argv, _add_args)


if __name__ == "__main__":
    main()
