"""Generated kernels with last-dim row reductions against float64 NumPy references.

Each spec is written out as ``interpreter.fusion`` builds it (softmax, layer_norm, max/min,
several reductions in one pass, values stored for a later loop, integer reductions) and runs
on random shapes (rows shorter and longer than a reduction block, lengths that no vector
width divides), on rows holding -inf, +inf and NaN, on non-contiguous inputs (a row stride
larger than the row, an inner stride of 2) and on operands broadcast along the rows.
float32 results must lie within ``2e-6 * max(|reference|, 1)`` of the float64 reference.
"""
from __future__ import annotations

import numpy as np
import pytest

from tensorscript.kernels import cache
from tensorscript.kernels import fusion as kf

F32, F64 = "float32", "float64"
TOL = {F32: 2e-6, F64: 1e-12}


def _in(i, dt):
    return kf.Operand("in", i, dt)


def _val(k, dt):
    return kf.Operand("val", k, dt)


def _const(v):
    return kf.Operand("const", v, "int" if isinstance(v, int) else "float")


def _step(expr, operands, dt, reduce=False, out_dt=None):
    names = ("a", "b", "alpha")[:len(operands)]
    return kf.Step(expr, names, tuple(operands), out_dt or dt, dt, reduce)


def _reduce(kind, operand, dt):
    return kf.Step(kind, ("a",), (operand,), dt, dt, True)


def _spec(inputs, steps, outputs, parallel, scalars=()):
    return kf.KernelSpec(tuple(inputs), scalars, tuple(steps), tuple(outputs), 1, parallel)


def softmax_spec(dt, parallel=False):
    steps = [_reduce("max", _in(0, dt), dt),
             _step("a - alpha * b", [_in(0, dt), _val(0, dt), _const(1)], dt),
             _step("exp(a)", [_val(1, dt)], dt),
             _reduce("sum", _val(2, dt), dt),
             _step("a / b", [_val(2, dt), _val(3, dt)], dt)]
    return _spec([(dt, kf.INNER_CONTIG)], steps, [(4, dt, False)], parallel)


def layer_norm_spec(dt, x_layout, parallel=False):
    steps = [_reduce("mean", _in(0, dt), dt),
             _step("a - alpha * b", [_in(0, dt), _val(0, dt), _const(1)], dt),
             _step("a * b", [_val(1, dt), _val(1, dt)], dt),
             _reduce("mean", _val(2, dt), dt),
             _step("a + alpha * b", [_val(3, dt), _const(1e-5), _const(1)], dt),
             _step("sqrt(a)", [_val(4, dt)], dt),
             _step("a / b", [_val(1, dt), _val(5, dt)], dt),
             _step("a * b", [_val(6, dt), _in(1, dt)], dt),
             _step("a + alpha * b", [_val(7, dt), _in(2, dt), _const(1)], dt)]
    inputs = [(dt, x_layout), (dt, kf.INNER_CONTIG), (dt, kf.INNER_BCAST)]
    return _spec(inputs, steps, [(8, dt, False)], parallel)


def extrema_spec(dt, parallel=False):
    """max and min of x and max of -x in one pass: the last through the block buffer."""
    steps = [_reduce("max", _in(0, dt), dt), _reduce("min", _in(0, dt), dt),
             _step("-a", [_in(0, dt)], dt), _reduce("max", _val(2, dt), dt)]
    return _spec([(dt, kf.INNER_CONTIG)], steps,
                 [(0, dt, True), (1, dt, True), (3, dt, True)], parallel)


def stored_spec(dt, parallel=False):
    """e = exp(x - max) is needed again after its sum, but the outputs are e (which keeps e
    where it is stored) and a bool (no room for e): e / sum > 0.01, plus the sum of squares of
    x and the mean of x computed in the same pass as the max."""
    steps = [_reduce("max", _in(0, dt), dt),
             _step("a - alpha * b", [_in(0, dt), _val(0, dt), _const(1)], dt),
             _step("exp(a)", [_val(1, dt)], dt),
             _reduce("sum", _val(2, dt), dt),
             _step("a / b", [_val(2, dt), _val(3, dt)], dt),
             _step("a > b", [_val(4, dt), _const(0.01)], dt, out_dt="bool"),
             _step("a * b", [_in(0, dt), _in(0, dt)], dt),
             _reduce("sum", _val(6, dt), dt),
             _reduce("mean", _in(0, dt), dt)]
    return _spec([(dt, kf.INNER_STRIDED)], steps,
                 [(5, "bool", False), (2, dt, False), (7, dt, True), (8, dt, True)], parallel)


