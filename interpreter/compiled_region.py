"""Running ``prim::CompiledRegion`` nodes: a scalar region compiled to one Numba function.

The region's source is generated and compiled on the node's first run (or loaded from the
on-disk cache), and the dispatcher is shared by every node with the same source. Each run
passes the input values, gets ``(code, *outputs)`` back and stores the outputs. A code other
than 0 is a failure the generated function detected before it happened: the launcher raises the
exception the interpreter would have raised, as a ``ScriptError`` naming the failing node's line.

The interpreter runs the region's subgraph instead when compiled code cannot stand for it:
an int input outside int64, a result the function reports as not fitting int64, a region the
generator cannot translate or Numba cannot compile, and runs under a tracer (which must see
every op).
"""
from __future__ import annotations

from typing import Optional

from ..jit.ir import graph as G
from ..kernels import load_on_first_use
from .errors import ScriptError
from .executor import PreparedGraph, _Raised, _script_error, register_kind

# The code generator imports Numba: it loads when a program first runs a region.
SC = load_on_first_use("scalar_codegen")

COMPILED_REGION = "prim::CompiledRegion"


class CompiledRegion:
    """One region's kernel: generated and loaded on first use."""

    __slots__ = ("subgraph", "kernel_source", "function", "failure", "int_inputs", "errors")

    def __init__(self, subgraph: G.Graph):
        self.subgraph = subgraph
        self.kernel_source: Optional[SC.KernelSource] = None
        self.function = None
        self.failure: Optional[BaseException] = None
        self.int_inputs = [k for k, v in enumerate(subgraph.inputs) if SC.kind_of(v) == SC.INT]
        self.errors: list = []

    def compile(self):
        """The compiled function, or None when the region has to be interpreted."""
        if self.function is None and self.failure is None:
            try:
                sub = self.subgraph
                src = SC.translate(sub.inputs, list(sub.block.nodes), sub.outputs, sub.name)
                self.kernel_source = src
                self.errors = src.errors
                self.function = SC.load(src)
            except Exception as exc:  # an untranslatable or uncompilable region stays interpreted
                self.failure = exc
        return self.function

    @property
    def source(self) -> str:
        self.compile()
        return self.kernel_source.source if self.kernel_source is not None else ""

    def fits(self, args: list) -> bool:
        for k in self.int_inputs:
            v = args[k]
            if v < SC.INT64_MIN or v > SC.INT64_MAX:
                return False
        return True

    def error(self, code: int, graph_name: str) -> ScriptError:
        site = self.errors[code - 1]
        exc = site.exception if site.exception is not None else _Raised(site.error_type, site.message)
        return _script_error(exc, site.node, graph_name)


def _prepare_compiled_region(pg: PreparedGraph, node: G.Node):
    ins, outs = pg.ins(node), pg.outs(node)
    sub = node.attrs["subgraph"]
    interpreted = PreparedGraph(sub, pg.program, pg.direct)
    single = len(outs) == 1

    def store(f, result) -> None:
        if single:
            f[outs[0]] = result
        elif outs:
            for s, v in zip(outs, result):
                f[s] = v

    if not pg.direct:
        def interpreted_region(f):
            store(f, interpreted(*[f[s] for s in ins]))
        return interpreted_region

    region = CompiledRegion(sub)
    name = pg.name
    n_out = len(outs)

    def compiled_region(f):
        args = [f[s] for s in ins]
        fn = region.function or region.compile()
        if fn is None or not region.fits(args):
            store(f, interpreted(*args))
            return
        r = fn(*args)
        code = r[0]
        if code:
            if code == SC.FALLBACK:
                store(f, interpreted(*args))
                return
            raise region.error(code, name)
        if n_out == 1:
            f[outs[0]] = r[1]
        else:
            for k in range(n_out):
                f[outs[k]] = r[k + 1]

    compiled_region.region = region  # for tests and tools: the kernel behind the step
    return compiled_region


register_kind(COMPILED_REGION, _prepare_compiled_region)


def kernel_source(node: G.Node) -> str:
    """The generated module source for a region node (compiling it if needed)."""
    return CompiledRegion(node.attrs["subgraph"]).source


__all__ = ["CompiledRegion", "COMPILED_REGION", "kernel_source"]
