"""What the typed AST records for lowering: targets, bound arguments, conversions, refinements."""

from __future__ import annotations

import textwrap

import pytest
import tensorscript.jit.ops  # noqa: F401
from tensorscript.jit.ir import dtypes
from tensorscript.jit.ir import types as T
from tensorscript.jit.ops import registry
from tensorscript.parser import ast, parse_module
from tensorscript.typecheck import check_module
from tensorscript.typecheck.targets import (
    ConstantTarget,
    ConstructTarget,
    FieldTarget,
    FunctionTarget,
    MethodTarget,
    SpecialTarget,
)


def check(source: str, **kw):
    return check_module(parse_module(textwrap.dedent(source)), **kw)


def body(source: str, name: str = "f"):
    return check(source).functions[name].body


def find(root, cls, pred=lambda n: True):
    return [n for n in ast.walk(root) if isinstance(n, cls) and pred(n)]


def test_call_bound_in_parameter_order_with_defaults():
    fn = check("""
        def g(a: int, b: float = 2.5, c: str = "x") -> float:
            return b
        def f(n: int) -> float:
            return g(c="y", a=n)
    """).functions["f"]
    call = find(fn, ast.Call)[0]
    assert isinstance(call.target, FunctionTarget) and call.target.qualified_name == "g"
    assert [type(b).__name__ for b in call.bound] == ["Name", "Constant", "Constant"]
    assert call.bound[1].value == 2.5 and call.bound[1].type == T.FloatType
    assert call.bound[2].value == "y"


def test_implicit_int_to_float_is_a_float_call():
    fn = check("""
        def g(y: float) -> float:
            return y
        def f(n: int) -> float:
            return g(n)
    """).functions["f"]
    call = find(fn, ast.Call, lambda c: isinstance(c.target, FunctionTarget))[0]
    conv = call.bound[0]
    assert isinstance(conv, ast.Call) and conv.type == T.FloatType
    assert conv.target.schema.name == "float" and conv.bound[0].type == T.IntType


def test_op_defaults_and_varargs_packing():
    fn = check("""
        def f(x: torch.Tensor) -> torch.Tensor:
            return x.view(2, -1)
    """).functions["f"]
    call = find(fn, ast.Call)[0]
    assert call.target.schema.name == "view"
    assert isinstance(call.bound[1], ast.List) and call.bound[1].type == T.ListType(T.IntType)
    assert len(call.bound[1].elts) == 2


def test_reflected_operator_is_swapped():
    fn = check("""
        def f(x: torch.Tensor) -> torch.Tensor:
            return 2 * x
    """).functions["f"]
    op = find(fn, ast.BinOp)[0]
    assert op.swapped and op.target.schema.params[0].type.kind == "Tensor"
    assert isinstance(op.left, ast.Constant) and isinstance(op.right, ast.Name)


def test_membership_passes_container_first():
    fn = check("""
        def f(n: int, xs: List[int]) -> bool:
            return n in xs
    """).functions["f"]
    cmp = find(fn, ast.Compare)[0]
    target, swapped = cmp.targets[0]
    assert target.schema.name == registry.CONTAINS and swapped


def test_tensor_condition_becomes_bool_call():
    stmts = body("""
        def f(x: torch.Tensor) -> int:
            if x.sum() > 0:
                return 1
            return 0
    """)
    test = stmts[0].test
    assert isinstance(test, ast.Call) and test.type == T.BoolType
    assert test.target.schema.params[0].type.kind == "Tensor"


def test_refinement_is_materialized_at_branch_start():
    stmts = body("""
        def f(x: Optional[int]) -> int:
            if x is None:
                return 0
            return x + 1
    """)
    if_stmt = stmts[0]
    assert if_stmt.test.targets[0][0] == SpecialTarget("is", None)
    first = if_stmt.body[0]
    assert isinstance(first, ast.Assign) and first.value.target == SpecialTarget(
        "refined", T.optional(T.IntType)
    )
    assert first.value.type == T.NoneType
    other = if_stmt.orelse[0]
    assert other.value.type == T.IntType and other.targets[0].type == T.IntType


def test_refinement_inside_expression_marks_the_name():
    fn = check("""
        def f(x: Optional[int]) -> int:
            return x if x is not None else 0
    """).functions["f"]
    refined = find(fn, ast.Name, lambda n: n.target is not None and n.target.kind == "refined")
    assert len(refined) == 1 and refined[0].type == T.IntType


def test_static_isinstance_value():
    fn = check("""
        def f(x: int) -> int:
            if isinstance(x, str):
                return len(x)
            return x
    """).functions["f"]
    call = find(fn, ast.Call, lambda c: isinstance(c.target, SpecialTarget))[0]
    assert call.target == SpecialTarget("isinstance", False)


def test_range_enumerate_zip_are_marked():
    stmts = body("""
        def f(xs: List[int], ys: List[str]) -> int:
            for i in range(3):
                pass
            for j, x in enumerate(xs):
                pass
            for a, b in zip(xs, ys):
                pass
            return 0
    """)
    r, e, z = (s.iter for s in stmts[:3])
    assert r.target.kind == "range" and [getattr(b, "value", None) for b in r.bound] == [0, 3, 1]
    assert e.target.kind == "enumerate" and e.bound[1].value == 0
    assert e.type == T.ListType(T.TupleType((T.IntType, T.IntType)))
    assert z.target.kind == "zip" and z.type == T.ListType(T.TupleType((T.IntType, T.StrType)))


