"""Each construct of the grammar parses to the AST shape and spans the parser promises."""
import pytest

from tensorscript.parser import CompileError, ast, parse_expression, parse_module


def stmt(text):
    module = parse_module(text)
    assert len(module.body) == 1, module.body
    return module.body[0]


def expr(text):
    return stmt(text + "\n").value


def where(node):
    s = node.span
    return (s.line, s.col, s.end_line, s.end_col)


def dump(node):
    """A compact structural form: class name and fields, spans and checker fields left out."""
    if isinstance(node, list):
        return [dump(x) for x in node]
    if not isinstance(node, ast.Node):
        return node
    fields = []
    for name in node.__dataclass_fields__:
        if name in ("span", "type", "target", "bound", "swapped", "targets", "op_target",
                    "source", "type_comment") and not (name in ("target", "targets")
                                       and not isinstance(node, ast.Expr)):
            continue
        if name == "kw_only" and not node.kw_only:
            continue
        fields.append(dump(getattr(node, name)))
    return (type(node).__name__, *fields)


# ---------------------------------------------------------------- literals

@pytest.mark.parametrize("text, value", [
    ("0", 0), ("42", 42), ("1_000_000", 1000000), ("0x1F", 31), ("0XfF", 255),
    ("0o17", 15), ("0b101", 5), ("0b_1", 1), ("00", 0),
    ("1.5", 1.5), ("1.", 1.0), (".5", 0.5), ("1e3", 1000.0), ("1.5E-3", 0.0015),
    ("1_0.0_1", 10.01), ("True", True), ("False", False), ("None", None),
    ("...", Ellipsis),
])
def test_number_and_constant_literals(text, value):
    node = expr(text)
    assert isinstance(node, ast.Constant)
    assert node.value == value and type(node.value) is type(value)
    assert where(node) == (1, 1, 1, 1 + len(text))


@pytest.mark.parametrize("text, value", [
    ("'a'", "a"), ('"a"', "a"), ("''", ""), ("'''a\nb'''", "a\nb"), ('"""x"y"""', 'x"y'),
    (r"'a\nb'", "a\nb"), (r"'\t\\\''", "\t\\'"), (r"'\x41\u00e9\U0001F600'", "A\u00e9\U0001F600"),
    (r"'\101'", "A"), (r"'\N{BULLET}'", "\u2022"), (r"'\q'", "\\q"),
    (r"r'a\nb'", "a\\nb"), (r"R'\d+'", "\\d+"), ("'a' 'b' \"c\"", "abc"),
    ("'a' r'\\n'", "a\\n"), ("u'x'", "x"), ("'line\\\ncont'", "linecont"),
])
def test_string_literals(text, value):
    node = expr(text)
    assert isinstance(node, ast.Constant)
    assert node.value == value


def test_adjacent_strings_across_lines_in_parentheses():
    node = expr("('a'\n 'b')")
    assert node.value == "ab"
    assert where(node) == (1, 1, 2, 6)


def test_fstring_fields():
    node = expr("f'a{x}b{y!r}c{z:>8}{w!s:.2f}'")
    assert isinstance(node, ast.JoinedStr)
    values = node.values
    assert values[0] == "a" and values[2] == "b" and values[4] == "c"
    x, y, z, w = values[1], values[3], values[5], values[6]
    assert dump(x) == ("FormattedValue", ("Name", "x"), None, None)
    assert (y.conversion, y.format_spec) == ("r", None)
    assert (z.conversion, z.format_spec) == (None, ">8")
    assert (w.conversion, w.format_spec) == ("s", ".2f")
    # Fields carry their position in the file: the braces, and the expression inside.
    assert where(x) == (1, 4, 1, 7)
    assert where(x.value) == (1, 5, 1, 6)


def test_fstring_expressions_and_escapes():
    node = expr("f'{{lit}} {a + b[0]:d} {f(1, 2)}\\n'")
    assert node.values[0] == "{lit} "
    assert dump(node.values[1].value) == (
        "BinOp", ("Name", "a"), "+", ("Subscript", ("Name", "b"), ("Constant", 0)))
    assert dump(node.values[3].value)[0] == "Call"
    assert node.values[-1] == "\n"


