"""The converter: a Python file's function traced into a TensorScript file that the CLI accepts."""
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.trace_tool import import_with_torch, main, make_input, parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "traced_mlp.py"
ARGS = [f"{EXAMPLE}:classify", "--input", "float32[8,16]", "--input", "int64[8]",
        "--int-range", "0:4"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("trace") / "mlp_traced.py"
    assert main(ARGS + ["-o", str(out)]) == 0
    return out


def test_header_says_where_it_came_from(converted):
    text = converted.read_text()
    head = text.splitlines()[:2]
    assert f"{EXAMPLE}:classify" in head[0]
    assert "float32[8,16], int64[8]" in head[1] and "seed 0" in head[1]


def test_cli_check_and_run_accept_the_output(converted, capsys):
    cli = pytest.importorskip("tensorscript.cli")
    assert cli.main(["check", str(converted)]) == 0
    assert cli.main(["run", str(converted)]) == 0


def test_output_computes_what_the_python_function_computes(converted):
    cu = ts.CompilationUnit(converted.read_text())
    module = import_with_torch(str(EXAMPLE))
    rng = np.random.default_rng(7)
    x = make_input(parse_spec("float32[5,16]"), rng, (0, 4))
    labels = make_input(parse_spec("int64[5]"), rng, (0, 4))
    got_idx, got_loss = cu.classify(x, labels)
    want_idx, want_loss = module.classify(x, labels)
    np.testing.assert_array_equal(got_idx.numpy(), want_idx.numpy())
    np.testing.assert_allclose(got_loss.numpy(), want_loss.numpy(), rtol=1e-5)


def test_torch_alias_is_removed_after_the_import():
    before = sys.modules.get("torch")
    import_with_torch(str(EXAMPLE))
    assert sys.modules.get("torch") is before


def test_same_seed_same_output(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    assert main(ARGS + ["-o", str(a)]) == 0
    assert main(ARGS + ["-o", str(b), "--seed", "0"]) == 0
    assert a.read_text() == b.read_text()


@pytest.mark.parametrize("text, dtype, shape", [
    ("float32[8,16]", "float32", (8, 16)), ("int64[8]", "int64", (8,)), ("bool[]", "bool", ()),
    (" float64[ 2 , 3 ] ", "float64", (2, 3)),
])
def test_parse_spec(text, dtype, shape):
    assert parse_spec(text) == (dtype, shape)


@pytest.mark.parametrize("argv", [
    ["nofile.py:f", "--input", "float32[2]", "-o", "x.py"],
    [f"{EXAMPLE}", "-o", "x.py"],
    [f"{EXAMPLE}:classify", "--input", "complex[2]", "-o", "x.py"],
    [f"{EXAMPLE}:classify", "--input", "float32[2]"],
    [f"{EXAMPLE}:classify", "--input", "float32[2]", "--int-range", "3:1", "-o", "x.py"],
])
def test_usage_errors(argv, tmp_path, capsys):
    assert main(argv) == 2
    assert "tensorscript trace" in capsys.readouterr().err
    assert not (tmp_path / "x.py").exists()


def test_missing_function_and_failing_trace(tmp_path, capsys):
    out = tmp_path / "o.py"
    assert main([f"{EXAMPLE}:nope", "--input", "float32[2]", "-o", str(out)]) == 1
    assert main([f"{EXAMPLE}:classify", "--input", "float32[3,5]", "--input", "int64[3]",
                 "-o", str(out)]) == 1
    assert "failed" in capsys.readouterr().err
    assert not out.exists()
