"""Pointwise ops against NumPy, driven by the registry: every op needs a row here.

A pointwise op registered in ``jit/ops/elementwise.py`` without a reference below fails
``test_every_pointwise_op_has_a_reference``; so does a differentiable one without a gradient
case (``test_every_differentiable_op_is_gradchecked``).
"""
import math

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.jit.ops import registry
from tensorscript.jit.ops.dispatch import bind_arguments
from tensorscript.jit.ops.registry import INPLACE, NONDIFFERENTIABLE, POINTWISE

from conftest import DTYPES, T, expected_dtype, layouts, sample

MODULES = ("tensorscript.jit.ops.elementwise", "tensorscript.jit.ops.creation")


def _mine(op) -> bool:
    return getattr(op.impl, "__module__", None) in MODULES


MY_OPS = [op for op in registry.all_ops() if _mine(op)]


def apply(op, *args, **kwargs):
    bound = bind_arguments(op, args, kwargs)
    assert bound is not None, f"{op.qualified_name} rejects {args} {kwargs}"
    return registry.bind(op, *bound)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _erfc(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(x)


def _gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name -> (reference on float64 values, result rule, domain)
# rule "float": integer inputs give float32; "same": dtype kept; "bool": bool result
UNARY = {
    "neg": (np.negative, "same", None), "negative": (np.negative, "same", None),
    "pos": (lambda x: x, "same", None), "positive": (lambda x: x, "same", None),
    "abs": (np.abs, "same", None), "absolute": (np.abs, "same", None),
    "sign": (np.sign, "same", None), "sgn": (np.sign, "same", None),
    "square": (np.square, "same", None),
    "exp": (np.exp, "float", None), "exp2": (np.exp2, "float", None),
    "expm1": (np.expm1, "float", None), "log": (np.log, "float", "positive"),
    "log2": (np.log2, "float", "positive"), "log10": (np.log10, "float", "positive"),
    "log1p": (np.log1p, "float", "positive"), "sqrt": (np.sqrt, "float", "positive"),
    "rsqrt": (lambda x: 1 / np.sqrt(x), "float", "positive"),
    "sin": (np.sin, "float", None), "cos": (np.cos, "float", None),
    "tan": (np.tan, "float", "unit"), "asin": (np.arcsin, "float", "unit"),
    "acos": (np.arccos, "float", "unit"), "atan": (np.arctan, "float", None),
    "arcsin": (np.arcsin, "float", "unit"), "arccos": (np.arccos, "float", "unit"),
    "arctan": (np.arctan, "float", None),
    "sinh": (np.sinh, "float", None), "cosh": (np.cosh, "float", None),
    "tanh": (np.tanh, "float", None), "sigmoid": (_sigmoid, "float", None),
    "erf": (_erf, "float", None), "erfc": (_erfc, "float", None),
    "floor": (np.floor, "same", None), "ceil": (np.ceil, "same", None),
    "trunc": (np.trunc, "same", None), "fix": (np.trunc, "same", None),
    "round": (np.round, "same", None),
    "frac": (lambda x: x - np.trunc(x), "float_only", None),
    "reciprocal": (np.reciprocal, "float", "positive"),
    "relu": (lambda x: np.maximum(x, 0), "same", None),
    "silu": (lambda x: x * _sigmoid(x), "float", None),
    "gelu": (_gelu, "float", None),
    "softplus": (lambda x: np.log1p(np.exp(x)), "float", None),
    "nan_to_num": (np.nan_to_num, "same", None),
    "logical_not": (np.logical_not, "bool", None), "isnan": (np.isnan, "bool", None),
    "isinf": (np.isinf, "bool", None), "isfinite": (np.isfinite, "bool", None),
    "isposinf": (np.isposinf, "bool", None), "isneginf": (np.isneginf, "bool", None),
    "signbit": (np.signbit, "bool", None),
    "bitwise_not": (np.invert, "int_only", None),
}

# name -> (reference, rule): rule "promote" (result_type), "float" (true division), "bool"
BINARY = {
    "add": (np.add, "promote"), "sub": (np.subtract, "promote"), "mul": (np.multiply, "promote"),
    "multiply": (np.multiply, "promote"),
    "div": (np.true_divide, "float"), "true_divide": (np.true_divide, "float"),
    "divide": (np.true_divide, "float"),
    "floor_divide": (np.floor_divide, "promote"), "remainder": (np.remainder, "promote"),
    "fmod": (np.fmod, "promote"), "pow": (np.power, "promote"),
    "atan2": (np.arctan2, "float"), "arctan2": (np.arctan2, "float"),
    "maximum": (np.maximum, "promote"), "minimum": (np.minimum, "promote"),
    "fmax": (np.fmax, "promote"), "fmin": (np.fmin, "promote"),
    "eq": (np.equal, "bool"), "ne": (np.not_equal, "bool"), "lt": (np.less, "bool"),
    "le": (np.less_equal, "bool"), "gt": (np.greater, "bool"), "ge": (np.greater_equal, "bool"),
    "greater": (np.greater, "bool"), "less": (np.less, "bool"),
    "greater_equal": (np.greater_equal, "bool"), "less_equal": (np.less_equal, "bool"),
    "not_equal": (np.not_equal, "bool"),
    "logical_and": (np.logical_and, "bool"), "logical_or": (np.logical_or, "bool"),
    "logical_xor": (np.logical_xor, "bool"),
    "bitwise_and": (np.bitwise_and, "int"), "bitwise_or": (np.bitwise_or, "int"),
    "bitwise_xor": (np.bitwise_xor, "int"),
    "bitwise_left_shift": (np.left_shift, "int"), "bitwise_right_shift": (np.right_shift, "int"),
}
# Pointwise ops with more operands or attributes, tested by their own tests below.
OTHER = {"rsub", "rdiv", "rfloor_divide", "rremainder", "rpow", "clamp", "clip", "clamp_min",
         "clamp_max", "lerp", "where", "float_power", "clone"}

TOL = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}