def test_fstring_concatenated_with_plain_strings():
    node = expr("'a' f'{x}' 'b'")
    assert isinstance(node, ast.JoinedStr)
    assert node.values[0] == "a" and node.values[2] == "b"


def test_fstring_field_positions_on_later_lines():
    module = parse_module("x = 1\ny = (\n    f'''\n{x}''')\n")
    joined = module.body[1].value
    field = joined.values[-1]
    assert where(field.value) == (4, 2, 4, 3)


def test_nested_fstring():
    node = expr("f'{f\"{x}\"}'")
    inner = node.values[0].value
    assert isinstance(inner, ast.JoinedStr)
    assert dump(inner.values[0].value) == ("Name", "x")


# ---------------------------------------------------------------- expressions

def test_precedence():
    node = expr("a or b and not c == d | e ^ f & g << h + i * -j ** k")
    assert dump(node) == (
        "BoolOp", "or", [
            ("Name", "a"),
            ("BoolOp", "and", [
                ("Name", "b"),
                ("UnaryOp", "not", ("Compare", ("Name", "c"), ["=="], [
                    ("BinOp", ("Name", "d"), "|", ("BinOp", ("Name", "e"), "^", (
                        "BinOp", ("Name", "f"), "&", ("BinOp", ("Name", "g"), "<<", (
                            "BinOp", ("Name", "h"), "+", ("BinOp", ("Name", "i"), "*", (
                                "UnaryOp", "-", ("BinOp", ("Name", "j"), "**",
                                                 ("Name", "k")))))))))]))])])


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "@", "<<", ">>", "&", "|", "^"])
def test_binary_operators_are_left_associative(op):
    node = expr(f"a {op} b {op} c")
    assert dump(node) == ("BinOp", ("BinOp", ("Name", "a"), op, ("Name", "b")), op, ("Name", "c"))
    assert where(node.left) == (1, 1, 1, 5 + len(op))


def test_power_is_right_associative_and_binds_tighter_than_unary_minus():
    assert dump(expr("a ** b ** c")) == (
        "BinOp", ("Name", "a"), "**", ("BinOp", ("Name", "b"), "**", ("Name", "c")))
    assert dump(expr("-a ** b")) == (
        "UnaryOp", "-", ("BinOp", ("Name", "a"), "**", ("Name", "b")))
    assert dump(expr("a ** -b")) == ("BinOp", ("Name", "a"), "**", ("UnaryOp", "-", ("Name", "b")))


def test_unary_minus_on_a_literal_stays_a_unary_op():
    node = expr("-1")
    assert dump(node) == ("UnaryOp", "-", ("Constant", 1))
    assert where(node) == (1, 1, 1, 3)
    assert dump(expr("+~x")) == ("UnaryOp", "+", ("UnaryOp", "~", ("Name", "x")))


def test_chained_comparison_is_one_compare():
    node = expr("a < b <= c == d != e > f >= g")
    assert node.ops == ["<", "<=", "==", "!=", ">", ">="]
    assert len(node.comparators) == 6


def test_membership_and_identity_operators():
    node = expr("a in b not in c is d is not e")
    assert node.ops == ["in", "not in", "is", "is not"]


def test_conditional_expression():
    node = expr("a if b else c if d else e")
    assert dump(node) == ("IfExp", ("Name", "b"), ("Name", "a"),
                          ("IfExp", ("Name", "d"), ("Name", "c"), ("Name", "e")))
    assert where(node) == (1, 1, 1, 26)


def test_calls_with_keywords():
    node = expr("f(1, x, k=2, other=y)")
    assert dump(node) == ("Call", ("Name", "f"), [("Constant", 1), ("Name", "x")], [
        ("Keyword", "k", ("Constant", 2)), ("Keyword", "other", ("Name", "y"))])
    assert where(node) == (1, 1, 1, 22)
    assert where(node.keywords[0]) == (1, 9, 1, 12)
    assert dump(expr("f()")) == ("Call", ("Name", "f"), [], [])
    assert dump(expr("f(a,)")) == ("Call", ("Name", "f"), [("Name", "a")], [])


