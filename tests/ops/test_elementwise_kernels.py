"""The eager float functions on tensors large enough for the single-pass float32 loops
(``kernels/elementwise.py``): within 2e-6 * max(|reference|, 1) of a float64 reference, special
values as PyTorch gives them, and the same results from every layout and dtype path."""
import math

import numpy as np
import pytest

import tensorscript as ts
import tensorscript.nn.functional as F

TOL32 = 2e-6
LARGE = 1 << 16  # above the size where exp switches from NumPy's ufunc to the loop

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])

# name -> (eager call, float64 reference)
FUNCTIONS = {
    "exp": (ts.exp, np.exp),
    "log": (ts.log, np.log),
    "tanh": (ts.tanh, np.tanh),
    "erf": (ts.erf, _erf),
    "erfc": (ts.erfc, _erfc),
    "sigmoid": (ts.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
}
SPECIALS = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-30, -1e-30, 1e-40, -1e-40, 88.7, 88.8,
            -87.5, -104.0, 100.0, -100.0, 3.4e38, -3.4e38]


def _inputs():
    rng = np.random.default_rng(7)
    x = np.concatenate([np.linspace(-30, 30, 200_001), rng.standard_normal(LARGE) * 5,
                        rng.uniform(-1e-3, 1e-3, 5_000), SPECIALS])
    return x.astype(np.float32)


def _reference(name, x32):
    with np.errstate(all="ignore"):
        ref = FUNCTIONS[name][1](x32.astype(np.float64))
        # what float32 can hold: overflow is inf, as in PyTorch
        return np.where(np.abs(ref) > np.finfo(np.float32).max, np.sign(ref) * np.inf, ref)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float32_accuracy_and_special_values(name):
    x = _inputs()
    got = FUNCTIONS[name][0](ts.from_numpy(x)).numpy()
    ref = _reference(name, x)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    inf = np.isinf(ref)
    np.testing.assert_array_equal(got[inf], ref[inf])
    finite = np.isfinite(ref)
    err = np.abs(got[finite].astype(np.float64) - ref[finite]) / np.maximum(np.abs(ref[finite]), 1)
    assert err.max() <= TOL32, (name, float(err.max()), float(x[finite][np.argmax(err)]))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_layouts_agree(name):
    fn = FUNCTIONS[name][0]
    base = np.random.default_rng(3).standard_normal((256, 300)).astype(np.float32)
    contiguous = fn(ts.from_numpy(base)).numpy()
    transposed = fn(ts.from_numpy(np.ascontiguousarray(base.T)).t()).numpy()
    strided = fn(ts.from_numpy(np.repeat(base, 2, axis=1))[:, ::2]).numpy()
    ref = _reference(name, base)
    for got in (contiguous, transposed, strided):
        assert got.dtype == np.float32 and got.shape == base.shape
        np.testing.assert_allclose(got, ref, rtol=TOL32, atol=TOL32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the log reference at 0 and below
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_dtypes_and_shapes(name):
    fn, reference = FUNCTIONS[name]
    ints = np.arange(-3, 4, dtype=np.int64).repeat(LARGE // 7 + 1)
    as_float = fn(ts.from_numpy(ints)).numpy()
    assert as_float.dtype == np.float32  # integer inputs compute in the default float dtype
    np.testing.assert_allclose(as_float, reference(ints.astype(np.float64)), rtol=TOL32,
                               atol=TOL32)
    x64 = np.linspace(-5, 5, LARGE)
    d = fn(ts.from_numpy(x64)).numpy()
    assert d.dtype == np.float64
    np.testing.assert_allclose(d, reference(x64), rtol=1e-12, atol=1e-15)
    h = fn(ts.from_numpy(x64.astype(np.float16))).numpy()
    assert h.dtype == np.float16
    np.testing.assert_allclose(h, reference(x64.astype(np.float16).astype(np.float64)),
                               rtol=2e-3, atol=2e-3)
    zero_d = fn(ts.tensor(0.5))
    assert zero_d.shape == () and zero_d.dtype == ts.float32
    assert zero_d.item() == pytest.approx(float(reference(np.float64(0.5))), rel=1e-6)
    empty = fn(ts.from_numpy(np.zeros((0, 5), np.float32)))
    assert empty.shape == (0, 5) and empty.dtype == ts.float32


def test_gelu_tails_are_exact():
    # beyond |x| = 4 sqrt(2) float32 gelu is x itself, or -0.0 (nan for -inf, as in PyTorch)
    x = np.float32([5.7, 6.0, 50.0, 3e38, np.inf, -5.7, -6.0, -50.0, -3e38, -np.inf])
    got = F.gelu(ts.from_numpy(x.repeat(LARGE))).numpy()[::LARGE]
    np.testing.assert_array_equal(got[:5], x[:5])
    assert np.all(got[5:9] == 0) and np.all(np.signbit(got[5:9]))
    assert np.isnan(got[9])


def test_exp_gradient_on_large_tensors():
    x = np.linspace(-3, 3, LARGE).astype(np.float32)
    t = ts.from_numpy(x.copy()).requires_grad_()
    y = t.exp()
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.exp(x.astype(np.float64)), rtol=TOL32)
