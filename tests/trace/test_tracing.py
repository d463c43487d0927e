"""ts.trace: what is recorded, what generalizes, what is baked (and warned about)."""
import math
import warnings

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.interpreter.tracer import TracedInt
from tensorscript.jit.ir import graph as G
from tensorscript.tracing import TracedFunction, TracingCheckError, TracingError

torch = ts


def t(*shape, seed=0):
    return ts.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def compiled(traced):
    return getattr(ts.CompilationUnit(traced.code), traced.name)


def assert_same(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)


def line_of(fn, text):
    import inspect
    lines, first = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return first + k
    raise AssertionError(text)


# ------------------------------------------------------------------ ops and the result object

def test_records_ops_and_runs_on_new_inputs():
    def f(x, y):
        return torch.exp(-x * x) + torch.sin(y) * 0.5

    traced = ts.trace(f, (t(3, 4), t(3, 4, seed=1)))
    assert isinstance(traced, TracedFunction)
    kinds = [n.name for n in traced.graph.nodes() if n.kind == G.OP]
    assert any(k.startswith("exp") for k in kinds) and any(k.startswith("sin") for k in kinds)
    x, y = t(5, 2, seed=2), t(5, 2, seed=3)
    assert_same(traced(x, y), f(x, y))
    assert_same(compiled(traced)(x, y), f(x, y))


def test_jit_trace_is_ts_trace():
    assert ts.jit.trace is ts.trace


def test_example_inputs_may_be_a_single_tensor():
    traced = ts.trace(lambda x: x + 1.0, t(2))
    assert traced.name == "traced_fn"
    assert_same(traced(t(4)), t(4) + 1.0)


def test_wrong_number_of_arguments():
    traced = ts.trace(lambda x: x + 1.0, (t(2),))
    with pytest.raises(TypeError):
        traced(t(2), t(2))


# ------------------------------------------------------------------ sizes

def test_sizes_are_recorded_and_generalize():
    def f(x):
        n = x.size(0)
        return x.view(n, -1).reshape(x.shape[0] * 2, -1) / math.sqrt(x.shape[-1] * 4)

    traced = ts.trace(f, (t(4, 2, 3),))
    names = [n.name for n in traced.graph.nodes() if n.kind == G.OP]
    assert "size.int" in names and "mul.int" in names
    x = t(6, 2, 3, seed=5)
    out = traced(x)
    assert list(out.shape) == [12, 3]
    # math.sqrt of a size is a Python float: baked at trace time, as in torch.jit.trace
    np.testing.assert_allclose(out.numpy(), x.numpy().reshape(12, 3) / math.sqrt(12), rtol=1e-6)
    assert list(compiled(traced)(x).shape) == [12, 3]


def test_shape_reads_are_traced_ints_only_inside_the_trace():
    seen = []

    def f(x):
        seen.append(x.shape[-1])
        return x * x.dim()

    traced = ts.trace(f, (t(2, 3),))
    assert isinstance(seen[0], TracedInt) and seen[0] == 3
    assert type(t(2, 3).shape[-1]) is int
    assert_same(traced(t(2, 3, 4)), t(2, 3, 4) * 3)


def test_size_outputs_are_graph_values():
    traced = ts.trace(lambda x: (x.shape[0] + 1, x * 2.0), (t(3, 2),))
    n, y = traced(t(5, 2))
    assert n == 6 and type(n) is int
    n2, _ = compiled(traced)(t(7, 2))
    assert n2 == 8


def test_range_over_a_size_is_unrolled():
    def f(x):
        acc = torch.zeros_like(x[0])
        for i in range(x.shape[0]):
            acc = acc * 0.5 + x[i]
        return acc

    traced = ts.trace(f, (t(3, 2),))
    selects = [n for n in traced.graph.nodes() if n.kind == G.OP and n.op.name == "select"]
    assert len(selects) == 4  # x[0] and one per iteration
    x = t(3, 2, seed=9)
    assert_same(traced(x), f(x))


# ------------------------------------------------------------------ in-place ops and views

