"""The ``tensorscript`` command: run / check / graph, exit codes and output."""
import pathlib
import subprocess
import sys
import textwrap

import pytest

from tensorscript.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_run_executes_top_level_statements(tmp_path, capsys):
    path = write(tmp_path, "hello.py", """
        N = 3

        def double(x: int) -> int:
            return 2 * x

        print("value", double(N))
    """)
    assert main(["run", path]) == 0
    assert "value 6" in capsys.readouterr().out


def test_run_calls_main_with_arguments(tmp_path, capsys):
    path = write(tmp_path, "prog.py", """
        from typing import List

        def main(argv: List[str]) -> int:
            print("args", len(argv), argv[0])
            return int(argv[1])
    """)
    assert main(["run", path, "hello", "3"]) == 3
    assert "args 2 hello" in capsys.readouterr().out


def test_run_main_without_parameters(tmp_path, capsys):
    path = write(tmp_path, "prog.py", """
        def main() -> int:
            print("hi")
            return 0
    """)
    assert main(["run", path]) == 0
    assert capsys.readouterr().out.strip() == "hi"


def test_run_failure_shows_script_traceback(tmp_path, capsys):
    path = write(tmp_path, "fail.py", """
        def f(x: int) -> int:
            return 10 // x

        print(f(0))
    """)
    assert main(["run", path]) == 1
    err = capsys.readouterr().err
    assert "Traceback of TensorScript" in err
    assert "fail.py:3" in err and "return 10 // x" in err
    assert "Traceback (most recent call last)" not in err


def test_run_compile_error(tmp_path, capsys):
    path = write(tmp_path, "bad.py", """
        def f(x: int) -> int:
            return x + "a"
    """)
    assert main(["run", path]) == 1
    err = capsys.readouterr().err
    assert "bad.py:3" in err and "error" in err


def test_check(tmp_path, capsys):
    good = write(tmp_path, "good.py", "def f(x: int) -> int:\n    return x\n")
    bad = write(tmp_path, "bad.py", "def f(x: int) -> int:\n    return x + 'a'\n")
    assert main(["check", good]) == 0
    capsys.readouterr()
    assert main(["check", good, bad]) == 1
    out = capsys.readouterr()
    assert "bad.py:2" in out.out + out.err


def test_graph_one_and_all(tmp_path, capsys):
    path = write(tmp_path, "g.py", """
        def f(x: int) -> int:
            return x + 1

        def g(x: int) -> int:
            return f(x) * 2
    """)
    assert main(["graph", path + ":f"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("graph f(") and "graph g(" not in out
    assert main(["graph", path]) == 0
    out = capsys.readouterr().out
    assert "graph f(" in out and "graph g(" in out
    assert main(["graph", path + ":nope"]) == 2


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["run"], ["run", "/no/such/file.py"]])
def test_usage_errors(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err


def test_python_dash_m(tmp_path):
    path = write(tmp_path, "m.py", "print('from -m')\n")
    proc = subprocess.run([sys.executable, "-m", "tensorscript", "run", path],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "from -m" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "tensorscript"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 2


def test_example_classifier_trains(capsys):
    assert main(["run", str(ROOT / "examples" / "train_classifier.py"), "30"]) == 0
    out = capsys.readouterr().out
    assert "epoch 0 loss" in out and "epoch 29" in out


def test_graph_as_code(tmp_path, capsys):
    path = write(tmp_path, "c.py", """
        def f(x: int) -> int:
            return x + 1
    """)
    assert main(["graph", "--code", path + ":f"]) == 0
    assert capsys.readouterr().out.startswith("def f(x: int) -> int:")