def stored_in_row_buffer_spec(dt, parallel=False):
    """e = exp(x) needed after its sum with only a bool output: e lives in a row buffer."""
    steps = [_step("exp(a)", [_in(0, dt)], dt),
             _reduce("sum", _val(0, dt), dt),
             _step("a / b", [_val(0, dt), _val(1, dt)], dt),
             _step("a > b", [_val(2, dt), _const(0.001)], dt, out_dt="bool")]
    return _spec([(dt, kf.INNER_CONTIG)], steps, [(3, "bool", False)], parallel)


def scaled_sum_spec(dt, parallel=False):
    """sum((x - b) * s) / sum(x * x) with b broadcast along the row and s a runtime scalar:
    arithmetic chains whose sums run in functions of their own, with row values as arguments."""
    steps = [_step("a - alpha * b", [_in(0, dt), _in(1, dt), _const(1)], dt),
             _step("a * b", [_val(0, dt), kf.Operand("arg", 0, "float")], dt),
             _reduce("sum", _val(1, dt), dt),
             _step("a * b", [_in(0, dt), _in(0, dt)], dt),
             _reduce("sum", _val(3, dt), dt),
             _step("a / b", [_val(2, dt), _val(4, dt)], dt)]
    return _spec([(dt, kf.INNER_CONTIG), (dt, kf.INNER_BCAST)], steps, [(5, dt, True)], parallel,
                 scalars=("float",))


def integer_spec(parallel=False):
    """Integer reductions run a loop each; abs(x), computed there, is needed again later."""
    i64 = "int64"
    steps = [_reduce("sum", _in(0, i64), i64), _reduce("max", _in(0, i64), i64),
             _step("a - alpha * b", [_in(0, i64), _val(1, i64), _const(1)], i64),
             _step("abs(a)", [_in(0, i64)], i64), _reduce("sum", _val(3, i64), i64),
             _step("a * b", [_val(3, i64), _val(4, i64)], i64)]
    return _spec([(i64, kf.INNER_CONTIG)], steps,
                 [(0, i64, True), (1, i64, True), (2, i64, False), (5, i64, False)], parallel)


# ------------------------------------------------------------------ running a spec