def test_heterogeneous_tuple_loop_unrolled():
    stmts = body("""
        def f(t: Tuple[int, str]) -> int:
            for item in t:
                print(item)
            return 0
    """)
    loop = stmts[0]
    assert loop.unrolled is not None and len(loop.unrolled) == 2
    assert [target.type for target, _ in loop.unrolled] == [T.IntType, T.StrType]


def test_tensor_indexing_targets():
    stmts = body("""
        def f(x: torch.Tensor) -> torch.Tensor:
            x[0] = 1.0
            x[1] += 2.0
            return x[0, 1:, None, ...]
    """)
    assert stmts[0].targets[0].target == SpecialTarget("tensor_index_assign")
    update = stmts[1].target.target
    assert update.kind == "subscript_update"
    assert update.value == (SpecialTarget("tensor_index"), SpecialTarget("tensor_index_assign"))
    assert stmts[1].op_target.schema.name == "add_"
    sub = stmts[2].value
    assert sub.target == SpecialTarget("tensor_index") and sub.type == T.TensorType


def test_container_subscripts_resolve_to_ops():
    stmts = body("""
        def f(xs: List[int], d: Dict[str, int], s: str) -> int:
            xs[0] = d["a"]
            del xs[1]
            ys = xs[1:]
            return len(s[0])
    """)
    assert stmts[0].targets[0].target.schema.name == registry.SETITEM
    assert stmts[0].value.target.schema.name == registry.GETITEM
    assert stmts[1].targets[0].target.schema.name == registry.DELITEM
    assert stmts[2].value.target.schema.name == "slice"


def test_tuple_index_and_list_unpack():
    stmts = body("""
        def f(t: Tuple[int, str], x: torch.Tensor) -> int:
            a, b = x.split(2)
            return t[-2]
    """)
    assert stmts[0].targets[0].target == SpecialTarget("list_unpack")
    assert stmts[1].value.target == SpecialTarget("tuple_index", 0)


def test_no_grad_and_exceptions():
    stmts = body("""
        def f(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                y = x * 2
            if y.sum() > 10.0:
                raise ValueError("too big")
            return y
    """)
    assert stmts[0].items[0].context_expr.target == SpecialTarget("no_grad")
    exc = stmts[1].body[0].exc
    assert exc.target == SpecialTarget("exception", "ValueError") and len(exc.bound) == 1


def test_constants_and_dtypes():
    checked = check("""
        N = 4
        def f() -> torch.Tensor:
            return torch.zeros([N], dtype=torch.float64) * math.pi
    """)
    assert checked.constants == {"N": 4}
    fn = checked.functions["f"]
    names = find(fn, ast.Name, lambda n: n.id == "N")
    assert names[0].target == ConstantTarget(4)
    dt = find(fn, ast.Attribute, lambda a: a.attr == "float64")[0]
    assert dt.target == ConstantTarget(dtypes.float64) and dt.type == T.DTypeType


def test_python_globals_are_constants():
    checked = check(
        """
        def f(x: torch.Tensor) -> torch.Tensor:
            return x * scale
    """,
        globals={"scale": 2.5},
    )
    name = find(checked.functions["f"], ast.Name, lambda n: n.id == "scale")[0]
    assert name.target == ConstantTarget(2.5) and name.type == T.FloatType


def test_main_holds_top_level_statements():
    checked = check("""
        import torch
        def f(x: int) -> int:
            return x + 1
        if __name__ == "__main__":
            print(f(2))
    """)
    main = checked.main
    assert main is not None and main.type == T.FunctionType((), T.NoneType, "<module>")
    assert len(main.body) == 1 and isinstance(main.body[0], ast.If)
    name = find(main, ast.Name, lambda n: n.id == "__name__")[0]
    assert name.target == ConstantTarget("__main__")
    assert check("def f() -> int:\n    return 1\n").main is None


def test_classes_and_namedtuples():
    checked = check("""
        from typing import NamedTuple
        class P(NamedTuple):
            x: int
            y: float
        class C:
            def __init__(self, v: int):
                self.v = v
            def get(self) -> int:
                return self.v
        def f() -> float:
            c = C(3)
            p = P(c.get(), 1.0)
            return p.x + p.y
    """)
    assert isinstance(checked.classes["C"].type, T.ClassType)
    assert checked.classes["C"].type.attributes == {"v": T.IntType}
    fn = checked.functions["f"]
    calls = find(fn, ast.Call)
    assert isinstance(calls[0].target, ConstructTarget)
    assert any(isinstance(c.target, MethodTarget) and c.target.method == "get" for c in calls)
    fields = find(fn, ast.Attribute, lambda a: isinstance(a.target, FieldTarget))
    assert {(f.attr, f.target.index) for f in fields} == {("x", 0), ("y", 1)}


def test_annotate_and_annotations():
    fn = check("""
        def f() -> List[int]:
            xs = torch.jit.annotate(List[int], [])
            return xs
    """).functions["f"]
    call = find(fn, ast.Call)[0]
    assert call.target == SpecialTarget("annotate") and call.type == T.ListType(T.IntType)
    assert call.bound[0].type == T.ListType(T.IntType)
    assert fn.returns.target == SpecialTarget("type", T.ListType(T.IntType))


@pytest.mark.parametrize("prop", ["shape", "dtype"])
def test_tensor_properties_resolved(prop):
    fn = check(f"def f(x: torch.Tensor):\n    return x.{prop}\n").functions["f"]
    attr = find(fn, ast.Attribute)[0]
    assert attr.target is not None
