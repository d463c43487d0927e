"""Front-end speed: parse time of a generated 5,000-line TensorScript file.

    python bench/frontend.py [--lines N] [--repeat R]

Prints one row per stage (median of R runs). The goal for the whole front end (parse and
type-check) is under 2 s for 5,000 lines. A stage is a (name, function of the source text)
pair in ``STAGES``; later stages take the text and do all the work up to their own end.
"""
from __future__ import annotations

import argparse
import statistics
import time

from tensorscript.parser import parse_module

HEADER = """import torch
import math
from typing import List, Dict, Tuple, Optional

"""

FUNCTION = '''
def layer_{i}(x: torch.Tensor, w: torch.Tensor, scales: List[float], n: int) -> torch.Tensor:
    """Layer {i}: a few tensor expressions, a loop, a branch, a list and a dict."""
    h = torch.matmul(x, w) * scales[0] + 0.5
    stats: Dict[str, float] = {{"mean": 0.0, "max": -1.0e9}}
    acc: List[torch.Tensor] = []
    for k in range(n):
        if k % 2 == 0 and k < {i} + 3:
            h = torch.relu(h) - h.mean(dim=1, keepdim=True) / (h.std() + 1e-5)
        elif k == 1:
            h = h[:, 1:] if h.size(1) > 1 else h
        else:
            h = torch.tanh(h * 0.5) ** 2
        acc.append(h.sum(dim=0))
        stats["max"] = max(stats["max"], float(k))
    total = 0
    while total < n and len(acc) > 0:
        total += 1
    squares = [s * s for s in scales if s > 0.0]
    assert len(squares) <= len(scales), "filtered too many"
    return torch.stack(acc).sum(0) + h.sum() * float(total) + sum(squares)
'''


def generate(lines: int = 5000) -> str:
    parts = [HEADER]
    count = HEADER.count("\n")
    i = 0
    while count < lines:
        text = FUNCTION.format(i=i)
        parts.append(text)
        count += text.count("\n")
        i += 1
    return "".join(parts)


def _parse(text: str) -> object:
    return parse_module(text, "<bench>")


STAGES = [("parse", _parse)]


def _parse_and_check(text: str) -> object:
    import tensorscript.jit.ops  # noqa: F401  the registry the checker resolves against
    from tensorscript.typecheck import check_module

    return check_module(parse_module(text, "<bench>"))


STAGES.append(("typecheck", _parse_and_check))


def measure(fn, text: str, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``fn(text)``; CPU time is the steadier number
    on a shared machine."""
    fn(text)  # warm-up: the parser is built once per process
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(text)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def run(harness) -> list:
    """Rows for bench/run_all.py: CPU seconds per stage (wall seconds kept alongside)."""
    text = generate(5000)
    n = text.count("\n")
    rows = []
    for name, fn in STAGES:
        wall, cpu = measure(fn, text, 3)
        rows.append(harness.row("frontend", f"{name}, {n} lines", {"tensorscript": cpu},
                                wall={"tensorscript": wall}, lines_per_s=n / cpu,
                                group="frontend: parse and type-check (goal: under 2 s)",
                                stat="cpu time, median of 3 runs"))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    text = generate(args.lines)
    n = text.count("\n")
    print(f"front end, {n} lines, median of {args.repeat}")
    print(f"{'stage':<12} {'wall s':>8} {'cpu s':>8} {'lines/s':>10}")
    for name, fn in STAGES:
        wall, cpu = measure(fn, text, args.repeat)
        print(f"{name:<12} {wall:>8.3f} {cpu:>8.3f} {n / wall:>10.0f}")


if __name__ == "__main__":
    main()
