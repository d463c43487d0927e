"""Compiled scalar regions: the same results and the same errors with the pass on and off.

Every program here is compiled twice, once with ``compile_scalar_regions`` and once without, and
every call runs both ways; results must agree in value and in type, failures in exception
type, message and script line. Programs are compiled once per module (Numba compiles each
region once, then loads it from the on-disk cache in later runs).
"""
import math
import os
import random
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorscript as ts
from tensorscript.interpreter.compiled_region import CompiledRegion
from tensorscript.jit.passes.compile_scalar_regions import COMPILED_REGION
from tensorscript.kernels import scalar_codegen as SC

PASS = "compile_scalar_regions"


def compile_both(source: str):
    """``(with the pass, without it)`` for one source text."""
    source = textwrap.dedent(source)
    on = ts.CompilationUnit(source)
    saved = os.environ.get("TENSORSCRIPT_DISABLE_PASSES")
    os.environ["TENSORSCRIPT_DISABLE_PASSES"] = PASS
    try:
        off = ts.CompilationUnit(source)
    finally:
        if saved is None:
            del os.environ["TENSORSCRIPT_DISABLE_PASSES"]
        else:
            os.environ["TENSORSCRIPT_DISABLE_PASSES"] = saved
    return on, off


def regions(fn) -> list:
    return [n for n in fn.graph.nodes() if n.kind == COMPILED_REGION]


def outcome(fn, args):
    try:
        return ("ok", fn(*args))
    except ts.ScriptError as err:
        return ("error", err.error_type, err.message, err.frames[-1][0] if err.frames else None)


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def assert_same(on, off, name, args):
    got, want = outcome(getattr(on, name), args), outcome(getattr(off, name), args)
    assert same(got, want), f"{name}{args}: compiled {got!r}, interpreted {want!r}"


# ------------------------------------------------------------------ a table of programs

PROGRAMS = """
import math
from typing import List

def collatz_total(n: int) -> int:
    total = 0
    for i in range(1, n + 1):
        x = i
        while x != 1:
            if x % 2 == 0:
                x = x // 2
            else:
                x = 3 * x + 1
            total += 1
    return total

def midpoint_sin(n: int) -> float:
    h = 1.0 / n
    s = 0.0
    for i in range(n):
        x = (i + 0.5) * h
        s += math.sin(x) * h
    return s

def int_division(n: int, d: int) -> int:
    acc = 0
    for i in range(-n, n):
        acc = acc * 3 + (i // d) - (i % d)
        acc = acc % 1000003
    return acc

def float_division(n: int, d: float) -> float:
    acc = 0.0
    for i in range(-n, n):
        acc += i / d + (i // d) + (i % d)
    return acc

def powers(n: int, e: int) -> float:
    acc = 0.0
    for i in range(-n, n):
        acc += i ** e
    return acc

def mixed(n: int, x: float) -> float:
    acc = x
    for i in range(n):
        if acc > 10.0 or i % 3 == 0:
            acc = acc / 2.0 - i
        elif not acc < -10.0:
            acc = acc * 1.5 + float(i)
        else:
            acc = abs(acc) + min(i, 3) + max(x, 0.5)
    return acc

def early_exit(n: int, target: int) -> int:
    for i in range(n):
        if i * i >= target:
            return i
    return -1

def breaks(n: int) -> int:
    count = 0
    i = 0
    while True:
        i += 1
        if i % 7 == 0:
            continue
        if i > n:
            break
        count += i
    return count

def bits(n: int) -> int:
    acc = 0
    for i in range(n):
        acc = acc ^ (i << (i % 5)) | (i >> 1) & 255
        acc = acc + (~i) + (1 if i % 2 == 0 else 0)
    return acc

def conversions(n: int, x: float) -> int:
    acc = 0
    for i in range(n):
        y = x * i - 3.5
        acc += int(y) + math.floor(y) + math.ceil(y) + int(round(y)) + int(bool(i % 2))
    return acc

def math_table(x: float, n: int) -> float:
    acc = 0.0
    for k in range(n):
        y = x + k
        acc += math.sqrt(y) + math.exp(-y) + math.log(y) + math.tanh(y) + math.atan2(y, x)
        acc += math.log(y, 2.0) + math.fabs(y) + math.hypot(y, 1.0) + math.copysign(1.0, y)
        acc += math.erf(y) + math.lgamma(y) + math.gamma(y) + math.fmod(y, 0.7)
    return acc

def classify(x: float, m: int) -> int:
    n = 0
    for k in range(m):
        y = x * k
        if math.isnan(y):
            n += 1
        if math.isinf(y):
            n += 10
        if math.isfinite(y):
            n += 100
    return n

def range_steps(a: int, b: int, s: int) -> int:
    acc = 0
    for i in range(a, b, s):
        acc = acc * 2 + i
        acc = acc % 1000003
    return acc

def several_outputs(n: int) -> float:
    a = 0
    b = 1.0
    c = False
    for i in range(n):
        a += i
        b = b * 1.01
        c = not c
    return a + b + float(c)

def assert_in_loop(n: int) -> int:
    acc = 0
    for i in range(n):
        acc += i
        assert acc < 50, "too big"
    return acc

def raise_in_loop(n: int) -> int:
    acc = 0
    for i in range(n):
        if i == 5:
            raise ValueError("five is not allowed")
        acc += i
    return acc

def nested_in_tensor_loop(n: int, m: int) -> int:
    out = 0
    for k in range(m):
        print(k)
        j = 0
        while j < n:
            j += 1
            out += j * k
    return out

def gcd_and_factorial(n: int) -> int:
    acc = 0
    for i in range(n):
        acc += math.gcd(i, 12) + math.factorial(i % 8)
    return acc

def isclose_count(n: int, tol: float) -> int:
    c = 0
    for i in range(n):
        if math.isclose(i * 0.1, 0.3, rel_tol=tol):
            c += 1
    return c

def big_factorial(n: int) -> int:
    acc = 0
    for i in range(n):
        acc = math.factorial(i)
    return acc

def float_to_int(n: int, x: float) -> int:
    acc = 0
    for i in range(n):
        acc = int(x * i)
    return acc

def shift_by(n: int, s: int) -> int:
    acc = 1
    for i in range(n):
        acc = (acc << s) % 1000003
    return acc

def straight(a: int, b: int) -> int:
    return a * b + 1
"""

