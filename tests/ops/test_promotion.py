"""Type promotion and broadcasting as properties, against a rule table written from ATen."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tensorscript as ts
from tensorscript.jit.ir import dtypes

from conftest import DTYPES, T, expected_dtype, sample

dtype_names = st.sampled_from(DTYPES)
python_scalars = st.one_of(st.booleans(), st.integers(-3, 3), st.floats(-3, 3, allow_nan=False))


@st.composite
def operand(draw):
    """A tensor with dimensions, a 0-d tensor, or a Python scalar."""
    kind = draw(st.sampled_from(["dim", "zero", "scalar"]))
    if kind == "scalar":
        return draw(python_scalars)
    dt = draw(dtype_names)
    arr = sample((3,) if kind == "dim" else (), dt, np.random.default_rng(draw(st.integers(0, 99))))
    return np.asarray(arr, dtype=dt)


def _as_arg(v):
    return T(v) if isinstance(v, np.ndarray) else v


@given(dtype_names, dtype_names)
def test_promote_types_is_symmetric_and_matches_table(a, b):
    da, db = dtypes.by_name(a), dtypes.by_name(b)
    assert ts.promote_types(da, db) is ts.promote_types(db, da)
    x, y = np.zeros(2, a), np.zeros(2, b)
    assert ts.promote_types(da, db).np == expected_dtype(x, y)


@given(operand(), operand(), operand())
def test_result_type_matches_rule_table(a, b, c):
    dims = [dtypes.from_numpy(v.dtype) for v in (a, b, c) if isinstance(v, np.ndarray) and v.ndim]
    zeros = [dtypes.from_numpy(v.dtype) for v in (a, b, c) if isinstance(v, np.ndarray) and not v.ndim]
    cats = [dtypes.category_of_scalar(v) for v in (a, b, c) if not isinstance(v, np.ndarray)]
    assert dtypes.result_type(dims, zeros, cats).np == expected_dtype(a, b, c)


@given(operand(), operand())
def test_binary_ops_follow_promotion(a, b):
    if not (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):
        return
    if not isinstance(a, np.ndarray):
        a, b = b, a
    expected = expected_dtype(a, b)
    assert (T(a) * _as_arg(b)).dtype.np == expected
    assert ts.add(T(a), _as_arg(b)).dtype.np == expected
    if isinstance(b, np.ndarray):
        assert ts.maximum(T(a), T(b)).dtype.np == expected
        assert ts.where(T(a) > 0, T(a), T(b)).dtype.np == expected
    else:
        assert ts.where(T(a) > 0, T(a), b).dtype.np == expected
    division = (T(a) / _as_arg(b)).dtype.np
    assert division == (expected if expected.kind == "f" else np.float32)
    assert (T(a) == _as_arg(b)).dtype is ts.bool


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3)


@st.composite
def broadcastable(draw):
    """Two shapes that broadcast: drop leading dims and set some sizes to 1."""
    full = draw(shapes)
    def derive():
        keep = draw(st.integers(0, len(full)))
        s = list(full[len(full) - keep:])
        return tuple(1 if draw(st.booleans()) else n for n in s)
    return derive(), derive()


@given(broadcastable())
def test_broadcasting_matches_numpy(pair):
    sa, sb = pair
    a = np.arange(int(np.prod(sa)), dtype=np.float32).reshape(sa)
    b = np.arange(int(np.prod(sb)), dtype=np.float32).reshape(sb) + 1
    for fn, ref in ((ts.add, np.add), (ts.mul, np.multiply), (ts.maximum, np.maximum),
                    (ts.atan2, np.arctan2)):
        out = fn(T(a), T(b))
        expected = ref(a, b)
        assert tuple(out.shape) == expected.shape
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    cond = T(a > 2)
    assert tuple(ts.where(cond, T(a), T(b)).shape) == np.broadcast_shapes(sa, sb)


@given(broadcastable())
def test_broadcast_gradients_sum_back(pair):
    sa, sb = pair
    a = T(np.ones(sa), dtype=ts.float64, requires_grad=True)
    b = T(np.full(sb, 2.0), dtype=ts.float64, requires_grad=True)
    (a * b).sum().backward()
    out_shape = np.broadcast_shapes(sa, sb)
    assert tuple(a.grad.shape) == sa and tuple(b.grad.shape) == sb
    np.testing.assert_allclose(a.grad.numpy(), np.full(sa, 2.0 * np.prod(out_shape) / max(np.prod(sa), 1)))
    np.testing.assert_allclose(b.grad.numpy(), np.full(sb, np.prod(out_shape) / max(np.prod(sb), 1)))


def test_promotion_rows():
    """Rows that are easy to get wrong, each checked by value."""
    i32 = T(np.array([1], np.int32))
    cases = [
        (i32 + 1, ts.int32), (i32 + 1.0, ts.float32), (i32 + True, ts.int32),
        (T(np.array([True])) + 1, ts.int64), (T(np.array([True])) + 1.5, ts.float32),
        (T(np.array([1], np.uint8)) + T(np.array([1], np.int8)), ts.int16),
        (T(np.array([1.0], np.float16)) + T(np.array(1.0, np.float64)), ts.float16),
        (T(np.array([1], np.int64)) + T(np.array(1.0, np.float16)), ts.float16),
        (T(np.array(1, np.int32)) + T(np.array(1, np.int64)), ts.int64),
        (T(np.array(1, np.int32)) + 2.5, ts.float32),
        (T(np.array(1.0, np.float64)) + 2.5, ts.float64),
    ]
    for out, dt in cases:
        assert out.dtype is dt, (out, dt)
