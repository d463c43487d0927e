"""Dead code elimination keeps side effects and removes unused values, If outputs and loop
carried values."""
from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir.verify import verify
from tensorscript.jit.passes.eliminate_dead_code import eliminate_dead_code, has_side_effects

from jit_helpers import kinds, lower_one


def dce(source):
    g = lower_one(source, optimize=False)
    eliminate_dead_code(g)
    verify(g)
    return g


def test_unused_pure_ops_removed():
    g = dce("""
def f(x: int) -> int:
    a = x * 2
    b = a + 1
    return x
""")
    assert kinds(g) == []
    assert not any(n.kind == G.CONSTANT for n in g.nodes())


def test_side_effects_kept():
    g = dce("""
def f(xs: List[int], t: torch.Tensor) -> int:
    print("hello")
    xs.append(3)
    t.add_(1.0)
    torch.rand([2])
    if len(xs) > 10:
        raise ValueError("big")
    return 0
""")
    names = kinds(g)
    assert "print" in names and "append.t" in names and any(n.startswith("add_") for n in names)
    assert "rand" in names and G.RAISE in names and G.IF in names


def test_views_feeding_inplace_ops_kept():
    g = dce("""
def f(x: torch.Tensor) -> torch.Tensor:
    x[0] = 1.0
    return x
""")
    assert kinds(g) == ["select.int", "fill_.Scalar"]


def test_unused_if_outputs_removed():
    g = dce("""
def f(c: bool, x: int) -> int:
    if c:
        y = x + 1
        z = x * 2
    else:
        y = x - 1
        z = x * 3
    return y
""")
    (node,) = [n for n in g.nodes() if n.kind == G.IF]
    assert len(node.outputs) == 1
    assert "mul.int" not in kinds(g)


def test_if_without_live_outputs_removed():
    g = dce("""
def f(c: bool, x: int) -> int:
    if c:
        y = x + 1
    else:
        y = x - 1
    return x
""")
    assert kinds(g) == []


def test_unused_loop_carried_values_removed():
    g = dce("""
def f(n: int) -> int:
    a = 0
    b = 0
    for i in range(n):
        a += i
        b += 2 * i
    return a
""")
    (loop,) = [n for n in g.nodes() if n.kind == G.LOOP]
    assert len(loop.outputs) == 1 and len(loop.blocks[0].params) == 2
    assert "mul.int" not in kinds(g)


def test_carried_value_used_only_inside_loop_is_kept_when_it_feeds_output():
    g = dce("""
def f(n: int) -> int:
    a = 0
    b = 1
    for i in range(n):
        a = a + b
        b = b + 1
    return a
""")
    (loop,) = [n for n in g.nodes() if n.kind == G.LOOP]
    assert len(loop.outputs) == 2


def test_dead_loop_removed():
    g = dce("""
def f(n: int) -> int:
    s = 0
    for i in range(n):
        s += i
    return n
""")
    assert kinds(g) == []


def test_loop_with_side_effect_kept():
    g = dce("""
def f(n: int) -> int:
    for i in range(n):
        print(i)
    return n
""")
    assert kinds(g) == [G.LOOP, "print"]


def test_side_effect_predicate():
    g = lower_one("""
def f(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = x * 2
    return y
""", optimize=False)
    grad_nodes = [n for n in g.nodes() if n.kind == G.GRAD_MODE]
    assert len(grad_nodes) == 2 and all(has_side_effects(n) for n in grad_nodes)
    eliminate_dead_code(g)
    assert len([n for n in g.nodes() if n.kind == G.GRAD_MODE]) == 2
