"""The verifier rejects broken graphs with a message naming the node and its span."""
import pytest

from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir import types as T
from tensorscript.jit.ir.verify import VerifyError, verify
from tensorscript.jit.ops import registry as R
from tensorscript.parser.source import SourceFile, Span

from jit_helpers import lower_one

SPAN = Span(SourceFile("x = 1\n", "prog.py"), 3, 5, 3, 9)
ADD_INT = R.get("add.int")


def const(block, value, t=T.IntType):
    return block.append(G.Node(G.CONSTANT, output_types=[t], attrs={"value": value})).output


def test_lowered_programs_verify():
    verify(lower_one("""
def f(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 2 == 0:
            continue
        total += i
    return total
""", optimize=False))


def test_use_before_definition():
    g = G.Graph("f")
    x = g.add_input(T.IntType, "x")
    later = G.Node(G.OP, op=ADD_INT, inputs=[x, x], output_types=[T.IntType], span=SPAN)
    user = G.Node(G.OP, op=ADD_INT, inputs=[x, later.output], output_types=[T.IntType], span=SPAN)
    g.block.append(user)
    g.block.append(later)
    g.block.set_returns([user.output])
    with pytest.raises(VerifyError) as info:
        verify(g)
    message = str(info.value)
    assert "used before it is defined" in message and "add.int" in message and "prog.py:3:5" in message


def test_value_of_inner_block_used_outside():
    g = G.Graph("f")
    c = g.add_input(T.BoolType, "c")
    node = g.block.append(G.Node(G.IF, inputs=[c], span=SPAN))
    then_b, else_b = node.add_block(), node.add_block()
    inner = const(then_b, 1)
    const(else_b, 2)
    g.block.set_returns([inner])
    with pytest.raises(VerifyError, match="not defined in it or above it"):
        verify(g)


def test_if_block_arity():
    g = G.Graph("f")
    c = g.add_input(T.BoolType, "c")
    node = g.block.append(G.Node(G.IF, inputs=[c], output_types=[T.IntType], span=SPAN))
    then_b, else_b = node.add_block(), node.add_block()
    then_b.set_returns([const(then_b, 1)])
    g.block.set_returns(node.outputs)
    with pytest.raises(VerifyError, match="block1 returns 0 values for 1 outputs"):
        verify(g)


def test_if_condition_must_be_bool():
    g = G.Graph("f")
    c = g.add_input(T.IntType, "c")
    node = g.block.append(G.Node(G.IF, inputs=[c], span=SPAN))
    node.add_block()
    node.add_block()
    with pytest.raises(VerifyError, match="condition has type int"):
        verify(g)


def test_loop_arity():
    g = G.Graph("f")
    n = g.add_input(T.IntType, "n")
    t = const(g.block, True, T.BoolType)
    loop = g.block.append(G.Node(G.LOOP, inputs=[n, t, n], output_types=[T.IntType], span=SPAN))
    body = loop.add_block()
    body.add_param(T.IntType, "i")
    body.set_returns([t])
    with pytest.raises(VerifyError, match="body has 1 parameters, expected 2"):
        verify(g)


def test_op_argument_type():
    g = G.Graph("f")
    s = g.add_input(T.StrType, "s")
    g.block.append(G.Node(G.OP, op=ADD_INT, inputs=[s, s], output_types=[T.IntType], span=SPAN))
    with pytest.raises(VerifyError, match="argument 'a' expects int, got %s.0 of type str"):
        verify(g)


def test_op_argument_count():
    g = G.Graph("f")
    x = g.add_input(T.IntType, "x")
    g.block.append(G.Node(G.OP, op=ADD_INT, inputs=[x], output_types=[T.IntType], span=SPAN))
    with pytest.raises(VerifyError, match="takes 2 arguments, got 1"):
        verify(g)


def test_uses_must_match_inputs():
    g = G.Graph("f")
    x = g.add_input(T.IntType, "x")
    node = g.block.append(G.Node(G.OP, op=ADD_INT, inputs=[x, x], output_types=[T.IntType], span=SPAN))
    x.uses.remove((node, 1))
    with pytest.raises(VerifyError, match="does not record this use"):
        verify(g)
