"""Every program of the conformance corpus parses; big and deeply nested inputs end in a
Module or a CompileError, never a RecursionError."""
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from tensorscript.parser import CompileError, ast, parse_module
from tensorscript.parser import syntax_errors

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"
CASES = sorted(CORPUS.glob("*/*.json"))

# The syntax-level rejections of the corpus; every other program must parse.
REJECTED_BY_PARSER = {"syntax_error_missing_colon", "lambda_not_supported"}


@pytest.mark.skipif(not CASES, reason="conformance corpus not present")
def test_every_corpus_program_parses():
    failures = []
    for path in CASES:
        case = json.loads(path.read_text())
        try:
            module = parse_module(case["source"], name=path.name)
        except CompileError as err:
            if case["name"] not in REJECTED_BY_PARSER:
                failures.append(f"{path.name}: {err}")
            continue
        assert case["name"] not in REJECTED_BY_PARSER, path.name
        assert isinstance(module, ast.Module)
        for node in ast.walk(module):
            s = node.span
            assert (s.line, s.col) <= (s.end_line, s.end_col), (path.name, node)
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(not CASES, reason="conformance corpus not present")
def test_corpus_spans_cover_their_text():
    """A Name's span is exactly its identifier; a Constant int's span is its literal."""
    for path in CASES[:80]:
        source = json.loads(path.read_text())["source"]
        try:
            module = parse_module(source)
        except CompileError:
            continue
        lines = source.split("\n")
        for node in ast.walk(module):
            s = node.span
            if isinstance(node, ast.Name) and s.line == s.end_line:
                assert lines[s.line - 1][s.col - 1:s.end_col - 1] == node.id


def big_program(functions: int) -> str:
    body = []
    for i in range(functions):
        body.append(
            f"def f{i}(x: torch.Tensor, n: int) -> torch.Tensor:\n"
            f"    for k in range(n):\n"
            f"        if k % 2 == {i % 2}:\n"
            f"            x = x * 2.0 + torch.relu(x)[:, 1:]\n"
            f"        else:\n"
            f"            x = x.sum(dim=0, keepdim=True)\n"
            f"    d = {{'a': [1, 2, 3], 'b': [k for k in range({i})]}}\n"
            f"    return x\n\n")
    return "import torch\n\n" + "".join(body)


def test_five_thousand_line_file():
    text = big_program(560)
    assert text.count("\n") > 5000
    module = parse_module(text)
    assert len(module.body) == 561


def test_long_statement_list_in_one_function():
    text = "def f(x: int) -> int:\n" + "    x = x + 1\n" * 6000 + "    return x\n"
    module = parse_module(text)
    assert len(module.body[0].body) == 6001


def test_long_flat_expressions_within_the_limit():
    terms = syntax_errors.MAX_EXPRESSION_DEPTH - 10
    module = parse_module("x = " + " + ".join(["a"] * terms) + "\n")
    assert isinstance(module.body[0].value, ast.BinOp)
    items = ", ".join(str(i) for i in range(20000))
    assert len(parse_module(f"x = [{items}]\n").body[0].value.elts) == 20000
    assert len(parse_module(f"f({items})\n").body[0].value.args) == 20000


def test_brackets_up_to_the_limit():
    depth = syntax_errors.MAX_BRACKET_DEPTH
    module = parse_module("x = " + "(" * depth + "1" + ")" * depth + "\n")
    assert module.body[0].value.value == 1
    parse_module("x = " + "[" * depth + "]" * depth + "\n")
    parse_module("x = " + "f(" * depth + ")" * depth + "\n")


@pytest.mark.parametrize("text", [
    "x = " + "(" * 101 + "1" + ")" * 101 + "\n",
    "x = " + "[" * 5000 + "\n",
    "x = " + "-" * 5000 + "1\n",
    "x = " + "not " * 3000 + "y\n",
    "x = " + " ** ".join(["a"] * 3000) + "\n",
    "x = " + " + ".join(["a"] * 5000) + "\n",
    "x = " + ".a" .join(["y"] * 3000) + "\n",
    "x = y" + "[0]" * 3000 + "\n",
    "x = f" + "()" * 3000 + "\n",
    "x = " + "a if b else " * 2000 + "c\n",
    "".join("    " * i + "if x:\n" for i in range(150)) + "    " * 150 + "pass\n",
])
def test_deep_nesting_is_a_clear_compile_error(text):
    with pytest.raises(CompileError) as info:
        parse_module(text)
    assert info.value.code == syntax_errors.LIMIT
    assert "limit" in info.value.message or "too deeply" in info.value.message


def test_indentation_up_to_the_limit():
    depth = syntax_errors.MAX_INDENT_DEPTH - 1
    text = "".join("    " * i + "if x:\n" for i in range(depth)) + "    " * depth + "pass\n"
    module = parse_module(text)
    node = module.body[0]
    for _ in range(depth - 1):
        node = node.body[0]
    assert isinstance(node.body[0], ast.Pass)


def test_grammar_ships_as_package_data():
    grammar = resources.files("tensorscript.grammar").joinpath("tensorscript.lark")
    assert grammar.is_file()
    assert "module:" in grammar.read_text()


def test_parser_builds_in_a_fresh_process():
    code = ("from tensorscript.parser import parse_module\n"
            "m = parse_module('def f(x: int) -> int:\\n    return x + 1\\n')\n"
            "print(type(m.body[0]).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "FunctionDef"


def test_every_grammar_rule_has_a_builder():
    """A rule that can reduce to anything but its single child needs a builder method."""
    from tensorscript.parser import parse as parse_module_internals

    parser = parse_module_internals._parser()
    missing = []
    for rule in parser.lark.rules:
        name = rule.alias or rule.origin.name
        if name.startswith("_"):
            continue
        single = rule.options.expand1 and not rule.alias
        spliced = any(not s.is_term and s.name.startswith("_") for s in rule.expansion)
        if (not single or len(rule.expansion) > 1 or spliced) and not hasattr(
                parser.builder, name):
            missing.append(str(rule))
    assert not missing
