"""``tensorscript check``: every error of every file, rendered with its line; the exit status."""

from __future__ import annotations

import io

from tensorscript.typecheck.cli import check_files


def test_clean_file(tmp_path):
    path = tmp_path / "ok.py"
    path.write_text("import torch\n\ndef f(x: torch.Tensor) -> torch.Tensor:\n    return x * 2\n")
    out = io.StringIO()
    assert check_files([str(path)], out=out) == 0
    assert "Success: no issues found in 1 source file" in out.getvalue()


def test_errors_rendered_with_file_line_and_caret(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(x: int) -> int:\n    return x + 'a'\n\ndef g(y: int) -> str:\n    return y\n"
    )
    good = tmp_path / "good.py"
    good.write_text("def h(n: int) -> int:\n    return n\n")
    out = io.StringIO()
    assert check_files([str(bad), str(good)], out=out) == 1
    text = out.getvalue()
    assert f"{bad}:2:12: error: unsupported operand types for +: int and str" in text
    assert f"{bad}:5:12: error: return value was annotated as having type str" in text
    assert "^" in text
    assert "Found 2 errors in 1 file (checked 2 source files)" in text


def test_unreadable_and_syntax_errors(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(x: int) -> int\n    return x\n")
    out = io.StringIO()
    assert check_files([str(tmp_path / "missing.py"), str(broken)], out=out) == 1
    text = out.getvalue()
    assert "missing.py: error: cannot read file" in text
    assert f"{broken}:1:" in text
