"""The graph executor on hand-built graphs: every node kind, failures and their locations."""
import operator

import pytest

from tensorscript.interpreter import autograd
from tensorscript.interpreter.errors import ScriptError
from tensorscript.interpreter.executor import Program, ScriptObject, run_graph
from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir import types as T
from tensorscript.jit.ops.registry import OpDef, handler_scope, Handler
from tensorscript.jit.ops.schema import parse_schema
from tensorscript.parser.source import SourceFile, Span

ADD = OpDef(parse_schema("add.int(int a, int b) -> int"), impl=operator.add)
LT = OpDef(parse_schema("lt.int(int a, int b) -> bool"), impl=operator.lt)
FLOORDIV = OpDef(parse_schema("floordiv.int(int a, int b) -> int"), impl=operator.floordiv)
GETITEM = OpDef(parse_schema("__getitem__.t(t[] l, int idx) -> t"), impl=operator.getitem)
APPEND = OpDef(parse_schema("append.t(t[] self, t el) -> ()"), impl=lambda l, x: l.append(x))
DIVMOD = OpDef(parse_schema("divmod.int(int a, int b) -> (int, int)"), impl=divmod)
TENSORISH = OpDef(parse_schema("twice(Tensor a) -> Tensor"), impl=lambda a: a * 2)

SRC = SourceFile("def f(x):\n    y = x // 0\n    return g(y)\n", name="prog.py")


def span(line, col=5):
    return Span(SRC, line, col, line, col + 3)


def const(block, value, type_):
    n = block.append(G.Node(G.CONSTANT, output_types=[type_], attrs={"value": value}))
    return n.output


def op(block, opdef, *inputs, out=T.IntType, span_=None):
    n = block.append(G.Node(G.OP, op=opdef, inputs=inputs, output_types=[out] if out else [], span=span_))
    return n.output if out else n


def test_constant_and_op():
    g = G.Graph("f")
    x = g.add_input(T.IntType, "x")
    y = op(g.block, ADD, x, const(g.block, 40, T.IntType))
    g.block.set_returns([y])
    assert run_graph(g, 2) == 42


def test_containers_and_unpacking():
    g = G.Graph("f")
    x = g.add_input(T.IntType, "x")
    b = g.block
    lst = b.append(G.Node(G.LIST_CONSTRUCT, inputs=[x, x], output_types=[T.ListType(T.IntType)])).output
    op(b, APPEND, lst, const(b, 7, T.IntType), out=None)
    tup = b.append(G.Node(G.TUPLE_CONSTRUCT, inputs=[x, lst], output_types=[T.TupleType((T.IntType, T.ListType(T.IntType)))])).output
    first = b.append(G.Node(G.TUPLE_INDEX, inputs=[tup], output_types=[T.IntType], attrs={"index": 0})).output
    unpack = b.append(G.Node(G.TUPLE_UNPACK, inputs=[tup], output_types=[T.IntType, T.ListType(T.IntType)]))
    l_unpack = b.append(G.Node(G.LIST_UNPACK, inputs=[unpack.outputs[1]], output_types=[T.IntType] * 3))
    key = const(b, "k", T.StrType)
    d = b.append(G.Node(G.DICT_CONSTRUCT, inputs=[key, first, const(b, "z", T.StrType), l_unpack.outputs[2]],
                        output_types=[T.DictType(T.StrType, T.IntType)])).output
    b.set_returns([d])
    result = run_graph(g, 3)
    assert result == {"k": 3, "z": 7} and list(result) == ["k", "z"]


def test_mutable_constant_is_fresh_per_call():
    g = G.Graph("f")
    lst = const(g.block, [1], T.ListType(T.IntType))
    op(g.block, APPEND, lst, const(g.block, 2, T.IntType), out=None)
    g.block.set_returns([lst])
    prog = Program({"f": g})
    assert prog.run("f") == [1, 2]
    assert prog.run("f") == [1, 2]


def test_list_unpack_length_mismatch():
    g = G.Graph("f")
    x = g.add_input(T.ListType(T.IntType), "x")
    n = g.block.append(G.Node(G.LIST_UNPACK, inputs=[x], output_types=[T.IntType] * 2, span=span(2)))
    g.block.set_returns([n.outputs[0]])
    with pytest.raises(ScriptError) as e:
        run_graph(g, [1, 2, 3])
    assert "Expected 2 elements" in str(e.value)


