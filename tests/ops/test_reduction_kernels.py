"""The compiled float32 sum, softmax and max/min-with-index kernels against float64 references:
accuracy bounds, every axis and layout, and PyTorch's NaN, inf and tie rules."""
import numpy as np
import pytest

import tensorscript as ts
from conftest import T, layouts

RNG = np.random.default_rng(7)


def sum_error_bound(x: np.ndarray) -> float:
    """1e-6 of the sum of magnitudes, plus the final rounding to float32."""
    x64 = x.astype(np.float64)
    return 1e-6 * np.abs(x64).sum() + np.spacing(np.float32(abs(x64.sum())))


# ------------------------------------------------------------------ sum and mean

@pytest.mark.parametrize("n", [1, 7, 127, 128, 129, 1000, 1 << 20])
def test_float32_sum_is_within_bound_of_float64(n):
    x = RNG.standard_normal(n).astype(np.float32)
    got = ts.sum(T(x))
    assert got.dtype == ts.float32 and got.shape == ()
    assert abs(float(got) - x.astype(np.float64).sum()) <= sum_error_bound(x)


@pytest.mark.parametrize("case", ["large magnitude", "cancellation", "one big many small"])
def test_float32_sum_hard_cases(case):
    n = 1 << 20
    if case == "large magnitude":
        x = (RNG.uniform(1e6, 1e7, n) * RNG.choice([-1, 1], n)).astype(np.float32)
    elif case == "cancellation":
        half = RNG.standard_normal(n // 2).astype(np.float32) * np.float32(1e4)
        x = np.concatenate([half, -half, RNG.standard_normal(1000).astype(np.float32)])
        RNG.shuffle(x)
    else:
        x = np.full(n, 1e-3, np.float32)
        x[0] = np.float32(1e8)
    got = float(T(x).sum())
    x64 = x.astype(np.float64)
    ref = x64.sum()
    assert abs(got - ref) <= sum_error_bound(x)
    # far inside that bound: a float32 running sum misses this by a factor of 10 or more
    assert abs(got - ref) <= 1e-9 * np.abs(x64).sum() + np.spacing(np.float32(abs(ref)))


def test_float32_sum_layouts_keepdim_and_mean():
    x = RNG.standard_normal((37, 53)).astype(np.float32)
    ref = x.astype(np.float64).sum()
    for name, t in layouts(x):
        assert abs(float(t.sum()) - ref) <= sum_error_bound(x), name
        assert abs(float(t.mean()) - ref / x.size) <= sum_error_bound(x) / x.size, name
    kept = T(x).sum(dim=[], keepdim=True)
    assert kept.shape == (1, 1) and kept.dtype == ts.float32
    assert T(x).mean(dim=None, keepdim=True).shape == (1, 1)
    assert float(T(np.float32(2.5)).sum()) == 2.5
    assert float(T(np.zeros((0, 3), np.float32)).sum()) == 0.0
    assert np.isnan(float(T(np.zeros((0, 3), np.float32)).mean()))


def test_float32_sum_and_mean_propagate_nan_and_inf():
    x = RNG.standard_normal(3000).astype(np.float32)
    x[1234] = np.nan
    assert np.isnan(float(T(x).sum())) and np.isnan(float(T(x).mean()))
    x[1234] = np.inf
    assert float(T(x).sum()) == np.inf
    x[99] = -np.inf
    assert np.isnan(float(T(x).sum()))


@pytest.mark.filterwarnings("error")
def test_float32_sum_overflows_to_inf_quietly():
    x = np.full(1000, 3e38, np.float32)
    assert float(T(x).sum()) == np.inf
    assert float(T(x).mean()) == np.inf  # PyTorch divides the float32 sum
    assert float(T(-x).sum()) == -np.inf


def test_sum_and_mean_dtype_rules_are_unchanged():
    ints = np.arange(12, dtype=np.int32).reshape(3, 4)
    s = T(ints).sum()
    assert s.dtype == ts.int64 and int(s) == 66
    with pytest.raises(RuntimeError):
        T(ints).mean()
    f = RNG.standard_normal(100).astype(np.float32)
    assert T(f).sum(dtype=ts.float64).dtype == ts.float64
    assert T(f).mean(dtype=ts.float64).dtype == ts.float64


def test_sum_and_mean_gradients():
    x = T(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    (x.sum() * 2 + x.mean()).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 4), 2 + 1 / 12), rtol=1e-6)


