"""Creation and conversion ops against NumPy and PyTorch's documented dtype rules."""
import math

import numpy as np
import pytest

import tensorscript as ts

from conftest import DTYPES, T


def test_tensor_infers_dtypes():
    assert ts.tensor([1, 2]).dtype is ts.int64
    assert ts.tensor([1, 2.0]).dtype is ts.float32
    assert ts.tensor([True, False]).dtype is ts.bool
    assert ts.tensor([True, 2]).dtype is ts.int64
    assert ts.tensor(3).dtype is ts.int64 and ts.tensor(3).shape == ()
    assert ts.tensor(2.5).dtype is ts.float32
    assert ts.tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert ts.tensor([]).dtype is ts.float32 and ts.tensor([]).shape == (0,)
    assert ts.tensor(np.arange(3, dtype=np.int32)).dtype is ts.int32
    assert ts.tensor(np.arange(3.0)).dtype is ts.float64
    assert ts.tensor([1.7, -1.7], dtype=ts.int64).tolist() == [1, -1]
    assert ts.tensor([ts.tensor(1.0), ts.tensor(2.0)]).tolist() == [1.0, 2.0]
    with pytest.raises((ValueError, TypeError)):
        ts.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        ts.tensor(["a"])


def test_tensor_copies_and_from_numpy_shares():
    a = np.arange(3.0)
    t = ts.tensor(a)
    a[0] = 9
    assert t.tolist() == [0.0, 1.0, 2.0]
    s = ts.from_numpy(a)
    a[1] = 7
    assert s.tolist() == [9.0, 7.0, 2.0]
    s.add_(1)
    assert a.tolist() == [10.0, 8.0, 3.0]
    assert ts.as_tensor(a).numpy() is a
    assert ts.as_tensor(s) is s
    assert ts.as_tensor([1, 2]).dtype is ts.int64
    assert ts.as_tensor(a, dtype=ts.float32).dtype is ts.float32
    d = ts.from_dlpack(a)
    a[2] = -1
    assert d.tolist()[2] == -1
    e = ts.from_dlpack(s)
    e.mul_(0)
    assert s.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("fn,fill", [(ts.zeros, 0), (ts.ones, 1), (ts.empty, None)])
