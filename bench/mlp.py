"""Scripted MLP forward and training step against the bare GEMMs, NumPy and PyTorch.

    python bench/mlp.py [--rounds 5] [--quick] [--threads 1] [--json PATH]

Cases (float32):

- MLP 512->2048->512, batch 256: the forward pass (no grad) and one training step (MSE loss,
  backward, plain SGD update). The floor is the GEMMs alone in NumPy into preallocated
  buffers: 2 for the forward, the 6 of forward and backward for the step. ``numpy`` is the
  whole computation written by hand in NumPy (bias, relu, the gradients, the update).
- MLP 16->64->16, batch 4: the same forward and step, where per-op and per-call overhead is
  all there is.

tensorscript runs ``ts.script`` of an ``nn.Sequential(Linear, ReLU, Linear)`` trained by
``ts.optim.SGD`` (the eager tape records the scripted forward). ``tensorscript script step``
is the whole step as one scripted function (forward, loss, ``torch.autograd.grad``, update),
whose forward and backward run as graphs (``prim::DifferentiableGraph``). PyTorch runs the
same architecture with the same initial weights eagerly, under ``torch.jit.script`` and under
``torch.compile`` (a variant that fails here is skipped with a note). Times are medians of
interleaved rounds after a warm-up: process CPU time with one thread (immune to a busy
machine's time slicing), wall time with more. Ratios are ``tensorscript / variant`` against
the floor and ``variant / tensorscript`` against the rest (above 1: tensorscript faster).
Results go to ``bench/results/mlp.json`` (``mlp-<n>t.json`` with ``--threads n > 1``) with the
BLAS and thread-pool environment.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, set_threads, standalone  # noqa: E402

import tensorscript as ts  # noqa: E402

FLOOR = "numpy GEMMs"
SUBJECT = "tensorscript"
SCRIPTED = "tensorscript script step"
LEARNING_RATE = 0.01

# (case, kind) -> {variant: goal}; against the floor the goal is a maximum of
# tensorscript / floor, against the others a minimum of variant / tensorscript.
GOALS = {
    ("512-2048-512 b256", "forward"): {FLOOR: 1.15, "torch eager": 1.7},
    ("512-2048-512 b256", "train step"): {FLOOR: 1.15, "torch eager": 1.7},
    ("16-64-16 b4", "train step"): {"torch eager": 5.0},
}
CASES = [("512-2048-512 b256", (512, 2048, 512), 256), ("16-64-16 b4", (16, 64, 16), 4)]


def _build(nn, sizes):
    return nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]))


def _weights(model) -> list:
    return [np.array(p.detach().numpy(), copy=True) for p in model.parameters()]


def _numpy_variants(weights, x, y):
    """The GEMM floor and the whole computation in NumPy, both on their own copies of the
    weights so that their updates leave the other variants alone."""
    w1, b1, w2, b2 = (w.copy() for w in weights)
    batch, n_in = x.shape
    n_hidden, n_out = w1.shape[0], w2.shape[0]
    h = np.empty((batch, n_hidden), np.float32)
    out = np.empty((batch, n_out), np.float32)
    gw2 = np.empty_like(w2)
    gh = np.empty_like(h)
    gw1 = np.empty_like(w1)
    gx = np.empty_like(x)

    def gemms_forward():
        np.matmul(x, w1.T, out=h)
        np.matmul(h, w2.T, out=out)

    def gemms_step():
        gemms_forward()
        np.matmul(out.T, h, out=gw2)
        np.matmul(out, w2, out=gh)
        np.matmul(gh.T, x, out=gw1)
        # the input's gradient: torch and tensorscript skip it, but it is the sixth GEMM
        np.matmul(gh, w1, out=gx)

    def forward():
        hidden = np.maximum(x @ w1.T + b1, np.float32(0))
        return hidden @ w2.T + b2

    def step():
        pre = x @ w1.T + b1
        hidden = np.maximum(pre, np.float32(0))
        diff = hidden @ w2.T + b2 - y
        loss = np.mean(diff * diff)
        g_out = diff * np.float32(2.0 / diff.size)
        g_hidden = (g_out @ w2) * (pre > 0)
        for param, grad in ((w2, g_out.T @ hidden), (b2, g_out.sum(0)),
                            (w1, g_hidden.T @ x), (b1, g_hidden.sum(0))):
            param -= np.float32(LEARNING_RATE) * grad
        return loss

    return {"forward": (gemms_forward, forward), "train step": (gemms_step, step)}


def _torch_variants(torch, sizes, weights, x, y, notes):
    """Eager, jit.script and torch.compile models, each with its own copy of the weights and
    its own optimizer; a variant that fails to build or to run once is left out with a note."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.MSELoss()
    out = {"forward": {}, "train step": {}}
    wrappers = {"torch eager": lambda m: m, "torch.jit.script": torch.jit.script,
                "torch.compile": torch.compile}
    for variant, wrap in wrappers.items():
        try:
            model = _build(torch.nn, sizes)
            with torch.no_grad():
                for p, w in zip(model.parameters(), weights):
                    p.copy_(torch.from_numpy(w))
            opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
            run = wrap(model)

            def forward(run=run):
                with torch.no_grad():
                    return run(xt)

            def step(run=run, opt=opt):
                opt.zero_grad()
                loss = loss_fn(run(xt), yt)
                loss.backward()
                opt.step()
                return loss.detach()

            forward()
            step()
            out["forward"][variant] = forward
            out["train step"][variant] = step
        except Exception as exc:
            notes[variant] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    return out


