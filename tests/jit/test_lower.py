"""Lowering: golden IR for each construct, and every program run against Python itself."""
import copy
import math
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.interpreter.errors import ScriptError
from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir import types as T
from tensorscript.parser.source import CompileError

from jit_helpers import assert_expected, kinds, lower_one, lower_source
from jit_programs import PROGRAMS, RAISING


def python_function(source: str, name: str = "f"):
    namespace = {"List": List, "Dict": Dict, "Tuple": Tuple, "Optional": Optional, "torch": ts}
    exec(source, namespace)
    return namespace[name]


# ------------------------------------------------------------------ golden IR

GOLDEN = [
    "if_else_merge", "early_return", "for_range_forms", "while_loop", "break_continue",
    "nested_break_inner", "return_inside_loop", "enumerate_zip", "comprehensions",
    "bool_ops_and_chains", "optional_refinement", "assert_raise", "fstrings", "list_mutation",
    "tuples", "helper_functions", "range_dynamic_step", "tuple_heterogeneous_loop",
]


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_ir(name):
    source, _ = PROGRAMS[name]
    module = lower_source(source, f"{name}.py")
    text = "\n".join(str(g) for g in module.graphs.values())
    assert_expected(text, name)


TENSOR_GOLDEN = {
    "tensor_index_read": """
def f(x: torch.Tensor, i: int, idx: torch.Tensor) -> List[torch.Tensor]:
    return [x[i], x[1, 2:], x[:, None], x[..., 0], x[0, ..., 1:], x[idx], x[:, idx], x[:], x[None, ..., None]]
""",
    "tensor_index_write": """
def f(x: torch.Tensor, t: float) -> torch.Tensor:
    y = x.clone()
    y[0] = 1.0
    y[:, -1] += 1.0
    y[y > t] = t
    y[1, 0:2] = torch.zeros([2])
    return y
""",
    "no_grad_block": """
def f(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = x * 2
        if y.sum() > 0:
            return y
    return x
""",
}


@pytest.mark.parametrize("name", sorted(TENSOR_GOLDEN))
def test_golden_tensor_ir(name):
    g = lower_one(TENSOR_GOLDEN[name])
    assert_expected(str(g), name)


# ------------------------------------------------------------------ structure

def test_if_outputs_and_uninitialized():
    g = lower_one("""
def f(c: bool) -> int:
    if c:
        y = 1
    else:
        raise ValueError("no")
    return y
""")
    (node,) = [n for n in g.nodes() if n.kind == G.IF]
    assert len(node.outputs) == 1
    else_kinds = [n.kind for n in node.blocks[1].nodes]
    assert G.RAISE in else_kinds and G.UNINITIALIZED in else_kinds
    assert g.outputs[0] is node.outputs[0]


def test_loop_carries_only_variables_defined_before():
    g = lower_one("""
def f(n: int) -> int:
    total = 0
    for i in range(n):
        tmp = i * 2
        total += tmp
    return total
""")
    (loop,) = [n for n in g.nodes() if n.kind == G.LOOP]
    assert len(loop.outputs) == 1
    assert [p.name for p in loop.blocks[0].params] == ["i", "total"]


def test_while_condition_is_recomputed_in_body():
    g = lower_one("""
def f(n: int) -> int:
    while n > 1:
        n = n // 2
    return n
""")
    (loop,) = [n for n in g.nodes() if n.kind == G.LOOP]
    body = loop.blocks[0]
    cond = body.returns[0]
    assert cond.node is not None and cond.node.owner is body and cond.node.op.name == "gt"
    assert loop.inputs[0].node.attrs["value"] == 2 ** 63 - 1


def test_dead_flags_are_removed():
    g = lower_one("""
def f(xs: List[int]) -> int:
    for x in xs:
        if x > 3:
            return x
    return 0
""")
    (loop,) = [n for n in g.nodes() if n.kind == G.LOOP]
    # carried: did_return and ret; the skip/stop flags never leave the body
    assert len(loop.outputs) == 2


def test_static_isinstance_lowers_only_live_branch():
    g = lower_one("""
def f(x: int) -> int:
    if isinstance(x, int):
        return x + 1
    else:
        return 0
""")
    assert not any(n.kind == G.IF for n in g.nodes())