# ------------------------------------------------------------------ softmax

def softmax64(x: np.ndarray, axis: int) -> np.ndarray:
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def log_softmax64(x: np.ndarray, axis: int) -> np.ndarray:
    z = x.astype(np.float64) - x.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


@pytest.mark.parametrize("shape, dim", [((4, 4), -1), ((1000, 1000), 1), ((3, 300), 1),
                                        ((5, 7, 9), 1), ((5, 7, 9), 0), ((6, 33), 0),
                                        ((1, 1), 0), ((17,), 0)])
def test_float32_softmax_and_log_softmax_match_float64(shape, dim):
    x = (RNG.standard_normal(shape) * 8).astype(np.float32)
    want = softmax64(x, dim)
    got = ts.softmax(T(x), dim)
    assert got.dtype == ts.float32 and got.shape == shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ts.log_softmax(T(x), dim).numpy(), log_softmax64(x, dim),
                               rtol=1e-5, atol=2e-6)


def test_float32_softmax_layouts_and_implicit_dim():
    x = (RNG.standard_normal((6, 10)) * 5).astype(np.float32)
    for name, t in layouts(x):
        for dim in (0, 1):
            np.testing.assert_allclose(t.softmax(dim).numpy(), softmax64(x, dim), rtol=1e-5,
                                       atol=1e-7, err_msg=name)
    np.testing.assert_allclose(ts.nn.functional.softmax(T(x)).numpy(), softmax64(x, 1),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ts.nn.functional.log_softmax(T(x), dim=0).numpy(),
                               log_softmax64(x, 0), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("n", [5, 600])  # a plain max loop, and the max pass's lanes
def test_float32_softmax_extreme_rows(n):
    last = n - 1
    x = np.zeros((6, n), np.float32)
    x[0] = -np.inf  # every entry -inf: NaN, as in PyTorch
    x[1, 2] = np.inf  # +inf: NaN
    x[2, n // 2 + 1] = np.nan  # NaN anywhere: NaN
    x[3, :] = -np.inf
    x[3, last] = 0.0  # one finite entry: exactly one-hot
    x[4] = np.linspace(-1e4, 1e4, n, dtype=np.float32)  # huge spread: no overflow
    x[5] = 3e38  # huge equal values: uniform
    for log in (False, True):
        got = (ts.log_softmax if log else ts.softmax)(T(x), 1).numpy()
        assert np.isnan(got[:3]).all()
        one_hot = np.zeros(n)
        one_hot[last] = 1
        with np.errstate(divide="ignore"):
            want3 = np.log(one_hot) if log else one_hot
            want4 = log_softmax64(x[4], 0) if log else softmax64(x[4], 0)
        # exp_f32(0) may be an ulp above 1, so log_softmax of the one-hot entry an ulp below 0
        np.testing.assert_allclose(got[3], want3, rtol=0, atol=2.5e-7)
        if log:
            np.testing.assert_allclose(got[4], want4, rtol=1e-6, atol=2.5e-7)
        else:
            np.testing.assert_allclose(got[4], want4, rtol=1e-5, atol=1e-30)
        want5 = np.full(n, -np.log(n) if log else 1 / n)
        np.testing.assert_allclose(got[5], want5, rtol=1e-5)


def test_float32_softmax_nan_in_a_non_last_axis():
    # a NaN spoils its own column only
    y = RNG.standard_normal((4, 3)).astype(np.float32)
    y[2, 1] = np.nan
    got = ts.softmax(T(y), 0).numpy()
    assert np.isnan(got[:, 1]).all() and not np.isnan(got[:, [0, 2]]).any()


def test_softmax_float16_float64_and_gradients_still_agree():
    x = RNG.standard_normal((3, 5))
    np.testing.assert_allclose(ts.softmax(T(x), 1).numpy(), softmax64(x, 1), rtol=1e-12)
    half = ts.softmax(T(x.astype(np.float16)), 1)
    assert half.dtype == ts.float16
    np.testing.assert_allclose(half.numpy(), softmax64(x, 1), rtol=2e-3, atol=1e-3)
    x32 = x.astype(np.float32)
    t = T(x32, requires_grad=True)
    w = RNG.standard_normal((3, 5))
    (ts.softmax(t, 1) * T(w.astype(np.float32))).sum().backward()
    y = softmax64(x32, 1)
    want = y * (w - (w * y).sum(1, keepdims=True))
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ max / min with indices

def extreme_ref(x: np.ndarray, dim: int, largest: bool):
    idx = np.argmax(x, dim) if largest else np.argmin(x, dim)
    return np.take_along_axis(x, np.expand_dims(idx, dim), dim).squeeze(dim), idx


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "int8", "float16"])
@pytest.mark.parametrize("shape, dim", [((4, 4), 1), ((4, 4), 0), ((3, 5, 7), 1),
                                        ((3, 5, 7), -1), ((9,), 0), ((200, 300), 1)])
