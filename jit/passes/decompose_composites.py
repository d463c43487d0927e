"""Decompose composite ops (softmax, log_softmax, gelu, silu) into primitives, so that the
fusion pass sees one chain of pointwise ops and reductions instead of an opaque kernel.

The decompositions are TensorScript functions in ``jit/stdlib/`` (listed in
``jit.stdlib.DECOMPOSITIONS``), compiled once by the same front end and inlined at each use.
A node is decomposed only when the arguments the decomposition requires are those constants
and shape specialisation knows its input is floating point (the kernels reject other dtypes,
and the decomposition must fail where they do). Decomposed ops are slower than their kernels
when nothing fuses them, so the pass does nothing unless a fusion pass is in the pipeline and
enabled; the registered kernel stays the fallback for everything it does not rewrite.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..ir import graph as G
from ..ir.meta import tensor_meta
from .fold_constants import Rewriter, constant_value, fold_constants
from .unroll_loops import _copy_nodes

_STDLIB = Path(__file__).resolve().parent.parent / "stdlib"
_compiled: dict = {}  # stdlib module name -> {function name: Graph}


def _fusion_enabled() -> bool:
    from .pipeline import DEFAULT_PASSES, _env_list

    disabled = set(_env_list("TENSORSCRIPT_DISABLE_PASSES"))
    return any(p.name.startswith("fuse") and p.name not in disabled for p in DEFAULT_PASSES)


def stdlib_graphs(module: str) -> dict:
    """The graphs of ``jit/stdlib/<module>.py``, compiled on first use."""
    graphs = _compiled.get(module)
    if graphs is None:
        from ...parser import parse_module
        from ...typecheck import check_module
        from ..lower import lower_module
        from .eliminate_dead_code import eliminate_dead_code

        path = _STDLIB / f"{module}.py"
        lowered = lower_module(check_module(parse_module(path.read_text(), str(path))))
        graphs = {}
        for name, g in lowered.graphs.items():
            graphs[name] = eliminate_dead_code(fold_constants(g))
        _compiled[module] = graphs
    return graphs


def _choose(node: G.Node) -> Optional[tuple]:
    """The decomposition graph and the inputs to pass it, or None."""
    from ..stdlib import DECOMPOSITIONS

    candidates = DECOMPOSITIONS.get(node.op.qualified_name)
    if not candidates:
        return None
    meta = tensor_meta(node.inputs[0])
    if meta is None or meta.dtype is None or not meta.dtype.is_floating_point:
        return None
    params = [p.name for p in node.op.schema.params]
    for module, function, required in candidates:
        ok = all(constant_value(node.inputs[params.index(k)]) == v
                 and type(constant_value(node.inputs[params.index(k)])) is type(v)
                 for k, v in required.items())
        if ok:
            passed = [v for k, v in zip(params, node.inputs) if k not in required]
            return stdlib_graphs(module)[function], passed
    return None


def _decompose(node: G.Node, callee: G.Graph, passed: list, rewriter: Rewriter) -> None:
    env = dict(zip(callee.inputs, passed))
    # The copies take the composite's span: a failure points at the user's line.
    for b in _copy_nodes(callee.block, env, lambda n: node.owner.insert_before(node, n), node.span):
        rewriter.index_block(b)
    (result,) = [env.get(v, v) for v in callee.outputs]
    result.meta = node.output.meta
    rewriter.replace(node.output, result)
    node.destroy()


def _decompose_block(block: G.Block, rewriter: Rewriter) -> None:
    for node in list(block.nodes):
        for b in node.blocks:
            _decompose_block(b, rewriter)
        if node.kind == G.OP and len(node.outputs) == 1:
            chosen = _choose(node)
            if chosen is not None:
                _decompose(node, *chosen, rewriter)


def decompose_composites(graph: G.Graph, force: bool = False) -> G.Graph:
    if force or _fusion_enabled():
        _decompose_block(graph.block, Rewriter(graph))
    return graph


__all__ = ["decompose_composites", "stdlib_graphs"]