def test_attribute_and_method_chains():
    node = expr("torch.nn.functional.relu(x).sum(dim=1)")
    assert dump(node.func) == ("Attribute", (
        "Call", ("Attribute", ("Attribute", ("Attribute", ("Name", "torch"), "nn"), "functional"),
                 "relu"), [("Name", "x")], []), "sum")
    assert where(node.func.value) == (1, 1, 1, 28)


def test_subscripts_and_slices():
    node = expr("x[1:, None, ..., i]")
    assert isinstance(node, ast.Subscript)
    assert dump(node.index) == ("Tuple", [
        ("Slice", ("Constant", 1), None, None), ("Constant", None), ("Constant", Ellipsis),
        ("Name", "i")])
    assert where(node) == (1, 1, 1, 20)
    assert where(node.index) == (1, 3, 1, 19)
    assert dump(expr("x[::2]").index) == ("Slice", None, None, ("Constant", 2))
    assert dump(expr("x[:]").index) == ("Slice", None, None, None)
    assert dump(expr("x[a:b:c]").index) == ("Slice", ("Name", "a"), ("Name", "b"), ("Name", "c"))
    assert dump(expr("x[:-1]").index) == ("Slice", None, ("UnaryOp", "-", ("Constant", 1)), None)
    assert dump(expr("x[::]").index) == ("Slice", None, None, None)
    assert dump(expr("x[0]").index) == ("Constant", 0)
    assert dump(expr("x[0,]").index) == ("Tuple", [("Constant", 0)])
    assert dump(expr("x[i][j]")) == (
        "Subscript", ("Subscript", ("Name", "x"), ("Name", "i")), ("Name", "j"))


def test_containers():
    assert dump(expr("[1, 2,]")) == ("List", [("Constant", 1), ("Constant", 2)])
    assert dump(expr("[]")) == ("List", [])
    assert dump(expr("()")) == ("Tuple", [])
    assert dump(expr("(1,)")) == ("Tuple", [("Constant", 1)])
    assert dump(expr("(1, 2)")) == ("Tuple", [("Constant", 1), ("Constant", 2)])
    assert dump(expr("{}")) == ("Dict", [], [])
    assert dump(expr("{'a': 1, 'b': x}")) == (
        "Dict", [("Constant", "a"), ("Constant", "b")], [("Constant", 1), ("Name", "x")])
    assert where(expr("(1, 2)")) == (1, 1, 1, 7)


def test_parentheses_do_not_make_nodes_but_widen_the_span():
    node = expr("(a + b) * c")
    assert dump(node) == ("BinOp", ("BinOp", ("Name", "a"), "+", ("Name", "b")), "*", ("Name", "c"))
    assert where(node.left) == (1, 1, 1, 8)
    assert where(node.left.left) == (1, 2, 1, 3)
    assert where(node) == (1, 1, 1, 12)


def test_comprehensions():
    node = expr("[x * y for x in xs if x > 0 if x < 9 for y in range(x)]")
    assert isinstance(node, ast.ListComp)
    first, second = node.generators
    assert dump(first.target) == ("Name", "x") and len(first.ifs) == 2
    assert dump(second.iter)[0] == "Call" and second.ifs == []
    assert where(node) == (1, 1, 1, 56)
    pairs = expr("[(i, v) for i, v in enumerate(xs)]")
    assert dump(pairs.generators[0].target) == ("Tuple", [("Name", "i"), ("Name", "v")])
    nested = expr("[[c for c in row] for row in grid]")
    assert isinstance(nested.elt, ast.ListComp)
    d = expr("{k: v * 2 for k, v in d.items() if v}")
    assert isinstance(d, ast.DictComp)
    assert dump(d.key) == ("Name", "k") and len(d.generators[0].ifs) == 1


