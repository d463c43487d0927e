"""Inlining calls of small functions."""
from tensorscript.interpreter.executor import Program
from tensorscript.jit.ir import graph as G
from tensorscript.jit.passes.eliminate_dead_code import eliminate_dead_code
from tensorscript.jit.passes.inline import inline_calls, make_inline_pass
from tensorscript.jit.passes.pipeline import Pass, run_pipeline

from jit_helpers import kinds, lower_source

SOURCE = """
def sq(x: int) -> int:
    return x * x

def clamp(x: int, lo: int) -> int:
    if x < lo:
        return lo
    return x

def big(x: int) -> int:
    for i in range(3):
        x = x + i * 2 - 1
    return x

def f(a: int) -> int:
    b = sq(a) + clamp(a, 3)
    return big(b)
"""


def test_inline_small_callees_only():
    module = lower_source(SOURCE)
    graphs = dict(module.graphs)
    f = run_pipeline(module.graphs["f"], [make_inline_pass(graphs, max_nodes=3),
                                          Pass("eliminate_dead_code", eliminate_dead_code)],
                     verify_each=True)
    calls = [n.attrs["name"] for n in f.nodes() if n.kind == G.CALL_FUNCTION]
    assert calls == ["big"]
    assert "mul.int" in kinds(f) and G.IF in kinds(f)


def test_inlined_graph_computes_the_same():
    module = lower_source(SOURCE)
    expected = [Program(module.graphs).run("f", a) for a in (-2, 1, 5)]
    graphs = dict(module.graphs)
    inlined = inline_calls(module.graphs["f"], graphs, max_nodes=100)
    assert not any(n.kind == G.CALL_FUNCTION for n in inlined.nodes())
    program = Program(dict(graphs, f=inlined))
    assert [program.run("f", a) for a in (-2, 1, 5)] == expected


def test_calls_copied_from_a_callee_stay_calls():
    module = lower_source("""
def g(x: int) -> int:
    return x + 1

def h(x: int) -> int:
    return g(x) * 2

def f(n: int) -> int:
    return h(n)
""")
    graphs = dict(module.graphs)
    f = inline_calls(module.graphs["f"], graphs, max_nodes=100)
    assert [n.attrs["name"] for n in f.nodes() if n.kind == G.CALL_FUNCTION] == ["g"]
