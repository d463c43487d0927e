"""The public compile API: CompilationUnit, ScriptFunction, script, ts.jit."""
from typing import List

import numpy as np
import pytest

import tensorscript as ts

SCALE = 3  # a captured Python global
OFFSET = 0.5


def cu(source: str) -> ts.CompilationUnit:
    return ts.CompilationUnit(source)


# ------------------------------------------------------------------ calling and results

def test_functions_are_attributes():
    unit = cu("def f(x: int) -> int:\n    return x + 1\n\ndef g(x: int) -> int:\n    return f(x) * 2\n")
    assert unit.f(2) == 3
    assert unit.g(2) == 6
    assert unit.get_function("g")(1) == 4
    with pytest.raises(AttributeError):
        unit.nope


@pytest.mark.parametrize("source, args, expected, kind", [
    ("def f(x: int) -> int:\n    return x * 2\n", (3,), 6, int),
    ("def f(x: float) -> float:\n    return x * 2.0\n", (3,), 6.0, float),
    ("def f(x: int) -> bool:\n    return x > 2\n", (3,), True, bool),
    ("def f(x: int) -> str:\n    return str(x)\n", (3,), "3", str),
    ("def f(x: int) -> List[int]:\n    return [x, x]\n", (3,), [3, 3], list),
    ("def f(x: int) -> Tuple[int, float]:\n    return (x, 1.5)\n", (3,), (3, 1.5), tuple),
])
def test_result_types_are_exact(source, args, expected, kind):
    got = cu("from typing import List, Tuple\n" + source).f(*args)
    assert type(got) is kind
    assert got == expected


def test_tuple_elements_have_exact_types():
    a, b = cu("from typing import Tuple\ndef f(x: int) -> Tuple[int, float]:\n    return (x, 1.5)\n").f(2)
    assert type(a) is int and type(b) is float


def test_dict_keeps_insertion_order():
    got = cu("from typing import Dict\n"
             "def f() -> Dict[str, int]:\n"
             "    d: Dict[str, int] = {}\n"
             "    d['b'] = 1\n    d['a'] = 2\n    d['c'] = 3\n    return d\n").f()
    assert list(got.items()) == [("b", 1), ("a", 2), ("c", 3)]


def test_int_accepted_for_float_but_not_bool_for_int():
    unit = cu("def f(x: float) -> float:\n    return x\n\ndef g(n: int) -> int:\n    return n\n")
    assert unit.f(2) == 2.0 and type(unit.f(2)) is float
    with pytest.raises(TypeError):
        unit.g(True)


def test_argument_type_error_names_the_parameter():
    unit = cu("def f(x: Tensor, n: int) -> Tensor:\n    return x\n")
    with pytest.raises(TypeError) as e:
        unit.f("a", 1)
    msg = str(e.value)
    assert "f() expected a value of type 'Tensor' for argument 'x' but instead found type 'str'" in msg


def test_nested_container_arguments_are_checked():
    unit = cu("from typing import List\ndef f(xs: List[int]) -> int:\n    return len(xs)\n")
    assert unit.f([1, 2, 3]) == 3
    with pytest.raises(TypeError, match="argument 'xs'"):
        unit.f([1, "a"])


def test_optional_argument_accepts_none():
    unit = cu("from typing import Optional\n"
              "def f(x: Optional[int]) -> int:\n"
              "    if x is None:\n        return -1\n    return x\n")
    assert unit.f(None) == -1
    assert unit.f(4) == 4


def test_kwargs_and_defaults():
    unit = cu("def f(a: int, b: int = 10, c: float = 0.5) -> float:\n    return a + b + c\n")
    assert unit.f(1) == 11.5
    assert unit.f(1, c=1.0) == 12.0
    assert unit.f(b=2, a=1) == 3.5
    with pytest.raises(TypeError, match="missing value for argument 'a'"):
        unit.f()
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        unit.f(1, z=2)


def test_tensor_arguments_and_numpy_arrays():
    unit = cu("import torch\ndef f(x: torch.Tensor) -> torch.Tensor:\n    return x * 2\n")
    out = unit.f(ts.tensor(np.array([1.0, 2.0], dtype=np.float32)))
    assert isinstance(out, ts.Tensor)
    np.testing.assert_allclose(out.numpy(), [2.0, 4.0])
    out = unit.f(np.array([1.0, 3.0], dtype=np.float32))
    np.testing.assert_allclose(out.numpy(), [2.0, 6.0])