def test_generator_argument_becomes_a_list_comprehension():
    node = expr("sum(x * x for x in xs)")
    assert isinstance(node.args[0], ast.ListComp)
    assert where(node.args[0]) == (1, 5, 1, 22)


@pytest.mark.parametrize("text", ["x = 1", "", "def f(): pass", "a b"])
def test_parse_expression_rejects_other_text(text):
    with pytest.raises(CompileError):
        parse_expression(text)


def test_parse_expression():
    assert where(parse_expression("Dict[str, int]")) == (1, 1, 1, 15)
    assert dump(parse_expression("Tuple[int,\n      str]"))[0] == "Subscript"
    assert dump(parse_expression("List[Tuple[int, str]]")) == (
        "Subscript", ("Name", "List"),
        ("Subscript", ("Name", "Tuple"), ("Tuple", [("Name", "int"), ("Name", "str")])))


# ---------------------------------------------------------------- statements

def test_assignments():
    chained = stmt("a = b = c\n")
    assert dump(chained) == ("Assign", [("Name", "a"), ("Name", "b")], ("Name", "c"))
    unpack = stmt("a, (b, [c, d]) = x\n")
    assert dump(unpack.targets[0]) == ("Tuple", [
        ("Name", "a"), ("Tuple", [("Name", "b"), ("List", [("Name", "c"), ("Name", "d")])])])
    assert dump(stmt("x[0], y.z = 1, 2\n")) == (
        "Assign", [("Tuple", [("Subscript", ("Name", "x"), ("Constant", 0)),
                              ("Attribute", ("Name", "y"), "z")])],
        ("Tuple", [("Constant", 1), ("Constant", 2)]))
    ann = stmt("x: List[int] = []\n")
    assert dump(ann) == ("AnnAssign", ("Name", "x"),
                         ("Subscript", ("Name", "List"), ("Name", "int")), ("List", []))
    assert dump(stmt("self.w: Tensor\n")) == (
        "AnnAssign", ("Attribute", ("Name", "self"), "w"), ("Name", "Tensor"), None)
    assert where(chained) == (1, 1, 1, 10)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "@", "&", "|", "^",
                                "<<", ">>"])
def test_augmented_assignment(op):
    node = stmt(f"x[i] {op}= 2\n")
    assert dump(node) == ("AugAssign", ("Subscript", ("Name", "x"), ("Name", "i")), op,
                          ("Constant", 2))


def test_if_elif_else_nests():
    node = stmt("if a:\n    x = 1\nelif b:\n    x = 2\nelif c:\n    pass\nelse:\n    x = 3\n")
    assert isinstance(node, ast.If)
    elif_b = node.orelse[0]
    assert isinstance(elif_b, ast.If) and len(node.orelse) == 1
    elif_c = elif_b.orelse[0]
    assert dump(elif_c.test) == ("Name", "c")
    assert dump(elif_c.orelse) == [("Assign", [("Name", "x")], ("Constant", 3))]
    assert where(node) == (1, 1, 8, 10)
    assert where(elif_b) == (3, 1, 8, 10)


def test_loops():
    node = stmt("for i, (a, b) in enumerate(pairs):\n    continue\n")
    assert dump(node.target) == (
        "Tuple", [("Name", "i"), ("Tuple", [("Name", "a"), ("Name", "b")])])
    assert node.orelse == []
    loop = stmt("while x < 3:\n    x += 1\n    if x:\n        break\n")
    assert isinstance(loop, ast.While)
    assert len(loop.body) == 2 and loop.orelse == []


@pytest.mark.parametrize("text, line, what", [
    ("for i in xs:\n    continue\nelse:\n    pass\n", 3, "for"),
    ("while x < 3:\n    x += 1\nelse:\n    y = 0\n", 3, "while"),
])
def test_loop_else_is_rejected_at_the_else(text, line, what):
    # TorchScript's parser rejects it too
    with pytest.raises(CompileError) as info:
        parse_module(text)
    assert f"'else' on a {what} loop is not supported" in info.value.message
    assert (info.value.lineno, info.value.col) == (line, 1)


