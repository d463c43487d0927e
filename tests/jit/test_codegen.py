"""Graph -> source: the printed code parses, type-checks and lowers back to an equivalent graph,
over every conformance case and the jit test programs."""
import copy
import glob
import json
import math
import os

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.jit import graph_to_source
from tensorscript.jit.codegen import literal, type_source
from tensorscript.jit.ir import dtypes
from tensorscript.jit.ir import graph as G
from tensorscript.jit.ir import types as T

from jit_helpers import assert_expected, kinds, lower_source
from jit_programs import PROGRAMS

CASES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "conformance", "cases")
EXTRA_DIR = os.path.join(os.path.dirname(__file__), "..", "conformance_extra")
CASES = sorted(glob.glob(os.path.join(CASES_DIR, "**", "*.json"), recursive=True)) + sorted(
    glob.glob(os.path.join(EXTRA_DIR, "**", "*.json"), recursive=True))


def load_cases():
    out = []
    for path in CASES:
        with open(path) as f:
            case = json.load(f)
        if case["category"] in ("trace", "compile_error"):
            continue
        extra = "extra/" if os.path.abspath(path).startswith(os.path.abspath(EXTRA_DIR)) else ""
        out.append(pytest.param(case, id=f"{extra}{case['category']}/{case['name']}"))
    return out


def has_general_loop(graph) -> bool:
    """A loop with a condition (break/return inside a for loop) prints as a counted while, and a
    range with a step known only at run time as arithmetic."""
    for n in graph.nodes():
        if n.kind == G.RANGE_LENGTH:
            return True
        if n.kind == G.LOOP:
            cond = n.blocks[0].returns[0]
            trip = n.inputs[0]
            forever = trip.node is not None and trip.node.kind == G.CONSTANT
            constant_cond = cond.node is not None and cond.node.kind == G.CONSTANT
            if not forever and not constant_cond:
                return True
    return False


def round_trip(source: str, name: str):
    m0 = lower_source(source, name)
    src1 = graph_to_source(m0)
    m1 = lower_source(src1, name + "_rt1")
    src2 = graph_to_source(m1)
    m2 = lower_source(src2, name + "_rt2")
    return m0, m1, m2, src1


def unfolded_kinds(graph) -> list:
    """Node kinds, leaving out ops on constants only (code prints constants inline, so a
    negated constant variable prints as a negative literal)."""
    def constant(v):
        return v.node is not None and v.node.kind == G.CONSTANT

    return [_PRINTED_AS.get(n.name, n.name) for n in graph.nodes()
            if n.kind not in (G.CONSTANT, G.UNINITIALIZED)
            and not (n.kind == G.OP and n.inputs and all(constant(v) for v in n.inputs))
            and not (n.kind == G.UNCHECKED_CAST and n.output.type == T.NoneType)]


# Conversions the checker inserts print as the explicit call that does the same.
_PRINTED_AS = {"IntImplicit.Tensor": "int.Tensor", "FloatImplicit.Tensor": "float.Tensor",
               "ScalarImplicit.Tensor": "item"}


def check_equivalent(m0, m1, m2):
    for key, g0 in m0.graphs.items():
        if "." in key or key == "__main__":
            continue
        g1, g2 = m1.graphs[key], m2.graphs[key]
        # printing is stable from the first round on
        assert kinds(g1) == kinds(g2), key
        if not has_general_loop(g0):
            assert unfolded_kinds(g0) == unfolded_kinds(g1), key
        assert [str(v.type) for v in g0.inputs] == [str(v.type) for v in g1.inputs]
        assert [str(v.type) for v in g0.outputs] == [str(v.type) for v in g1.outputs]


@pytest.mark.parametrize("case", load_cases())
def test_conformance_round_trip(case):
    m0, m1, m2, _ = round_trip(case["source"], case["name"])
    check_equivalent(m0, m1, m2)


def _decode(v):
    if isinstance(v, dict):
        if "float" in v:
            return float(v["float"])
        if "list" in v:
            return [_decode(x) for x in v["list"]]
        if "tuple" in v:
            return tuple(_decode(x) for x in v["tuple"])
        if "dict" in v:
            return {_decode(k): _decode(x) for k, x in v["dict"]}
        if "tensor" in v:
            spec = v["tensor"]
            data = [float(x["float"]) if isinstance(x, dict) else x for x in spec["data"]]
            arr = np.array(data, dtype=spec["dtype"]).reshape(spec["shape"])
            return ts.tensor(arr, dtype=getattr(ts, spec["dtype"]))
    return v