_SCRIPTED_STEP = """
def train_step(x: Tensor, y: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor,
               lr: float) -> Tensor:
    hidden = torch.relu(torch.nn.functional.linear(x, w1, b1))
    loss = torch.nn.functional.mse_loss(torch.nn.functional.linear(hidden, w2, b2), y)
    grads = torch.autograd.grad([loss], [w1, b1, w2, b2])
    g1, gb1, g2, gb2 = grads[0], grads[1], grads[2], grads[3]
    assert g1 is not None and gb1 is not None and g2 is not None and gb2 is not None
    with torch.no_grad():
        w1.sub_(g1 * lr)
        b1.sub_(gb1 * lr)
        w2.sub_(g2 * lr)
        b2.sub_(gb2 * lr)
    return loss
"""


def _scripted_step(weights, x, y):
    """The training step as one scripted function, on its own copy of the weights."""
    step_fn = ts.CompilationUnit(_SCRIPTED_STEP).train_step
    params = [ts.from_numpy(w.copy()).requires_grad_() for w in weights]
    xs, ys = ts.from_numpy(x), ts.from_numpy(y)

    def step():
        return step_fn(xs, ys, *params, LEARNING_RATE).detach()

    return step


def _tensorscript_variants(model, x, y):
    scripted = ts.script(model)
    xs, ys = ts.from_numpy(x), ts.from_numpy(y)
    opt = ts.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = ts.nn.MSELoss()

    def forward():
        with ts.no_grad():
            return scripted(xs)

    def step():
        opt.zero_grad()
        loss = loss_fn(scripted(xs), ys)
        loss.backward()
        opt.step()
        return loss.detach()

    return {"forward": forward, "train step": step}


def _ratios(times: dict) -> dict:
    base = times[SUBJECT]
    return {v: (base / t if v == FLOOR else t / base) for v, t in times.items()
            if v != SUBJECT and t}


def _goals(case: str, kind: str, ratios: dict) -> dict:
    goals = {}
    for variant, goal in GOALS.get((case, kind), {}).items():
        ratio = ratios.get(variant)
        if ratio is None:
            continue
        reached = ratio <= goal if variant == FLOOR else ratio >= goal
        goals[variant] = {"goal": goal, "ratio": ratio, "reached": reached}
    return goals


