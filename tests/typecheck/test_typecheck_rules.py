"""The typing rules, table-driven from check-rules.test (mypy's ``[case]`` format)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tensorscript.jit.ops  # noqa: F401  registers the ops
from tensorscript.parser import CompileError, parse_module
from tensorscript.typecheck import check_module

DATA = Path(__file__).with_name("check-rules.test")
_EXPECT = re.compile(r"#\s*E:\s*(.*)$")


def load_cases():
    cases = []
    name, lines = None, []
    for raw in DATA.read_text().splitlines():
        if raw.startswith("--"):
            continue
        m = re.match(r"\[case (\w+)\]", raw)
        if m:
            if name:
                cases.append((name, lines))
            name, lines = m.group(1), []
        elif name:
            lines.append(raw)
    if name:
        cases.append((name, lines))
    return cases


def split_case(lines):
    source, types = [], {}
    section = "source"
    for line in lines:
        if line.strip() == "[types]":
            section = "types"
            continue
        if section == "source":
            source.append(line)
        elif line.strip():
            fname, _, ftype = line.partition(":")
            types[fname.strip()] = ftype.strip()
    while source and not source[-1].strip():
        source.pop()
    expected = []
    for i, line in enumerate(source, 1):
        m = _EXPECT.search(line)
        if m:
            expected.append((i, m.group(1).strip()))
    return "\n".join(source) + "\n", expected, types


CASES = load_cases()


@pytest.mark.parametrize("name,lines", CASES, ids=[c[0] for c in CASES])
def test_rule(name, lines):
    source, expected, types = split_case(lines)
    errors = []
    checked = None
    try:
        checked = check_module(parse_module(source, name=f"{name}.py"))
    except CompileError as e:
        errors = [
            (span.line if span is not None else e.lineno, message) for message, span in e.errors
        ]
    for line, text in expected:
        assert any(el == line and text in msg for el, msg in errors), (
            f"expected an error on line {line} containing {text!r}; got {errors}"
        )
    expected_lines = {line for line, _ in expected}
    unexpected = [(line, msg) for line, msg in errors if line not in expected_lines]
    assert not unexpected, f"unexpected errors: {unexpected}"
    if types:
        assert checked is not None
        for fname, ftype in types.items():
            assert str(checked.functions[fname].type) == ftype


def test_every_case_has_a_distinct_name():
    names = [name for name, _ in CASES]
    assert len(names) == len(set(names)) and len(names) > 100
