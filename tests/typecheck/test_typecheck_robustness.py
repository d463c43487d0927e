"""Malformed input always ends in CompileError: fuzzed corpus programs, deep nesting, odd input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tensorscript.jit.ops  # noqa: F401
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorscript.parser import CompileError, parse_module
from tensorscript.typecheck import MAX_DEPTH, check_module

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"
SOURCES = [
    json.loads(p.read_text())["source"]
    for p in sorted(CORPUS.glob("*/*.json"))
    if "/trace/" not in p.as_posix()
] or ["def f(x: int) -> int:\n    return x + 1\n"]


def _rule_sources() -> list:
    """The snippets of check-rules.test (classes, NamedTuples, refinement, ...), without the
    expectations."""
    text = Path(__file__).with_name("check-rules.test").read_text()
    out = []
    for block in re.split(r"^\[case \w+\]\n", text, flags=re.M)[1:]:
        code = block.split("[types]")[0]
        out.append(re.sub(r"#\s*E:.*$", "", code, flags=re.M))
    return out


SOURCES += _rule_sources()
TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+\.\d*|\d+|\"[^\"\n]*\"|\S")
REPLACEMENTS = [
    "x",
    "None",
    "0",
    "1.5",
    '"s"',
    "[]",
    "{}",
    "()",
    "torch",
    "math",
    "List[int]",
    "Optional[int]",
    "+",
    "*",
    ":",
    ",",
    "(",
    ")",
    "[",
    "]",
    "is",
    "not",
    "return",
    "for",
    "in",
    "range",
    "len",
    "self",
    "lambda",
    "...",
    "-1",
    "True",
    "x.sum()",
    "int",
    "float",
    "str",
    "Tensor",
    "print",
    "del",
    "pass",
    "if",
    "else",
]


def check(source: str) -> None:
    try:
        check_module(parse_module(source))
    except CompileError as e:
        assert e.lineno >= 1 and e.col >= 1
        assert isinstance(str(e), str)
        assert e.code != "internal", str(e)


def mutate(source: str, kind: int, where: int, what: int) -> str:
    tokens = list(TOKEN.finditer(source))
    if not tokens:
        return source
    tok = tokens[where % len(tokens)]
    start, end = tok.span()
    replacement = REPLACEMENTS[what % len(REPLACEMENTS)]
    lines = source.split("\n")
    if kind == 0:  # replace a token
        return source[:start] + replacement + source[end:]
    if kind == 1:  # delete a token
        return source[:start] + source[end:]
    if kind == 2:  # insert a token
        return source[:start] + replacement + " " + source[start:]
    if kind == 3:  # duplicate a line
        i = where % len(lines)
        return "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])
    if kind == 4:  # drop a line
        i = where % len(lines)
        return "\n".join(lines[:i] + lines[i + 1 :])
    # swap two identifiers of the program
    names = [t.group(0) for t in tokens if t.group(0).isidentifier()]
    if len(names) < 2:
        return source
    other = names[what % len(names)]
    return source[:start] + other + source[end:]


@settings(max_examples=300)
@given(
    st.integers(0, len(SOURCES) - 1),
    st.integers(0, 5),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)
def test_mutated_programs_check_or_raise_compile_error(index, kind, where, what):
    check(mutate(SOURCES[index], kind, where, what))


@settings(max_examples=40)
@given(
    st.integers(0, len(SOURCES) - 1),
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 10_000), st.integers(0, 10_000)),
        min_size=2,
        max_size=5,
    ),
)
def test_repeatedly_mutated_programs(index, edits):
    source = SOURCES[index]
    for kind, where, what in edits:
        source = mutate(source, kind, where, what)
    check(source)


@pytest.mark.parametrize("depth", [10, MAX_DEPTH - 20, MAX_DEPTH + 50, 2000])
def test_deep_expressions(depth):
    source = "def f(x: int) -> int:\n    return " + "(" * depth + "x" + " + 1)" * depth + "\n"
    try:
        module = parse_module(source)
    except CompileError:
        return  # the parser may refuse first; that is fine too
    if depth < MAX_DEPTH - 10:
        check_module(module)
    else:
        with pytest.raises(CompileError) as info:
            check_module(module)
        assert "nested too deeply" in str(info.value)


@pytest.mark.parametrize("depth", [5, MAX_DEPTH + 10])
def test_deep_blocks(depth):
    lines = ["def f(x: int) -> int:"]
    for i in range(depth):
        lines.append("    " * (i + 1) + "if x > 0:")
    lines.append("    " * (depth + 1) + "x = x + 1")
    lines.append("    return x")
    try:
        module = parse_module("\n".join(lines) + "\n")
    except CompileError:
        return
    if depth < MAX_DEPTH:
        check_module(module)
    else:
        with pytest.raises(CompileError):
            check_module(module)


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\n",
        "x = 1\n",
        "pass\n",
        "print(1)\n",
        "return 1\n",
        "break\n",
        "def f(): pass\n",
        "class C: pass\n",
        "class C:\n    x = 1\n",
        "import torch as t\nt.zeros([1])\n",
        "from typing import Foo\n",
        "def f(x: 'int') -> 'List[int]':\n    return [x]\n",
        "def f(x: List) -> Dict:\n    return {}\n",
        "def f(x: Optional[int, str]):\n    return x\n",
        "@staticmethod\ndef f():\n    pass\n",
        "@foo\ndef f():\n    pass\n",
        "def f(x: int = 'a'):\n    return x\n",
        "def f(x: int = y):\n    return x\n",
        "def f():\n    return f\n",
        "def f():\n    return torch\n",
        "def f():\n    return List\n",
        "def f():\n    return torch.nn.functional\n",
        "def f():\n    return torch.nope\n",
        "def f():\n    return math.nope(1)\n",
        "def f(x):\n    return x.T\n",
        "def f():\n    a, *b = [1, 2]\n",
        "def f(x: int):\n    x()\n",
        "def f():\n    return ValueError\n",
        "def f():\n    with torch.no_grad() as g:\n        pass\n",
        "def f():\n    return torch.no_grad()\n",
        "def f(x: Tuple[int]):\n    return x[0:5:0]\n",
        "def f():\n    return [x for x in 3]\n",
    ],
)
def test_odd_programs(source):
    check(source)


def test_long_call_chains():
    lines = []
    for i in range(300):  # annotated: no callee is checked ahead of its caller
        lines += [f"def f{i}(x: int) -> int:", f"    return f{i + 1}(x) + 1", ""]
    lines += ["def f300(x: int) -> int:", "    return x", ""]
    for i in range(150):  # inferred return types: each callee is checked first
        lines += [f"def g{i}(x: int):", f"    return g{i + 1}(x) + 1", ""]
    lines += ["def g150(x: int):", "    return x", ""]
    checked = check_module(parse_module("\n".join(lines)))
    assert str(checked.functions["g0"].type) == "g0(x: int) -> int"