def test_inplace_on_views_replays():
    def f(x):
        y = x.clone()
        y[0] = 0.0
        y[:, -1] += 1.0
        y.mul_(2.0)
        return y

    traced = ts.trace(f, (t(3, 4),))
    x = t(3, 4, seed=4)
    expected = f(x)
    assert_same(traced(x), expected)
    assert_same(compiled(traced)(x), expected)
    assert x.numpy()[0, 0] != 0.0  # the input itself is untouched


def test_inplace_on_input_view():
    def f(x):
        x[1:, 0] = 5.0
        return x + 0.0

    traced = ts.trace(f, (t(3, 2),))
    x = t(3, 2, seed=6)
    out = traced(x)
    assert np.all(out.numpy()[1:, 0] == 5.0) and np.all(x.numpy()[1:, 0] == 5.0)


# ------------------------------------------------------------------ constants

W = ts.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
MASK = ts.tensor(np.array([True, False, True]))


def test_tensor_globals_become_constants():
    def f(x):
        return torch.where(MASK, x @ W, x @ W * 0.0)

    traced = ts.trace(f, (t(4, 2),))
    consts = [n for n in traced.graph.nodes()
              if n.kind == G.CONSTANT and getattr(n.attrs["value"], "_ts_tensor", False)]
    assert len(consts) == 2
    assert set(traced.constants) == {"c0", "c1"}
    assert "_constant_c0()" in traced.code
    x = t(5, 2, seed=1)
    assert_same(traced(x), f(x))
    assert_same(compiled(traced)(x), f(x))


def test_constant_literals_are_exact():
    values = np.array([0.1, -2.5e-8, 3.4e38, np.nan, np.inf, -np.inf], dtype=np.float32)
    c = ts.tensor(values)
    ints = ts.tensor(np.array([[1, -2], [3, 2 ** 40]], dtype=np.int64))
    traced = ts.trace(lambda x: (x + c, ints * 1), (t(6),))
    a, b = compiled(traced)(ts.zeros(6))
    np.testing.assert_array_equal(a.numpy(), values)
    np.testing.assert_array_equal(b.numpy(), ints.numpy())


def test_python_scalars_are_baked():
    scale = 3.0

    def f(x):
        return x * scale + len([1, 2])

    traced = ts.trace(f, (t(2),))
    assert_same(traced(t(2, seed=3)), t(2, seed=3) * 3.0 + 2)


# ------------------------------------------------------------------ containers

def test_container_inputs_and_outputs():
    def f(pair, table):
        a, b = pair
        return {"sum": a + table["k"], "diff": a - b}, (b * 2.0,)

    traced = ts.trace(f, ((t(2), t(2, seed=1)), {"k": t(2, seed=2)}), strict=False)
    pair, table = (t(3, seed=4), t(3, seed=5)), {"k": t(3, seed=6)}
    got, (twice,) = traced(pair, table)
    assert list(got) == ["sum", "diff"]
    assert_same(got["sum"], pair[0] + table["k"])
    assert_same(twice, pair[1] * 2.0)
    got2, _ = compiled(traced)(pair, table)
    assert_same(got2["diff"], pair[0] - pair[1])


def test_list_output_needs_strict_false():
    with pytest.raises(TracingError):
        ts.trace(lambda x: [x, x], (t(2),))
    traced = ts.trace(lambda x: [x, x * 2.0], (t(2),), strict=False)
    assert isinstance(traced(t(2)), list)


def test_unsupported_input():
    with pytest.raises(TracingError, match="cannot trace an input"):
        ts.trace(lambda x: x, (object(),))


# ------------------------------------------------------------------ TracerWarning

def _float_of_mean(x):
    m = float(x.mean())
    return x / m


def _branchy(x):
    if x.sum() > 0:
        return x * 2.0
    return x - 1.0


def _item(x):
    return x * x.max().item()


def _int_and_list(x):
    n = int(x[0])
    k = x.tolist()
    return x + n + len(k)


@pytest.mark.parametrize("fn, text", [
    (_float_of_mean, "m = float(x.mean())"),
    (_branchy, "if x.sum() > 0:"),
    (_item, "return x * x.max().item()"),
    (_int_and_list, "n = int(x[0])"),
])
def test_tracer_warning_points_at_the_user_line(fn, text):
    x = ts.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    with pytest.warns(ts.TracerWarning) as record:
        ts.trace(fn, (x,))
    first = [w for w in record if issubclass(w.category, ts.TracerWarning)][0]
    assert first.filename == __file__
    assert first.lineno == line_of(fn, text)
    assert "constant" in str(first.message)


