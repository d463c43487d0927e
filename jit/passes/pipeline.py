"""The pass pipeline: a named list of ``Graph -> Graph`` passes run in order.

Adding a pass is one line in ``DEFAULT_PASSES`` (or ``add_pass`` from another module). Each run
can be steered from the environment:

- ``TENSORSCRIPT_VERIFY=1``: verify the graph after every pass (always on under pytest);
- ``TENSORSCRIPT_DUMP_IR=after:eliminate_dead_code,before:inline``: print the IR to stderr
  before/after the named passes (``all`` names every pass; ``after:lower`` the input graph);
- ``TENSORSCRIPT_DISABLE_PASSES=unroll_loops,fuse_pointwise``: skip passes by name.

A pass that raises (or leaves a graph the verifier rejects) is reported as a ``PassError``
naming it and the passes that ran before it, with the original exception as its cause.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

from ..ir.graph import Graph
from ..ir.printer import print_graph
from ..ir.verify import verify
from ..specialize import specialize_shapes
from .decompose_composites import decompose_composites
from .eliminate_common_subexpressions import eliminate_common_subexpressions
from .compile_scalar_regions import compile_scalar_regions
from .create_autodiff_subgraphs import create_autodiff_subgraphs
from .plan_memory import plan_memory
from .eliminate_dead_code import eliminate_dead_code
from .fold_constants import fold_constants
from .fuse_pointwise import fuse_pointwise
from .simplify_algebra import simplify_algebra
from .unroll_loops import unroll_loops


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Graph], Graph]
    description: str = ""


DEFAULT_PASSES: list = [
    Pass("fold_constants", fold_constants, "evaluate ops on constants; take constant branches"),
    Pass("specialize_shapes", specialize_shapes, "propagate input shapes; fold size() and dim()"),
    Pass("fold_constants", fold_constants, "fold what the known shapes decide"),
    Pass("unroll_loops", unroll_loops, "copy the body of short counted loops"),
    Pass("fold_constants", fold_constants, "fold what unrolling exposed"),
    Pass("simplify_algebra", simplify_algebra, "x * 1 -> x and other provable identities"),
    Pass("decompose_composites", decompose_composites, "softmax, gelu, ... as primitives, for fusion"),
    Pass("eliminate_common_subexpressions", eliminate_common_subexpressions, "reuse repeated pure ops"),
    Pass("eliminate_dead_code", eliminate_dead_code, "remove nodes whose results nothing needs"),
    Pass("fuse_pointwise", fuse_pointwise, "pointwise chains and row reductions as one kernel"),
    Pass("create_autodiff_subgraphs", create_autodiff_subgraphs, "straight-line differentiable runs as one tape node"),
    Pass("compile_scalar_regions", compile_scalar_regions, "scalar loops as one Numba function (last)"),
    Pass("plan_memory", plan_memory, "liveness; fused kernels write into pooled buffers"),
]


def add_pass(p: Pass, *, after: Optional[str] = None, before: Optional[str] = None) -> None:
    """Insert a pass into the default pipeline (at the end unless ``after``/``before`` names one)."""
    names = [q.name for q in DEFAULT_PASSES]
    if p.name in names:
        DEFAULT_PASSES[names.index(p.name)] = p
        return
    if after is not None:
        DEFAULT_PASSES.insert(names.index(after) + 1, p)
    elif before is not None:
        DEFAULT_PASSES.insert(names.index(before), p)
    else:
        DEFAULT_PASSES.append(p)


class PassError(RuntimeError):
    def __init__(self, pass_name: str, before: list, graph_name: str, cause: BaseException):
        self.pass_name = pass_name
        self.passes_before = list(before)
        ran = ", ".join(before) if before else "none"
        super().__init__(f"pass {pass_name!r} failed on graph {graph_name!r}: "
                         f"{type(cause).__name__}: {cause}\n  passes run before it: {ran}")


def _env_list(name: str) -> list:
    return [s.strip() for s in os.environ.get(name, "").split(",") if s.strip()]


def _verify_enabled(flag: Optional[bool]) -> bool:
    if flag is not None:
        return flag
    return os.environ.get("TENSORSCRIPT_VERIFY", "") not in ("", "0") or "PYTEST_CURRENT_TEST" in os.environ


def _dump(when: str, name: str, graph: Graph) -> None:
    sys.stderr.write(f"--- IR {when} {name} ({graph.name}) ---\n{print_graph(graph)}")
    sys.stderr.flush()


def run_pipeline(graph, passes: Optional[list] = None, *, verify_each: Optional[bool] = None,
                 timings: Optional[dict] = None):
    """Run ``passes`` (default: ``DEFAULT_PASSES``) over a Graph, or over every graph of a
    lowered module (returned with its graphs replaced)."""
    if hasattr(graph, "graphs") and not isinstance(graph, Graph):
        for key, g in list(graph.graphs.items()):
            graph.graphs[key] = run_pipeline(g, passes, verify_each=verify_each, timings=timings)
        return graph
    passes = DEFAULT_PASSES if passes is None else passes
    disabled = set(_env_list("TENSORSCRIPT_DISABLE_PASSES"))
    dumps = set(_env_list("TENSORSCRIPT_DUMP_IR"))
    check = _verify_enabled(verify_each)
    dump_all = "all" in dumps
    if "after:lower" in dumps or dump_all:
        _dump("after", "lower", graph)
    if check:
        try:
            verify(graph)
        except Exception as exc:
            raise PassError("lower", [], graph.name, exc) from exc
    ran: list = []
    for p in passes:
        if p.name in disabled:
            continue
        if dump_all or f"before:{p.name}" in dumps:
            _dump("before", p.name, graph)
        start = time.perf_counter()
        try:
            result = p.run(graph)
            graph = graph if result is None else result
            if check:
                verify(graph)
        except Exception as exc:
            raise PassError(p.name, ran, graph.name, exc) from exc
        if timings is not None:
            timings[p.name] = timings.get(p.name, 0.0) + time.perf_counter() - start
        ran.append(p.name)
        if dump_all or f"after:{p.name}" in dumps:
            _dump("after", p.name, graph)
    return graph


__all__ = ["Pass", "PassError", "DEFAULT_PASSES", "add_pass", "run_pipeline"]
