"""Compiling source to graphs for the jit tests, and golden IR files (PyTorch's expect style).

Run with ``TENSORSCRIPT_ACCEPT=1`` to (re)write the expected IR in ``tests/jit/expect/``.
"""
from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

from tensorscript.jit import lower_module, run_pipeline
from tensorscript.jit.passes.eliminate_dead_code import eliminate_dead_code
from tensorscript.jit.passes.pipeline import Pass
from tensorscript.jit.ir import graph as G
from tensorscript.parser import parse_module
from tensorscript.typecheck import check_module

EXPECT_DIR = Path(__file__).parent / "expect"
ACCEPT = os.environ.get("TENSORSCRIPT_ACCEPT", "") not in ("", "0")


# Lowering tests look at what lowering makes, cleaned by dead code elimination only (the
# golden files must not change when optimisation passes are added).
LOWERING_PASSES = [Pass("eliminate_dead_code", eliminate_dead_code)]


def lower_source(source: str, name: str = "test.py", optimize: bool = True):
    module = lower_module(check_module(parse_module(textwrap.dedent(source), name)))
    if optimize:
        run_pipeline(module, LOWERING_PASSES, verify_each=True)
    return module


def lower_one(source: str, fn: str = "f", optimize: bool = True) -> G.Graph:
    return lower_source(source, optimize=optimize).graphs[fn]


def kinds(graph: G.Graph) -> list:
    """Node names in program order (constants and uninitialized values left out)."""
    return [n.name for n in graph.nodes() if n.kind not in (G.CONSTANT, G.UNINITIALIZED)]


def assert_expected(text: str, name: str) -> None:
    """Compare ``text`` with ``expect/<name>.txt`` (written instead when accepting)."""
    path = EXPECT_DIR / f"{name}.txt"
    if ACCEPT or not path.exists():
        if not ACCEPT and os.environ.get("CI"):
            raise AssertionError(f"missing expect file {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    expected = path.read_text()
    assert text == expected, (f"IR differs from {path} (TENSORSCRIPT_ACCEPT=1 to update)\n"
                              f"--- expected\n{expected}\n--- got\n{text}")


def normalise_names(ir: str) -> str:
    """Printed IR with value names replaced by their order of appearance."""
    seen: dict = {}

    def sub(m):
        return "%" + str(seen.setdefault(m.group(1), len(seen)))

    return re.sub(r"%([\w.]+)", sub, ir)