def test_filled(fn, fill):
    for args in [(2, 3), ((2, 3),), ([2, 3],), (3,), ((),)]:
        t = fn(*args)
        assert t.dtype is ts.float32
        if fill is not None:
            assert np.all(t.numpy() == fill)
    assert fn(2, dtype=ts.int32).dtype is ts.int32
    assert fn(0, 3).shape == (0, 3)
    assert fn(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        fn(-1)


def test_full_dtype_inference():
    assert ts.full((2,), 3).dtype is ts.int64
    assert ts.full((2,), 2.5).dtype is ts.float32
    assert ts.full((2,), True).dtype is ts.bool
    assert ts.full((2, 2), 7.0, dtype=ts.float64).tolist() == [[7.0, 7.0], [7.0, 7.0]]


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool", "float64"])
def test_like_functions(dtype):
    x = T(np.ones((2, 3), dtype=dtype))
    for fn, val in ((ts.zeros_like, 0), (ts.ones_like, 1), (ts.empty_like, None)):
        y = fn(x)
        assert y.dtype is x.dtype and y.shape == x.shape
        if val is not None:
            assert np.all(y.numpy() == val)
    assert ts.zeros_like(x, dtype=ts.float64).dtype is ts.float64
    f = ts.full_like(x, 1)
    assert f.dtype is x.dtype


def test_full_like_truncates_for_ints():
    assert ts.full_like(ts.tensor([1, 2]), 2.7).tolist() == [2, 2]
    assert ts.full_like(ts.tensor([1.0]), 2.5).tolist() == [2.5]


def test_random_like_and_seed():
    x = ts.ones(4, 5, dtype=ts.float64)
    ts.manual_seed(3)
    a = ts.rand_like(x)
    b = ts.randn_like(x)
    ts.manual_seed(3)
    assert ts.rand_like(x).tolist() == a.tolist() and ts.randn_like(x).tolist() == b.tolist()
    assert a.dtype is ts.float64 and np.all((a.numpy() >= 0) & (a.numpy() < 1))
    r = ts.rand(1000)
    assert r.dtype is ts.float32 and 0.4 < r.numpy().mean() < 0.6
    n = ts.randn(2000)
    assert abs(n.numpy().mean()) < 0.1 and 0.9 < n.numpy().std() < 1.1
    i = ts.randint(3, 10, (100,))
    assert i.dtype is ts.int64 and i.numpy().min() >= 3 and i.numpy().max() < 10
    assert ts.randint(5, (3,)).numpy().max() < 5
    with pytest.raises(RuntimeError):
        ts.rand_like(ts.tensor([1, 2]))
    assert sorted(ts.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_new_methods():
    x = ts.tensor([1, 2], dtype=ts.int32)
    assert x.new_zeros(2, 3).dtype is ts.int32 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(2).tolist() == [1, 1]
    assert x.new_full((2,), 2.9).tolist() == [2, 2]
    assert x.new_empty(3).shape == (3,)
    assert x.new_tensor([1.5, 2.5]).dtype is ts.int32
    assert x.new_zeros(2, dtype=ts.float64).dtype is ts.float64


def test_arange_rules():
    assert ts.arange(5).dtype is ts.int64 and ts.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ts.arange(5.0).dtype is ts.float32
    assert ts.arange(1, 4).tolist() == [1, 2, 3]
    assert ts.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert ts.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert ts.arange(0, 10, 3, dtype=ts.float64).dtype is ts.float64
    assert ts.arange(0).shape == (0,)
    assert len(ts.arange(0, 1, 0.1)) == 10
    with pytest.raises(RuntimeError):
        ts.arange(0, 5, 0)
    with pytest.raises(RuntimeError):
        ts.arange(5, 0, 1)


def test_linspace_eye():
    np.testing.assert_allclose(ts.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert ts.linspace(0, 1, 5).dtype is ts.float32
    assert ts.linspace(0, 10, 1).tolist() == [0.0]
    assert ts.eye(3).tolist() == np.eye(3).tolist()
    assert ts.eye(2, 3).shape == (2, 3) and ts.eye(2, dtype=ts.int64).dtype is ts.int64


def test_tril_triu():
    a = np.arange(12.0).reshape(3, 4)
    for k in (-1, 0, 2):
        assert ts.tril(T(a), k).tolist() == np.tril(a, k).tolist()
        assert T(a).triu(k).tolist() == np.triu(a, k).tolist()
    b = T(a)
    b.tril_()
    assert b.tolist() == np.tril(a).tolist()
    with pytest.raises(RuntimeError):
        ts.tril(ts.ones(3))


def test_fill_zero_copy():
    x = ts.ones(2, 3)
    assert x.fill_(2.5) is x and np.all(x.numpy() == 2.5)
    x.zero_()
    assert np.all(x.numpy() == 0)
    x.fill_(ts.tensor(4.0))
    assert np.all(x.numpy() == 4)
    i = ts.zeros(2, dtype=ts.int64)
    i.fill_(2.9)
    assert i.tolist() == [2, 2]
    y = ts.zeros(2, 3)
    y.copy_(ts.tensor([1, 2, 3]))
    assert y.tolist() == [[1.0, 2.0, 3.0]] * 2 and y.dtype is ts.float32
    with pytest.raises(RuntimeError, match="broadcast"):
        y.copy_(ts.ones(4))


def test_clone_contiguous_detach():
    x = ts.tensor([[1.0, 2.0], [3.0, 4.0]])
    c = x.clone()
    c.add_(1)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert x.contiguous() is x
    t = x.transpose(0, 1)
    assert not t.is_contiguous()
    tc = t.contiguous()
    assert tc.is_contiguous() and tc.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    d = x.detach()
    d.mul_(2)
    assert x.tolist() == [[2.0, 4.0], [6.0, 8.0]]


@pytest.mark.parametrize("src", DTYPES)
def test_to_and_conversion_methods(src):
    a = np.array([0, 1, 2], dtype=src) if src != "bool" else np.array([True, False, True])
    x = T(a)
    assert x.to(x.dtype) is x
    assert x.to(ts.float64).dtype is ts.float64
    assert x.to(ts.float64, copy=True) is not x
    for name, dt in (("float", ts.float32), ("double", ts.float64), ("half", ts.float16),
                     ("int", ts.int32), ("long", ts.int64), ("bool", ts.bool),
                     ("short", ts.int16), ("byte", ts.uint8), ("char", ts.int8)):
        y = getattr(x, name)()
        assert y.dtype is dt
        np.testing.assert_array_equal(y.numpy(), a.astype(dt.np))
    assert x.type_as(ts.ones(1, dtype=ts.float64)).dtype is ts.float64
    assert x.to(ts.ones(1, dtype=ts.int32)).dtype is ts.int32
    assert x.to("cpu") is x


def test_float_to_int_truncates():
    x = ts.tensor([-1.7, 1.7, 2.5])
    assert x.long().tolist() == [-1, 1, 2]
    assert x.to(ts.int32).tolist() == [-1, 1, 2]


def test_devices():
    assert ts.zeros(2, device="cpu").device == ts.device("cpu")
    assert str(ts.ones(1).device) == "cpu"
    with pytest.raises(RuntimeError, match="cuda"):
        ts.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        ts.ones(2).to("cuda")


def test_item_and_scalar_conversion():
    assert ts.tensor([2.5]).item() == 2.5 and isinstance(ts.tensor(3).item(), int)
    with pytest.raises(RuntimeError, match="cannot be converted"):
        ts.tensor([1.0, 2.0]).item()


def test_type_cuda_and_random_fills():
    x = ts.tensor([1.5, -1.5])
    assert x.type() == "torch.FloatTensor" and ts.tensor([1]).type() == "torch.LongTensor"
    assert x.type(ts.int64).tolist() == [1, -1]
    with pytest.raises(RuntimeError, match="CUDA"):
        x.cuda()
    ts.manual_seed(5)
    u = ts.empty(1000).uniform_(-2, 2)
    assert -2 <= u.numpy().min() and u.numpy().max() < 2
    n = ts.empty(2000, dtype=ts.float64).normal_(3.0, 0.5)
    assert abs(n.numpy().mean() - 3.0) < 0.05 and n.dtype is ts.float64
    b = ts.bernoulli(ts.full((1000,), 0.25))
    assert set(np.unique(b.numpy())) <= {0.0, 1.0} and 0.15 < b.numpy().mean() < 0.35
    with pytest.raises(RuntimeError):
        ts.zeros(2, dtype=ts.int64).normal_()