def test_spans_on_every_non_constant_node():
    g = lower_one(PROGRAMS["break_continue"][0])
    for n in g.nodes():
        assert n.span is not None, n


def test_op_defaults_are_constant_inputs():
    g = lower_one("""
def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.add(x, y)
""")
    (add,) = [n for n in g.nodes() if n.kind == G.OP]
    assert len(add.inputs) == len(add.op.schema.params)
    assert add.inputs[2].node.kind == G.CONSTANT and add.inputs[2].node.attrs["value"] == 1


def test_multi_return_op_is_one_tuple_output():
    g = lower_one("""
def f(x: torch.Tensor) -> torch.Tensor:
    v, i = torch.max(x, 1)
    return v + i
""")
    (mx,) = [n for n in g.nodes() if n.kind == G.OP and n.op.name == "max"]
    assert len(mx.outputs) == 1 and isinstance(mx.output.type, T.TupleType)
    assert any(n.kind == G.TUPLE_UNPACK for n in g.nodes())


def test_class_methods_and_objects():
    module = lower_source("""
class Acc:
    def __init__(self, start: int):
        self.total = start

    def add(self, k: int) -> int:
        self.total += k
        return self.total

def f(n: int) -> int:
    a = Acc(n)
    a.add(2)
    return a.add(3)
""")
    assert {"f", "Acc.__init__", "Acc.add"} <= set(module.graphs)
    names = kinds(module.graphs["f"])
    assert names[:2] == [G.CREATE_OBJECT, G.CALL_METHOD]
    assert G.SET_ATTR in kinds(module.graphs["Acc.add"])


def test_unsupported_construct_is_a_compile_error():
    with pytest.raises(CompileError):
        lower_one("""
def f(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    return x[..., i]
""")


# ------------------------------------------------------------------ end to end, Python as oracle

def _same(a, b):
    if isinstance(a, ts.Tensor) or hasattr(a, "numpy"):
        return np.array_equal(a.numpy(), b.numpy())
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_python(name):
    source, calls = PROGRAMS[name]
    cu = ts.CompilationUnit(source)
    fn = python_function(source)
    for args in calls:
        assert _same(cu.f(*copy.deepcopy(args)), fn(*copy.deepcopy(args))), args


@pytest.mark.parametrize("name", sorted(RAISING))
def test_program_raises(name):
    cu = ts.CompilationUnit(PROGRAMS[name][0])
    for args, error_type in RAISING[name]:
        with pytest.raises(ScriptError) as info:
            cu.f(*args)
        assert error_type in str(info.value) or getattr(info.value, "error_type", None) == error_type


TENSOR_PROGRAMS = {
    "indexing": ("""
def f(x: torch.Tensor) -> List[torch.Tensor]:
    idx = torch.tensor([2, 0])
    return [x[0], x[1, 2], x[:, 1], x[1:3], x[0, 1:3], x[..., 0], x[..., 1:], x[0, ...],
            x[..., None, 2], x[1, ..., 0], x[-1], x[:, -2:], x[::2], x[None], x[:, None],
            x[idx], x[:, idx], x[x > 5.0], x[[0, 2]], x[:], x[True], x[..., -1]]
""", lambda: ts.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))),
    "index_assign": ("""
def f(x: torch.Tensor, t: float) -> torch.Tensor:
    y = x.clone()
    y[y > t] = t
    y[0] = -1.0
    y[:, -1] += 100.0
    y[1, 0:2] = torch.tensor([7.0, 8.0])
    y[..., 0] -= 0.5
    y[torch.tensor([2])] *= 2.0
    return y
""", lambda: ts.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))),
    "loop_over_tensor": ("""
def f(x: torch.Tensor) -> List[float]:
    out: List[float] = []
    for row in x:
        out.append(float(row.sum()))
    return out
""", lambda: ts.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))),
}


@pytest.mark.parametrize("name", sorted(TENSOR_PROGRAMS))
def test_tensor_program_matches_eager(name):
    source, make = TENSOR_PROGRAMS[name]
    cu = ts.CompilationUnit(source)
    fn = python_function(source)
    args = (make(),) if "t: float" not in source else (make(), 5.0)
    got, expected = cu.f(*args), fn(*args)
    if isinstance(expected, list):
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            if isinstance(b, float):
                assert a == b
                continue
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a.numpy(), b.numpy())
    else:
        assert np.array_equal(got.numpy(), expected.numpy())


