"""Schema matching on its own: stand-alone entries (not registered), hand-typed arguments."""

from __future__ import annotations

import pytest
from tensorscript.jit.ir import types as T
from tensorscript.jit.ops.registry import OpDef
from tensorscript.jit.ops.schema import parse_schema
from tensorscript.parser import ast
from tensorscript.parser.source import SourceFile, Span
from tensorscript.typecheck import refine as R
from tensorscript.typecheck.annotations import make_union
from tensorscript.typecheck.resolve import Arg, Failure, Match, match, op_signature, resolve
from tensorscript.typecheck.scope import Frame

SPAN = Span(SourceFile("x"), 1, 1, 1, 2)


def op(schema: str) -> OpDef:
    return OpDef(parse_schema(schema), impl=lambda *a: None)


def arg(t: T.Type, flexible: bool = False) -> Arg:
    node = ast.Name("v", span=SPAN)
    node.type = t
    return Arg(node, t, flexible)


def sig(schema: str, name: str = "f"):
    return op_signature(op(schema), name)


ADD = [
    "add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
    "add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
    "add.int(int a, int b) -> int",
    "add.float(float a, float b) -> float",
]


def test_first_matching_overload_in_order():
    sigs = [sig(s, "add") for s in ADD]
    m = resolve(sigs, [arg(T.TensorType), arg(T.TensorType)], {}, SPAN, "add")
    assert isinstance(m, Match) and m.target.schema.overload == "Tensor"
    m = resolve(sigs, [arg(T.TensorType), arg(T.FloatType)], {}, SPAN, "add")
    assert m.target.schema.overload == "Scalar"
    m = resolve(sigs, [arg(T.IntType), arg(T.IntType)], {}, SPAN, "add")
    assert m.target.schema.overload == "int" and m.type == T.IntType


def test_exact_pass_before_conversions():
    sigs = [
        sig("add.float(float a, float b) -> float"),
        sig("add.int_float(int a, float b) -> float"),
    ]
    m = resolve(sigs, [arg(T.IntType), arg(T.FloatType)], {}, SPAN, "add")
    assert m.target.schema.overload == "int_float"
    m = resolve(sigs[:1], [arg(T.IntType), arg(T.FloatType)], {}, SPAN, "add")
    assert isinstance(m, Match) and isinstance(m.bound[0], ast.Call)  # float(int) made explicit


def test_defaults_filled_and_keyword_only():
    s = sig(ADD[0], "add")
    m = match(s, [arg(T.TensorType), arg(T.TensorType)], {"alpha": arg(T.IntType)}, False, SPAN)
    assert isinstance(m, Match) and len(m.bound) == 3
    m = match(s, [arg(T.TensorType), arg(T.TensorType)], {}, False, SPAN)
    assert m.bound[2].value == 1
    f = match(s, [arg(T.TensorType), arg(T.TensorType), arg(T.IntType)], {}, False, SPAN)
    assert isinstance(f, Failure) and f.kind == "too_many"


def test_unknown_keyword_and_missing_argument():
    s = sig("scale(float x, float factor) -> float", "scale")
    f = match(s, [arg(T.FloatType)], {"fcator": arg(T.FloatType)}, False, SPAN)
    assert f.kind == "keyword" and "did you mean 'factor'" in f.message
    f = match(s, [arg(T.FloatType)], {}, False, SPAN)
    assert f.kind == "missing" and "'factor'" in f.message


def test_type_variables_bind_and_unify():
    s = sig("append.t(t[] self, t el) -> t[]", "append")
    assert isinstance(
        match(s, [arg(T.ListType(T.IntType)), arg(T.IntType)], {}, False, SPAN), Match
    )
    f = match(s, [arg(T.ListType(T.TensorType)), arg(T.IntType)], {}, False, SPAN)
    assert isinstance(f, Failure) and "expected Tensor for argument 'el'" in f.message
    opt = T.ListType(T.optional(T.IntType))
    assert isinstance(match(s, [arg(opt), arg(T.IntType)], {}, False, SPAN), Match)
    assert isinstance(match(s, [arg(opt), arg(T.NoneType)], {}, False, SPAN), Match)
    g = sig("get.Dict(Dict(k, v) self, k key) -> v?", "get")
    m = match(g, [arg(T.DictType(T.StrType, T.FloatType)), arg(T.StrType)], {}, False, SPAN)
    assert m.type == T.optional(T.FloatType)