def test_simple_statements():
    assert dump(stmt("return\n")) == ("Return", None)
    assert dump(stmt("return a, b\n")) == ("Return", ("Tuple", [("Name", "a"), ("Name", "b")]))
    assert dump(stmt("assert x > 0, 'msg'\n")) == (
        "Assert", ("Compare", ("Name", "x"), [">"], [("Constant", 0)]), ("Constant", "msg"))
    assert dump(stmt("assert x\n")) == ("Assert", ("Name", "x"), None)
    assert dump(stmt("raise ValueError('bad')\n"))[0] == "Raise"
    assert dump(stmt("raise\n")) == ("Raise", None)
    assert dump(stmt("del xs[0], d['k'], y\n")) == ("Delete", [
        ("Subscript", ("Name", "xs"), ("Constant", 0)),
        ("Subscript", ("Name", "d"), ("Constant", "k")), ("Name", "y")])
    assert dump(stmt("print('a', x)\n")) == ("ExprStmt", (
        "Call", ("Name", "print"), [("Constant", "a"), ("Name", "x")], []))
    assert [type(s).__name__ for s in parse_module("a = 1; b = 2;\n").body] == ["Assign", "Assign"]


def test_with_statement():
    node = stmt("with torch.no_grad(), open(p) as (a, b):\n    pass\n")
    first, second = node.items
    assert first.optional_vars is None
    assert dump(second.optional_vars) == ("Tuple", [("Name", "a"), ("Name", "b")])


def test_imports():
    module = parse_module(
        "import torch\nimport math, numpy as np\nimport tensorscript as ts\n"
        "from typing import List, Dict as D\nfrom torch import (Tensor,\n    nn,)\n"
        "import torch.nn.functional as F\n")
    assert dump(module.body) == [
        ("Import", [("Alias", "torch", None)]),
        ("Import", [("Alias", "math", None), ("Alias", "numpy", "np")]),
        ("Import", [("Alias", "tensorscript", "ts")]),
        ("ImportFrom", "typing", [("Alias", "List", None), ("Alias", "Dict", "D")]),
        ("ImportFrom", "torch", [("Alias", "Tensor", None), ("Alias", "nn", None)]),
        ("Import", [("Alias", "torch.nn.functional", "F")]),
    ]


def test_function_definition():
    node = stmt(
        "@torch.jit.script\n@ts.script\n@torch.jit.ignore(drop=True)\n@export\n"
        "def f(x: Tensor, n: int = 3, *, ) -> List[int]:\n    '''Doc.'''\n    return [n]\n"
        .replace("*, ", ""))
    assert isinstance(node, ast.FunctionDef)
    assert node.name == "f"
    assert dump(node.params) == [("Param", "x", ("Name", "Tensor"), None),
                                 ("Param", "n", ("Name", "int"), ("Constant", 3))]
    assert dump(node.returns) == ("Subscript", ("Name", "List"), ("Name", "int"))
    assert [dump(d)[0] for d in node.decorators] == ["Attribute", "Attribute", "Call", "Name"]
    # The docstring stays the first statement.
    assert dump(node.body[0]) == ("ExprStmt", ("Constant", "Doc."))
    assert where(node) == (5, 1, 7, 15)
    assert where(node.params[1]) == (5, 18, 5, 28)


def test_keyword_only_parameters():
    node = stmt("def f(x: int, *, scale: int, shift: int = 0):\n    pass\n")
    assert [(p.name, p.kw_only) for p in node.params] == [
        ("x", False), ("scale", True), ("shift", True)]
    # a keyword-only parameter without a default may follow one with a default
    node = stmt("def f(x: int = 1, *, y: int):\n    pass\n")
    assert dump(node.params) == [("Param", "x", ("Name", "int"), ("Constant", 1)),
                                 ("Param", "y", ("Name", "int"), None, True)]


def test_functions_without_annotations_and_nested_functions():
    node = stmt("def f(a, b=1):\n    def g():\n        return a\n    return g()\n")
    assert node.returns is None
    assert dump(node.params) == [("Param", "a", None, None), ("Param", "b", None, ("Constant", 1))]
    assert isinstance(node.body[0], ast.FunctionDef)