def test_no_grad_block_restores_mode():
    cu = ts.CompilationUnit(TENSOR_GOLDEN["no_grad_block"])
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = cu.f(x)
    assert not y.requires_grad
    z = x * 2
    assert z.requires_grad
    x2 = ts.tensor([-1.0, -2.0], requires_grad=True)
    assert cu.f(x2).requires_grad


# ------------------------------------------------------------------ language regressions

def test_each_list_call_makes_a_new_list():
    cu = ts.CompilationUnit('''
def f(s: str) -> Tuple[List[str], List[str]]:
    cs = list(s)
    cs.reverse()
    return list(s), cs
''')
    assert cu.f("abc") == (["a", "b", "c"], ["c", "b", "a"])


def test_keyword_only_parameters_bind_by_name():
    cu = ts.CompilationUnit('''
def scale(x: int, *, factor: int = 2, offset: int = 0) -> int:
    return x * factor + offset

def f(x: int) -> Tuple[int, int, int]:
    return scale(x), scale(x, factor=3), scale(x, offset=1, factor=5)
''')
    assert cu.f(2) == (4, 6, 11)


def test_membership_in_a_tuple_display_and_len_of_a_tuple():
    g = lower_source('''
def f(x: int, s: str) -> Tuple[bool, bool, int]:
    t = (x, 1.5, s)
    return x in (1, 2), s not in ("a", "b"), len(t)
''')
    assert "prim::TupleConstruct" not in kinds(g.graphs["f"])[:2]
    cu = ts.CompilationUnit('''
def f(x: int, s: str) -> Tuple[bool, bool, int]:
    t = (x, 1.5, s)
    return x in (1, 2), s not in ("a", "b"), len(t)
''')
    assert cu.f(2, "c") == (True, True, 3) and cu.f(3, "a") == (False, False, 3)


def test_identity_and_dtype_comparisons():
    cu = ts.CompilationUnit('''
def f(a: List[int], x: torch.Tensor) -> Tuple[bool, bool, bool, bool]:
    b = a
    c = [1]
    return a is b, a is c, x.dtype == torch.float32, x.dtype != torch.int64
''')
    assert cu.f([1], ts.tensor([1.0])) == (True, False, True, True)
    assert cu.f([1], ts.tensor([1]))[2:] == (False, False)


def test_tensors_and_numbers_convert_implicitly():
    cu = ts.CompilationUnit('''
def g(n: int) -> int:
    return n + 1

def total(x: torch.Tensor) -> float:
    return x.sum()

def first(x: torch.Tensor) -> float:
    return x[0]

def f(x: torch.Tensor) -> Tuple[int, float, torch.Tensor, float, int]:
    a = x.max().item()
    return g(x.sum()), total(x), torch.full([2], x.min()), a, a + 1
''')
    out = cu.f(ts.tensor([3, 2]))
    assert out[:2] == (6, 5.0) and type(out[1]) is float
    assert out[2].numpy().tolist() == [2, 2] and out[3:] == (3.0, 4)
    with pytest.raises(ScriptError, match="integral"):
        cu.f(ts.tensor([1.5, 2.0]))  # a float tensor is no int argument
    with pytest.raises(ScriptError, match="dimension other than 0"):
        cu.first(ts.tensor([[1.0]]))
    assert cu.first(ts.tensor([0.5, 1.0])) == 0.5


def test_math_function_of_a_float_tensor():
    cu = ts.CompilationUnit('''
def f(x: torch.Tensor) -> Tuple[float, float]:
    return math.sqrt(x.sum()), math.exp(x[0])
''')
    a, b = cu.f(ts.tensor([2.25, 1.75]))
    assert a == 2.0 and abs(b - math.exp(2.25)) < 1e-5


def test_signature_type_comment():
    cu = ts.CompilationUnit('''
def g(x, y):
    # type: (int, float) -> float
    return x * y

def f(x: int) -> float:
    return g(x, 1.5)
''')
    assert cu.f(2) == 3.0
