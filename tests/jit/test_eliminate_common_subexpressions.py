"""CSE merges repeated pure nodes that dominate their repeats, and nothing else."""
from tensorscript.jit.passes.eliminate_common_subexpressions import eliminate_common_subexpressions

from jit_helpers import kinds
from pass_golden import golden


def cse(name, source):
    return golden(f"cse/{name}", source, eliminate_common_subexpressions)


def test_repeated_pure_ops_merge():
    g = cse("pure", """
def f(x: torch.Tensor, n: int) -> torch.Tensor:
    a = (x + 1) * (x + 1)
    return a + (n * 2) + (n * 2)
""")
    assert kinds(g).count("add.Scalar") == 3 and kinds(g).count("mul.int") == 1  # x + 1 once


def test_dominating_node_reused_inside_blocks_but_not_across_branches():
    g = cse("dominance", """
def f(c: bool, n: int) -> int:
    a = n * 3
    if c:
        b = n * 3
        d = n + 7
    else:
        b = n + 7
        d = n + 7
    return a + b + d + (n + 7)
""")
    names = kinds(g)
    assert names.count("mul.int") == 1
    assert names.count("add.int") == 6  # n + 7 once per branch and once after; the three sums


def test_random_and_effects_are_not_merged():
    g = cse("random", """
def f() -> torch.Tensor:
    a = torch.rand([2])
    b = torch.rand([2])
    print(1)
    print(1)
    return a + b
""")
    assert kinds(g).count("rand") == 2 and kinds(g).count("print") == 2


def test_reads_around_a_mutation_are_not_merged():
    g = cse("mutation", """
def f(x: torch.Tensor, xs: List[int]) -> torch.Tensor:
    a = x + 1
    x.add_(1)
    b = x + 1
    n = len(xs)
    xs.append(3)
    m = len(xs)
    return a + b + n + m
""")
    assert kinds(g).count("add.Scalar") == 4 and kinds(g).count("len.t") == 2  # x + 1 twice


def test_no_grad_results_are_not_merged_with_grad_results():
    g = cse("grad_mode", """
def f(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        a = x * 2
    b = x * 2
    return a + b
""")
    assert kinds(g).count("mul.Scalar") == 2


def test_lists_are_never_merged():
    g = cse("lists", """
def f(n: int) -> List[int]:
    a = [n, 1]
    b = [n, 1]
    a.append(2)
    return b
""")
    assert kinds(g).count("prim::ListConstruct") == 2
