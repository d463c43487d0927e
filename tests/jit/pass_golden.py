"""Golden IR for one pass: the graph as lowering leaves it (dead code removed) and after the
pass (then dead code elimination, so the file shows what the pass changed, not its litter)."""
from __future__ import annotations

from tensorscript.jit.ir.verify import verify
from tensorscript.jit.passes.eliminate_dead_code import eliminate_dead_code

from jit_helpers import assert_expected, lower_one


def golden(name: str, source: str, run_pass, fn: str = "f", prepare=None):
    """Check ``expect/<name>.before.txt`` and ``expect/<name>.after.txt``; returns the graph."""
    g = lower_one(source, fn)
    if prepare is not None:
        prepare(g)
    assert_expected(str(g), f"{name}.before")
    g = run_pass(g) or g
    verify(g)
    g = eliminate_dead_code(g)
    verify(g)
    assert_expected(str(g), f"{name}.after")
    return g