def _if_graph():
    g = G.Graph("f")
    x = g.add_input(T.IntType, "x")
    c = op(g.block, LT, x, const(g.block, 0, T.IntType), out=T.BoolType)
    node = g.block.append(G.Node(G.IF, inputs=[c], output_types=[T.IntType]))
    then_b, else_b = node.add_block(), node.add_block()
    then_b.set_returns([const(then_b, -1, T.IntType)])
    else_b.set_returns([op(else_b, ADD, x, x)])
    g.block.set_returns([node.output])
    return g


def test_if():
    g = _if_graph()
    assert run_graph(g, -5) == -1
    assert run_graph(g, 5) == 10


def _sum_loop(n_carried=1):
    """sum(range(n)) as prim::Loop with a trip count."""
    g = G.Graph("f")
    n = g.add_input(T.IntType, "n")
    true = const(g.block, True, T.BoolType)
    zero = const(g.block, 0, T.IntType)
    carried = [zero] * n_carried
    loop = g.block.append(G.Node(G.LOOP, inputs=[n, true, *carried], output_types=[T.IntType] * n_carried))
    body = loop.add_block()
    i = body.add_param(T.IntType, "i")
    accs = [body.add_param(T.IntType, f"acc{k}") for k in range(n_carried)]
    new = [op(body, ADD, a, i) for a in accs]
    body.set_returns([true, *new])
    g.block.set_returns([loop.outputs[0]])
    return g


@pytest.mark.parametrize("n_carried", [1, 3])
def test_loop_trip_count(n_carried):
    g = _sum_loop(n_carried)
    assert run_graph(g, 10) == 45
    assert run_graph(g, 0) == 0


def test_loop_swapping_carried_values():
    # (a, b) = (b, a) each iteration: carried results read before parameters are written
    g = G.Graph("f")
    n = g.add_input(T.IntType)
    a0, b0 = g.add_input(T.IntType), g.add_input(T.IntType)
    true = const(g.block, True, T.BoolType)
    loop = g.block.append(G.Node(G.LOOP, inputs=[n, true, a0, b0], output_types=[T.IntType] * 2))
    body = loop.add_block()
    body.add_param(T.IntType)
    a, b = body.add_param(T.IntType), body.add_param(T.IntType)
    body.set_returns([true, b, a])
    tup = g.block.append(G.Node(G.TUPLE_CONSTRUCT, inputs=loop.outputs, output_types=[T.TupleType((T.IntType, T.IntType))]))
    g.block.set_returns([tup.output])
    assert run_graph(g, 3, 1, 2) == (2, 1)


def test_while_loop_condition():
    # while x < 100: x = x + x
    g = G.Graph("f")
    x = g.add_input(T.IntType)
    big = const(g.block, 2**62, T.IntType)
    hundred = const(g.block, 100, T.IntType)
    c0 = op(g.block, LT, x, hundred, out=T.BoolType)
    loop = g.block.append(G.Node(G.LOOP, inputs=[big, c0, x], output_types=[T.IntType]))
    body = loop.add_block()
    body.add_param(T.IntType)
    v = body.add_param(T.IntType)
    v2 = op(body, ADD, v, v)
    body.set_returns([op(body, LT, v2, hundred, out=T.BoolType), v2])
    g.block.set_returns([loop.output])
    assert run_graph(g, 3) == 192
    assert run_graph(g, 500) == 500


def test_call_function_and_error_frames():
    callee = G.Graph("g")
    y = callee.add_input(T.IntType)
    callee.block.set_returns([op(callee.block, FLOORDIV, y, const(callee.block, 0, T.IntType), span_=span(2, 9))])
    caller = G.Graph("f")
    x = caller.add_input(T.IntType)
    call = caller.block.append(G.Node(G.CALL_FUNCTION, inputs=[x], output_types=[T.IntType],
                                      attrs={"name": "g"}, span=span(3, 12)))
    caller.block.set_returns([call.output])
    prog = Program({"f": caller, "g": callee})
    with pytest.raises(ScriptError) as e:
        prog.run("f", 1)
    err = e.value
    assert err.error_type == "ZeroDivisionError"
    assert [loc for loc, _ in err.frames] == ["prog.py:3:12", "prog.py:2:9"]
    assert err.frames[1][1].strip() == "y = x // 0"
    text = str(err)
    assert "ZeroDivisionError" in text and "prog.py:2:9" in text
    assert err.__cause__ is None and err.__suppress_context__


