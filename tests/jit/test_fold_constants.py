"""Constant folding: scalars, strings, tuples, list reads, None tests, branches, empty loops;
and what it must leave alone."""
from tensorscript.jit.ir import graph as G
from tensorscript.jit.passes.fold_constants import fold_constants

from jit_helpers import kinds
from pass_golden import golden


def fold(name, source):
    return golden(f"fold_constants/{name}", source, fold_constants)


def returned_constant(g):
    (out,) = g.outputs
    assert out.node is not None and out.node.kind == G.CONSTANT, str(g)
    return out.node.attrs["value"]


def test_scalar_arithmetic_folds():
    g = fold("scalars", """
def f(x: int) -> int:
    a = 2 * 3 + 1
    b = a // 2 - 10 % 4
    return x + a * b
""")
    assert kinds(g) == ["add.int"]


def test_floats_strings_and_bools_fold():
    g = fold("mixed", """
def f() -> str:
    a = 1.5 * 2.0
    s = "ab" + "cd"
    ok = a > 2.0 and len(s) == 4
    return s + str(a) if ok else s
""")
    assert kinds(g) == [] and returned_constant(g) == "abcd3."


def test_constant_branch_is_inlined():
    g = fold("if_taken", """
def f(x: int) -> int:
    n = 3
    if n > 2:
        y = x + 1
    else:
        y = x - 1
    return y
""")
    assert kinds(g) == ["add.int"]


def test_tuple_and_list_reads_fold():
    g = fold("containers", """
def f(x: int) -> int:
    t = (1, x, 3)
    xs = [4, 5, x]
    return t[0] + t[1] + xs[1] + len(xs) + xs[2]
""")
    assert "__getitem__.t" not in kinds(g) and "len.t" not in kinds(g)


def test_mutated_list_is_not_folded():
    g = fold("mutated_list", """
def f(x: int) -> int:
    xs = [1, 2]
    xs.append(x)
    return len(xs) + xs[0]
""")
    assert "len.t" in kinds(g) and "__getitem__.t" in kinds(g)


def test_empty_loop_is_removed():
    g = fold("empty_loop", """
def f(x: int) -> int:
    for i in range(0):
        x = x + i
    return x
""")
    assert kinds(g) == []


def test_none_tests_fold_from_types():
    g = fold("none_tests", """
def f(x: int) -> int:
    y: Optional[int] = None
    if y is None:
        return x
    return x + 1
""")
    assert G.IF not in kinds(g)


def test_unsafe_ops_are_not_folded():
    g = fold("unsafe", """
def f() -> List[int]:
    a = 1 // 0 if False else 2
    xs = [a, a]
    t = torch.rand([2])
    print(a)
    return xs
""")
    names = kinds(g)
    assert "rand" in names and "print" in names and G.LIST_CONSTRUCT in names


def test_a_raising_op_is_left_to_raise_at_run_time():
    g = fold("raises", """
def f(x: int) -> int:
    return x + 1 // 0
""")
    assert "floor_divide.int" in kinds(g)


def test_folding_is_what_running_gives():
    import tensorscript as ts
    src = """
def f(x: float) -> float:
    a = 0.1 + 0.2
    b = 2.0 ** 0.5
    return x * a + b - float(7 // 2) + (-7) % 3
"""
    cu = ts.CompilationUnit(src)
    assert cu.f(1.0) == 1.0 * (0.1 + 0.2) + 2.0 ** 0.5 - 3.0 + 2