def test_autograd_flows_through_a_script():
    unit = cu("import torch\ndef f(x: torch.Tensor) -> torch.Tensor:\n    return (x * x).sum()\n")
    x = ts.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    unit.f(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


# ------------------------------------------------------------------ what a ScriptFunction shows

def test_code_graph_schema_name():
    f = cu("import torch\ndef f(x: torch.Tensor, n: int) -> torch.Tensor:\n    return x * n\n").f
    assert f.schema == "f(Tensor x, int n) -> Tensor"
    assert f.name == "f"
    assert isinstance(f.code, str) and "def" in f.code or "graph" in f.code
    assert "graph f" in str(f.graph)
    assert f.graph_for(None, 1) is f.graph


def test_schema_spells_defaults_and_containers():
    f = cu("from typing import List, Optional\n"
           "def f(xs: List[int], y: Optional[float] = None, k: int = 2) -> List[int]:\n"
           "    return xs\n").f
    assert f.schema == "f(int[] xs, float? y=None, int k=2) -> int[]"


# ------------------------------------------------------------------ errors

def test_compile_errors_are_compile_errors():
    with pytest.raises(ts.CompileError) as e:
        cu("def f(x: int) -> int:\n    return x + 'a'\n")
    assert e.value.lineno == 2 and e.value.col >= 1


def test_syntax_errors_are_compile_errors():
    with pytest.raises(ts.CompileError):
        cu("def f(x: int) -> int\n    return x\n")


def test_runtime_error_names_the_line():
    unit = cu("from typing import List\n"
              "def f(xs: List[int]) -> int:\n"
              "    y = 1\n"
              "    return xs[5]\n")
    with pytest.raises(ts.ScriptError) as e:
        unit.f([1])
    err = e.value
    assert err.error_type == "IndexError"
    assert isinstance(err, RuntimeError)
    assert err.frames[-1][0].startswith("<string>:4:")
    assert "return xs[5]" in err.frames[-1][1]


def test_runtime_error_records_call_sites():
    unit = cu("def g(x: int) -> int:\n"
              "    return 10 // x\n"
              "\n"
              "def f(x: int) -> int:\n"
              "    return g(x) + 1\n")
    with pytest.raises(ts.ScriptError) as e:
        unit.f(0)
    lines = [loc.split(":")[1] for loc, _ in e.value.frames]
    assert lines == ["5", "2"]
    assert "Traceback of TensorScript" in str(e.value)


def test_raise_in_script():
    unit = cu("def f(x: int) -> int:\n"
              "    if x < 0:\n"
              "        raise ValueError('negative: ' + str(x))\n"
              "    return x\n")
    assert unit.f(1) == 1
    with pytest.raises(ts.ScriptError) as e:
        unit.f(-2)
    assert e.value.error_type == "ValueError"
    assert "negative: -2" in str(e.value)


def test_assert_in_script():
    unit = cu("def f(x: int) -> int:\n    assert x > 0, 'must be positive'\n    return x\n")
    with pytest.raises(ts.ScriptError) as e:
        unit.f(0)
    assert e.value.error_type == "AssertionError"


# ------------------------------------------------------------------ script

def helper(x: int) -> int:
    return x * SCALE


def uses_helper(x: int) -> int:
    return helper(x) + 1


def uses_float_global(x: float) -> float:
    return x + OFFSET


def test_script_compiles_called_python_functions():
    f = ts.script(uses_helper)
    assert isinstance(f, ts.ScriptFunction)
    assert f(2) == 7


def test_script_captures_constant_globals():
    assert ts.script(uses_float_global)(1.0) == 1.5


def test_script_as_decorator_and_via_jit_namespace():
    @ts.script
    def a(x: int) -> int:
        return x + 1

    @ts.jit.script
    def b(x: int) -> int:
        return x + 2

    assert a(1) == 2 and b(1) == 3
    assert a.__wrapped__ is not None


def test_script_error_points_into_the_python_file():
    def bad(xs: List[int]) -> int:
        return xs[3]

    f = ts.script(bad)
    with pytest.raises(ts.ScriptError) as e:
        f([1])
    location = e.value.frames[-1][0]
    assert location.startswith(__file__)
    assert int(location.split(":")[-2]) == bad.__code__.co_firstlineno + 1


def test_jit_disabled_returns_the_function(monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_JIT", "0")
    assert ts.script(uses_helper) is uses_helper


def test_script_of_a_class_is_not_supported_yet():
    class C:
        pass

    with pytest.raises(NotImplementedError):
        ts.script(C)


def test_jit_namespace():
    assert ts.jit.annotate(List[int], [1]) == [1]
    assert ts.jit.is_scripting() is False
    assert ts.jit.CompilationUnit is ts.CompilationUnit

    @ts.jit.ignore
    def ignored():
        pass

    @ts.jit.export
    def exported():
        pass

    @ts.jit.unused
    def unused():
        pass

    assert ignored._ts_ignore and exported._ts_export and unused._ts_unused


def test_define_adds_functions_that_call_earlier_ones():
    unit = cu("def f(x: int) -> int:\n    return x + 1\n")
    unit.define("def g(x: int) -> int:\n    return f(x) * 10\n")
    assert unit.g(1) == 20 and unit.f(1) == 2


def test_trace_through_both_namespaces():
    def fn(x):
        return x * 2

    example = (ts.tensor(np.ones(2, dtype=np.float32)),)
    for traced in (ts.trace(fn, example), ts.jit.trace(fn, example)):
        assert isinstance(traced.code, str) and traced.graph is not None
        np.testing.assert_allclose(traced(ts.tensor(np.array([1.0, 2.0], dtype=np.float32))).numpy(),
                                   [2.0, 4.0])


def test_no_grad_in_script_and_mode_restored_after_a_failure():
    from tensorscript.interpreter import autograd

    unit = cu("import torch\n"
              "def f(x: torch.Tensor, n: int) -> torch.Tensor:\n"
              "    with torch.no_grad():\n"
              "        y = x * 2\n"
              "        if n == 0:\n"
              "            raise ValueError('boom')\n"
              "    return y + x\n")
    x = ts.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    unit.f(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0])
    with pytest.raises(ts.ScriptError):
        unit.f(x, 0)
    assert autograd.is_grad_enabled()


def test_jit_namespace_still_reaches_the_compiler_package():
    import tensorscript.jit.ir.types as T  # the internals stay importable by name

    assert T.IntType is not None
    assert callable(ts.jit.lower_module)


def test_script_classes_and_objects_returned_to_python():
    unit = cu("class Counter:\n"
              "    def __init__(self, start: int):\n"
              "        self.n = start\n"
              "\n"
              "    def bump(self, k: int) -> int:\n"
              "        self.n += k\n"
              "        return self.n\n"
              "\n"
              "def make(a: int) -> Counter:\n"
              "    c = Counter(a)\n"
              "    c.bump(1)\n"
              "    return c\n")
    c = unit.make(3)
    assert c.n == 4
    assert c.bump(10) == 14 and c.n == 14


def test_positional_and_keyword_calls_agree_and_leave_arguments_alone():
    unit = cu("import torch\n"
              "from typing import List\n"
              "def f(x: torch.Tensor, ys: List[int], s: float) -> torch.Tensor:\n"
              "    ys.append(10)\n"
              "    return x * s + len(ys)\n")
    x = np.arange(4, dtype=np.float32)
    ys = [1, 2]
    positional = unit.f(ts.tensor(x), ys, 2).numpy()
    keywords = unit.f(s=2.0, ys=ys, x=ts.tensor(x)).numpy()
    np.testing.assert_array_equal(positional, x * 2 + 3)
    np.testing.assert_array_equal(keywords, positional)
    assert ys == [1, 2]
    weight = ts.nn.Parameter(ts.tensor(x))
    np.testing.assert_array_equal(unit.f(weight, [], 1.0).detach().numpy(), x + 1)
    with pytest.raises(TypeError, match="argument 's'"):
        unit.f(ts.tensor(x), ys, "2")