CALLS = {
    "collatz_total": [(1,), (27,), (300,), (0,)],
    "midpoint_sin": [(1,), (1000,)],
    "int_division": [(20, 3), (20, -3), (20, 1), (20, -1), (5, 0)],
    "float_division": [(5, 2.5), (5, -0.5), (3, 0.0), (3, -0.0)],
    "powers": [(4, 2), (4, -1), (3, 0), (2, 63)],
    "mixed": [(50, 3.0), (50, -40.0), (0, 1.0)],
    "early_exit": [(100, 50), (5, 1000)],
    "breaks": [(30,), (0,)],
    "bits": [(100,)],
    "conversions": [(20, 0.75), (20, -1.25), (3, math.nan), (3, math.inf), (3, 1e300)],
    "math_table": [(0.5, 3), (3.0, 3), (-2.0, 3), (0.0, 3), (math.inf, 3), (math.nan, 3)],
    "classify": [(1.0, 4), (math.inf, 4), (math.nan, 4), (0.0, 4)],
    "range_steps": [(0, 50, 3), (50, 0, -4), (5, 5, 1), (-10, 10, 7), (0, 10, 0)],
    "several_outputs": [(10,), (0,)],
    "assert_in_loop": [(5,), (20,)],
    "raise_in_loop": [(4,), (10,)],
    "nested_in_tensor_loop": [(5, 2)],
    "gcd_and_factorial": [(20,)],
    "isclose_count": [(10, 1e-9), (10, 0.5), (10, -1.0)],
    "big_factorial": [(5,), (25,)],
    "float_to_int": [(5, 1.5), (5, 1e30), (5, -1e19)],
    "shift_by": [(10, 3), (10, 70), (3, -1)],
    "straight": [(3, 4)],
}