def test_every_pointwise_op_has_a_reference():
    names = {op.name for op in MY_OPS if op.has(POINTWISE) and not op.has(INPLACE)}
    missing = names - set(UNARY) - set(BINARY) - OTHER
    assert not missing, f"pointwise ops without a reference in this file: {sorted(missing)}"


def _domain(shape, dtype, domain, rng):
    if domain == "positive":
        if np.dtype(dtype).kind in "iu":
            return rng.integers(1, 6, shape).astype(dtype)
        if dtype == "bool":
            return np.ones(shape, bool)
        return rng.uniform(0.1, 4, shape).astype(dtype)
    if domain == "unit":
        if np.dtype(dtype).kind in "iub":
            return np.zeros(shape, dtype)
        return rng.uniform(-0.9, 0.9, shape).astype(dtype)
    return sample(shape, dtype, rng)


def _expected_unary_dtype(rule, dt):
    dt = np.dtype(dt)
    if rule == "float":
        return dt if dt.kind == "f" else np.dtype(np.float32)
    if rule == "bool":
        return np.dtype(np.bool_)
    return dt


def _check(out, ref, dtype):
    assert out.dtype.np == np.dtype(dtype), (out.dtype, dtype)
    got = out.numpy()
    if np.dtype(dtype).kind == "f":
        tol = TOL[np.dtype(dtype).name]
        np.testing.assert_allclose(got.astype(np.float64), ref.astype(np.float64), rtol=tol * 10,
                                   atol=tol * 10, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, ref.astype(dtype))


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary(name, dtype, rng):
    ref, rule, domain = UNARY[name]
    fn = getattr(ts, name, None) or (lambda x: getattr(x, name)())
    x = _domain((2, 3), dtype, domain, rng)
    kind = np.dtype(dtype).kind
    if (rule == "float_only" and kind != "f") or (rule == "int_only" and kind == "f"):
        with pytest.raises((RuntimeError, TypeError)):
            fn(T(x))
        return
    if name in ("neg", "negative") and dtype == "bool":
        with pytest.raises(RuntimeError, match="Negation"):
            fn(T(x))
        return
    if kind in "bu" and name in ("abs", "absolute", "sign", "sgn", "pos", "positive", "relu",
                                 "square"):
        return  # PyTorch's results on bool/uint8 for these are not worth pinning down
    out_dtype = _expected_unary_dtype(rule, dtype)
    for _, t in layouts(x):
        out = fn(t)
        with np.errstate(all="ignore"):
            expected = ref(np.asarray(x, dtype=np.float64) if kind == "f" or rule == "float" else x)
        _check(out, np.asarray(expected), out_dtype)
    assert fn(T(x[:0])).shape == (0, 3)
    _check(fn(T(x[0, 0])), np.asarray(ref(np.asarray(x[0, 0], dtype=np.float64)
                                          if kind == "f" or rule == "float" else x[0, 0])), out_dtype)