def test_class_definitions():
    node = stmt(
        "@torch.jit.script\nclass M(torch.nn.Module):\n"
        "    def __init__(self, n: int):\n        super().__init__()\n        self.n = n\n\n"
        "    @torch.jit.export\n    def forward(self, x):\n        return x\n")
    assert isinstance(node, ast.ClassDef)
    assert dump(node.bases) == [("Attribute", ("Attribute", ("Name", "torch"), "nn"), "Module")]
    assert [s.name for s in node.body] == ["__init__", "forward"]
    assert len(node.decorators) == 1 and len(node.body[1].decorators) == 1
    plain = stmt("class P(NamedTuple):\n    x: int\n    y: float = 0.0\n")
    assert [type(s).__name__ for s in plain.body] == ["AnnAssign", "AnnAssign"]
    assert dump(stmt("class E:\n    pass\n").bases) == []


def test_script_file_with_top_level_statements():
    module = parse_module(
        "import torch\n\nSCALE = 2.0\n\ndef f(x):\n    return x * SCALE\n\n"
        "y = f(torch.ones(3))\nprint(y)\nif y.sum() > 0:\n    print('pos')\n")
    assert [type(s).__name__ for s in module.body] == [
        "Import", "Assign", "FunctionDef", "Assign", "ExprStmt", "If"]
    assert module.source.text.startswith("import torch")


def test_layout_comments_continuations_and_blank_lines():
    module = parse_module(
        "# leading comment\n\n"
        "def f(x,  # a comment inside brackets\n"
        "      y):\n"
        "    # comment line\n"
        "\n"
        "    z = x + \\\n"
        "        y\n"
        "    return [z,\n"
        "            z]  # trailing\n"
        "# final comment without newline")
    func = module.body[0]
    assert [p.name for p in func.params] == ["x", "y"]
    assert dump(func.body[0].value) == ("BinOp", ("Name", "x"), "+", ("Name", "y"))
    assert where(func.body[0]) == (7, 5, 8, 10)
    assert where(func.body[1].value) == (9, 12, 10, 15)


def test_tabs_and_windows_newlines():
    module = parse_module("def f(x):\r\n\tif x:\r\n\t\treturn 1\r\n\treturn 2\r\n")
    assert len(module.body[0].body) == 2


def test_empty_and_comment_only_modules():
    assert parse_module("").body == []
    assert parse_module("\n\n# nothing\n   \n").body == []


def test_single_line_suites():
    node = stmt("if x: return 1\n")
    assert dump(node.body) == [("Return", ("Constant", 1))]
    loop = stmt("while x: x -= 1; y += 1\n")
    assert len(loop.body) == 2


def test_type_comments():
    module = parse_module(
        "def f(x, y):\n"
        "    # type: (int, List[float]) -> Tensor\n"
        "    z = []  # type: List[int]\n"
        "    w = 1  # a comment\n"
        "    return x\n"
        "def g(x: int) -> int:\n    return x  # type: int\n")
    f, g = module.body
    assert f.type_comment == "(int, List[float]) -> Tensor"
    assert f.body[0].type_comment == "List[int]"
    assert f.body[1].type_comment is None
    assert g.type_comment is None


def test_soft_keywords_are_names():
    module = parse_module("match = 1\ncase = match\ntype = 2\nprint(match, case, type)\n")
    assert len(module.body) == 4


def test_spans_point_into_the_named_source_with_offsets():
    module = parse_module("x = 1\n", name="model.py", line_offset=10)
    span = module.body[0].span
    assert span.source.name == "model.py" and span.location == "model.py:11:1"


def test_walk_visits_assignment_targets():
    module = parse_module("a, b = c\nfor i in xs:\n    d += i\n")
    names = sorted(n.id for n in ast.walk(module) if isinstance(n, ast.Name))
    assert names == ["a", "b", "c", "d", "i", "i", "xs"]