def test_error_inside_nested_block_names_inner_node():
    g = G.Graph("f")
    x = g.add_input(T.IntType)
    c = const(g.block, True, T.BoolType)
    node = g.block.append(G.Node(G.IF, inputs=[c], output_types=[T.IntType], span=span(1)))
    then_b, else_b = node.add_block(), node.add_block()
    then_b.set_returns([op(then_b, FLOORDIV, x, const(then_b, 0, T.IntType), span_=span(2))])
    else_b.set_returns([x])
    g.block.set_returns([node.output])
    with pytest.raises(ScriptError) as e:
        run_graph(g, 1)
    assert [loc for loc, _ in e.value.frames] == ["prog.py:2:5"]


def test_raise_exception():
    g = G.Graph("f")
    msg = const(g.block, "bad value", T.StrType)
    g.block.append(G.Node(G.RAISE, inputs=[msg], attrs={"exception": "ValueError"}, span=span(2)))
    g.block.set_returns([])
    with pytest.raises(ScriptError) as e:
        run_graph(g)
    assert e.value.error_type == "ValueError"
    assert e.value.message == "bad value"
    assert isinstance(e.value, RuntimeError)


def test_index_error_from_builtin():
    g = G.Graph("f")
    lst = g.add_input(T.ListType(T.IntType))
    g.block.set_returns([op(g.block, GETITEM, lst, const(g.block, 5, T.IntType), span_=span(3))])
    with pytest.raises(ScriptError) as e:
        run_graph(g, [1])
    assert e.value.error_type == "IndexError"


def test_objects():
    cls = T.ClassType("Point", {"x": T.IntType})
    g = G.Graph("f")
    v = g.add_input(T.IntType)
    obj = g.block.append(G.Node(G.CREATE_OBJECT, output_types=[cls], attrs={"cls": cls})).output
    g.block.append(G.Node(G.SET_ATTR, inputs=[obj, v], attrs={"name": "x"}))
    got = g.block.append(G.Node(G.GET_ATTR, inputs=[obj], output_types=[T.IntType], attrs={"name": "x"})).output
    # Point.double(self) -> int
    method = G.Graph("Point.double")
    self_ = method.add_input(cls)
    mx = method.block.append(G.Node(G.GET_ATTR, inputs=[self_], output_types=[T.IntType], attrs={"name": "x"})).output
    method.block.set_returns([op(method.block, ADD, mx, mx)])
    called = g.block.append(G.Node(G.CALL_METHOD, inputs=[obj], output_types=[T.IntType], attrs={"name": "double"})).output
    tup = g.block.append(G.Node(G.TUPLE_CONSTRUCT, inputs=[got, called, obj], output_types=[T.TupleType((T.IntType, T.IntType, cls))]))
    g.block.set_returns([tup.output])
    a, b, o = Program({"f": g, "Point.double": method}).run("f", 21)
    assert (a, b) == (21, 42)
    assert isinstance(o, ScriptObject) and o.x == 21


def test_isinstance_uninitialized_unchecked_cast():
    g = G.Graph("f")
    x = g.add_input(T.OptionalType(T.IntType))
    is_int = g.block.append(G.Node(G.ISINSTANCE, inputs=[x], output_types=[T.BoolType], attrs={"types": [T.IntType]})).output
    node = g.block.append(G.Node(G.IF, inputs=[is_int], output_types=[T.IntType]))
    then_b, else_b = node.add_block(), node.add_block()
    then_b.set_returns([then_b.append(G.Node(G.UNCHECKED_CAST, inputs=[x], output_types=[T.IntType])).output])
    else_b.set_returns([else_b.append(G.Node(G.UNINITIALIZED, output_types=[T.IntType])).output])
    g.block.set_returns([node.output])
    assert run_graph(g, 4) == 4
    assert run_graph(g, None) is None


def test_grad_mode_toggle_and_restore():
    g = G.Graph("f")
    prev = g.block.append(G.Node(G.GRAD_MODE, inputs=[const(g.block, False, T.BoolType)], output_types=[T.BoolType])).output
    g.block.set_returns([prev])
    assert autograd.is_grad_enabled()
    assert run_graph(g) is True
    # the top-level call restores the caller's mode when the script leaves it changed
    assert autograd.is_grad_enabled()


