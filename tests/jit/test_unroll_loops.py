"""Loop unrolling: short counted loops become straight-line code; others stay loops."""
from tensorscript.jit.ir import graph as G
from tensorscript.jit.passes.fold_constants import fold_constants
from tensorscript.jit.passes.unroll_loops import unroll_loops

from jit_helpers import kinds
from pass_golden import golden


def unroll(name, source):
    return golden(f"unroll_loops/{name}", source, lambda g: fold_constants(unroll_loops(g)))


def test_counted_loop_unrolls_and_folds():
    g = unroll("counted", """
def f(x: torch.Tensor) -> torch.Tensor:
    ws = [1.0, 2.0, 3.0]
    for i in range(3):
        x = x * ws[i] + i
    return x
""")
    assert G.LOOP not in kinds(g) and "__getitem__.t" not in kinds(g)
    assert kinds(g).count("mul.Scalar") == 3


def test_nested_loops_unroll_inside_out():
    g = unroll("nested", """
def f(n: int) -> int:
    for i in range(2):
        for j in range(3):
            n = n * 2 + i * j
    return n
""")
    assert G.LOOP not in kinds(g)


def test_long_dynamic_or_breaking_loops_stay():
    g = unroll("kept", """
def f(n: int) -> int:
    s = 0
    for i in range(100):
        s += i
    for i in range(n):
        s += i
    for i in range(4):
        if s > 10:
            break
        s += 1
    return s
""")
    assert kinds(g).count(G.LOOP) == 3


def test_unrolled_function_gives_the_same_results():
    import tensorscript as ts
    src = """
def f(n: int) -> List[int]:
    out: List[int] = []
    for i in range(5):
        if i % 2 == 0:
            out.append(n * i)
        else:
            out.append(n - i)
    return out
"""
    cu = ts.CompilationUnit(src)
    assert cu.f(3) == [0, 2, 6, 0, 12]
    assert G.LOOP not in kinds(cu.f.graph)