def test_tolist_warns():
    with pytest.warns(ts.TracerWarning) as record:
        ts.trace(_int_and_list, (ts.tensor(np.array([1.0, 2.0], dtype=np.float32)),))
    lines = sorted({w.lineno for w in record})
    assert line_of(_int_and_list, "k = x.tolist()") in lines


def test_baked_values_stay_baked():
    with pytest.warns(ts.TracerWarning):
        traced = ts.trace(_branchy, (ts.ones(3),))
    assert_same(traced(-ts.ones(3)), -ts.ones(3) * 2.0)


def test_no_warning_for_generalizing_code():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ts.TracerWarning)
        ts.trace(lambda x: torch.softmax(x, dim=-1) * x.shape[-1], (t(2, 3),))


def test_warnings_are_not_patched_after_the_trace():
    ts.trace(lambda x: x + 1.0, (t(2),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(ts.ones(1)) == 1.0 and bool(ts.ones(1))


# ------------------------------------------------------------------ check_inputs

def test_check_inputs_agreeing():
    traced = ts.trace(lambda x: x * 2.0, (t(2),), check_inputs=[(t(3),), (t(4, 1),)])
    assert_same(traced(t(5)), t(5) * 2.0)


def test_check_inputs_reports_the_first_differing_node():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ts.TracerWarning)
        with pytest.raises(TracingCheckError, match=r"check_inputs\[0\].*node \d+"):
            ts.trace(_branchy, (ts.ones(3),), check_inputs=[(-ts.ones(3),)])


# ------------------------------------------------------------------ autograd

def test_backward_through_a_traced_function():
    def loss_fn(w, x):
        return ((x @ w - 1.0) ** 2).mean()

    traced = ts.trace(loss_fn, (t(3, 1), t(8, 3, seed=1)))
    w = t(3, 1, seed=2).requires_grad_()
    x = t(8, 3, seed=3)
    traced(w, x).backward()
    w2 = t(3, 1, seed=2).requires_grad_()
    loss_fn(w2, x).backward()
    assert_same(w.grad, w2.grad)


def test_trace_does_not_leave_handlers_behind():
    from tensorscript.jit.ops import registry
    depth = len(registry._handlers)

    def boom(x):
        raise ValueError("inside")

    with pytest.raises(ValueError):
        ts.trace(boom, (t(2),))
    assert len(registry._handlers) == depth
    assert type(t(2).shape[0]) is int


BUF = ts.zeros(3)


def test_tensors_built_from_numpy_become_constants():
    def f(x):
        return x + ts.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))

    traced = ts.trace(f, (ts.zeros(3),))
    assert set(traced.constants) == {"c0"}
    np.testing.assert_array_equal(compiled(traced)(ts.ones(3)).numpy(), [2.0, 3.0, 4.0])


def test_inplace_on_untraced_tensors_starts_from_the_traced_value_each_run():
    def f(x):
        acc = torch.zeros(3)
        acc += x
        BUF.add_(x)
        return acc + BUF

    traced = ts.trace(f, (ts.ones(3),))
    for run in (traced, compiled(traced)):
        np.testing.assert_array_equal(run(ts.ones(3)).numpy(), [2.0, 2.0, 2.0])
        np.testing.assert_array_equal(run(ts.ones(3)).numpy(), [2.0, 2.0, 2.0])


def test_cpu_device_arguments_leave_no_trace_in_the_code():
    traced = ts.trace(lambda x: torch.zeros_like(x, device=x.device) + x.to(x.device), (t(2),))
    assert "device" not in traced.code
    assert_same(compiled(traced)(t(3, seed=1)), t(3, seed=1))


def test_is_tracing():
    seen = []
    ts.trace(lambda x: seen.append(ts.jit.is_tracing()) or x * 1.0, (t(2),))
    assert seen == [True] and not ts.jit.is_tracing()
