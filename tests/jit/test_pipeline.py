"""The pass pipeline: environment switches, verification, and failures naming the pass."""
import pytest

from tensorscript.jit.ir import graph as G
from tensorscript.jit.passes import pipeline
from tensorscript.jit.passes.pipeline import Pass, PassError, run_pipeline

from jit_helpers import lower_one

SOURCE = """
def f(x: int) -> int:
    unused = x * 3
    return x + 1
"""


def fresh():
    return lower_one(SOURCE, optimize=False)


def count_ops(g):
    return sum(1 for n in g.nodes() if n.kind == G.OP)


def test_default_pipeline_removes_dead_code():
    g = run_pipeline(fresh())
    assert count_ops(g) == 1


def test_disable_passes(monkeypatch):
    names = ",".join(p.name for p in pipeline.DEFAULT_PASSES)
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", names)
    g = run_pipeline(fresh())
    assert count_ops(g) == 2


def test_disable_one_pass(monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", "inline, eliminate_dead_code")
    g = run_pipeline(fresh(), [Pass("eliminate_dead_code", pipeline.eliminate_dead_code)])
    assert count_ops(g) == 2


def test_dump_ir_before_and_after(monkeypatch, capsys):
    monkeypatch.setenv("TENSORSCRIPT_DUMP_IR", "before:eliminate_dead_code,after:eliminate_dead_code")
    run_pipeline(fresh(), [Pass("eliminate_dead_code", pipeline.eliminate_dead_code)])
    err = capsys.readouterr().err
    assert "--- IR before eliminate_dead_code (f) ---" in err
    assert "--- IR after eliminate_dead_code (f) ---" in err
    before, after = err.split("--- IR after")
    assert "mul.int" in before and "mul.int" not in after


def test_no_dump_by_default(monkeypatch, capsys):
    monkeypatch.delenv("TENSORSCRIPT_DUMP_IR", raising=False)
    run_pipeline(fresh())
    assert capsys.readouterr().err == ""


def test_failing_pass_is_named_with_the_passes_before_it():
    def boom(graph):
        raise ValueError("kaboom")

    passes = [Pass("first", lambda g: g), Pass("second", lambda g: g), Pass("broken", boom)]
    with pytest.raises(PassError) as info:
        run_pipeline(fresh(), passes)
    err = info.value
    assert err.pass_name == "broken" and err.passes_before == ["first", "second"]
    assert "pass 'broken' failed on graph 'f'" in str(err) and "kaboom" in str(err)
    assert "first, second" in str(err)
    assert isinstance(err.__cause__, ValueError)


def test_verification_after_each_pass_catches_a_broken_graph():
    def break_graph(graph):
        node = [n for n in graph.nodes() if n.kind == G.OP][-1]
        graph.block.nodes.remove(node)  # it now reads a constant defined after it
        graph.block.nodes.insert(0, node)
        return graph

    with pytest.raises(PassError, match="pass 'break_graph'.*used before it is defined"):
        run_pipeline(fresh(), [Pass("break_graph", break_graph)], verify_each=True)


def test_verification_can_be_switched_on_by_environment(monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_VERIFY", "1")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    assert pipeline._verify_enabled(None)
    monkeypatch.setenv("TENSORSCRIPT_VERIFY", "0")
    assert not pipeline._verify_enabled(None)


def test_add_pass_is_one_line(monkeypatch):
    seen = []
    monkeypatch.setattr(pipeline, "DEFAULT_PASSES", list(pipeline.DEFAULT_PASSES))
    pipeline.add_pass(Pass("spy", lambda g: seen.append(g.name) or g), after="eliminate_dead_code")
    names = [p.name for p in pipeline.DEFAULT_PASSES]
    assert names[names.index("eliminate_dead_code") + 1] == "spy"
    run_pipeline(fresh())
    assert seen == ["f"]


def test_timings_are_collected():
    timings = {}
    run_pipeline(fresh(), [Pass("eliminate_dead_code", pipeline.eliminate_dead_code)], timings=timings)
    assert "eliminate_dead_code" in timings


def test_runs_over_a_lowered_module():
    from jit_helpers import LOWERING_PASSES, lower_source

    module = lower_source(SOURCE + "\ndef g(y: int) -> int:\n    z = y - 1\n    return y\n", optimize=False)
    run_pipeline(module, LOWERING_PASSES)
    assert count_ops(module.graphs["f"]) == 1 and count_ops(module.graphs["g"]) == 0