def _flat(a: np.ndarray) -> np.ndarray:
    span = 1 + sum((n - 1) * (s // a.itemsize) for n, s in zip(a.shape, a.strides) if n > 1)
    return np.lib.stride_tricks.as_strided(a, shape=(span,), strides=(a.itemsize,))


def _run(spec, arrays, out_dtypes, rows_per_task=None, scalars=()):
    """Run ``spec`` over 2-D ``arrays`` (broadcast ones with a zero row stride)."""
    R, C = max(a.shape[0] for a in arrays), max(a.shape[1] for a in arrays)
    # with reductions a task is CH rows; without, a chunk of CH elements of a row
    CH = (rows_per_task or R) if spec.reduces else C
    P = [R, C, CH, -(-R // CH) if spec.reduces else 1, R]
    for a in arrays:
        P += [a.strides[0] // a.itemsize if a.shape[0] > 1 else 0,
              a.strides[1] // a.itemsize if a.shape[1] > 1 else 0]
    outs = [np.full(R if row else R * C, 7, dtype=dt) for dt, row in out_dtypes]
    kernel = cache.load_module(kf.generate_source(spec)).kernel
    kernel(np.array(P, np.int64), *[_flat(a) for a in arrays], *outs, *scalars)
    return [o if row else o.reshape(R, C) for o, (_, row) in zip(outs, out_dtypes)]


def _check(got, want, dt):
    tol = TOL[dt] * np.maximum(np.abs(want), 1)
    bad = ~((np.abs(got - want) <= tol) | (np.isnan(got) & np.isnan(want)) | (got == want))
    assert not bad.any(), (got[bad][:5], want[bad][:5])


def _rows(rng, R, C, dt, specials=True):
    x = (rng.standard_normal((R, C)) * 3).astype(dt)
    if specials and R >= 6:
        x[0, rng.integers(C)] = -np.inf
        x[1, :] = -np.inf
        x[2, rng.integers(C)] = np.nan
        x[3, rng.integers(C)] = np.inf
        x[4, :] = 0.0
        x[4, rng.integers(C)] = -0.0
        x[5, rng.integers(C)] = -np.float32(np.nan)  # NaN with the sign bit set
    return x


SHAPES = [(7, 1), (9, 5), (6, 17), (8, 512), (11, 513), (6, 1031), (33, 1200)]


def _softmax_ref(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("dt", [F32, F64])
@pytest.mark.parametrize("parallel", [False, True])
def test_softmax(dt, parallel):
    rng = np.random.default_rng(0)
    for R, C in SHAPES:
        x = _rows(rng, R, C, dt)
        with np.errstate(all="ignore"):
            want = _softmax_ref(x)
        (got,) = _run(softmax_spec(dt, parallel), [x], [(dt, False)], rows_per_task=3)
        _check(got, want, dt)


def test_softmax_of_special_rows_is_as_numpy():
    x = np.float32([[1, -np.inf, 2, 3] * 5, [-np.inf] * 20, [1, np.nan] * 10, [np.inf, 0] * 10,
                    [88, 89, 100, -200] * 5])
    (got,) = _run(softmax_spec(F32), [x], [(F32, False)])
    with np.errstate(all="ignore"):
        want = _softmax_ref(x)
    assert np.isnan(got[1:4]).all() and not np.isnan(got[[0, 4]]).any()
    assert (got[0, 1::4] == 0).all()
    _check(got, want, F32)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("x_layout", [kf.INNER_CONTIG, kf.INNER_STRIDED])
def test_layer_norm_non_contiguous_with_broadcast_weights(dt, x_layout):
    rng = np.random.default_rng(1)
    for R, C in SHAPES:
        base = _rows(rng, R, 2 * C + 3, dt, specials=False) + dt(1)
        # rows further apart than their length; every other element where strided
        x = base[:, :C] if x_layout == kf.INNER_CONTIG else base[:, :2 * C:2]
        w = rng.standard_normal((1, C)).astype(dt)
        b = np.broadcast_to(rng.standard_normal((R, 1)).astype(dt), (R, 1))
        name = np.dtype(dt).name
        (got,) = _run(layer_norm_spec(name, x_layout, parallel=True), [x, w, b], [(name, False)],
                      rows_per_task=4)
        x64 = x.astype(np.float64)
        mu = x64.mean(-1, keepdims=True)
        xc = x64 - mu
        xhat = xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5)
        want = xhat * w + b
        # the float32 rounding of each term, not of the (possibly cancelling) sum, bounds it
        scale = np.maximum(np.abs(xhat * w) + np.abs(b), 1)
        assert (np.abs(got - want) <= TOL[name] * scale).all()


def test_layer_norm_propagates_nan_and_inf():
    x = np.float32([[1, 2, np.nan, 4] * 4, [1, 2, np.inf, 4] * 4, [5.0] * 16])
    w = np.ones((1, 16), np.float32)
    b = np.zeros((1, 1), np.float32)
    (got,) = _run(layer_norm_spec(F32, kf.INNER_CONTIG), [x, w, b], [(F32, False)])
    assert np.isnan(got[:2]).all()
    assert (got[2] == 0).all()


@pytest.mark.parametrize("dt", [F32, F64])
def test_max_and_min(dt):
    rng = np.random.default_rng(2)
    for R, C in SHAPES:
        x = _rows(rng, R, C, dt)
        got = _run(extrema_spec(dt, parallel=True), [x], [(dt, True)] * 3, rows_per_task=2)
        with np.errstate(all="ignore"):
            wants = [x.max(-1), x.min(-1), (-x).max(-1)]
        for g, w in zip(got, wants):
            np.testing.assert_array_equal(g, w)  # exact, NaN where NumPy has one


def test_max_and_min_of_single_special_values():
    values = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 3.4e38])
    x = np.stack([np.float32([v, 1.0, -1.0]) for v in values] +
                 [np.float32([v] * 3) for v in values])
    got = _run(extrema_spec(F32), [x], [(F32, True)] * 3)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(got[0], x.max(-1))
        np.testing.assert_array_equal(got[1], x.min(-1))


@pytest.mark.parametrize("dt", [F32, F64])
def test_values_stored_for_later_loops(dt):
    rng = np.random.default_rng(3)
    for R, C in SHAPES:
        base = _rows(rng, R, 2 * C, dt)
        x = base[:, ::2]  # inner stride 2
        got = _run(stored_spec(dt, parallel=True), [x],
                   [("bool", False), (dt, False), (dt, True), (dt, True)], rows_per_task=5)
        x64 = x.astype(np.float64)
        with np.errstate(all="ignore"):
            e = np.exp(x64 - x64.max(-1, keepdims=True))
            p = e / e.sum(-1, keepdims=True)
            _check(got[1], e, dt)
            sure = np.abs(p - 0.01) > 1e-5  # away from the threshold, the bool is exact
            np.testing.assert_array_equal(got[0][sure], (p > 0.01)[sure])
            _check(got[2], (x64 * x64).sum(-1), dt)
            _check(got[3], x64.mean(-1), dt)


def test_values_stored_in_a_row_buffer():
    rng = np.random.default_rng(4)
    for R, C in SHAPES:
        x = rng.standard_normal((R, C)).astype(np.float32)
        (got,) = _run(stored_in_row_buffer_spec(F32, parallel=True), [x], [("bool", False)],
                      rows_per_task=2)
        p = np.exp(x.astype(np.float64))
        p /= p.sum(-1, keepdims=True)
        sure = np.abs(p - 0.001) > 1e-6
        np.testing.assert_array_equal(got[sure], (p > 0.001)[sure])


@pytest.mark.parametrize("dt", [F32, F64])
def test_arithmetic_chains_summed_with_row_values(dt):
    rng = np.random.default_rng(6)
    for R, C in SHAPES:
        x = rng.standard_normal((R, C)).astype(dt)
        b = rng.standard_normal((R, 1)).astype(dt)
        (got,) = _run(scaled_sum_spec(dt, parallel=True), [x, b], [(dt, True)], rows_per_task=4,
                      scalars=(0.75,))
        x64, b64 = x.astype(np.float64), b.astype(np.float64)
        num = ((x64 - b64) * 0.75).sum(-1)
        den = (x64 * x64).sum(-1)
        # float32 sums are exact to their terms' magnitude, not to a cancelling total
        scale = np.maximum(np.abs((x64 - b64) * 0.75).sum(-1) / den, np.abs(num / den))
        assert (np.abs(got - num / den) <= 4 * TOL[dt] * np.maximum(scale, 1)).all()


def test_integer_reductions_are_exact():
    rng = np.random.default_rng(5)
    x = rng.integers(-2**40, 2**40, size=(13, 700))
    got = _run(integer_spec(parallel=True), [x], [("int64", True)] * 2 + [("int64", False)] * 2,
               rows_per_task=3)
    np.testing.assert_array_equal(got[0], x.sum(-1))
    np.testing.assert_array_equal(got[1], x.max(-1))
    np.testing.assert_array_equal(got[2], x - x.max(-1, keepdims=True))
    np.testing.assert_array_equal(got[3], np.abs(x) * np.abs(x).sum(-1, keepdims=True))


def test_row_kernels_store_recomputations_and_unroll_nothing():
    """softmax computes exp once per element; the generated source stays small."""
    source = kf.generate_source(softmax_spec(F32, parallel=True))
    assert source.count("fm.exp_f32") == 1
    assert len(source.splitlines()) < 120


SCRIPT = '''
import torch
def softmax(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)

def layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mu = x.mean(-1, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdim=True)
    return xc / torch.sqrt(var + 1e-5) * w + b
'''


def test_scripted_softmax_and_layer_norm_on_transposed_inputs():
    """The compositions as written in script, through fusion planning, on a transposed input
    large enough to run as generated kernels."""
    import tensorscript as ts

    cu = ts.CompilationUnit(SCRIPT)
    rng = np.random.default_rng(7)
    x = _rows(rng, 700, 90, np.float32).T  # [90, 700], an inner stride of 90 elements
    assert not x.flags.c_contiguous and x.size >= 1 << 14
    with np.errstate(all="ignore"):
        _check(cu.softmax(ts.from_numpy(x)).numpy(), _softmax_ref(x), F32)
    x = rng.standard_normal((700, 90)).astype(np.float32).T
    w = rng.standard_normal(700).astype(np.float32)
    b = rng.standard_normal(700).astype(np.float32)
    got = cu.layer_norm(ts.from_numpy(x), ts.from_numpy(w), ts.from_numpy(b)).numpy()
    x64 = x.astype(np.float64)
    xc = x64 - x64.mean(-1, keepdims=True)
    xhat = xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5)
    scale = np.maximum(np.abs(xhat * w) + np.abs(b), 1)
    assert (np.abs(got - (xhat * w + b)) <= TOL[F32] * scale).all()


def test_pointwise_kernel_computes_row_values_once_per_row():
    """x + 2 * b with b broadcast along the row: 2 * b is a row value of a kernel without
    reductions."""
    spec = _spec([(F32, kf.INNER_CONTIG), (F32, kf.INNER_BCAST)],
                 [_step("a * b", [_in(1, F32), _const(2.0)], F32),
                  _step("a + b", [_in(0, F32), _val(0, F32)], F32)], [(1, F32, False)], False)
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.float32([[1], [2], [3]])
    (got,) = _run(spec, [x, b], [(F32, False)])
    np.testing.assert_array_equal(got, x + 2 * b)
