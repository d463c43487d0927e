"""Helpers shared by the op tests: sample arrays, tensors from arrays, layouts."""
import numpy as np
import pytest

import tensorscript as ts

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
FLOATS = ["float16", "float32", "float64"]


def sample(shape, dtype, rng=None, low=-4, high=5):
    rng = rng or np.random.default_rng(0)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype == "uint8":
        return rng.integers(0, high, size=shape).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(low, high, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def T(a, **kw):
    return ts.tensor(np.asarray(a), **kw)


def layouts(arr):
    """The same values as a contiguous tensor, a transposed (non-contiguous) view, a strided slice."""
    yield "contiguous", T(arr)
    if arr.ndim >= 2:
        yield "transposed", T(np.ascontiguousarray(arr.swapaxes(0, 1))).transpose(0, 1)
        yield "strided", T(np.repeat(arr, 2, axis=-1))[..., ::2]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _cat(dt: np.dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2}[np.dtype(dt).kind]


def _promote(a, b):
    """torch.promote_types, written from PyTorch's lookup table rules."""
    if a is None:
        return b
    if b is None:
        return a
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if _cat(a) != _cat(b):
        return a if _cat(a) > _cat(b) else b
    if a.kind == "b":
        return a
    if {a.kind, b.kind} == {"u", "i"}:
        signed = a if a.kind == "i" else b
        return np.dtype(np.int16) if signed == np.int8 else signed
    return a if a.itemsize >= b.itemsize else b


def expected_dtype(*operands) -> np.dtype:
    """PyTorch's c10 ``result_type``: dim tensors, then 0-d tensors, then Python scalars.

    Each operand is an ndarray (0-d means a 0-d tensor) or a Python bool/int/float. Written
    after ``combine_categories`` in ATen rather than after tensorscript's implementation.
    """
    dim = zero = wrapped = None
    for v in operands:
        if isinstance(v, np.ndarray):
            if v.ndim:
                dim = _promote(dim, v.dtype)
            else:
                zero = _promote(zero, v.dtype)
        else:
            dt = (np.dtype(np.bool_) if isinstance(v, bool) else
                  np.dtype(np.int64) if isinstance(v, int) else np.dtype(np.float32))
            wrapped = _promote(wrapped, dt)

    def combine(higher, lower):
        if higher is None:
            return lower
        if higher.kind == "f":
            return higher
        if lower is not None and (higher.kind == "b" or lower.kind == "f"):
            return _promote(higher, lower)
        return higher
    return combine(dim, combine(zero, wrapped))


@pytest.fixture
def oracle_dtype():
    return expected_dtype


def grad_check(fn, *arrays, wrt=None, eps=1e-6, atol=1e-6, rtol=1e-5):
    """autograd vs central differences of ``sum(fn(*xs) * w)``, all in float64.

    Arrays not in ``wrt`` (indices) are passed as constants (integer arrays always are)."""
    arrays = [np.array(a) for a in arrays]
    wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"] if wrt is None else wrt
    xs = [T(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    out = fn(*xs)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * T(w)).sum().backward()

    def value(arrs):
        with ts.no_grad():
            return float(np.sum(fn(*[T(a) for a in arrs]).numpy() * w))

    for k in wrt:
        a = arrays[k]
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + eps
            plus = value(arrays)
            a[idx] = old - eps
            minus = value(arrays)
            a[idx] = old
            num[idx] = (plus - minus) / (2 * eps)
        got = xs[k].grad
        got = np.zeros_like(a) if got is None else got.numpy()
        np.testing.assert_allclose(got, num, atol=atol, rtol=rtol, err_msg=f"gradient of input {k}")