BIN_DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _binary_result(rule, a, b):
    if rule == "bool":
        return np.dtype(np.bool_)
    dt = expected_dtype(a, b)
    if rule == "float" and dt.kind != "f":
        return np.dtype(np.float32)
    return dt


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("da", BIN_DTYPES)
@pytest.mark.parametrize("db", ["bool", "int64", "float32", "float64"])
def test_binary_tensor_tensor(name, da, db, rng):
    ref, rule = BINARY[name]
    fn = getattr(ts, name)
    a = sample((2, 3), da, rng)
    b = sample((3,), db, rng, low=1) if db != "bool" else np.ones(3, bool)  # nonzero divisors
    dt = _binary_result(rule, a, b)
    if rule == "int" and dt.kind == "f":
        with pytest.raises(RuntimeError):
            fn(T(a), T(b))
        return
    if name in ("sub", "floor_divide", "remainder", "fmod") and dt == np.bool_:
        with pytest.raises(RuntimeError):
            fn(T(a), T(b))
        return
    if rule == "int" and name.endswith("shift") and dt == np.bool_:
        return
    for _, ta in layouts(a):
        out = fn(ta, T(b))
        work = dt if rule != "bool" else expected_dtype(a, b)
        with np.errstate(all="ignore"):
            expected = ref(a.astype(work), b.astype(work))
        if name == "pow" and dt == np.bool_:
            expected = np.power(a.astype(np.int64), b.astype(np.int64)).astype(bool)
        _check(out, np.asarray(expected), dt)


@pytest.mark.parametrize("name", sorted(n for n, (_, r) in BINARY.items() if r != "int"))
@pytest.mark.parametrize("da", ["bool", "int32", "int64", "float16", "float32", "float64"])
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_binary_tensor_scalar(name, da, scalar, rng):
    ref, rule = BINARY[name]
    fn = getattr(ts, name)
    a = sample((4,), da, rng)
    dt = _binary_result(rule, a, scalar)
    method = getattr(T(a), name)
    if name in ("sub", "floor_divide", "remainder", "fmod") and dt == np.bool_:
        with pytest.raises(RuntimeError):
            method(scalar)
        return
    if name in ("logical_and", "logical_or", "logical_xor", "atan2", "arctan2", "maximum",
                "minimum", "fmax", "fmin"):
        return  # tensor-only in PyTorch
    out = method(scalar)
    work = dt if rule != "bool" else expected_dtype(a, scalar)
    with np.errstate(all="ignore"):
        expected = ref(a.astype(work), np.asarray(scalar).astype(work))
    if name == "pow" and dt == np.bool_:
        return
    _check(out, np.asarray(expected), dt)


# ------------------------------------------------------------------ PyTorch's edge cases

def test_integer_and_bool_rules():
    i32 = ts.tensor([1, 2], dtype=ts.int32)
    assert (i32 + 1).dtype is ts.int32
    assert (ts.tensor([1, 2]) * 2.5).dtype is ts.float32
    assert (ts.tensor([1.0], dtype=ts.float32) + ts.tensor(1.0, dtype=ts.float64)).dtype is ts.float32
    assert (i32 + ts.tensor(1, dtype=ts.int64)).dtype is ts.int32
    assert (i32 + ts.tensor(1.0, dtype=ts.float64)).dtype is ts.float64
    b = ts.tensor([True, False])
    assert (b + b).dtype is ts.bool and (b + b).tolist() == [True, False]
    assert (b + 1).dtype is ts.int64
    with pytest.raises(RuntimeError, match="Subtraction"):
        b - b
    with pytest.raises(RuntimeError, match="Negation"):
        -b
    assert ts.floor(i32).dtype is ts.int32 and ts.round(i32).dtype is ts.int32
    with pytest.raises(RuntimeError):
        ts.frac(i32)
    with pytest.raises(TypeError):
        ~ts.tensor([1.0])
    assert (~b).tolist() == [False, True]
    assert (~ts.tensor([0, 1])).tolist() == [-1, -2]


