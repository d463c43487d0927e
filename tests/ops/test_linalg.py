"""Linear algebra ops against NumPy, with gradients by finite differences in float64."""

import numpy as np
import pytest
import tensorscript as ts
from conftest import T, grad_check
from tensorscript.jit.ops import registry

RNG = np.random.default_rng(0)
FLOATS = ["float32", "float64"]


def randn(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def close(t, expected, dtype=None, rtol=1e-5, atol=1e-6):
    got = t.detach().numpy()
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if dtype is not None:
        assert t.dtype == getattr(ts, dtype), (t.dtype, dtype)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ matmul rank cases

MATMUL_SHAPES = [
    ((3,), (3,)),  # dot
    ((2, 3), (3, 4)),  # mm
    ((3,), (3, 4)),  # vector-matrix
    ((2, 3), (3,)),  # matrix-vector
    ((5, 2, 3), (3, 4)),  # batched with a broadcast matrix
    ((3,), (5, 3, 4)),  # vector with a batch
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (4, 3, 2)),  # batch broadcasting on both sides
    ((0, 2, 3), (3, 4)),  # empty batch
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_matches_numpy(sa, sb, dtype):
    a, b = randn(*sa, dtype=dtype), randn(*sb, dtype=dtype)
    close(ts.matmul(T(a), T(b)), np.matmul(a, b), dtype, rtol=1e-4)
    close(T(a) @ T(b), np.matmul(a, b), dtype, rtol=1e-4)
    close(T(a).matmul(T(b)), np.matmul(a, b), dtype, rtol=1e-4)


@pytest.mark.parametrize("sa,sb", [s for s in MATMUL_SHAPES if 0 not in s[0]])
def test_matmul_grad(sa, sb):
    grad_check(ts.matmul, randn(*sa), randn(*sb))


def test_matmul_integer_and_noncontiguous():
    a = RNG.integers(-5, 5, size=(3, 4))
    b = RNG.integers(-5, 5, size=(4, 2))
    close(ts.matmul(T(a), T(b)), a @ b, "int64")
    x = randn(4, 6)
    t = T(x).t()  # a transposed view
    close(t @ T(x), x.T @ x)
    close(T(x)[:, ::2] @ T(x)[:, 1::2].t(), x[:, ::2] @ x[:, 1::2].T)


def test_matmul_errors():
    with pytest.raises(RuntimeError, match="same dtype"):
        ts.matmul(T(randn(2, 3, dtype="float32")), T(randn(3, 2)))
    with pytest.raises(RuntimeError, match=r"matmul.*2x3 and 4x2"):
        ts.matmul(T(randn(2, 3)), T(randn(4, 2)))
    with pytest.raises(RuntimeError, match="at least 1D"):
        ts.matmul(T(np.float64(2.0)), T(randn(3)))
    with pytest.raises(RuntimeError, match=r"mm.*2x3 and 4x2"):
        ts.mm(T(randn(2, 3)), T(randn(4, 2)))
    with pytest.raises(RuntimeError, match="2D"):
        ts.mm(T(randn(2, 3, 1)), T(randn(3, 2)))
    with pytest.raises(RuntimeError, match="bmm"):
        ts.bmm(T(randn(2, 3, 4)), T(randn(3, 4, 2)))
    with pytest.raises(RuntimeError, match="dot"):
        ts.dot(T(randn(3)), T(randn(4)))


# ------------------------------------------------------------------ the special cases


@pytest.mark.parametrize("dtype", FLOATS)
def test_mm_bmm_mv_dot_outer(dtype):
    a, b = randn(3, 4, dtype=dtype), randn(4, 5, dtype=dtype)
    close(ts.mm(T(a), T(b)), a @ b, dtype, rtol=1e-4)
    close(T(a).mm(T(b)), a @ b, dtype, rtol=1e-4)
    ba, bb = randn(2, 3, 4, dtype=dtype), randn(2, 4, 5, dtype=dtype)
    close(ts.bmm(T(ba), T(bb)), ba @ bb, dtype, rtol=1e-4)
    v = randn(4, dtype=dtype)
    close(ts.mv(T(a), T(v)), a @ v, dtype, rtol=1e-4)
    close(ts.dot(T(v), T(v)), np.dot(v, v), dtype, rtol=1e-4)
    u = randn(3, dtype=dtype)
    close(ts.outer(T(u), T(v)), np.outer(u, v), dtype, rtol=1e-4)
    close(T(u).outer(T(v)), np.outer(u, v), dtype, rtol=1e-4)


def test_special_case_grads():
    grad_check(ts.mm, randn(3, 4), randn(4, 2))
    grad_check(ts.bmm, randn(2, 3, 4), randn(2, 4, 2))
    grad_check(ts.mv, randn(3, 4), randn(4))
    grad_check(ts.dot, randn(4), randn(4))
    grad_check(ts.outer, randn(3), randn(4))


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1.5)])
def test_addmm_and_baddbmm(beta, alpha):
    s, m1, m2 = randn(3, 2), randn(3, 4), randn(4, 2)
    close(ts.addmm(T(s), T(m1), T(m2), beta=beta, alpha=alpha), beta * s + alpha * (m1 @ m2))
    grad_check(lambda a, b, c: ts.addmm(a, b, c, beta=beta, alpha=alpha), randn(2), m1, m2)
    s3, b1, b2 = randn(2, 3, 2), randn(2, 3, 4), randn(2, 4, 2)
    close(ts.baddbmm(T(s3), T(b1), T(b2), beta=beta, alpha=alpha), beta * s3 + alpha * (b1 @ b2))
    grad_check(lambda a, b, c: ts.baddbmm(a, b, c, beta=beta, alpha=alpha), s3, b1, b2)