@pytest.fixture(scope="module")
def units():
    return compile_both(PROGRAMS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_results_with_and_without_the_pass(units, name):
    on, off = units
    for args in CALLS[name]:
        assert_same(on, off, name, args)


@pytest.mark.parametrize("name", sorted(set(CALLS) - {"straight", "nested_in_tensor_loop"}))
def test_loops_become_one_compiled_region(units, name):
    on, off = units
    (node,) = regions(getattr(on, name))
    assert not regions(getattr(off, name))
    region = CompiledRegion(node.attrs["subgraph"])
    assert region.compile() is not None, region.failure


def test_straight_line_code_stays_interpreted(units):
    assert not regions(units[0].straight)


def test_inner_loop_of_an_uncompilable_loop_is_compiled(units):
    on, _ = units
    (node,) = regions(on.nested_in_tensor_loop)
    assert node.owner is not on.nested_in_tensor_loop.graph.block  # inside the printing loop


def test_errors_name_the_failing_line(units):
    on, _ = units
    with pytest.raises(ts.ScriptError) as info:
        on.int_division(5, 0)
    err = info.value
    assert err.error_type == "ZeroDivisionError"
    assert "acc = acc * 3 + (i // d) - (i % d)" in str(err)
    with pytest.raises(ts.ScriptError, match="five is not allowed") as info:
        on.raise_in_loop(10)
    assert info.value.error_type == "ValueError"
    assert 'raise ValueError("five is not allowed")' in str(info.value)
    with pytest.raises(ts.ScriptError, match="too big") as info:
        on.assert_in_loop(20)
    assert info.value.error_type == "AssertionError"


def test_int_inputs_beyond_int64_run_interpreted(units):
    on, off = units
    assert_same(on, off, "int_division", (5, 2 ** 64))
    assert_same(on, off, "range_steps", (2 ** 70, 2 ** 70 + 10, 3))
    assert on.range_steps(2 ** 70, 2 ** 70 + 10, 3) == off.range_steps(2 ** 70, 2 ** 70 + 10, 3)


def test_results_that_do_not_fit_int64_fall_back(units):
    on, _ = units
    assert on.big_factorial(26) == math.factorial(25)  # the interpreter's Python ints grow
    assert on.float_to_int(3, 1e30) == int(2e30)


def test_the_pass_is_named_in_the_pipeline():
    from tensorscript.jit.passes.pipeline import DEFAULT_PASSES
    names = [p.name for p in DEFAULT_PASSES]
    # after the last dead code elimination, which does not look into a region's subgraph
    assert names.index(PASS) > max(i for i, n in enumerate(names) if n == "eliminate_dead_code")


def test_region_subgraph_keeps_spans_and_verifies():
    from tensorscript.jit.ir.verify import verify
    on, _ = compile_both("""
        def f(n: int) -> int:
            t = 0
            for i in range(n):
                t += i // 3
            return t
        """)
    (node,) = regions(on.f)
    sub = node.attrs["subgraph"]
    verify(sub)
    assert [str(v.type) for v in sub.inputs] == ["int"]
    assert all(n.span is not None for n in sub.nodes() if n.kind == "op")
    assert "prim::CompiledRegion" in str(on.f.graph)
    assert on.f(10) == sum(i // 3 for i in range(10))


def test_tracing_a_scripted_scalar_loop_records_it():
    on, _ = compile_both("""
        def f(n: int) -> int:
            t = 0
            for i in range(n):
                t += i
            return t
        """)
    assert on.f(5) == 10
    traced = ts.trace(lambda x: x * on.f(4), (ts.tensor([1.0, 2.0]),))
    assert traced(ts.tensor([1.0, 1.0])).numpy().tolist() == [6.0, 6.0]


def test_generated_source_is_cached_on_disk(units):
    on, _ = units
    (node,) = regions(on.collatz_total)
    region = CompiledRegion(node.attrs["subgraph"])
    region.compile()
    from tensorscript.kernels import cache
    source = region.kernel_source.source
    assert cache.read_valid(cache.cache_dir() / f"ts_{cache.entry_key(source)}.py", source)
    assert "cache=True" in region.source


def test_translation_table_covers_the_scalar_builtins():
    from tensorscript.jit.ops import registry
    names = {op.qualified_name for op in registry.all_ops()}
    assert set(SC.TRANSLATIONS) <= names  # every entry names a registered op
    for name in ("add.int", "floor_divide.int", "remainder.int", "div.int", "pow.int", "sin.float",
                 "lt.int_float", "bitwise_xor.int", "int.float", "float.int", "bool.int", "min.int",
                 "max.float_int", "abs.float", "round.float", "floor.float", "isnan.float"):
        assert name in SC.TRANSLATIONS


# ------------------------------------------------------------------ generated programs

INT_VARS, FLOAT_VARS = ("a", "b"), ("x",)


def _int_expr(rng: random.Random, depth: int) -> str:
    leaves = ["a", "b", "i", str(rng.randint(-9, 9))]
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(leaves)
    l, r = _int_expr(rng, depth - 1), _int_expr(rng, depth - 1)
    return rng.choice([
        f"({l} + {r})", f"({l} - {r})", f"({rng.choice(leaves)} * {rng.choice(leaves)})",
        f"({l} // {r})", f"({l} % {r})", f"(-{l})", f"abs({l})", f"min({l}, {r})",
        f"max({l}, {r})", f"({l} & {r})", f"({l} ^ {r})", f"({l} >> 2)",
        f"int({_float_expr(rng, depth - 1)} > 0.0)",
    ])


def _float_expr(rng: random.Random, depth: int) -> str:
    leaves = ["x", "float(a)", repr(rng.choice([0.5, -1.25, 3.0, 0.0]))]
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(leaves)
    l, r = _float_expr(rng, depth - 1), _float_expr(rng, depth - 1)
    return rng.choice([
        f"({l} + {r})", f"({l} - {r})", f"({l} * {r})", f"({l} / {r})", f"({l} // {r})",
        f"({l} % {r})", f"math.sqrt(abs({l}))", f"math.sin({l})", f"min({l}, {r})",
        f"({l} + float({_int_expr(rng, depth - 1)}))",
    ])


def _bool_expr(rng: random.Random) -> str:
    return rng.choice([
        f"{_int_expr(rng, 1)} < {_int_expr(rng, 1)}", f"{_float_expr(rng, 1)} >= x",
        f"a % 3 == 0 and x < 2.0", f"not (b > a) or i == 2",
    ])


def _statement(rng: random.Random, indent: str) -> list:
    kind = rng.random()
    if kind < 0.45:
        var = rng.choice(INT_VARS)
        return [f"{indent}{var} = ({_int_expr(rng, 2)}) % 100003"]
    if kind < 0.75:
        return [f"{indent}x = {_float_expr(rng, 2)}",
                f"{indent}if math.isnan(x) or math.isinf(x):",
                f"{indent}    x = 1.0"]
    lines = [f"{indent}if {_bool_expr(rng)}:"]
    lines += _statement(rng, indent + "    ")
    lines += [f"{indent}else:"]
    lines += _statement(rng, indent + "    ")
    return lines


def generated_program(seed: int) -> str:
    rng = random.Random(seed)
    body = []
    for _ in range(rng.randint(2, 5)):
        body += _statement(rng, "        ")
    lines = ["import math", "", "def f(a: int, b: int, x: float, n: int) -> float:",
             "    for i in range(n):", *body,
             "    return float(a) + 2.0 * float(b) + x"]
    return "\n".join(lines) + "\n"


GENERATED_SEEDS = list(range(12))


@pytest.fixture(scope="module")
def generated():
    source = "import math\n"
    for seed in GENERATED_SEEDS:
        source += generated_program(seed).replace("import math\n", "").replace("def f(", f"def f{seed}(")
    return compile_both(source)


@settings(max_examples=40)
@given(seed=st.sampled_from(GENERATED_SEEDS), a=st.integers(-1000, 1000), b=st.integers(-5, 5),
       x=st.floats(-100.0, 100.0, allow_nan=False))
def test_generated_programs_agree(generated, seed, a, b, x):
    on, off = generated
    assert regions(getattr(on, f"f{seed}"))
    assert_same(on, off, f"f{seed}", (a, b, x, 6))


# ------------------------------------------------------------------ sin and cos

TRIG = """
import math

def sin_cos_at(x: float, n: int) -> float:
    s = 0.0
    for i in range(n):
        s = math.sin(x) + 0.0 * math.cos(x)
    return s

def cos_at(x: float, n: int) -> float:
    c = 0.0
    for i in range(n):
        c = math.cos(x)
    return c

def sin_sum(x0: float, step: float, n: int) -> float:
    s = 0.0
    for i in range(n):
        s += math.sin(x0 + i * step)
    return s

def inverse_sin_total(x0: float, step: float, n: int) -> int:
    total = 0
    for i in range(n):
        total += int(1.0 / math.sin(x0 + i * step))
    return total

def sin_until(x: float) -> int:
    k = 0
    while math.sin(x + k) < 0.99:
        k += 1
    return k
"""


@pytest.fixture(scope="module")
def trig():
    return compile_both(TRIG)


def _ulps(got: float, want: float) -> float:
    return abs(got - want) / math.ulp(want)


@settings(max_examples=200)
@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_compiled_sin_and_cos_are_within_an_ulp_of_libm(trig, x):
    from tensorscript.kernels import fastmath64 as fm64
    on, _ = trig
    for fn, ref in ((on.sin_cos_at, math.sin), (on.cos_at, math.cos)):
        got = fn(x, 2)
        if not math.isfinite(x):
            assert math.isnan(got)
        elif abs(x) >= fm64.REDUCTION_BOUND:  # rerun with libm's calls
            assert got == ref(x)
        else:
            assert _ulps(got, ref(x)) <= 1.0, (fn, x)


def _fold(x0: float, step: float, n: int, fn) -> float:
    s = 0.0
    for i in range(n):
        s += fn(x0 + i * step)
    return s


@pytest.mark.parametrize("x0, step", [(0.0, 0.001), (-50.0, 0.37), (1.6e6, 1.0),
                                      (1e7, 1.0), (1.0, 1e300)])
def test_sums_add_in_order_and_huge_arguments_take_libm(trig, x0, step):
    """The vectorized kernel rounds each ``+=`` in turn, as the interpreter does; a region
    that met an argument beyond the bound is rerun with libm's calls."""
    from tensorscript.kernels import fastmath64 as fm64
    on, off = trig
    n = 1000
    got, want = on.sin_sum(x0, step, n), off.sin_sum(x0, step, n)
    if abs(x0) + n * abs(step) < fm64.REDUCTION_BOUND:
        assert got == _fold(x0, step, n, fm64.sin_reduced)
        assert abs(got - want) <= 1e-15 * n * max(1.0, abs(want))
    else:
        assert got == want


def test_a_result_beyond_the_bound_never_surfaces_as_an_error(trig):
    # the branch-free sin gives 0.0 beyond the bound: 1 / 0.0 is inf and int(inf) fails;
    # the kernel hands the region to its libm twin instead of reporting that
    on, off = trig
    for args in ((0.5, 0.25, 20), (1e300, 1.0, 3), (0.5, 1e7, 20)):
        assert_same(on, off, "inverse_sin_total", args)
    # sin(0.0) is 0.0 within the bound: the failure is real, and reported as interpreted
    assert outcome(on.inverse_sin_total, (0.0, 1.0, 3))[0] == "error"
    assert_same(on, off, "inverse_sin_total", (0.0, 1.0, 3))


def test_while_loops_keep_libm(trig):
    on, off = trig
    (node,) = regions(on.sin_until)
    source = CompiledRegion(node.attrs["subgraph"]).source
    assert "math.sin(" in source and "_fm64" not in source
    for x in (0.0, 2.0, 1e7 + 0.5):
        assert_same(on, off, "sin_until", (x,))


def test_counted_loops_use_the_branch_free_form(trig):
    on, _ = trig
    (node,) = regions(on.sin_sum)
    source = CompiledRegion(node.attrs["subgraph"]).source
    assert "def kernel_exact(" in source and "_fm64.sin_reduced(" in source


def test_float_sums_vectorize_and_the_llvm_option_is_restored(monkeypatch, tmp_path):
    import re

    from numba import njit

    from tensorscript.kernels import fastmath64 as fm64
    monkeypatch.setenv("TENSORSCRIPT_CACHE_DIR", str(tmp_path))  # compile, do not load
    on, _ = compile_both("""
        import math
        def f(n: int, h: float) -> float:
            s = 0.0
            for i in range(n):
                s += math.sin(i * h) * 0.125
            return s
        """)
    (node,) = regions(on.f)
    fn = CompiledRegion(node.attrs["subgraph"]).compile()
    packed = re.compile(r"\bv?(mul|add|fmadd\d+|fnmadd\d+|fmsub\d+)pd\b")
    assert packed.search(fn.inspect_asm(fn.signatures[0]))

    @njit(error_model="numpy")
    def plain_sum(n):
        s = 0.0
        for i in range(n):
            s += fm64.sin_reduced(i * 0.5)
        return s
    plain_sum(3)
    assert not packed.search(plain_sum.inspect_asm(plain_sum.signatures[0]))