def test_division_semantics():
    a = ts.tensor([-7, 7, -7, 7])
    b = ts.tensor([2, 2, -2, -2])
    assert (a // b).tolist() == [-4, 3, 3, -4]
    assert (a % b).tolist() == [1, 1, -1, -1]
    assert ts.fmod(a, b).tolist() == [-1, 1, -1, 1]
    assert ts.div(a, b, rounding_mode="trunc").tolist() == [-3, 3, 3, -3]
    assert ts.div(a, b, rounding_mode="floor").tolist() == [-4, 3, 3, -4]
    assert (a / b).dtype is ts.float32 and (a / b).tolist() == [-3.5, 3.5, 3.5, -3.5]
    f = ts.tensor([-7.5, 7.5])
    assert ts.div(f, 2, rounding_mode="trunc").tolist() == [-3.0, 3.0]
    assert (f // 2).tolist() == [-4.0, 3.0]
    assert (f % -2).tolist() == [-1.5, -0.5]
    for bad in (lambda: a // ts.tensor([0, 1, 1, 1]), lambda: a % 0, lambda: ts.remainder(a, 0),
                lambda: ts.div(a, 0, rounding_mode="floor")):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            bad()
    assert (ts.tensor([1.0, -1.0, 0.0]) / 0).tolist()[:2] == [math.inf, -math.inf]
    assert math.isnan((ts.tensor([0.0]) / 0).item())
    with pytest.raises(RuntimeError, match="rounding_mode"):
        ts.div(a, b, rounding_mode="round")


def test_pow_forms():
    x = ts.tensor([1.0, 2.0, 3.0])
    assert (x ** 2).tolist() == [1.0, 4.0, 9.0]
    assert (2 ** x).tolist() == [2.0, 4.0, 8.0]
    assert (x ** x).tolist() == [1.0, 4.0, 27.0]
    i = ts.tensor([1, 2, 3])
    assert (2 ** i).dtype is ts.int64 and (2 ** i).tolist() == [2, 4, 8]
    assert (i ** 2).dtype is ts.int64
    assert (i ** 0.5).dtype is ts.float32
    assert (2.5 ** i).dtype is ts.float32
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    assert ts.pow(2, x).tolist() == [2.0, 4.0, 8.0]


def test_reflected_operators():
    x = ts.tensor([1.0, 2.0, 4.0])
    assert (1 - x).tolist() == [0.0, -1.0, -3.0]
    assert (8 / x).tolist() == [8.0, 4.0, 2.0]
    assert (9 // x).tolist() == [9.0, 4.0, 2.0]
    assert (5 % x).tolist() == [0.0, 1.0, 1.0]
    assert (2 * x).tolist() == [2.0, 4.0, 8.0]
    assert (1 + x).tolist() == [2.0, 3.0, 5.0]
    assert (1 < x).tolist() == [False, True, True]
    assert (3 == ts.tensor([3, 4])).tolist() == [True, False]
    assert (np.float64(2.0) * x).dtype is ts.float32
    i = ts.tensor([1, 2, 3])
    assert (i & 1).tolist() == [1, 0, 1] and (i | 4).tolist() == [5, 6, 7]
    assert (i ^ 1).tolist() == [0, 3, 2] and (i << 1).tolist() == [2, 4, 6]
    assert (i >> 1).tolist() == [0, 1, 1]
    assert (x == None) is False  # noqa: E711


def test_round_half_even_and_decimals():
    x = ts.tensor([0.5, 1.5, 2.5, -0.5, -1.5])
    assert ts.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0]
    y = ts.tensor([1.2345, 2.5555], dtype=ts.float64)
    np.testing.assert_allclose(ts.round(y, decimals=2).numpy(), [1.23, 2.56])


def test_clamp():
    x = ts.tensor([-2.0, 0.5, 3.0])
    assert ts.clamp(x, min=0.0, max=1.0).tolist() == [0.0, 0.5, 1.0]
    assert x.clamp(min=0).tolist() == [0.0, 0.5, 3.0]
    assert x.clip(max=1).tolist() == [-2.0, 0.5, 1.0]
    i = ts.tensor([-1, 0, 2])
    assert ts.clamp(i, min=0).dtype is ts.int64
    assert ts.clamp(i, min=0.5).dtype is ts.float32
    assert ts.clamp(i, min=0.5).tolist() == [0.5, 0.5, 2.0]
    lo, hi = ts.tensor([0.0, 1.0, 0.0]), ts.tensor([1.0, 2.0, 2.5])
    assert ts.clamp(x, lo, hi).tolist() == [0.0, 1.0, 2.5]
    assert ts.clamp_min(x, 0.0).tolist() == [0.0, 0.5, 3.0]
    assert ts.clamp_max(x, 0.0).tolist() == [-2.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="At least one"):
        ts.clamp(x)
    x.clamp_(0.0, 1.0)
    assert x.tolist() == [0.0, 0.5, 1.0]


def test_where_and_lerp():
    c = ts.tensor([True, False, True])
    x, y = ts.tensor([1.0, 2.0, 3.0]), ts.tensor([10.0, 20.0, 30.0])
    assert ts.where(c, x, y).tolist() == [1.0, 20.0, 3.0]
    assert ts.where(c, x, 0.0).tolist() == [1.0, 0.0, 3.0]
    assert ts.where(c, 5, y).tolist() == [5.0, 20.0, 5.0]
    assert ts.where(c, 1.0, 0.0).dtype is ts.float32
    assert ts.where(c, 1, 0).dtype is ts.int64
    assert ts.where(c, ts.tensor([1, 2, 3]), 0.5).dtype is ts.float32
    assert ts.where(ts.tensor([[True], [False]]), x, y).shape == (2, 3)
    with pytest.raises(RuntimeError, match="boolean"):
        ts.where(ts.tensor([1.0, 0.0, 1.0]), x, y)
    assert ts.lerp(x, y, 0.5).tolist() == [5.5, 11.0, 16.5]
    assert ts.lerp(x, y, ts.tensor([0.0, 1.0, 0.5])).tolist() == [1.0, 20.0, 16.5]


def test_gelu_softplus_variants():
    x = np.linspace(-4, 4, 9)
    t = T(x)
    np.testing.assert_allclose(ts.gelu(t).numpy(), _gelu(x), rtol=1e-6)
    tanh_ref = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(ts.gelu(t, approximate="tanh").numpy(), tanh_ref, rtol=1e-6)
    np.testing.assert_allclose(ts.softplus(t, beta=2, threshold=3).numpy(),
                               np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2), rtol=1e-6)
    big = ts.tensor([-100.0, 100.0])
    assert ts.sigmoid(big)[1].item() == 1.0 and 0 <= ts.sigmoid(big)[0].item() < 1e-37
    np.testing.assert_allclose(ts.sigmoid(T(np.array([-30.0, -80.0]))).numpy(),
                               1 / (1 + np.exp([30.0, 80.0])), rtol=1e-6)
    np.testing.assert_allclose(ts.softplus(big).numpy(), [3.7835e-44, 100.0], rtol=1e-4)


def test_nan_to_num_and_predicates():
    x = ts.tensor([math.nan, math.inf, -math.inf, 1.0])
    out = ts.nan_to_num(x, nan=0.0, posinf=9.0, neginf=-9.0)
    assert out.tolist() == [0.0, 9.0, -9.0, 1.0]
    assert ts.nan_to_num(x)[1].item() == np.finfo(np.float32).max
    assert ts.isnan(x).tolist() == [True, False, False, False]
    assert ts.isinf(x).tolist() == [False, True, True, False]
    assert ts.isfinite(x).tolist() == [False, False, False, True]
    assert ts.isnan(ts.tensor([1, 2])).tolist() == [False, False]


def test_overflowing_scalars_wrap():
    x = ts.tensor([1, 2], dtype=ts.int8)
    assert (x + 1000).dtype is ts.int8
    assert (x + 1000).tolist() == [(1 + 1000 + 128) % 256 - 128, (2 + 1000 + 128) % 256 - 128]


def test_broadcast_error_is_pytorchs():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\)"):
        ts.ones(2, 3) + ts.ones(4)