def test_multi_output_op():
    g = G.Graph("f")
    a, b = g.add_input(T.IntType), g.add_input(T.IntType)
    n = g.block.append(G.Node(G.OP, op=DIVMOD, inputs=[a, b], output_types=[T.IntType, T.IntType]))
    tup = g.block.append(G.Node(G.TUPLE_CONSTRUCT, inputs=n.outputs, output_types=[T.TupleType((T.IntType, T.IntType))]))
    g.block.set_returns([tup.output])
    assert run_graph(g, 7, 2) == (3, 1)


def test_ops_go_through_active_handler():
    seen = []

    class Recorder(Handler):
        def process(self, op, args):
            seen.append(op.qualified_name)
            return op.impl(*args)

    g = G.Graph("f")
    x = g.add_input(T.IntType)
    g.block.set_returns([op(g.block, ADD, x, x)])
    with handler_scope(Recorder()):
        assert run_graph(g, 2) == 4
    assert seen == ["add.int"]


def test_fusion_group_runs_its_subgraph():
    sub = G.Graph("fused")
    a = sub.add_input(T.IntType)
    sub.block.set_returns([op(sub.block, ADD, a, a)])
    g = G.Graph("f")
    x = g.add_input(T.IntType)
    n = g.block.append(G.Node(G.FUSION_GROUP, inputs=[x], output_types=[T.IntType], attrs={"subgraph": sub}))
    g.block.set_returns([n.output])
    assert run_graph(g, 5) == 10


def test_tensor_values_freed_after_last_use():
    # Intermediates of Tensor type are dropped from the frame; results are kept.
    from tensorscript.interpreter.executor import PreparedGraph

    import numpy as np
    from tensorscript.interpreter.runtime import wrap

    g = G.Graph("f")
    x = g.add_input(T.TensorType)
    t1 = op(g.block, TENSORISH, x, out=T.TensorType)
    t2 = op(g.block, TENSORISH, t1, out=T.TensorType)
    g.block.set_returns([t2])
    pg = PreparedGraph(g, Program())
    free_steps = [s for s in pg.block.steps if s.__name__.startswith("free")]
    assert len(free_steps) == 1
    assert float(pg(wrap(np.array(1.0))).numpy()) == 4.0


def test_range_length_and_is_none():
    g = G.Graph("f")
    start, stop, step = (g.add_input(T.IntType) for _ in range(3))
    opt = g.add_input(T.OptionalType(T.IntType))
    n = g.block.append(G.Node(G.RANGE_LENGTH, inputs=[start, stop, step], output_types=[T.IntType], span=span(2))).output
    none = g.block.append(G.Node(G.IS_NONE, inputs=[opt], output_types=[T.BoolType])).output
    not_none = g.block.append(G.Node(G.IS_NOT_NONE, inputs=[opt], output_types=[T.BoolType])).output
    tup = g.block.append(G.Node(G.TUPLE_CONSTRUCT, inputs=[n, none, not_none],
                                output_types=[T.TupleType((T.IntType, T.BoolType, T.BoolType))]))
    g.block.set_returns([tup.output])
    assert run_graph(g, 0, 10, 3, None) == (4, True, False)
    assert run_graph(g, 10, 0, -2, 1) == (5, False, True)
    with pytest.raises(ScriptError) as e:
        run_graph(g, 0, 1, 0, None)
    assert e.value.error_type == "ValueError"


def test_single_int_widens_to_int_list_parameter():
    # TorchScript's int[2] accepts one int, repeated
    pair = OpDef(parse_schema("pair(int[2] xs) -> int[]"), impl=lambda xs: list(xs))
    g = G.Graph("f")
    x = g.add_input(T.IntType)
    g.block.set_returns([op(g.block, pair, x, out=T.ListType(T.IntType))])
    assert run_graph(g, 3) == [3, 3]


def test_every_kind_has_a_runner():
    from tensorscript.interpreter.executor import _PREPARERS

    kinds = [v for k, v in vars(G).items() if k.isupper() and isinstance(v, str)
             and (v.startswith("prim::") or v == G.OP)]
    assert [k for k in kinds if k not in _PREPARERS] == []