def test_int_list_varargs_and_fixed_size():
    view = sig("view(Tensor self, int[] size) -> Tensor")
    m = match(view, [arg(T.TensorType), arg(T.IntType), arg(T.IntType)], {}, False, SPAN)
    assert isinstance(m, Match) and isinstance(m.bound[1], ast.List)
    m = match(view, [arg(T.TensorType), arg(T.IntType)], {}, False, SPAN)
    assert isinstance(m, Match) and m.bound[1].type == T.ListType(T.IntType)
    pool = sig("max_pool2d(Tensor self, int[2] kernel_size) -> Tensor")
    m = match(pool, [arg(T.TensorType), arg(T.IntType)], {}, False, SPAN)
    assert isinstance(m, Match) and m.bound[1].type == T.IntType  # lowering repeats it


def test_tuple_to_list_only_with_conversions():
    permute = sig("permute(Tensor self, int[] dims) -> Tensor")
    tup = T.TupleType((T.IntType, T.IntType))
    assert isinstance(match(permute, [arg(T.TensorType), arg(tup)], {}, False, SPAN), Failure)
    m = match(permute, [arg(T.TensorType), arg(tup)], {}, True, SPAN)
    assert isinstance(m, Match) and m.bound[1].target.kind == "list"


def test_empty_literal_takes_parameter_type():
    s = sig("zeros(int[] size) -> Tensor")
    m = match(s, [arg(T.ListType(T.TensorType), flexible=True)], {}, False, SPAN)
    assert isinstance(m, Match) and m.retype and m.retype[0][1] == T.ListType(T.IntType)


def test_multiple_named_returns_are_a_named_tuple():
    s = sig("max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)")
    m = match(s, [arg(T.TensorType), arg(T.IntType)], {}, False, SPAN)
    assert m.type.field_names == ("values", "indices")
    assert T.is_subtype(m.type, T.TupleType((T.TensorType, T.TensorType)))


def test_no_match_lists_candidates():
    sigs = [sig(s, "add") for s in ADD]
    message = resolve(sigs, [arg(T.StrType), arg(T.IntType)], {}, SPAN, "add")
    assert isinstance(message, str) and "add.int(int a, int b) -> int" in message


def test_refinement_algebra():
    opt = T.optional(T.IntType)
    is_none = R.is_none_test("x", opt)
    assert is_none.true == {"x": T.NoneType} and is_none.false == {"x": T.IntType}
    both = R.both(is_none.negate(), R.is_none_test("y", opt).negate())
    assert both.true == {"x": T.IntType, "y": T.IntType} and both.false == {}
    either = R.either(is_none, R.is_none_test("y", opt))
    assert either.false == {"x": T.IntType, "y": T.IntType} and either.true == {}
    assert R.is_none_test("x", T.IntType) is R.NONE
    union = make_union([T.IntType, T.StrType])
    refs, known = R.isinstance_test("x", union, [T.IntType])
    assert refs.true == {"x": T.IntType} and refs.false == {"x": T.StrType} and known is None
    assert R.isinstance_test("x", T.IntType, [T.IntType])[1] is True
    assert R.isinstance_test("x", T.IntType, [T.StrType])[1] is False


def test_make_union():
    assert make_union([T.IntType, T.NoneType]) == T.optional(T.IntType)
    assert make_union([T.IntType, T.IntType]) == T.IntType
    assert make_union([make_union([T.IntType, T.StrType]), T.FloatType]) == T.UnionType(
        (T.IntType, T.StrType, T.FloatType)
    )


def test_scopes():
    outer = Frame(None, "function")
    outer.set("x", T.optional(T.IntType))
    inner = Frame(outer, "if")
    inner.refine("x", T.IntType)
    var = inner.lookup("x")
    assert var.type == T.IntType and var.refined_from == T.optional(T.IntType)
    assert "x" not in inner.assigned and outer.lookup("x").type == T.optional(T.IntType)
    inner.set("y", T.StrType)
    assert inner.names() == {"x", "y"} and outer.lookup("y") is None


@pytest.mark.parametrize(
    "spelling,expected",
    [
        ("List[int]", "List[int]"),
        ("list[str]", "List[str]"),
        ("Optional[Tensor]", "Optional[Tensor]"),
        ("int | None", "Optional[int]"),
        ("Union[int, None]", "Optional[int]"),
        ("Tuple[()]", "Tuple[()]"),
        ("Dict[str, List[float]]", "Dict[str, List[float]]"),
        ("torch.Tensor", "Tensor"),
        ("'int'", "int"),
        ("Union[int, str]", "Union[int, str]"),
    ],
)
def test_annotation_spellings(spelling, expected):
    import tensorscript.jit.ops  # noqa: F401
    from tensorscript.parser import parse_module
    from tensorscript.typecheck import check_module

    checked = check_module(parse_module(f"def f(x: {spelling}):\n    return x\n"))
    assert str(checked.functions["f"].type.params[0][1]) == expected