# ------------------------------------------------------------------ in-place variants

def test_inplace_variants_exist_and_match():
    names = {op.name for op in MY_OPS if op.has(POINTWISE) and not op.has(INPLACE)}
    for name in sorted(names & set(UNARY)):
        if name in ("pos", "positive", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
                    "signbit", "fix", "absolute", "sgn", "arcsin", "arccos", "arctan"):
            continue
        inplace = [op for op in registry.overloads(name + "_")]
        assert inplace, f"{name}_ missing"
        x = T(sample((3,), "float64" if name != "bitwise_not" else "int64",
                     np.random.default_rng(2), low=1))
        expected = getattr(x, name)()
        y = x.clone()
        r = getattr(y, name + "_")()
        assert r is y
        np.testing.assert_allclose(y.numpy().astype(np.float64),
                                   expected.numpy().astype(np.float64))


def test_inplace_arithmetic_and_cast_rules():
    x = ts.tensor([1.0, 2.0])
    y = x
    x += 1
    x *= ts.tensor([2.0, 3.0])
    x -= 1
    x /= 2
    assert y is x and x.tolist() == [1.5, 4.0]
    i = ts.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    i.mul_(3)
    assert i.tolist() == [3, 6]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ts.ones(3).add_(ts.ones(2, 3))
    f = ts.ones(2, 3)
    f.add_(ts.tensor([1.0, 2.0, 3.0]), alpha=2)
    assert f.tolist() == [[3.0, 5.0, 7.0]] * 2


