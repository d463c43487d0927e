"""One training step (forward, loss, backward, optimizer step) of an MLP and of a small CNN,
tensorscript eager side by side with PyTorch eager.

    python bench/train.py [--rounds 5] [--steps 5]

Both frameworks build the same architecture with the same initial weights and data; the step
runs for each in turn (A B A B ...) after a warm-up, and the table reports the median over
rounds of the mean step time, and the ratios tensorscript / torch (below 1: tensorscript faster)
for the eager model and for ``ts.script(model)`` (the same parameters, trained by the same
optimizer).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import tensorscript as ts


def _mlp(nn, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _cnn(nn):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10))


def _copy_weights(src_ts, dst_torch, torch) -> None:
    with torch.no_grad():
        for (name, p_ts), (_, p_t) in zip(src_ts.state_dict().items(),
                                          dst_torch.state_dict().items()):
            p_t.copy_(torch.from_numpy(np.array(p_ts.numpy(), copy=True)))


def _workloads(rng):
    x_mlp = rng.standard_normal((256, 512)).astype(np.float32)
    y_mlp = rng.standard_normal((256, 512)).astype(np.float32)
    x_cnn = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    y_cnn = rng.integers(0, 10, 32).astype(np.int64)
    return {
        "MLP 512-2048-512, batch 256, MSE + SGD(momentum)": (
            lambda nn: _mlp(nn, [512, 2048, 512]), x_mlp, y_mlp, "mse",
            dict(lr=0.01, momentum=0.9), "SGD"),
        "CNN 2 conv + BN + linear, batch 32x3x32x32, CE + Adam": (
            _cnn, x_cnn, y_cnn, "ce", dict(lr=1e-3), "Adam"),
    }


def _step_fn(mod, model, x, y, loss_kind, opt):
    loss_fn = mod.nn.MSELoss() if loss_kind == "mse" else mod.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def _time_steps(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def run(rounds: int, steps: int, warmup: int) -> None:
    import torch

    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')} "
          f"torch.get_num_threads()={torch.get_num_threads()} cpus={os.cpu_count()}")
    print(f"median of {rounds} interleaved rounds of {steps} steps each, after {warmup} "
          f"warm-up steps (wall time per step)\n")
    rng = np.random.default_rng(0)
    header = (f"{'workload':<56} {'ts eager ms':>12} {'ts script ms':>13} {'torch ms':>9} "
              f"{'eager/torch':>12} {'script/torch':>13}")
    print(header)
    print("-" * len(header))
    for name, (build, x_np, y_np, loss_kind, opt_kw, opt_name) in _workloads(rng).items():
        ts.manual_seed(0)
        model_ts = build(ts.nn)
        model_t = build(torch.nn)
        _copy_weights(model_ts, model_t, torch)
        opt_ts = getattr(ts.optim, opt_name)(model_ts.parameters(), **opt_kw)
        opt_t = getattr(torch.optim, opt_name)(model_t.parameters(), **opt_kw)
        step_ts = _step_fn(ts, model_ts, ts.from_numpy(x_np), ts.from_numpy(y_np), loss_kind,
                           opt_ts)
        # The scripted model shares the eager model's parameters, so one optimizer serves both.
        step_sc = _step_fn(ts, ts.script(model_ts), ts.from_numpy(x_np), ts.from_numpy(y_np),
                           loss_kind, opt_ts)
        step_t = _step_fn(torch, model_t, torch.from_numpy(x_np), torch.from_numpy(y_np),
                          loss_kind, opt_t)
        first_ts, first_t = float(step_ts()), float(step_t())
        if not np.isclose(first_ts, first_t, rtol=1e-3):
            print(f"  warning: first losses differ: tensorscript {first_ts} torch {first_t}")
        for _ in range(warmup):
            step_ts()
            step_sc()
            step_t()
        times_ts, times_sc, times_t = [], [], []
        for _ in range(rounds):
            times_ts.append(_time_steps(step_ts, steps))
            times_sc.append(_time_steps(step_sc, steps))
            times_t.append(_time_steps(step_t, steps))
        med_ts, med_sc, med_t = (statistics.median(t) for t in (times_ts, times_sc, times_t))
        print(f"{name:<56} {med_ts * 1e3:>12.2f} {med_sc * 1e3:>13.2f} {med_t * 1e3:>9.2f} "
              f"{med_ts / med_t:>12.2f} {med_sc / med_t:>13.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    run(args.rounds, args.steps, args.warmup)


if __name__ == "__main__":
    main()
