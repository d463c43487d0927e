"""Indexing and the gather/scatter family against NumPy, exact values and finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorscript as ts
from conftest import T

RNG = np.random.default_rng(0)


def check(t, expected, dtype=None):
    got = t.detach().numpy()
    expected = np.asarray(expected)
    assert list(got.shape) == list(expected.shape), (got.shape, expected.shape)
    if dtype is not None:
        assert t.dtype == getattr(ts, dtype)
    np.testing.assert_allclose(got, expected) if got.dtype.kind == "f" else \
        np.testing.assert_array_equal(got, expected)


def grad_check(fn, *arrays, eps=1e-6):
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    xs = [T(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    w = np.random.default_rng(1).standard_normal(out.shape)
    (out * T(w)).sum().backward()

    def value(arrs):
        return float(np.sum(fn(*[T(a) for a in arrs]).detach().numpy() * w))

    for k, a in enumerate(arrays):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (value(plus) - value(minus)) / (2 * eps)
        got = xs[k].grad
        np.testing.assert_allclose(np.zeros_like(a) if got is None else got.numpy(), num, atol=1e-6)


# ------------------------------------------------------------------ basic indexing

A = np.arange(60, dtype=np.float32).reshape(3, 4, 5)


def test_basic_int_slice_none_ellipsis():
    x = T(A)
    for key in [0, -1, (1, 2), (slice(None), 1), slice(1, 3), (0, slice(1, 3)),
                (Ellipsis, 0), (Ellipsis, slice(1, None)), (0, Ellipsis), (Ellipsis, None, 2),
                (1, Ellipsis, 0), None, (slice(None), None), (None, slice(None), None),
                (slice(None, None, 2),), (slice(1, None, 2), slice(None, None, 3)),
                (slice(None), slice(1, 6, 2)), (slice(None, None, 3), -1), (slice(-3, -1), -1),
                (slice(10, 20),), (slice(-10, 2),), (1, 2, 3), ()]:
        check(x[key], A[key])


def test_basic_indexing_is_a_view():
    x = T(A.copy())
    y = x[1, :, ::2]
    assert np.shares_memory(y.numpy(), x.numpy())
    y[0, 0] = -1.0
    assert x.numpy()[1, 0, 0] == -1.0


def test_zero_dim_int_tensor_index_is_select():
    x = T(A)
    check(x[T(np.int64(2))], A[2])
    check(x[1, T(np.int64(-1))], A[1, -1])


def test_index_errors():
    x = T(A)
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError):
        x[..., ...]
    with pytest.raises(IndexError):
        x[T(np.array([0, 5]))]
    with pytest.raises(IndexError):
        x[T(np.array([0.5]))]
    with pytest.raises(ValueError):
        x[::-1]
    with pytest.raises(IndexError):
        x[T(np.ones(4, bool))]


# ------------------------------------------------------------------ advanced indexing

def test_advanced_against_numpy():
    x = T(A)
    i = np.array([0, 2, -1])
    j = np.array([[1], [3]])
    mask = A[:, :, 0] > 20
    cases = [
        (i,), (slice(None), i), (i, j), (slice(None), i, j), (i, slice(None), j),
        (mask,), (A > 30,), (Ellipsis, i), (None, i), (i, None), ([0, 1],), ([True, False, True],),
        (slice(1, None), [0, 1], slice(None, None, 2)),
    ]
    for key in cases:
        tkey = tuple(T(k) if isinstance(k, np.ndarray) else k for k in key)
        check(x[tkey], A[key])


def test_ints_are_applied_before_advanced_indices():
    # PyTorch applies x[0] first, so the advanced dim stays in place: (4, 2), not NumPy's (2, 4)
    x = T(A)
    check(x[0, :, [1, 2]], A[0][:, [1, 2]])
    check(x[[0, 1], 1, [2, 3]], A[:, 1][[0, 1], [2, 3]])


def test_index_op_and_nonzero():
    x = T(A)
    check(ts.nonzero(T(A[0] > 5)), np.argwhere(A[0] > 5), "int64")
    check((T(A[0]) > 5).nonzero()[:, 0], np.argwhere(A[0] > 5)[:, 0])
    check(ts.argwhere(T(A[0] > 5)), np.argwhere(A[0] > 5))
    rows, cols = ts.nonzero(T(A[0] > 5), as_tuple=True)
    check(rows, np.nonzero(A[0] > 5)[0])
    check(ts.where(T(A[0] > 5))[1], np.nonzero(A[0] > 5)[1])
    check(ts.nonzero(T(np.zeros((0, 2)))), np.zeros((0, 2)))


@st.composite
def basic_keys(draw, shape):
    key, dim = [], 0
    ellipsis_used = False
    while dim < len(shape) and draw(st.booleans()):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis"]))
        n = shape[dim]
        if kind == "int" and n > 0:
            key.append(draw(st.integers(-n, n - 1)))
            dim += 1
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            key.append(slice(start, stop, step))
            dim += 1
        elif kind == "none":
            key.append(None)
        elif kind == "ellipsis" and not ellipsis_used:
            key.append(Ellipsis)
            ellipsis_used = True
            dim = len(shape)
    return tuple(key)


SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=SHAPES)
def test_basic_indexing_matches_numpy(data, shape):
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    key = data.draw(basic_keys(shape))
    check(T(a)[key], a[key])
    # assignment through the same key writes the same elements
    b = a.copy()
    t = T(b.copy())
    t[key] = -7
    b[key] = -7
    check(t, b)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
def test_advanced_indexing_matches_numpy(data, shape):
    """Integer arrays (broadcasting together) mixed with slices and None; no ints, whose
    placement rule differs from NumPy's."""
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    index_shape = data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple))
    key = []
    for n in shape:
        kind = data.draw(st.sampled_from(["array", "slice", "none_slice"]))
        if kind == "array":
            sub = index_shape[data.draw(st.integers(0, len(index_shape))):]
            key.append(data.draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(sub)),
                                          max_size=int(np.prod(sub)))))
            key[-1] = np.array(key[-1], dtype=np.int64).reshape(sub)
        elif kind == "slice":
            key.append(slice(data.draw(st.integers(0, n)), None, data.draw(st.integers(1, 2))))
        else:
            key.append(None)
            key.append(slice(None))
    key = tuple(key)
    if not any(isinstance(k, np.ndarray) for k in key):
        key = key + (Ellipsis,)
    tkey = tuple(T(k) if isinstance(k, np.ndarray) else k for k in key)
    check(T(a)[tkey], a[key])
    b = a.copy()
    t = T(b.copy())
    value = np.float64(-1.5)
    t[tkey] = value
    b[key] = value
    check(t, b)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0,
                                                                                              99))