# ------------------------------------------------------------------ gradients

def _float64(shape, rng, low=0.2, high=0.9):
    return T(rng.uniform(low, high, shape), dtype=ts.float64)


# qualified name -> function building (fn, inputs)
SPECIAL_GRAD = {
    "clamp": lambda r: (lambda x: ts.clamp(x, 0.4, 0.7), [_float64((2, 3), r)]),
    "clip": lambda r: (lambda x: ts.clip(x, min=0.4), [_float64((2, 3), r)]),
    "clamp.Tensor": lambda r: (lambda x, lo, hi: ts.clamp(x, lo, hi),
                               [_float64((2, 3), r), _float64((3,), r, 0.2, 0.5),
                                _float64((3,), r, 0.6, 0.9)]),
    "clip.Tensor": lambda r: (lambda x, lo: ts.clip(x, lo),
                              [_float64((2, 3), r), _float64((3,), r, 0.2, 0.5)]),
    "where.self": lambda r: (lambda x, y: ts.where(T(np.array([True, False, True])), x, y),
                             [_float64((2, 3), r), _float64((3,), r)]),
    "where.ScalarOther": lambda r: (lambda x: ts.where(T(np.array([True, False, True])), x, 2.0),
                                    [_float64((2, 3), r)]),
    "where.ScalarSelf": lambda r: (lambda y: ts.where(T(np.array([True, False, True])), 2.0, y),
                                   [_float64((2, 3), r)]),
    "where.Scalar": None,
    "gelu": lambda r: (lambda x: ts.gelu(x, approximate="tanh") + ts.gelu(x),
                       [_float64((2, 3), r, -2, 2)]),
    "softplus": lambda r: (lambda x: ts.softplus(x, beta=2, threshold=1.0),
                           [_float64((2, 3), r, -1, 1)]),
    "pow.Scalar": lambda r: (lambda e: ts.pow(2.0, e), [_float64((2, 3), r)]),
    "div.Tensor_mode": lambda r: (lambda a, b: ts.div(a, b, rounding_mode="floor"),
                                  [_float64((2, 3), r), _float64((3,), r)]),
    "divide.Tensor_mode": lambda r: (lambda a, b: ts.divide(a, b, rounding_mode="trunc"),
                                     [_float64((2, 3), r), _float64((3,), r)]),
    "div.Scalar_mode": lambda r: (lambda a: ts.div(a, 0.3, rounding_mode="trunc"),
                                  [_float64((2, 3), r)]),
    "round.decimals": lambda r: (lambda a: ts.round(a, decimals=1), [_float64((2, 3), r)]),
    "to.dtype": lambda r: (lambda a: a.to(ts.float64), [_float64((2, 3), r)]),
    "to.device": lambda r: (lambda a: a.to("cpu"), [_float64((2, 3), r)]),
    "to.other": lambda r: (lambda a: a.to(ts.ones(1, dtype=ts.float64)), [_float64((2, 3), r)]),
    "type.dtype": lambda r: (lambda a: a.type(ts.float64), [_float64((2, 3), r)]),
    "type_as": lambda r: (lambda a: a.type_as(ts.ones(1, dtype=ts.float64)), [_float64((2, 3), r)]),
    "tril": lambda r: (lambda a: ts.tril(a, -1) + a.tril(), [_float64((3, 3), r)]),
    "triu": lambda r: (lambda a: ts.triu(a, 1), [_float64((3, 4), r)]),
    "lerp.Scalar": lambda r: (lambda a, b: ts.lerp(a, b, 0.3), [_float64((2, 3), r), _float64((3,), r)]),
    "maximum": lambda r: (ts.maximum, [_float64((2, 3), r), _float64((3,), r)]),
}
# conversions to lower precision are checked in tests/interpreter/test_autograd.py
GRAD_SKIP = {"float.method", "half.method", "double.method", "where.Scalar", "item", "detach"}


