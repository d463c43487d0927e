"""``import tensorscript`` loads neither Numba nor Lark, and what they serve loads on first use.

Each check runs in a fresh interpreter: this test process has long imported everything.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tensorscript.jit.ops import registry
from tensorscript.jit.ops.registry import OpDef
from tensorscript.jit.ops.schema import parse_schema


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_loads_neither_numba_nor_lark():
    got = _run("""
        import json, sys
        import tensorscript
        print(json.dumps(sorted({name.split(".")[0] for name in sys.modules}
                                & {"numba", "llvmlite", "lark"})))
    """)
    assert got == []


def test_kernels_load_on_first_use_and_compute():
    got = _run("""
        import json, sys
        import numpy as np
        import tensorscript as ts
        x = np.linspace(-6, 6, 5001, dtype=np.float32)
        before = "numba" in sys.modules
        y = ts.sigmoid(ts.from_numpy(x)).numpy()
        print(json.dumps({"before": before, "after": "numba" in sys.modules,
                          "x": x.tolist(), "y": y.astype(float).tolist()}))
    """)
    assert not got["before"] and got["after"]
    x = np.array(got["x"], dtype=np.float64)
    np.testing.assert_allclose(got["y"], 1 / (1 + np.exp(-x)), rtol=2e-6, atol=0)


SUM_OF_SQUARES = """
def f(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
"""


def test_parser_needs_no_lark_once_its_tables_are_stored():
    code = f"""
        import json, sys
        import tensorscript as ts
        cu = ts.CompilationUnit({SUM_OF_SQUARES!r})
        print(json.dumps({{"lark": "lark" in sys.modules, "value": cu.f(10)}}))
    """
    _run(code)  # stores the tables if no process has yet
    assert _run(code) == {"lark": False, "value": sum(i * i for i in range(10))}


PROGRAM = """
def f(x: torch.Tensor, xs: List[int], scale: float = 2.0) -> Tuple[torch.Tensor, int]:
    total = 0
    for i, v in enumerate(xs):
        if v % 2 == 0 and not i > 3:
            total += v ** 2
        elif v < -1:
            continue
        else:
            total -= xs[i - 1] if i else 0
    y = torch.relu(x @ x.t()) * scale + (-x).sum(dim=[0], keepdim=True)
    return y[1:, ::2], total // 3
"""


def _parsed(tables: dict, text: str) -> str:
    from tensorscript.parser import parse as parser_internals
    from tensorscript.parser.source import SourceFile

    try:
        return repr(parser_internals._Parser(tables).parse(SourceFile(text, "<test>", 0)).body)
    except Exception as exc:  # the same error, at the same place
        return f"{type(exc).__name__}: {exc}"


def test_stored_tables_parse_as_lark_s_analysis_does(tmp_path, monkeypatch):
    from tensorscript.parser import parse as parser_internals

    # Lark numbers states and rules differently in every process: compare what they parse.
    from_lark = parser_internals._tables_from_lark(parser_internals._grammar_text())
    damaged = tmp_path / "grammar.json"
    damaged.write_text('{"format": "tensorscript-lalr-v1", "states": [')
    monkeypatch.setattr(parser_internals, "_tables_path", lambda text: damaged)
    rebuilt = parser_internals._tables()
    assert json.loads(damaged.read_text()) == rebuilt
    monkeypatch.undo()
    stored = parser_internals._tables()
    for text in (PROGRAM, SUM_OF_SQUARES, "def f(x: int) -> int:\n    return (x +\n"):
        expected = _parsed(from_lark, text)
        assert _parsed(stored, text) == expected and _parsed(rebuilt, text) == expected


def test_module_loaded_on_first_use_by_threads_at_once():
    """Threads that reach a kernel module together all see it complete."""
    got = _run("""
        import json, threading
        import numpy as np
        from tensorscript.kernels import load_on_first_use
        rowwise = load_on_first_use("rowwise")
        start = threading.Barrier(4)
        results, errors = [], []
        def work():
            start.wait()
            try:
                results.append(float(rowwise.sum_f32(np.arange(1000, dtype=np.float32))))
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"results": results, "errors": errors,
                          "same": load_on_first_use("rowwise") is rowwise,
                          "plain": type(rowwise).__name__}))
    """)
    assert got == {"results": [499500.0] * 4, "errors": [], "same": True, "plain": "module"}


def test_unknown_kernel_module_is_an_import_error():
    from tensorscript.kernels import load_on_first_use
    with pytest.raises(ModuleNotFoundError):
        load_on_first_use("no_such_kernels")


@pytest.mark.parametrize("text", [
    "add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
    "format(str self, ...) -> str",
    "  __getitem__.t(t[] l, int idx) -> t",
])
def test_names_read_from_schema_text_match_the_parsed_schema(text):
    lazy, parsed = OpDef(text, impl=None), parse_schema(text)
    assert (lazy.name, lazy.qualified_name) == (parsed.name, parsed.qualified_name)
    assert lazy.schema == parsed and lazy.schema_text == text


def test_every_registered_schema_parses_to_the_name_it_is_registered_under():
    for op in registry.all_ops():
        assert registry.get(op.qualified_name) is op
        assert (op.schema.name, op.schema.qualified_name) == (op.name, op.qualified_name)
        assert op.schema.text == op.schema_text


def test_malformed_schema_fails_when_read():
    op = OpDef("broken(Tensor self -> Tensor", impl=None)
    assert op.qualified_name == "broken"
    with pytest.raises(ValueError):
        op.schema