def test_max_min_dim_values_and_first_indices(dtype, shape, dim):
    # few distinct values, so that ties are everywhere
    x = RNG.integers(-3, 4, size=shape).astype(dtype)
    for op, largest in (("max", True), ("min", False)):
        values, indices = getattr(T(x), op)(dim)
        want_v, want_i = extreme_ref(x, dim, largest)
        assert values.dtype == getattr(ts, dtype) and indices.dtype == ts.int64
        np.testing.assert_array_equal(values.numpy(), want_v)
        np.testing.assert_array_equal(indices.numpy(), want_i)
        kept_v, kept_i = getattr(ts, op)(T(x), dim, keepdim=True)
        np.testing.assert_array_equal(kept_v.numpy(), np.expand_dims(want_v, dim))
        np.testing.assert_array_equal(kept_i.numpy(), np.expand_dims(want_i, dim))


def test_max_min_dim_nan_wins_at_its_first_index():
    x = np.array([[1.0, np.nan, 5.0, np.nan], [np.nan, 2.0, 3.0, 0.0], [1.0, 2.0, 3.0, np.nan],
                  [-np.inf, -np.inf, -np.inf, -np.inf]], np.float32)
    for op in ("max", "min"):
        values, indices = getattr(T(x), op)(1)
        np.testing.assert_array_equal(indices.numpy(), [1, 0, 3, 0])
        assert np.isnan(values.numpy()[:3]).all() and values.numpy()[3] == -np.inf
    values, indices = T(x.T.copy()).max(0)
    np.testing.assert_array_equal(indices.numpy(), [1, 0, 3, 0])


def test_max_min_dim_edge_values_layouts_and_gradient():
    ints = np.array([[np.iinfo(np.int64).min, np.iinfo(np.int64).min],
                     [np.iinfo(np.int64).max, 0]], np.int64)
    np.testing.assert_array_equal(T(ints).max(1)[0].numpy(), [np.iinfo(np.int64).min,
                                                               np.iinfo(np.int64).max])
    np.testing.assert_array_equal(T(ints).min(1)[1].numpy(), [0, 1])
    x = RNG.standard_normal((5, 6)).astype(np.float32)
    for name, t in layouts(x):
        for dim in (0, 1):
            v, i = t.max(dim)
            want_v, want_i = extreme_ref(x, dim, True)
            np.testing.assert_array_equal(v.numpy(), want_v, err_msg=name)
            np.testing.assert_array_equal(i.numpy(), want_i, err_msg=name)
    empty = T(np.zeros((0, 3), np.float32)).max(0 + 1)
    assert empty[0].shape == (0,) and empty[1].shape == (0,)
    with pytest.raises(IndexError):
        T(np.zeros((0, 3), np.float32)).max(0)
    t = T(x, requires_grad=True)
    t.max(1)[0].sum().backward()
    want = np.zeros_like(x)
    want[np.arange(5), x.argmax(1)] = 1
    np.testing.assert_array_equal(t.grad.numpy(), want)
