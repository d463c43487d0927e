"""PyTorch semantics pinned down by differential cases: values recorded from PyTorch 2.13."""
import math

import numpy as np
import pytest

import tensorscript as ts
from conftest import T
import tensorscript.linalg  # noqa: F401

F = ts.nn.functional


def close(t, expected, atol=1e-4):
    np.testing.assert_allclose(np.asarray(t.detach().numpy(), np.float64), expected, atol=atol,
                               rtol=1e-4)


SCATTER_REDUCE = {
    ("sum", True): ([11.0, 1.0, 3.0, 6.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 1.0, 4.0, 2.0]),
    ("sum", False): ([10.0, -1.0, 3.0, 2.0], [0.0, 0.0, 3.0, 0.0], [1.0, 2.0, 1.0, 4.0, 2.0]),
    ("mean", True): ([3.6667, 0.3333, 3.0, 3.0], [0.3333, 0.6667, 3.0, 2.0],
                     [0.3333, 0.6667, 0.3333, 2.0, 0.6667]),
    ("mean", False): ([5.0, -0.5, 3.0, 2.0], [0.0, 0.0, 3.0, 0.0], [0.5, 1.0, 0.5, 4.0, 1.0]),
    ("prod", True): ([25.0, -0.0, 3.0, 8.0], [25.0, -0.0, 3.0, 8.0], [5.0, 0.0, 5.0, 16.0, -4.0]),
    ("prod", False): ([25.0, -0.0, 3.0, 2.0], [0.0, 0.0, 3.0, 0.0], [5.0, 0.0, 5.0, 4.0, -2.0]),
    ("amax", True): ([5.0, 2.0, 3.0, 4.0], [0.0, 2.0, 3.0, 4.0], [0.5, 0.0, 0.5, 0.0, 0.0]),
    ("amax", False): ([5.0, 0.0, 3.0, 2.0], [0.0, 0.0, 3.0, 0.0], [0.5, 0.0, 0.5, 4.0, 2.0]),
    ("amin", True): ([1.0, -1.0, 3.0, 2.0], [1.0, 0.0, 3.0, 0.0], [0.0, 2.0, 0.0, 4.0, 0.0]),
    ("amin", False): ([5.0, -1.0, 3.0, 2.0], [0.0, 0.0, 3.0, 0.0], [0.5, 2.0, 0.5, 4.0, 0.0]),
}