def _same(a, b) -> bool:
    if hasattr(a, "numpy") and hasattr(b, "numpy"):
        x, y = a.detach().numpy(), b.detach().numpy()
        return x.dtype == y.dtype and x.shape == y.shape and np.allclose(x, y, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and type(a) is type(b)


def optimised_source(source: str, name: str) -> str:
    """``.code`` as users see it: printed after the whole default pipeline."""
    from tensorscript.jit import lower_module, run_pipeline
    from tensorscript.parser import parse_module
    from tensorscript.typecheck import check_module

    module = lower_module(check_module(parse_module(source, name)))
    run_pipeline(module)
    return graph_to_source(module)


@pytest.mark.parametrize("optimised", [False, True], ids=["lowered", "optimised"])
@pytest.mark.parametrize("case", load_cases())
def test_conformance_round_trip_runs_the_same(case, optimised):
    """The printed program computes what the original computes (both through the executor)."""
    original = ts.CompilationUnit(case["source"])
    if optimised:
        text = optimised_source(case["source"], case["name"])
    else:
        text = graph_to_source(lower_source(case["source"], case["name"]))
    printed = ts.CompilationUnit(text)
    for call in case["calls"]:
        args = [_decode(a) for a in call["args"]]
        results = []
        for cu in (original, printed):
            try:
                results.append(("ok", getattr(cu, case["entry"])(*copy.deepcopy(args))))
            except ts.ScriptError as e:
                results.append(("raised", type(e).__name__))
        (k0, r0), (k1, r1) = results
        assert k0 == k1
        if k0 == "ok":
            assert _same(r0, r1), (r0, r1)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_round_trip(name):
    source, calls = PROGRAMS[name]
    m0, m1, m2, src1 = round_trip(source, name)
    check_equivalent(m0, m1, m2)
    original, printed = ts.CompilationUnit(source), ts.CompilationUnit(src1)
    for args in calls:
        assert original.f(*copy.deepcopy(args)) == printed.f(*copy.deepcopy(args))


def test_golden_source():
    source = PROGRAMS["break_continue"][0] + PROGRAMS["for_range_forms"][0].replace("def f", "def g")
    assert_expected(graph_to_source(lower_source(source)), "codegen_loops")


def test_golden_tensor_source():
    source = """
def f(x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, float]:
    z = torch.relu(x @ y + 1.0) * 2 - x.sum(dim=1, keepdim=True)
    w = z[0, 1:]
    with torch.no_grad():
        w2 = w.exp()
    return w2.to(torch.float64), math.inf
"""
    assert_expected(graph_to_source(lower_source(source)), "codegen_tensor")


def test_literals_and_types():
    assert literal(float("inf")) == "math.inf"
    assert literal(float("-inf")) == "(-math.inf)"
    assert literal(float("nan")) == "math.nan"
    assert literal(-3) == "(-3)"
    assert literal(dtypes.float32) == "torch.float32"
    assert literal([]) == "torch.jit.annotate(List[int], [])"
    assert literal("a'b") == repr("a'b")
    assert type_source(T.OptionalType(T.ListType(T.TensorType))) == "Optional[List[torch.Tensor]]"
    assert type_source(T.TupleType(())) == "Tuple[()]"
    assert literal(ts.tensor([[1.0, 2.0]])) == "torch.tensor([[1.0, 2.0]], dtype=torch.float32)"


CLASS_SOURCE = """
class Counter:
    def __init__(self, start: int):
        self.count = start
        self.hist: List[int] = []

    def bump(self, k: int) -> int:
        self.count += k
        self.hist.append(k)
        return self.count

def f(n: int) -> Tuple[int, List[int]]:
    c = Counter(n)
    for i in range(3):
        c.bump(i)
    return c.count, c.hist

total = 0
for i in range(4):
    total += i
print(total)
"""


def test_classes_and_top_level_statements_round_trip():
    m0, m1, m2, src1 = round_trip(CLASS_SOURCE, "classes")
    assert src1.startswith("class Counter:\n    def __init__(self, start: int) -> None:")
    for key in ("Counter.__init__", "Counter.bump", "f", "__main__"):
        assert kinds(m0.graphs[key]) == kinds(m1.graphs[key]) == kinds(m2.graphs[key]), key
    assert ts.CompilationUnit(src1).f(3) == (6, [0, 1, 2])


def test_method_graph_prints_as_method():
    module = lower_source(CLASS_SOURCE)
    text = graph_to_source(module.graphs["Counter.bump"])
    assert text.startswith("def bump(self, k: int) -> int:")


def test_fusion_group_prints_its_ops():
    module = lower_source("""
def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.relu(x * y + 1.0)
""")
    g = module.graphs["f"]
    ops = [n for n in g.block.nodes if n.kind == G.OP]
    sub = G.Graph("fused")
    env = {v: sub.add_input(v.type, v.name) for v in g.inputs}
    for n in g.block.nodes:
        copy_ = G.Node(n.kind, op=n.op, inputs=[env[v] for v in n.inputs],
                       output_types=[o.type for o in n.outputs], attrs=dict(n.attrs), span=n.span)
        sub.block.append(copy_)
        env.update(zip(n.outputs, copy_.outputs))
    sub.block.set_returns([env[g.outputs[0]]])
    fused = G.Graph("f")
    ins = [fused.add_input(v.type, v.name) for v in g.inputs]
    group = fused.block.append(G.Node(G.FUSION_GROUP, inputs=ins, output_types=[T.TensorType],
                                      attrs={"subgraph": sub}))
    fused.block.set_returns(group.outputs)
    text = graph_to_source(fused)
    assert "torch.relu" in text and "x * y" in text
    printed = lower_source(text).graphs["f"]
    assert [n.name for n in printed.nodes() if n.kind == G.OP] == [n.name for n in ops]