def test_mask_indexing_matches_numpy(shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    mask = a > 0
    check(T(a)[T(mask)], a[mask])
    b = a.copy()
    t = T(a.copy())
    t[T(mask)] = 0.25
    b[mask] = 0.25
    check(t, b)


# ------------------------------------------------------------------ assignment

def test_setitem_forms():
    a = np.zeros((3, 4), np.float32)
    x = T(a.copy())
    x[0] = 1.0
    x[1, 1:3] = T(np.array([5.0, 6.0], np.float32))
    x[:, -1] = T(np.array(9.0, np.float32))
    x[T(np.array([2, 2])), T(np.array([0, 1]))] = T(np.array([7.0, 8.0], np.float32))
    x[..., None, 2][2] = -3.0
    a[0] = 1.0
    a[1, 1:3] = [5.0, 6.0]
    a[:, -1] = 9.0
    a[[2, 2], [0, 1]] = [7.0, 8.0]
    a[2, 2] = -3.0
    check(x, a)
    y = T(np.arange(6))
    y[y > 2] = 0
    check(y, np.where(np.arange(6) > 2, 0, np.arange(6)), "int64")
    y[:] = 2.7
    check(y, np.full(6, 2), "int64")


def test_setitem_autograd():
    w = T(np.arange(4.0), requires_grad=True)
    v = T(np.array([10.0, 20.0]), requires_grad=True)
    y = w * 1.0
    y[1:3] = v
    (y * T(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 0.0, 4.0]
    assert v.grad.tolist() == [2.0, 3.0]
    w.grad = None
    y = w * 1.0
    y[T(np.array([0, 3]))] = 0.0
    y.sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


# ------------------------------------------------------------------ gather, scatter and friends

def test_gather_scatter():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    idx = np.array([[0, 2], [1, 0]])
    check(ts.gather(T(a), 1, T(idx)), np.take_along_axis(a[:2], idx, 1))
    check(T(a).gather(0, T(idx)), np.array([[a[0, 0], a[2, 1]], [a[1, 0], a[0, 1]]]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        T(a).gather(1, T(np.array([[4]])))
    out = T(np.zeros((3, 4), np.float32)).scatter(1, T(idx), T(np.ones((2, 2), np.float32) * 5))
    exp = np.zeros((3, 4), np.float32)
    exp[0, [0, 2]] = 5
    exp[1, [1, 0]] = 5
    check(out, exp)
    check(T(np.zeros((3, 4))).scatter(1, T(idx), 2.0), exp / 5 * 2)
    src = T(np.array([1.0, 2.0, 3.0, 4.0]))
    ix = T(np.array([0, 1, 0, 3]))
    check(T(np.zeros(4)).scatter_add(0, ix, src), np.array([4.0, 2.0, 0.0, 4.0]))
    check(T(np.ones(4)).scatter(0, ix, src, reduce="multiply"), np.array([3.0, 2.0, 1.0, 4.0]))
    check(T(np.zeros(4)).scatter_reduce(0, ix, src, "amax", include_self=False),
          np.array([3.0, 2.0, 0.0, 4.0]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        T(np.zeros(4)).scatter_add(0, T(np.array([4])), T(np.ones(1)))
    t = T(np.zeros(4))
    t.scatter_(0, ix, src)
    assert t.tolist()[3] == 4.0


def test_index_select_add_fill_copy():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    i = np.array([2, 0, 2])
    check(T(a).index_select(0, T(i)), a[i])
    check(ts.index_select(T(a), 1, T(i)), a[:, i])
    with pytest.raises(IndexError, match="out of range"):
        T(a).index_select(0, T(np.array([3])))
    exp = np.zeros((3, 4))
    np.add.at(exp, i, a)
    check(T(np.zeros((3, 4))).index_add(0, T(i), T(a)), exp)
    check(T(np.zeros((3, 4))).index_add(0, T(i), T(a), alpha=2), 2 * exp)
    with pytest.raises(IndexError):
        T(np.zeros((3, 4))).index_add(0, T(np.array([5, 0, 0])), T(a))
    exp = a.copy()
    exp[:, [1, 3]] = -1
    check(T(a).index_fill(1, T(np.array([1, 3])), -1.0), exp)
    exp = np.zeros((3, 4))
    exp[[2, 0]] = a[:2]
    check(T(np.zeros((3, 4))).index_copy(0, T(np.array([2, 0])), T(a[:2])), exp)
    src = np.arange(4.0)
    out = T(np.zeros((4, 2))).index_add(0, T(np.array([0, 1, 0, 3])),
                                        T(src).unsqueeze(1).expand(-1, 2))
    check(out, np.array([[2.0, 2.0], [1.0, 1.0], [0.0, 0.0], [3.0, 3.0]]))


def test_masked_ops_take():
    a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    m = a < 0
    check(T(a).masked_fill(T(m), 0.0), np.where(m, 0, a))
    check(T(a).masked_fill(T(m[0]), T(np.float32(9))), np.where(m[0], 9, a))
    b = T(a.copy())
    b.masked_fill_(T(a > 1.0), 1.0)
    check(b, np.minimum(a, 1.0))
    with pytest.raises(RuntimeError):
        T(a).masked_fill(T(m), T(np.ones(2, np.float32)))
    check(T(a).masked_select(T(m)), a[m])
    check(T(a).masked_scatter(T(m), T(np.array([7.0, 8.0], np.float32))),
          np.where(m, [[7.0, 8.0, 0], [0, 0, 0]], a))
    check(ts.take(T(a), T(np.array([[0, 5], [-1, 2]]))), a.reshape(-1)[[[0, 5], [-1, 2]]])
    with pytest.raises(IndexError):
        ts.take(T(a), T(np.array([6])))
    ix = np.array([[2], [0]])
    check(ts.take_along_dim(T(a), T(ix), 1), np.take_along_axis(a, ix, 1))
    check(T(a).take_along_dim(T(np.array([5, 0]))), a.reshape(-1)[[5, 0]])


def test_select_slice_scatter():
    a = np.zeros((3, 4))
    exp = a.copy()
    exp[1] = 1.0
    check(ts.select_scatter(T(a), T(np.ones(4)), 0, 1), exp)
    exp = a.copy()
    exp[:, 1::2] = 2.0
    check(ts.slice_scatter(T(a), T(np.full((3, 2), 2.0)), 1, 1, None, 2), exp)


# ------------------------------------------------------------------ gradients

IDX = np.array([[0, 2, 1], [1, 1, 0]])


@pytest.mark.parametrize("fn", [
    lambda x: x[1],
    lambda x: x[:, 1:3],
    lambda x: x[..., None, ::2],
    lambda x: x[T(np.array([0, 0, 1]))],
    lambda x: x[T(np.array([[0], [1]])), T(np.array([1, 2, 1]))],
    lambda x: x[x > 0],
    lambda x: x.gather(1, T(IDX)),
    lambda x: x.index_select(1, T(np.array([2, 0, 2]))),
    lambda x: x.masked_fill(T(np.array([True, False, True])), 0.5),
    lambda x: x.masked_select(T(np.array([[True], [False]]))),
    lambda x: ts.take(x, T(np.array([0, 5, 5]))),
    lambda x: ts.take_along_dim(x, T(np.array([[1], [0]])), 1),
    lambda x: x.index_fill(1, T(np.array([0])), 2.0),
    lambda x: x.scatter(1, T(np.array([[0], [2]])), 0.0),
], ids=lambda f: "")
def test_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3)))


@pytest.mark.parametrize("fn", [
    lambda x, s: x.scatter(1, T(np.array([[0, 2], [1, 0]])), s),
    lambda x, s: x.scatter_add(1, T(np.array([[0, 0], [1, 0]])), s),
    lambda x, s: x.index_add(1, T(np.array([2, 2])), s),
    lambda x, s: x.index_put((T(np.array([0, 1])), T(np.array([1, 1]))), s[0], accumulate=True),
    lambda x, s: x.index_put((T(np.array([0, 1])),), s[:, :1]),
    lambda x, s: x.masked_scatter(T(np.array([[True, False, True], [False, False, True]])), s),
    lambda x, s: x.index_copy(1, T(np.array([2, 0])), s),
], ids=lambda f: "")
def test_two_input_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3)), RNG.standard_normal((2, 2)))


def test_masked_fill_tensor_value_gradient():
    grad_check(lambda x, v: x.masked_fill(T(np.array([True, False])), v), RNG.standard_normal((3,
                                                                                               2)),
               np.array(0.5))


def test_empty_list_index_and_gradcheck():
    x = T(A)
    check(x[[]], A[np.array([], dtype=np.int64)])
    w = T(RNG.standard_normal((3, 4)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda t: t[T(np.array([2, 0])), 1:] * 2, (w,))
    assert ts.autograd.gradcheck(lambda t: t[t > 0], (w,))
