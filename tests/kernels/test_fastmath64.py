"""fastmath64's sin and cos against libm's (``math.sin``/``math.cos``, correctly rounded in
practice): within one ulp wherever ``within_bound`` holds, and vectorizable."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from tensorscript.kernels import fastmath64 as fm64

BOUND = fm64.REDUCTION_BOUND


def _over_array(f):
    @njit(error_model="numpy")
    def run(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = f(x[i])
        return out
    return run


FAST = {"sin": _over_array(fm64.sin_reduced), "cos": _over_array(fm64.cos_reduced)}
LIBM = {"sin": _over_array(math.sin), "cos": _over_array(math.cos)}
SCALAR = {"sin": math.sin, "cos": math.cos}


def _ulps(got, want):
    """|got - want| in units of the last place of ``want`` (the spacing at its magnitude)."""
    return np.abs(got - want) / np.spacing(np.abs(want))


def _random_arguments(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([
        rng.uniform(-4.0, 4.0, 1_000_000),
        rng.uniform(-1e5, 1e5, 1_000_000),
        rng.uniform(-BOUND, BOUND, 500_000),
        rng.normal(0.0, 1e-3, 100_000),
        np.geomspace(1e-300, 1.0, 10_000) * rng.choice([-1.0, 1.0], 10_000),
    ])


def _near_multiples_of_half_pi() -> np.ndarray:
    """The doubles closest to k*pi/2: their reduced arguments lose the most bits."""
    k = np.arange(1, 2 ** 20, dtype=np.float64)
    centre = k * (np.pi / 2)
    below = np.nextafter(centre, 0.0)
    above = np.nextafter(centre, np.inf)
    x = np.concatenate([centre, below, above,
                        np.nextafter(below, 0.0), np.nextafter(above, np.inf)])
    x = x[x < BOUND]
    return np.concatenate([x, -x])


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_within_one_ulp_of_libm(name):
    x = _random_arguments(7)
    got, want = FAST[name](x), LIBM[name](x)
    ulps = _ulps(got, want)
    assert ulps.max() <= 1.0, (name, x[np.argmax(ulps)])
    rel = np.abs(got - want) / np.abs(want)
    assert rel.max() <= 2.3e-16


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_arguments_near_the_zeros_keep_their_low_bits(name):
    x = _near_multiples_of_half_pi()
    got, want = FAST[name](x), LIBM[name](x)
    ulps = _ulps(got, want)
    # near k*pi the result of sin is tiny (~1e-17 of x): only a reduction exact to far more
    # than 53 bits gets it within an ulp
    worst = np.argmax(ulps)
    assert ulps.max() <= 1.0, (name, x[worst], got[worst], want[worst])


SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -2.2e-308, math.nextafter(BOUND, 0.0),
           -math.nextafter(BOUND, 0.0), math.pi / 4, math.pi / 2, 3 * math.pi / 4]


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_zeros_tiny_and_edge_arguments(name):
    x = np.array(SPECIAL)
    got = FAST[name](x)
    for value, result in zip(SPECIAL, got):
        want = SCALAR[name](value)
        assert _ulps(np.array([result]), np.array([want]))[0] <= 1.0, value
        if want == 0.0 or abs(value) < 1e-8:  # sin(+-0) keeps the sign; tiny x gives x itself
            assert result == want and math.copysign(1.0, result) == math.copysign(1.0, want)


def test_beyond_the_bound_the_results_are_finite_placeholders():
    x = np.array([math.inf, -math.inf, math.nan, 1e300, BOUND, -BOUND])
    assert np.array_equal(FAST["sin"](x), np.zeros(6))
    assert np.array_equal(FAST["cos"](x), np.ones(6))
    within = njit(lambda v: fm64.within_bound(v))
    assert [within(v) for v in x] == [False] * 6
    assert within(math.nextafter(BOUND, 0.0)) and within(-1.0) and within(0.0)


@settings(max_examples=300)
@given(x=st.floats(-BOUND, BOUND, exclude_min=True, exclude_max=True))
def test_any_double_within_the_bound(x):
    for name in ("sin", "cos"):
        got = FAST[name](np.array([x]))[0]
        assert _ulps(np.array([got]), np.array([SCALAR[name](x)]))[0] <= 1.0


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_a_loop_over_them_vectorizes(name):
    run = FAST[name]
    run(np.linspace(0.0, 1.0, 8))
    asm = run.inspect_asm(run.signatures[0])
    # packed double-precision arithmetic (SSE2 ``mulpd`` up to AVX-512 ``vfmadd231pd``)
    assert re.search(r"\bv?(mul|add|sub|fmadd\d+|fnmadd\d+|fmsub\d+)pd\b", asm)
