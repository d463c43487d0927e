"""The single-pass float32 activation kernels against float64 references: within
2e-6 * max(|reference|, 1), special values (inf, nan, signed zero) as the NumPy chains give
them, strided and float64 inputs through the fallbacks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tensorscript.kernels import elementwise as K

TOL32 = 2e-6
_erf = np.vectorize(math.erf)


def _gelu_tanh_ref(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


REFERENCES = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "gelu_tanh": _gelu_tanh_ref,
}
SPECIALS = np.float32([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-30, -1e-30, 1e-40, -1e-40,
                       100.0, -100.0, 1e20, -1e20, 88.0, -88.0, 3.4e38, -3.4e38])


def _inputs():
    rng = np.random.default_rng(1)
    return np.concatenate([np.linspace(-20, 20, 200_001), rng.standard_normal(100_000) * 4,
                           rng.uniform(-1e-3, 1e-3, 10_000)]).astype(np.float32)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_float32_accuracy(name):
    x = _inputs()
    with np.errstate(all="ignore"):
        ref = REFERENCES[name](x.astype(np.float64))
    got = getattr(K, name)(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    err = np.abs(got.astype(np.float64) - ref) / np.maximum(np.abs(ref), 1)
    assert err.max() <= TOL32, (name, float(err.max()), float(x[np.argmax(err)]))


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_special_values_match_the_numpy_chain(name):
    x = SPECIALS
    got = getattr(K, name)(x)
    with np.errstate(all="ignore"):
        ref = REFERENCES[name](x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    finite = ~np.isnan(ref)
    np.testing.assert_allclose(got[finite], ref[finite], rtol=2e-6, atol=1e-37)
    zero = finite & (ref == 0)
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(ref[zero]))


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_layouts_and_dtypes(name):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 5)).astype(np.float32)
    fn = getattr(K, name)
    contiguous = fn(base)
    for view in (base.T, base[:, ::2], base[::2]):  # strided: the NumPy chain
        np.testing.assert_allclose(fn(view), contiguous.T if view is base.T else
                                   fn(np.ascontiguousarray(view)), rtol=1e-6, atol=1e-7)
    zero_d = fn(base[0, 0].reshape(()))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == () and zero_d.dtype == np.float32
    assert fn(np.zeros((0, 3), np.float32)).shape == (0, 3)
    d = fn(base.astype(np.float64))
    assert d.dtype == np.float64
    np.testing.assert_allclose(d, REFERENCES[name](base.astype(np.float64)), rtol=1e-12)
    h = fn(base.astype(np.float16))
    assert h.dtype == np.float16
