"""Reductions, scans, sorting and softmax against NumPy, exact values and finite differences."""
import math

import numpy as np
import pytest

import tensorscript as ts
from conftest import T

RNG = np.random.default_rng(0)
DTYPES = ["float32", "float64", "int32", "int64", "bool"]


def sample(shape, dtype, rng=RNG):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int"):
        return rng.integers(-4, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def grad_check(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-4):
    """Compare autograd with central differences of ``sum(fn(*xs) * w)`` in float64."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    xs = [T(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    out = out[0] if isinstance(out, (tuple, list)) else out
    w = np.random.default_rng(1).standard_normal(out.shape)
    (out * T(w)).sum().backward()

    def value(arrs):
        o = fn(*[T(a) for a in arrs])
        o = o[0] if isinstance(o, (tuple, list)) else o
        return float(np.sum(o.detach().numpy() * w))

    for k, a in enumerate(arrays):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (value(plus) - value(minus)) / (2 * eps)
        got = xs[k].grad
        got = np.zeros_like(a) if got is None else got.numpy()
        np.testing.assert_allclose(got, num, atol=atol, rtol=rtol)


def check(t, expected, dtype=None):
    got = t.detach().numpy()
    expected = np.asarray(expected)
    assert list(got.shape) == list(expected.shape), (got.shape, expected.shape)
    if dtype is not None:
        assert t.dtype == getattr(ts, dtype), (t.dtype, dtype)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------ sum, mean, prod

@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_dtypes_dims_keepdim(dtype):
    a = sample((3, 4, 5), dtype)
    x = T(a)
    out_dtype = "int64" if dtype in ("int32", "int64", "bool") else dtype
    check(x.sum(), a.sum(dtype=out_dtype), out_dtype)
    check(x.sum(1), a.sum(1, dtype=out_dtype), out_dtype)
    check(x.sum(-1, keepdim=True), a.sum(-1, keepdims=True, dtype=out_dtype), out_dtype)
    check(ts.sum(x, [0, 2]), a.sum((0, 2), dtype=out_dtype), out_dtype)
    check(x.transpose(0, 2).sum(0), a.transpose(2, 1, 0).sum(0, dtype=out_dtype), out_dtype)


def test_sum_dtype_kwarg_and_empty():
    i = T(np.arange(6).reshape(2, 3))
    check(ts.sum(i, 0, dtype=ts.float32), np.array([3.0, 5.0, 7.0]), "float32")
    check(T(np.zeros((0, 3), np.float32)).sum(0), np.zeros(3), "float32")
    check(T(np.float32(2.5)).sum(), np.float32(2.5), "float32")
    check(T(np.float32(2.5)).sum(0), np.float32(2.5), "float32")


def test_mean():
    a = sample((3, 4), "float64")
    x = T(a)
    check(x.mean(), a.mean(), "float64")
    check(ts.mean(x, dim=1, keepdim=True), a.mean(1, keepdims=True))
    check(x.mean([0, 1]), a.mean())
    check(T(np.arange(4)).mean(dtype=ts.float32), np.float32(1.5), "float32")
    with pytest.raises(RuntimeError, match="mean"):
        T(np.arange(4)).mean()
    assert math.isnan(T(np.zeros(0, np.float32)).mean().item())


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_prod(dtype):
    a = sample((3, 4), dtype)
    out_dtype = "float64" if dtype == "float64" else "int64"
    check(T(a).prod(), a.prod(dtype=out_dtype), out_dtype)
    check(T(a).prod(1, keepdim=True), a.prod(1, keepdims=True, dtype=out_dtype), out_dtype)


# ------------------------------------------------------------------ max, min and friends

@pytest.mark.parametrize("dtype", DTYPES)
def test_max_min_forms(dtype):
    a = sample((3, 4), dtype)
    x = T(a)
    check(x.max(), a.max(), dtype)
    check(ts.min(x), a.min(), dtype)
    v, i = x.max(dim=1)
    check(v, a.max(1), dtype)
    check(i, a.argmax(1), "int64")
    w, j = ts.min(x, 0, keepdim=True)
    check(w, a.min(0, keepdims=True))
    check(j, a.argmin(0)[None])
    check(ts.amax(x, dim=[0, 1]), a.max())
    check(x.amin(-1, keepdim=True), a.min(-1, keepdims=True))
    check(x.argmax(), a.reshape(-1).argmax(), "int64")
    check(x.argmin(1, keepdim=True), a.argmin(1)[:, None], "int64")


def test_max_first_index_of_ties_and_nan():
    x = T(np.array([[1.0, 3.0, 3.0], [np.nan, 2.0, np.nan]], np.float32))
    v, i = x.max(1)
    assert i.tolist() == [1, 0]
    assert math.isnan(v.tolist()[1])
    assert math.isnan(x.max().item())


def test_binary_max_is_maximum():
    a, b = T(np.array([1, 5, 3])), T(np.array([4.0, 2.0, 3.0], np.float32))
    check(ts.max(a, b), np.array([4.0, 5.0, 3.0]), "float32")
    check(ts.min(a, b), np.array([1.0, 2.0, 3.0]), "float32")


def test_reduction_errors():
    empty = T(np.zeros((0, 3), np.float32))
    with pytest.raises(RuntimeError):
        empty.max()
    with pytest.raises(IndexError):
        empty.max(0)
    check(empty.amax(1), np.zeros(0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        T(np.zeros((2, 3))).sum(2)
    with pytest.raises(RuntimeError):
        T(np.zeros((2, 3))).sum([0, 0])


def test_zero_dim():
    x = T(np.float32(3.0))
    v, i = x.max(0)
    check(v, np.float32(3.0))
    check(i, np.int64(0))
    check(x.argmax(), np.int64(0))
    check(x.softmax(0), np.float32(1.0))
    check(x.cumsum(0), np.float32(3.0))
    check(x.amax(), np.float32(3.0))


def test_all_any_count_nonzero():
    a = sample((3, 4), "int64")
    x = T(a)
    check(x.all(), a.all(), "bool")
    check(ts.any(x, 1), a.any(1), "bool")
    check(x.bool().all(0, keepdim=True) if hasattr(x, "bool") else x.all(0, keepdim=True),
          a.astype(bool).all(0, keepdims=True))
    check(ts.count_nonzero(x), np.count_nonzero(a), "int64")
    check(ts.count_nonzero(x, 0), np.count_nonzero(a, 0), "int64")


# ------------------------------------------------------------------ var, std, norm, logsumexp

def test_var_std():
    a = sample((4, 5), "float64")
    x = T(a)
    check(x.var(), a.var(ddof=1))
    check(x.std(), a.std(ddof=1))
    check(x.var(1), a.var(1, ddof=1))
    check(ts.std(x, dim=0, unbiased=False), a.std(0))
    check(ts.var(x, 1, keepdim=True, unbiased=False), a.var(1, keepdims=True))
    check(x.var(0, correction=2), a.var(0, ddof=2))
    check(T(a.astype(np.float32)).std(), a.astype(np.float32).std(ddof=1), "float32")
    assert math.isnan(T(np.ones(1)).var().item())
    with pytest.raises(RuntimeError):
        T(np.arange(3)).var()


def test_norm():
    a = sample((3, 4), "float32")
    x = T(a)
    check(x.norm(), np.linalg.norm(a))
    check(ts.norm(x, dim=1), np.linalg.norm(a, axis=1))
    check(x.norm(1, 0), np.abs(a).sum(0))
    check(x.norm(3, 1, keepdim=True), (np.abs(a) ** 3).sum(1, keepdims=True) ** (1 / 3))
    check(x.norm(float("inf")), np.abs(a).max())
    check(x.norm("fro"), np.linalg.norm(a))
    with pytest.raises(RuntimeError):
        T(np.arange(3)).norm()


def test_logsumexp():
    a = sample((3, 4), "float64") * 50
    check(ts.logsumexp(T(a), 1), np.log(np.exp(a - a.max(1, keepdims=True)).sum(1)) + a.max(1))
    check(T(np.arange(4)).logsumexp(0), np.log(np.exp(np.arange(4.0)).sum()), "float32")
    check(T(np.array([-np.inf, -np.inf])).logsumexp(0), -np.inf)


# ------------------------------------------------------------------ softmax

def np_softmax(a, d):
    e = np.exp(a - a.max(d, keepdims=True))
    return e / e.sum(d, keepdims=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(dtype, dim):
    a = sample((3, 37), dtype) * 10
    check(ts.softmax(T(a), dim), np_softmax(a, dim), dtype)
    check(T(a).log_softmax(dim), np.log(np_softmax(a.astype(np.float64), dim)), dtype)
    check(ts.softmax(T(a.T), dim), np_softmax(a.T, dim), dtype)


def test_softmax_int_raises_and_dtype():
    with pytest.raises(RuntimeError):
        T(np.arange(3)).softmax(0)
    check(T(np.arange(3)).softmax(0, dtype=ts.float64), np_softmax(np.arange(3.0), 0), "float64")
    check(T(np.array([[-np.inf, 0.0]])).softmax(-1), np.array([[0.0, 1.0]]))
    check(T(np.zeros((2, 0), np.float32)).softmax(1), np.zeros((2, 0)))


# ------------------------------------------------------------------ scans

@pytest.mark.parametrize("dtype", DTYPES)
def test_cumsum_cumprod(dtype):
    a = sample((3, 4), dtype)
    out_dtype = "int64" if dtype in ("int32", "int64", "bool") else dtype
    check(T(a).cumsum(0), np.cumsum(a, 0, dtype=out_dtype), out_dtype)
    check(ts.cumsum(T(a), dim=-1), np.cumsum(a, 1, dtype=out_dtype), out_dtype)
    check(T(a).cumprod(1), np.cumprod(a, 1, dtype=out_dtype), out_dtype)


# ------------------------------------------------------------------ sorting

def test_sort_stable_and_descending():
    a = np.array([[3, 1, 2, 1, 3], [0, 0, 1, 1, 0]], np.int64)
    v, i = ts.sort(T(a), dim=1, descending=True)
    check(v, -np.sort(-a, 1))
    check(i, np.array([[0, 4, 2, 1, 3], [2, 3, 0, 1, 4]]))
    v, i = T(a).sort()
    check(i, np.argsort(a, 1, kind="stable"))
    check(T(a).argsort(0, descending=True), np.array([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]))
    f = T(np.array([2.0, np.nan, 1.0]))
    assert f.sort()[1].tolist() == [2, 0, 1]
    assert f.sort(descending=True)[1].tolist() == [1, 0, 2]


def test_topk():
    a = sample((5, 4), "float32")
    v, i = ts.topk(T(a), 2, dim=0)
    check(v, -np.sort(-a, 0)[:2])
    check(i, np.argsort(-a, 0, kind="stable")[:2])
    v, i = T(a).topk(3, largest=False)
    check(v, np.sort(a, 1)[:, :3])
    with pytest.raises(RuntimeError):
        T(a).topk(5)


def test_median_kthvalue_unique():
    a = np.array([[4.0, 1.0, 3.0, 2.0], [1.0, np.nan, 0.0, 2.0]])
    v, i = T(a).median(1)
    assert v.tolist()[0] == 2.0 and i.tolist()[0] == 3
    assert math.isnan(v.tolist()[1]) and i.tolist()[1] == 1
    assert T(np.array([3.0, 1.0, 2.0, 5.0])).median().item() == 2.0
    v, i = T(a[:1]).kthvalue(2)
    assert v.tolist() == [2.0] and i.tolist() == [3]


# ------------------------------------------------------------------ gradients

@pytest.mark.parametrize("fn", [
    lambda x: x.sum(),
    lambda x: x.sum([0, 2], keepdim=True),
    lambda x: x.mean(1),
    lambda x: x.mean(),
    lambda x: x.prod(1),
    lambda x: x.prod(),
    lambda x: x.amax([0, 1]),
    lambda x: x.amin(-1, keepdim=True),
    lambda x: x.max(dim=1)[0],
    lambda x: x.min(0, keepdim=True)[0],
    lambda x: x.max(),
    lambda x: x.var(1),
    lambda x: x.std(),
    lambda x: x.var(0, correction=0, keepdim=True),
    lambda x: x.norm(),
    lambda x: x.norm(3, 1),
    lambda x: x.norm(1, 2),
    lambda x: x.logsumexp(1),
    lambda x: x.softmax(1),
    lambda x: x.log_softmax(0),
    lambda x: x.cumsum(2),
    lambda x: x.cumprod(1),
    lambda x: x.sort(1, descending=True)[0],
    lambda x: x.topk(2, dim=2)[0],
    lambda x: x.median(1)[0],
    lambda x: x.sum_to_size([1, 3, 1]),
], ids=lambda f: "")
def test_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3, 4)))


def test_gradient_ties_split_evenly():
    x = T(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    y = T(np.array([[3.0, 3.0], [1.0, 2.0]]), requires_grad=True)
    y.amax(1).sum().backward()
    assert y.grad.tolist() == [[0.5, 0.5], [0.0, 1.0]]
    z = T(np.array([3.0, 3.0]), requires_grad=True)
    z.max(0)[0].backward()
    assert z.grad.tolist() == [1.0, 0.0]


def test_prod_and_cumprod_gradients_with_zeros():
    grad_check(lambda x: x.prod(1), np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5]]))
    grad_check(lambda x: x.cumprod(1), np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 1.0, 0.0, 2.0]]))
    grad_check(lambda x: x.prod(), np.array([[0.5, 2.0], [0.0, 3.0]]))


def test_norm_gradient_at_zero_is_zero():
    x = T(np.zeros(3), requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_unique():
    check(ts.unique(T(np.array([3, 1, 3, 2]))), np.array([1, 2, 3]), "int64")
    check(T(np.array([[1, 2], [1, 2], [0, 1]])).unique(dim=0), np.array([[0, 1], [1, 2]]))


def test_gradcheck_and_double_backward():
    x = T(RNG.standard_normal((3, 4)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda t: t.softmax(1), (x,))
    assert ts.autograd.gradcheck(lambda t: t.std(0, keepdim=True), (x,))
    # rules written with public ops differentiate again: d2/dx2 sum(logsumexp) is finite
    (g,) = ts.autograd.grad([x.logsumexp(1).sum()], [x], create_graph=True)
    (gg,) = ts.autograd.grad([(g * g).sum()], [x])
    eps = 1e-6
    a = x.detach().numpy()

    def f(arr):
        t = T(arr, requires_grad=True)
        (gt,) = ts.autograd.grad([t.logsumexp(1).sum()], [t])
        return float((gt.numpy() ** 2).sum())

    num = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        p, m = a.copy(), a.copy()
        p[idx] += eps
        m[idx] -= eps
        num[idx] = (f(p) - f(m)) / (2 * eps)
    np.testing.assert_allclose(gg.numpy(), num, atol=1e-5)


# ------------------------------------------------------------------ one table: op x dtype x layout

def _int64_for_ints(a):
    return np.int64 if a.dtype.kind in "biu" else a.dtype


NUMERIC = ["float32", "float64", "int32", "int64"]
TABLE = [
    # name, tensorscript call, NumPy reference, dtypes
    ("sum", lambda x: x.sum(-1), lambda a: a.sum(-1, dtype=_int64_for_ints(a)), DTYPES),
    ("sum_keep", lambda x: x.sum([0, -1], keepdim=True),
     lambda a: a.sum((0, a.ndim - 1), keepdims=True, dtype=_int64_for_ints(a)), DTYPES),
    ("mean", lambda x: x.mean(0), lambda a: a.mean(0), ["float32", "float64"]),
    ("prod", lambda x: x.prod(-2), lambda a: a.prod(-2, dtype=_int64_for_ints(a)), DTYPES),
    ("amax", lambda x: x.amax(-1), lambda a: a.max(-1), DTYPES),
    ("amin", lambda x: x.amin((0, 1)), lambda a: a.min((0, 1)), DTYPES),
    ("max_dim", lambda x: x.max(1)[0], lambda a: a.max(1), DTYPES),
    ("argmin", lambda x: x.argmin(-1), lambda a: a.argmin(-1), NUMERIC),
    ("var", lambda x: x.var(-1), lambda a: a.var(-1, ddof=1), ["float32", "float64"]),
    ("std", lambda x: x.std(0, unbiased=False), lambda a: a.std(0), ["float32", "float64"]),
    ("norm", lambda x: x.norm(dim=-1), lambda a: np.sqrt((a * a).sum(-1)), ["float32", "float64"]),
    ("logsumexp", lambda x: x.logsumexp(1),
     lambda a: np.log(np.exp(a.astype(np.float64)).sum(1)), ["float32", "float64"]),
    ("softmax", lambda x: x.softmax(0), lambda a: np_softmax(a, 0), ["float32", "float64"]),
    ("log_softmax", lambda x: x.log_softmax(-1),
     lambda a: np.log(np_softmax(a.astype(np.float64), -1)), ["float32", "float64"]),
    ("cumsum", lambda x: x.cumsum(-1), lambda a: np.cumsum(a, -1, dtype=_int64_for_ints(a)),
     DTYPES),
    ("cumprod", lambda x: x.cumprod(0), lambda a: np.cumprod(a, 0, dtype=_int64_for_ints(a)),
     DTYPES),
    ("all", lambda x: x.all(1), lambda a: a.all(1), DTYPES),
    ("any", lambda x: x.any(-1, keepdim=True), lambda a: a.any(-1, keepdims=True), DTYPES),
    ("count_nonzero", lambda x: x.count_nonzero(0), lambda a: np.count_nonzero(a, 0), DTYPES),
    ("sort", lambda x: x.sort(0)[0], lambda a: np.sort(a, 0), NUMERIC),
    ("argsort", lambda x: x.argsort(-1, stable=True), lambda a: np.argsort(a, -1, kind="stable"),
     ["float32", "int64"]),
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("name,fn,ref,dts", TABLE, ids=[row[0] for row in TABLE])
def test_table(name, fn, ref, dts, layout):
    for dtype in dts:
        base = sample((5, 6, 4), dtype)
        if layout == "transposed":
            a, x = base.transpose(2, 0, 1), T(base).permute(2, 0, 1)
        elif layout == "strided":
            a, x = base[::2, 1::2], T(base)[::2, 1::2]
        else:
            a, x = base, T(base)
        expected = ref(a)
        got = fn(x)
        if got.dtype in (ts.float32,):
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
        else:
            check(got, expected)


def test_var_mean_nan_reductions_searchsorted():
    a = sample((3, 4), "float64")
    v, m = ts.var_mean(T(a), 1)
    check(v, a.var(1, ddof=1))
    check(m, a.mean(1))
    s, m = ts.std_mean(T(a), dim=0, correction=0, keepdim=True)
    check(s, a.std(0, keepdims=True))
    b = a.copy()
    b[0, 1] = np.nan
    check(T(b).nansum(), np.nansum(b))
    check(T(b).nanmean(1), np.nanmean(b, 1))
    check(T(np.arange(4)).nansum(), np.int64(6), "int64")
    seq = np.array([1.0, 3.0, 5.0, 7.0])
    vals = np.array([[3.0, 6.0], [0.0, 9.0]])
    check(ts.searchsorted(T(seq), T(vals)), np.searchsorted(seq, vals), "int64")
    check(ts.searchsorted(T(seq), T(vals), right=True), np.searchsorted(seq, vals, "right"))
    check(ts.bucketize(T(vals), T(seq), out_int32=True), np.searchsorted(seq, vals), "int32")
    rows = np.sort(sample((2, 5), "float64"), 1)
    q = sample((2, 3), "float64")
    expected = np.stack([np.searchsorted(r, v) for r, v in zip(rows, q)])
    check(ts.searchsorted(T(rows), T(q)), expected)


@pytest.mark.parametrize("fn", [
    lambda x: ts.var_mean(x, 1)[0] + ts.var_mean(x, 1)[1] * 2,
    lambda x: ts.std_mean(x, dim=[0, 2], correction=0)[0],
    lambda x: x.nansum(1),
    lambda x: x.nanmean((0, 2)),
], ids=lambda f: "")
def test_more_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3, 4)))


def test_cummax_cummin():
    a = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [2.0, np.nan, 4.0, np.nan, 1.0]])
    v, i = T(a).cummax(1)
    np.testing.assert_array_equal(v.numpy()[0], [1, 3, 3, 3, 5])
    assert i.tolist() == [[0, 1, 2, 2, 4], [0, 1, 1, 1, 1]]
    assert np.isnan(v.numpy()[1, 1:]).all()
    v, i = ts.cummin(T(np.array([3, 1, 2, 1])), 0)
    assert v.tolist() == [3, 1, 1, 1] and i.tolist() == [0, 1, 1, 3]
    grad_check(lambda x: x.cummax(2)[0], RNG.standard_normal((2, 3, 4)))
    grad_check(lambda x: x.cummin(0)[0], RNG.standard_normal((2, 3, 4)))