def test_addmm_beta_zero_ignores_nan():
    s = np.full((2, 2), np.nan)
    m = randn(2, 2)
    close(ts.addmm(T(s), T(m), T(m), beta=0), m @ m)


# ------------------------------------------------------------------ einsum

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,i->", [(3,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij,kj", [(2, 3), (4, 3)]),  # implicit output: ik
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUMS)
def test_einsum(eq, shapes):
    arrays = [randn(*s) for s in shapes]
    close(ts.einsum(eq, [T(a) for a in arrays]), np.einsum(eq, *arrays), rtol=1e-10)
    grad_check(lambda *xs: ts.einsum(eq, list(xs)), *arrays)


def test_einsum_operand_summed_alone_gets_broadcast_gradient():
    grad_check(lambda a, b: ts.einsum("ij,k->ik", [a, b]), randn(2, 3), randn(4))


# ------------------------------------------------------------------ linear, bilinear


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (0, 4)])
def test_linear(shape, dtype):
    x, w, b = randn(*shape, dtype=dtype), randn(5, 4, dtype=dtype), randn(5, dtype=dtype)
    F = ts.nn.functional
    close(F.linear(T(x), T(w), T(b)), x @ w.T + b, dtype, rtol=1e-4)
    close(F.linear(T(x), T(w)), x @ w.T, dtype, rtol=1e-4)
    close(ts.linear(T(x), T(w), bias=T(b)), x @ w.T + b, dtype, rtol=1e-4)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_grad(shape):
    F = ts.nn.functional
    grad_check(F.linear, randn(*shape), randn(5, 4), randn(5))
    grad_check(F.linear, randn(*shape), randn(5, 4))


def test_linear_errors():
    F = ts.nn.functional
    with pytest.raises(RuntimeError, match=r"linear.*2x3 and 4x5"):
        F.linear(T(randn(2, 3)), T(randn(5, 4)))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(T(randn(2, 4)), T(randn(5, 4, dtype="float32")))


def test_bilinear():
    F = ts.nn.functional
    x1, x2, w, b = randn(3, 2), randn(3, 4), randn(5, 2, 4), randn(5)
    expected = np.einsum("ni,oij,nj->no", x1, w, x2) + b
    close(F.bilinear(T(x1), T(x2), T(w), T(b)), expected)
    grad_check(F.bilinear, x1, x2, w, b)


def test_registry_entries_are_complete():
    for name in (
        "matmul",
        "mm",
        "bmm",
        "mv",
        "dot",
        "outer",
        "addmm",
        "baddbmm",
        "einsum",
        "linear",
        "bilinear",
    ):
        for op in registry.overloads(name):
            assert op.grad is not None, name
            assert op.namespaces, name


def test_matmul_second_order():
    a, b = T(randn(2, 3), requires_grad=True), T(randn(3, 2), requires_grad=True)
    (ga,) = ts.autograd.grad([(a @ b).pow(2).sum()], [a], create_graph=True)
    (gb,) = ts.autograd.grad([ga.sum()], [b])
    # d/db sum(2 (a b) b^T) = 2 * (a^T 1 b^T-sum) terms: compare with finite differences
    an, bn = a.detach().numpy(), b.detach().numpy()

    def f(bv):
        return float(np.sum(2 * (an @ bv) @ bv.T))

    num = np.zeros_like(bn)
    for idx in np.ndindex(bn.shape):
        p, m = bn.copy(), bn.copy()
        p[idx] += 1e-6
        m[idx] -= 1e-6
        num[idx] = (f(p) - f(m)) / 2e-6
    np.testing.assert_allclose(gb.numpy(), num, atol=1e-6)


def test_linear_with_vector_weight_and_stacked_inputs():
    F = ts.nn.functional
    x, w = randn(2, 3, 4), randn(4)
    close(F.linear(T(x), T(w), T(np.array(0.5))), x @ w + 0.5)
    grad_check(F.linear, x, w, np.array(0.5))
    x_strided = randn(3, 2, 8)[:, :, ::2]  # a non-contiguous stack takes the same path
    w2 = randn(5, 4)
    close(F.linear(T(x_strided), T(w2)), x_strided @ w2.T)
    grad_check(ts.matmul, randn(2, 3, 4), randn(4, 2))