def _default_case(op, rng):
    args = []
    fn_args = []
    for p in op.schema.params:
        if p.kwarg_only:
            continue
        k = p.type.kind
        if k == "Tensor":
            shape = (2, 3) if not fn_args else (3,)
            fn_args.append(_float64(shape, rng))
            args.append(None)
        elif k == "Scalar":
            args.append(0.7)
        elif p.has_default:
            break
        else:
            return None
    n = len(fn_args)

    def fn(*xs):
        it = iter(xs)
        return apply(op, *[next(it) if a is None else a for a in args])
    return fn, fn_args if n else None


GRAD_OPS = [op for op in MY_OPS if op.grad is not None and not op.has(INPLACE)
            and not op.has(NONDIFFERENTIABLE) and op.qualified_name not in GRAD_SKIP]


def _grad_case(op, rng):
    if op.qualified_name in SPECIAL_GRAD:
        return SPECIAL_GRAD[op.qualified_name](rng)
    if op.name in SPECIAL_GRAD and op.schema.overload == "":
        return SPECIAL_GRAD[op.name](rng)
    return _default_case(op, rng)


def test_every_differentiable_op_is_gradchecked():
    rng = np.random.default_rng(0)
    missing = [op.qualified_name for op in GRAD_OPS if _grad_case(op, rng) is None
               or _grad_case(op, rng)[1] is None]
    assert not missing, f"no gradient case for {missing}"


@pytest.mark.parametrize("op", GRAD_OPS, ids=lambda op: op.qualified_name)
def test_gradcheck(op):
    fn, inputs = _grad_case(op, np.random.default_rng(7))
    for x in inputs:
        x.requires_grad_()
    assert ts.autograd.gradcheck(fn, inputs)


INPLACE_GRAD = [op for op in MY_OPS if op.has(INPLACE) and op.grad is not None
                and op.extra.get("out_of_place") in {o.qualified_name for o in GRAD_OPS}
                and op.extra.get("out_of_place") not in SPECIAL_GRAD
                and not op.name.startswith(("eq", "ne", "lt", "le", "gt", "ge"))]


@pytest.mark.parametrize("op", INPLACE_GRAD, ids=lambda op: op.qualified_name)
def test_inplace_gradcheck(op):
    """An in-place op on a non-leaf gives the out-of-place op's gradient."""
    fn, inputs = _default_case(registry.get(op.extra["out_of_place"]), np.random.default_rng(3))
    out_of_place = registry.get(op.extra["out_of_place"])
    for x in inputs:
        x.requires_grad_()

    def inplace(*xs):
        first = xs[0] * 1.0
        rest = list(xs[1:])
        args = []
        it = iter([first] + rest)
        for p in out_of_place.schema.params:
            if p.kwarg_only:
                continue
            if p.type.kind == "Tensor":
                args.append(next(it))
            elif p.type.kind == "Scalar":
                args.append(0.7)
            else:
                break
        return apply(op, *args)
    assert ts.autograd.gradcheck(inplace, inputs)
