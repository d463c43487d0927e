"""fastmath's approximations against a float64 reference: float32 results within
2e-6 * max(|reference|, 1), exp and log within 2.5 ulp, special values as libm gives them,
and every float32 function vectorized in the loop that calls it."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from numba import njit

from tensorscript.kernels import fastmath as fm

TOL32 = 2e-6


def _vectorized(f):
    @njit(error_model="numpy", fastmath={"contract", "nsz", "arcp"})
    def run(x, out):
        for i in range(x.size):
            out[i] = f(x[i])
    return run


_erf = np.vectorize(math.erf)
_erfc = np.vectorize(math.erfc)
REFERENCES = {
    "exp": (np.exp, (-100.0, 100.0)),
    "log": (np.log, (0.0, 1e6)),
    "tanh": (np.tanh, (-20.0, 20.0)),
    "sigmoid": (lambda v: 1 / (1 + np.exp(-v)), (-100.0, 100.0)),
    "erf": (_erf, (-6.0, 6.0)),
    "erfc": (_erfc, (-6.0, 10.0)),
    "log1p": (np.log1p, (-1.0, 100.0)),
    "expm1": (np.expm1, (-50.0, 80.0)),
}


def _inputs(lo, hi):
    rng = np.random.default_rng(0)
    parts = [rng.uniform(lo, hi, 200_000), np.linspace(lo, hi, 100_001),
             rng.normal(0, 1, 50_000), rng.normal(0, 1e-3, 10_000),
             np.geomspace(1e-30, 1, 1000)]
    x = np.concatenate(parts)
    return x[(x >= lo) & (x <= hi)].astype(np.float32)


@pytest.mark.parametrize("name", sorted(fm.FUNCTIONS))
def test_float32_accuracy(name):
    ref_fn, (lo, hi) = REFERENCES[name]
    x = _inputs(lo, hi)
    out = np.empty_like(x)
    _vectorized(getattr(fm, fm.FUNCTIONS[name][0]))(x, out)
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(np.float64))
    # float32 overflows where float64 does not; flush-to-zero below float32's normal range
    finite = np.isfinite(ref) & (np.abs(ref) < 3.4e38)
    err = np.abs(out[finite].astype(np.float64) - ref[finite]) / np.maximum(np.abs(ref[finite]), 1)
    assert err.max() <= TOL32, (name, float(err.max()), x[finite][np.argmax(err)])


@pytest.mark.parametrize("name", sorted(fm.FUNCTIONS))
def test_float64_accuracy(name):
    ref_fn, (lo, hi) = REFERENCES[name]
    x = _inputs(lo, hi).astype(np.float64)
    out = np.empty_like(x)
    _vectorized(getattr(fm, fm.FUNCTIONS[name][1]))(x, out)
    with np.errstate(all="ignore"):
        ref = ref_fn(x)
    finite = np.isfinite(ref)
    err = np.abs(out[finite] - ref[finite]) / np.maximum(np.abs(ref[finite]), 1e-300)
    assert err.max() <= 1e-14, (name, float(err.max()))


SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, 3.4e38, -3.4e38,
                    88.7, 88.8, -87.5, -104.0, 1.0, 2.0,
                    # exp's overflow threshold: the last float32 with a finite exp, and the next
                    88.72283, 88.72284, 89.0, 89.5, -86.9, -87.4, -88.0,
                    # where tanh and erf reach 1 in float32, and beyond
                    7.9, -7.9, 8.0, -8.0, 3.83, -3.83, 4.0, -4.0], dtype=np.float32)


@pytest.mark.parametrize("name", sorted(fm.FUNCTIONS))
def test_special_values(name):
    ref_fn, _ = REFERENCES[name]
    out = np.empty_like(SPECIAL)
    _vectorized(getattr(fm, fm.FUNCTIONS[name][0]))(SPECIAL, out)
    with np.errstate(all="ignore"):
        ref = ref_fn(SPECIAL.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    big = np.isinf(ref)
    np.testing.assert_array_equal(out[big], ref[big])
    ok = ~np.isnan(ref) & ~big
    err = np.abs(out[ok].astype(np.float64) - ref[ok])
    assert np.all(err <= TOL32 * np.maximum(np.abs(ref[ok]), 1))


def test_extrema_propagate_nan():
    f32 = np.float32
    assert math.isnan(fm.maximum(f32(np.nan), f32(1)))
    assert math.isnan(fm.maximum(f32(1), f32(np.nan)))
    assert math.isnan(fm.minimum(f32(np.nan), f32(1)))
    assert fm.fmax(f32(np.nan), f32(1)) == 1 and fm.fmin(f32(1), f32(np.nan)) == 1
    assert fm.maximum(3, 5) == 5 and fm.minimum(3, 5) == 3


@pytest.mark.parametrize("name", ["exp", "log"])
def test_exp_and_log_within_two_and_a_half_ulp(name):
    rng = np.random.default_rng(1)
    if name == "exp":  # results in float32's normal range
        x = np.concatenate([rng.uniform(-86.9, 88.72, 400_000), rng.normal(0, 1, 100_000)])
    else:
        x = np.exp(rng.uniform(-87.0, 88.0, 400_000))
    x = x.astype(np.float32)
    out = np.empty_like(x)
    _vectorized(getattr(fm, f"{name}_f32"))(x, out)
    ref = getattr(np, name)(x.astype(np.float64))
    ulps = np.abs(out - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 2.5, (name, float(ulps.max()), x[np.argmax(ulps)])


@pytest.mark.parametrize("name, x, want", [
    ("exp", 0.0, 1.0), ("log", 1.0, 0.0), ("sigmoid", 0.0, 0.5), ("tanh", 0.0, 0.0),
    ("erf", 0.0, 0.0), ("expm1", 0.0, 0.0), ("log1p", 0.0, 0.0)])
def test_exact_values(name, x, want):
    out = np.empty(1, np.float32)
    _vectorized(getattr(fm, f"{name}_f32"))(np.array([x], np.float32), out)
    assert out[0] == np.float32(want)


@pytest.mark.parametrize("name", ["tanh", "erf"])
def test_odd_functions_are_exactly_odd(name):
    x = np.linspace(0, 10, 20_001, dtype=np.float32)
    run = _vectorized(getattr(fm, f"{name}_f32"))
    pos, neg = np.empty_like(x), np.empty_like(x)
    run(x, pos)
    run(-x, neg)
    np.testing.assert_array_equal(neg, -pos)


_CALLEE = r"kernels\d+fastmath\d|^(exp|log|tanh|erfc?|log1p|expm1)f?$"
_PACKED_FLOAT_OP = re.compile(r"\bv(fmadd|fnmadd|fmsub|mul|add|sub|div)\w*p[sd]\s+[^\n]*%[yz]mm")


@pytest.mark.parametrize("name", sorted(fm.FUNCTIONS) + ["maximum", "fmin"])
def test_float32_kernels_vectorize(name):
    if name in fm.FUNCTIONS:
        f = getattr(fm, fm.FUNCTIONS[name][0])
        run = _vectorized(f)
    else:
        g = getattr(fm, name)

        @njit(error_model="numpy", fastmath={"contract", "nsz", "arcp"})
        def run(x, out):
            for i in range(x.size):
                out[i] = g(x[i], out[i]) * x[i]
    x = np.zeros(64, np.float32)
    run(x, np.zeros_like(x))
    asm = next(iter(run.inspect_asm().values()))
    # packed (not scalar) float arithmetic on 256/512-bit registers, and no call left to libm
    # or to the approximation itself: LLVM inlined it into the loop
    assert _PACKED_FLOAT_OP.search(asm), name
    targets = set(re.findall(r"(?:call\w*|movabsq)\s+\$?([A-Za-z_]\w*)", asm))
    called = {t for t in targets if "NumbaEnv" not in t and re.search(_CALLEE, t)}
    assert not called, called