def _goal_note(goals: dict) -> str:
    parts = []
    for variant, g in goals.items():
        sign = "<=" if variant == FLOOR else ">="
        shown = f"ts/{variant}" if variant == FLOOR else f"{variant}/ts"
        verdict = "reached" if g["reached"] else "NOT reached"
        parts.append(f"{shown} {g['ratio']:.2f}x ({sign} {g['goal']}: {verdict})")
    return "; ".join(parts)


def run(harness) -> list:
    try:
        import torch
    except ImportError:
        torch = None
    threads = getattr(harness, "threads", 1)
    set_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for case, sizes, batch in CASES:
        x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
        y = rng.standard_normal((batch, sizes[2])).astype(np.float32)
        ts.manual_seed(0)
        model = _build(ts.nn, sizes)
        weights = _weights(model)
        notes: dict = {}
        subject = _tensorscript_variants(model, x, y)
        scripted_step = _scripted_step(weights, x, y)
        numpy_fns = _numpy_variants(weights, x, y)
        torch_fns = (_torch_variants(torch, sizes, weights, x, y, notes) if torch is not None
                     else {"forward": {}, "train step": {}})
        if torch is None:
            notes["torch"] = "not installed"
        # the first step's loss checks that every variant computes the same thing
        first_loss = float(subject["train step"]().numpy())
        reference_loss = float(np.mean((numpy_fns["forward"][1]() - y) ** 2))
        if not np.isclose(first_loss, reference_loss, rtol=1e-4):
            notes[SUBJECT] = f"first loss {first_loss} differs from NumPy's {reference_loss}"
        scripted_loss = float(scripted_step().numpy())
        if not np.isclose(scripted_loss, reference_loss, rtol=1e-4):
            notes[SCRIPTED] = f"first loss {scripted_loss} differs from NumPy's {reference_loss}"
        for kind in ("forward", "train step"):
            floor, by_hand = numpy_fns[kind]
            variants = {SUBJECT: subject[kind], FLOOR: floor}
            if kind == "train step":
                variants[SCRIPTED] = scripted_step
            variants.update(torch_fns[kind])
            variants["numpy"] = by_hand
            row = harness.compare("mlp", f"{kind} {case}", variants, baseline=FLOOR,
                                  subject=SUBJECT, threads=threads, notes=notes)
            if threads > 1:  # CPU time charges a 2-thread GEMM twice
                row["cpu"] = row["times"]
                row["times"] = row["wall"]
                row["ratio"] = row["times"][SUBJECT] / row["times"][FLOOR]
                row["stat"] = row["stat"].replace("cpu", "wall")
            row["ratios"] = _ratios(row["times"])
            row["goals"] = _goals(case, kind, row["ratios"])
            row["note"] = _goal_note(row["goals"])
            row["first_loss"] = {"tensorscript": first_loss, "numpy": reference_loss}
            rows.append(row)
    return rows


def _print_ratios(rows) -> None:
    print("\nratios: ts/numpy GEMMs (the floor, below 1.15 is the goal); "
          "variant/ts for the rest (above 1: tensorscript faster)")
    for r in rows:
        cells = ", ".join(f"{v} {x:.2f}x" for v, x in r["ratios"].items())
        print(f"  {r['name']}: {cells}")
        for variant, note in r.get("notes", {}).items():
            print(f"    note: {variant} {note}")


def main(argv=None) -> list:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--json" not in argv:  # one result file per thread count, as bench/fusion.py keeps
        threads = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--threads"), "1")
        name = "mlp.json" if threads == "1" else f"mlp-{threads}t.json"
        argv += ["--json", os.path.join(RESULTS, name)]
    rows = standalone(run, __doc__.splitlines()[0], argv)
    _print_ratios(rows)
    return rows


if __name__ == "__main__":
    main()