@pytest.mark.parametrize("reduce,include_self", list(SCATTER_REDUCE))
def test_scatter_reduce_gradients(reduce, include_self):
    x = T([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    src = T([5.0, -1.0, 5.0, 2.0, 0.0], requires_grad=True)
    out = x.scatter_reduce(0, T([0, 1, 0, 3, 1]), src, reduce, include_self=include_self)
    (out * T([1.0, 2.0, 3.0, 4.0])).sum().backward()
    want_out, want_x, want_src = SCATTER_REDUCE[(reduce, include_self)]
    close(out, want_out)
    close(x.grad, want_x)
    close(src.grad, want_src)


@pytest.mark.parametrize("fn", ["relu", "leaky_relu", "elu", "hardtanh", "silu"])
def test_functional_inplace_writes_into_the_input(fn):
    y = T([-1.5, 0.5, 2.0])
    ref = getattr(F, fn)(y.clone())
    out = getattr(F, fn)(y, inplace=True)
    assert out is y
    close(y, ref.numpy())


def test_functional_inplace_gradient_and_trace():
    z = T([-1.0, 2.0], requires_grad=True)
    w = z * 2.0
    F.leaky_relu(w, 0.1, True)  # inplace given by position
    w.sum().backward()
    close(z.grad, [0.2, 2.0])

    def f(x):
        y = x * 2.0
        F.relu(y, inplace=True)
        return y + 1

    traced = ts.trace(f, (T([-1.0, 1.0]),))
    close(traced(T([3.0, -4.0])), [7.0, 1.0])


def test_sign_of_nan_is_zero():
    x = T([float("nan"), -2.0, 0.0, 3.0])
    close(ts.sign(x), [0.0, -1.0, 0.0, 1.0])
    close(ts.sgn(x), [0.0, -1.0, 0.0, 1.0])


def test_binary_float_ops_and_addc():
    a = T([1.0, -2.0, 0.0, 3.0], requires_grad=True)
    b = T([-1.0, 1.0, -1.0, 0.5], requires_grad=True)
    y = ts.copysign(a, b) + ts.hypot(a, b) + ts.addcdiv(a, a, b, value=0.5) + ts.addcmul(b, a, b)
    y.sum().backward()
    close(y, [-1.0858, 0.2361, 0.0, 14.0414])
    close(a.grad, [-0.7929, 0.6056, -0.5, 4.4864])
    close(b.grad, [0.7929, 0.4472, 0.0, -1.8356])
    r = ts.addcmul(T([1, 2]), T([1, 2]), T([3, 4]), value=2)
    assert r.dtype == ts.int64 and r.tolist() == [7, 18]
    c = ts.copysign(T([1, 2]), -1.0)
    assert c.dtype == ts.float32 and c.tolist() == [-1.0, -2.0]
    s = ts.square(T([True, False]))
    assert s.dtype == ts.int64
    assert T([1.0, 2.0]).rsub(T([5.0, 5.0])).tolist() == [4.0, 3.0]


def test_linalg_norms_trace_aminmax():
    x = T([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    assert math.isclose(ts.linalg.norm(x).item(), 5.590169906616211, rel_tol=1e-6)
    assert ts.linalg.norm(x, 1.0).item() == 6.0
    assert ts.linalg.norm(x, float("inf")).item() == 6.0
    assert math.isclose(ts.linalg.norm(x, 2.0).item(), 5.123475551605225, rel_tol=1e-5)
    assert math.isclose(ts.linalg.norm(x, "nuc").item(), 7.359543800354004, rel_tol=1e-5)
    close(ts.linalg.vector_norm(x, 3.0, dim=0), [1.0400419, 4.1601677, 3.0365891])
    close(ts.linalg.norm(x, dim=1), [3.7416575, 4.1533117])
    close(ts.linalg.norm(x, -1.0, [0, 1], True), [[1.5]])
    lo, hi = ts.aminmax(x)
    assert lo.item() == -2.0 and hi.item() == 4.0
    lo, hi = ts.aminmax(x, dim=1, keepdim=True)
    close(lo, [[-2.0], [-1.0]])
    close(hi, [[3.0], [4.0]])
    assert ts.trace(T(np.arange(9).reshape(3, 3))).item() == 12
    w = T([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
    (ts.linalg.norm(w) + ts.linalg.vector_norm(w, 3.0, dim=0).sum() + w.trace()).backward()
    close(w.grad, [[2.1034, -0.5889, 1.5127], [0.3206, 2.6400, -0.2873]])


def test_diag_embed_and_is_floating_point():
    close(ts.diag_embed(T([1.0, 2.0]), 1), [[0, 1, 0], [0, 0, 2], [0, 0, 0]])
    close(ts.diag_embed(T([[1.0, 2.0], [3.0, 4.0]])), [[[1, 0], [0, 2]], [[3, 0], [0, 4]]])
    assert T([1.0]).is_floating_point() and not T([1]).is_floating_point()
    cu = ts.CompilationUnit(
        "def f(x: torch.Tensor, v: torch.Tensor) -> Tuple[bool, torch.Tensor, torch.Tensor]:\n"
        "    return x.is_floating_point(), torch.diag_embed(v), x.trace()\n")
    flag, d, t = cu.f(T([[1.0, 2.0], [3.0, 4.0]]), T([1.0, 2.0]))
    assert flag is True and t.item() == 5.0
    close(d, [[1, 0], [0, 2]])


def test_cumprod_second_order():
    a = T([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    g, = ts.autograd.grad(a.cumprod(0).sum(), a, create_graph=True)
    g2, = ts.autograd.grad(g.sum(), a)
    close(g, [33.0, 16.0, 10.0, 6.0])
    close(g2, [32.0, 24.0, 17.0, 11.0])
    b = T([1.0, 0.0, 3.0, 4.0], requires_grad=True)
    g, = ts.autograd.grad(b.cumprod(0).sum(), b, create_graph=True)
    g2, = ts.autograd.grad(g.sum(), b)
    close(g, [1.0, 16.0, 0.0, 0.0])
    close(g2, [16.0, 24.0, 5.0, 3.0])


def test_topk_ties_follow_pytorch():
    x = T([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 1.0]])
    assert x.topk(2, 1)[1].tolist() == [[1, 2], [1, 2]]
    assert x.topk(3, 1, largest=False)[1].tolist() == [[3, 0, 2], [3, 2, 0]]
    assert T([1.0, 2, 2, 2, 0, 2]).topk(3)[1].tolist() == [3, 5, 2]
    # k * 64 <= n: the partial-sort path keeps the first maximum
    y = T(np.r_[np.zeros(10), np.ones(60), np.zeros(30)].astype(np.float32))
    assert y.topk(1)[1].tolist() == [10]


def test_torch_trace_of_a_matrix_when_torch_is_tensorscript():
    x = T([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    t = ts.trace(x)
    t.backward()
    assert t.item() == 5.0
    close(x.grad, [[1.0, 0.0], [0.0, 1.0]])
    traced = ts.trace(lambda m: ts.trace(m) * 2, (x,))
    assert traced(T([[1.0, 0.0], [0.0, 2.0]])).item() == 6.0


with open(__import__("os").path.join(__import__("os").path.dirname(__file__), "data",
                                     "pytorch_products_and_pointwise.json")) as _fh:
    RECORDED = __import__("json").load(_fh)


@pytest.mark.parametrize("rec", RECORDED, ids=[r["name"] for r in RECORDED])
def test_products_distances_and_pointwise_match_pytorch(rec):
    xs = [T(np.asarray(x, np.float32), requires_grad=True) for x in rec["inputs"]]
    env = dict(zip("ab", xs))
    env["torch"] = ts
    y = eval(rec["expr"], env)
    expected = np.asarray(rec["output"])
    assert list(y.shape) == list(expected.shape)
    close(y, expected)
    w = T(np.linspace(0.5, 1.5, max(y.numel(), 1)).reshape(y.shape).astype(np.float32))
    (y * w).sum().backward()
    for x, g in zip(xs, rec["grads"]):
        close(x.grad, np.asarray(g))


def test_index_helpers_counts_and_logspace():
    assert ts.triu_indices(3, 4, 1).tolist() == [[0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3]]
    assert ts.tril_indices(3, 3, -1).tolist() == [[1, 2, 2], [0, 0, 1]]
    close(ts.logspace(0, 2, 3), [1.0, 10.0, 100.0])
    close(ts.logspace(0, 1, 3, base=2.0), [1.0, 1.4142135, 2.0])
    assert ts.bincount(T([0, 2, 2, 5]), minlength=7).tolist() == [1, 0, 2, 0, 0, 1, 0]
    assert ts.bincount(T([0, 2, 2]), ts.tensor([0.5, 1.0, 2.0])).dtype == ts.float32
    assert ts.heaviside(T([-1.0, 0.0, 2.0]), T([0.5])).tolist() == [0.0, 0.5, 1.0]
