"""torch.nn.functional ops against plain-loop NumPy references, exact values and finite
differences (float64)."""

import math

import numpy as np
import pytest
import tensorscript as ts
from conftest import T, grad_check
from tensorscript.jit.ops import registry
from tensorscript.jit.ops.registry import Namespace

F = ts.nn.functional
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
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------ references


def conv2d_ref(x, w, b, stride, pad, dil, groups):
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for b_ in range(n):
        for oc in range(o):
            g = oc // og
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0
                    for ci in range(cg):
                        for a in range(kh):
                            for q in range(kw):
                                acc += (
                                    xp[
                                        b_,
                                        g * cg + ci,
                                        i * stride[0] + a * dil[0],
                                        j * stride[1] + q * dil[1],
                                    ]
                                    * w[oc, ci, a, q]
                                )
                    out[b_, oc, i, j] = acc + (0.0 if b is None else b[oc])
    return out


def pool_out(size, k, s, p, d, ceil):
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool2d_ref(x, k, s, p, d, ceil):
    n, c, h, w = x.shape
    oh, ow = pool_out(h, k[0], s[0], p[0], d[0], ceil), pool_out(w, k[1], s[1], p[1], d[1], ceil)
    out = np.full((n, c, oh, ow), -np.inf)
    idx = np.zeros((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for q in range(k[1]):
                    r, col = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + q * d[1]
                    if 0 <= r < h and 0 <= col < w:
                        v = x[:, :, r, col]
                        better = v > out[:, :, i, j]
                        out[:, :, i, j] = np.where(better, v, out[:, :, i, j])
                        idx[:, :, i, j] = np.where(better, r * w + col, idx[:, :, i, j])
    return out, idx


def avg_pool2d_ref(x, k, s, p, ceil, include_pad, divisor):
    n, c, h, w = x.shape
    oh, ow = pool_out(h, k[0], s[0], p[0], 1, ceil), pool_out(w, k[1], s[1], p[1], 1, ceil)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, c1 = min(r0 + k[0], h + p[0]), min(c0 + k[1], w + p[1])
            pool = (r1 - r0) * (c1 - c0)
            r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
            total = x[:, :, r0:r1, c0:c1].sum(axis=(2, 3))
            div = divisor or (pool if include_pad else (r1 - r0) * (c1 - c0))
            out[:, :, i, j] = total / div
    return out


def adaptive_avg_ref(x, out_hw):
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + tuple(out_hw))
    for i in range(out_hw[0]):
        r0, r1 = (i * h) // out_hw[0], -(-(i + 1) * h // out_hw[0])
        for j in range(out_hw[1]):
            c0, c1 = (j * w) // out_hw[1], -(-(j + 1) * w // out_hw[1])
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-1, -2))
    return out


# ------------------------------------------------------------------ convolution

CONV_CASES = [
    # (input shape, weight shape, stride, padding, dilation, groups)
    ((2, 3, 6, 5), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((2, 4, 7, 6), (6, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2),
    ((1, 2, 8, 8), (3, 2, 2, 3), (1, 2), (2, 1), (2, 1), 1),
    ((3, 4, 5, 5), (4, 1, 3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise
    ((0, 3, 5, 5), (2, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # empty batch
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("xs,ws,stride,pad,dil,groups", CONV_CASES)
def test_conv2d(xs, ws, stride, pad, dil, groups, dtype):
    x, w, b = randn(*xs, dtype=dtype), randn(*ws, dtype=dtype), randn(ws[0], dtype=dtype)
    got = F.conv2d(T(x), T(w), T(b), stride, pad, dil, groups)
    close(got, conv2d_ref(x, w, b, stride, pad, dil, groups), dtype, rtol=1e-4, atol=1e-5)
    got = F.conv2d(T(x), T(w), None, stride=stride, padding=pad, dilation=dil, groups=groups)
    close(got, conv2d_ref(x, w, None, stride, pad, dil, groups), dtype, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("xs,ws,stride,pad,dil,groups", CONV_CASES[:4])
def test_conv2d_grad(xs, ws, stride, pad, dil, groups):
    xs = (1,) + xs[1:]
    grad_check(
        lambda x, w, b: F.conv2d(x, w, b, stride, pad, dil, groups),
        randn(*xs),
        randn(*ws),
        randn(ws[0]),
    )


def test_conv2d_noncontiguous_unbatched_and_same_padding():
    x = randn(2, 5, 6, 3).transpose(0, 3, 1, 2)  # channels-last memory
    w = randn(4, 3, 3, 2)
    close(
        F.conv2d(T(x), T(w), padding=1),
        conv2d_ref(np.ascontiguousarray(x), w, None, (1, 1), (1, 1), (1, 1), 1),
    )
    close(
        F.conv2d(T(x[0]), T(w), padding=1), conv2d_ref(x[:1], w, None, (1, 1), (1, 1), (1, 1), 1)[0]
    )
    # "same" with an even kernel pads one more after, as PyTorch does
    same = F.conv2d(T(x), T(w), padding="same", dilation=2)
    assert tuple(same.shape) == (2, 4, 5, 6)
    xp = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)))
    close(same, conv2d_ref(xp, w, None, (1, 1), (0, 0), (2, 2), 1))
    close(F.conv2d(T(x), T(w), padding="valid"), conv2d_ref(x, w, None, (1, 1), (0, 0), (1, 1), 1))
    grad_check(lambda a, b: F.conv2d(a, b, padding="same"), randn(1, 2, 4, 5), randn(3, 2, 2, 3))


def test_conv1d():
    x, w, b = randn(2, 3, 9), randn(4, 3, 3), randn(4)
    ref = conv2d_ref(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1), (1, 2), 1)[:, :, 0]
    close(F.conv1d(T(x), T(w), T(b), stride=2, padding=1, dilation=2), ref)
    close(ts.conv1d(T(x), T(w), T(b), 2, 1, 2), ref)
    grad_check(lambda a, c, d: F.conv1d(a, c, d, 2, 1, 2), randn(1, 3, 7), w, b)
    grad_check(lambda a, c: F.conv1d(a, c, groups=3), randn(2, 3, 5), randn(6, 1, 2))


def test_conv_errors():
    with pytest.raises(RuntimeError, match="conv2d.*channels"):
        F.conv2d(T(randn(1, 3, 5, 5)), T(randn(2, 4, 3, 3)))
    with pytest.raises(RuntimeError, match="conv2d.*kernel size"):
        F.conv2d(T(randn(1, 3, 2, 2)), T(randn(2, 3, 3, 3)))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(T(randn(1, 3, 5, 5, dtype="float32")), T(randn(2, 3, 3, 3)))
    with pytest.raises(RuntimeError, match="groups"):
        F.conv2d(T(randn(1, 4, 5, 5)), T(randn(3, 2, 3, 3)), groups=2)
    with pytest.raises(RuntimeError, match="strided"):
        F.conv2d(T(randn(1, 3, 5, 5)), T(randn(2, 3, 3, 3)), stride=2, padding="same")


def test_conv2d_double_backward():
    x = T(randn(1, 2, 4, 4), requires_grad=True)
    w = T(randn(3, 2, 2, 2), requires_grad=True)
    (gx,) = ts.autograd.grad([F.conv2d(x, w).pow(2).sum()], [x], create_graph=True)
    (gw,) = ts.autograd.grad([gx.sum()], [w])
    xn = x.detach().numpy()

    def f(wv):  # sum of d/dx sum(conv(x, w)^2) = sum of 2 conv^T(conv(x, w), w)
        y = conv2d_ref(xn, wv, None, (1, 1), (0, 0), (1, 1), 1)
        return float(
            np.sum(2 * y * conv2d_ref(np.ones_like(xn), wv, None, (1, 1), (0, 0), (1, 1), 1))
        )

    wn = w.detach().numpy()
    num = np.zeros_like(wn)
    for idx in np.ndindex(wn.shape):
        p, m = wn.copy(), wn.copy()
        p[idx] += 1e-6
        m[idx] -= 1e-6
        num[idx] = (f(p) - f(m)) / 2e-6
    np.testing.assert_allclose(gw.numpy(), num, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ pooling

MAX_POOL_CASES = [
    # kernel, stride, padding, dilation, ceil_mode
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (1, 1), (1, 1), (1, 1), False),
    ((3, 2), (2, 1), (1, 0), (1, 2), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((2, 2), (3, 3), (0, 0), (2, 1), True),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("k,s,p,d,ceil", MAX_POOL_CASES)
def test_max_pool2d(k, s, p, d, ceil, dtype):
    x = randn(2, 3, 7, 8, dtype=dtype)
    ref, ref_idx = max_pool2d_ref(x.astype(np.float64), k, s, p, d, ceil)
    close(F.max_pool2d(T(x), k, s, p, d, ceil), ref, dtype)
    out, idx = F.max_pool2d(T(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
    close(out, ref, dtype)
    close(idx, ref_idx, "int64")
    close(F.max_pool2d_with_indices(T(x), k, s, p, d, ceil)[1], ref_idx, "int64")


@pytest.mark.parametrize("k,s,p,d,ceil", MAX_POOL_CASES)
def test_max_pool2d_grad(k, s, p, d, ceil):
    x = RNG.permutation(2 * 7 * 6).reshape(1, 2, 7, 6) / 10.0  # distinct values: no ties
    grad_check(lambda t: F.max_pool2d(t, k, s, p, d, ceil), x)


def test_max_pool_defaults_unbatched_noncontiguous_and_1d():
    x = randn(3, 6, 8)
    close(
        F.max_pool2d(T(x), 2), max_pool2d_ref(x[None], (2, 2), (2, 2), (0, 0), (1, 1), False)[0][0]
    )
    xt = randn(2, 8, 6, 3).transpose(0, 3, 1, 2)
    close(
        F.max_pool2d(T(xt), 3, 1, 1), max_pool2d_ref(xt, (3, 3), (1, 1), (1, 1), (1, 1), False)[0]
    )
    x1 = randn(2, 3, 9)
    ref1 = max_pool2d_ref(x1[:, :, None], (1, 3), (1, 2), (0, 1), (1, 1), False)[0][:, :, 0]
    close(F.max_pool1d(T(x1), 3, 2, 1), ref1)
    grad_check(lambda t: F.max_pool1d(t, 2), RNG.permutation(12).reshape(1, 2, 6) * 1.0)


def test_max_pool_nan_wins():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    assert np.isnan(F.max_pool2d(T(x), 2).numpy()).all()


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(T(randn(1, 1, 4, 4)), 2, 2, 2)
    with pytest.raises(RuntimeError, match="max_pool2d"):
        F.max_pool2d(T(randn(4, 4)), 2)


AVG_CASES = [
    # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    ((2, 2), None, (0, 0), False, True, None),
    ((3, 3), (2, 2), (1, 1), False, True, None),
    ((3, 3), (2, 2), (1, 1), False, False, None),
    ((3, 2), (2, 2), (1, 1), True, True, None),
    ((3, 3), (2, 2), (1, 0), True, False, None),
    ((2, 3), (1, 2), (1, 1), False, True, 5),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("k,s,p,ceil,include,div", AVG_CASES)
def test_avg_pool2d(k, s, p, ceil, include, div, dtype):
    x = randn(2, 3, 7, 6, dtype=dtype)
    got = F.avg_pool2d(T(x), k, s, p, ceil, include, div) if s else F.avg_pool2d(T(x), k)
    ref = avg_pool2d_ref(x.astype(np.float64), k, s or k, p, ceil, include, div)
    close(got, ref, dtype, rtol=1e-5)
    grad_check(lambda t: F.avg_pool2d(t, k, s or k, p, ceil, include, div), randn(1, 2, 5, 6))


def test_avg_pool1d():
    x = randn(2, 3, 9)
    ref = avg_pool2d_ref(x[:, :, None], (1, 3), (1, 2), (0, 1), False, False, None)[:, :, 0]
    close(F.avg_pool1d(T(x), 3, 2, 1, count_include_pad=False), ref)
    grad_check(lambda t: F.avg_pool1d(t, 3, 2, 1), randn(1, 2, 7))


@pytest.mark.parametrize("out", [(1, 1), (3, 4), (5, 3), (7, 6), (2, 1)])
def test_adaptive_avg_pool2d(out):
    x = randn(2, 3, 7, 6)
    close(F.adaptive_avg_pool2d(T(x), out), adaptive_avg_ref(x, out))
    close(F.adaptive_avg_pool2d(T(x.astype("float32")), out), adaptive_avg_ref(x, out), "float32")
    grad_check(lambda t: F.adaptive_avg_pool2d(t, out), randn(1, 2, 7, 6))


def test_adaptive_avg_pool_single_int_unbatched_and_1d():
    x = randn(3, 5, 5)
    close(F.adaptive_avg_pool2d(T(x), 2), adaptive_avg_ref(x, (2, 2)))
    x1 = randn(2, 3, 7)
    close(F.adaptive_avg_pool1d(T(x1), 3), adaptive_avg_ref(x1[:, :, None], (1, 3))[:, :, 0])


# ------------------------------------------------------------------ embedding


@pytest.mark.parametrize("dtype", FLOATS)
def test_embedding(dtype):
    table = randn(10, 4, dtype=dtype)
    idx = np.array([[1, 2, 1], [9, 0, 3]])
    close(F.embedding(T(idx), T(table)), table[idx], dtype)
    close(ts.embedding(T(table), T(idx)), table[idx], dtype)
    close(F.embedding(T(idx.astype("int32")), T(table)), table[idx], dtype)


def test_embedding_backward_accumulates_and_skips_padding():
    table = T(randn(6, 3), requires_grad=True)
    idx = T(np.array([[1, 2, 1], [5, 1, 2]]))
    g = randn(2, 3, 3)
    F.embedding(idx, table, padding_idx=2).backward(T(g))
    expected = np.zeros((6, 3))
    for (i, j), k in np.ndenumerate(idx.numpy()):
        if k != 2:
            expected[k] += g[i, j]
    close(table.grad, expected)
    table.grad = None
    F.embedding(idx, table, padding_idx=-4).backward(T(g))  # -4 wraps to 2
    close(table.grad, expected)
    table.grad = None
    F.embedding(idx, table, scale_grad_by_freq=True).backward(T(g))
    counts = np.bincount(idx.numpy().ravel(), minlength=6)
    expected = np.zeros((6, 3))
    for (i, j), k in np.ndenumerate(idx.numpy()):
        expected[k] += g[i, j] / counts[k]
    close(table.grad, expected)


def test_embedding_errors_and_max_norm():
    table = randn(5, 3)
    with pytest.raises(IndexError):
        F.embedding(T(np.array([0, 5])), T(table))
    with pytest.raises(IndexError):
        F.embedding(T(np.array([-1])), T(table))
    with pytest.raises(RuntimeError):
        F.embedding(T(np.array([0.5])), T(table))
    w = T(table.copy())
    out = F.embedding(T(np.array([0, 1])), w, max_norm=1.0)
    assert np.all(np.linalg.norm(out.numpy(), axis=1) <= 1.0 + 1e-6)
    np.testing.assert_allclose(w.numpy()[2:], table[2:])  # rows not looked up are untouched


# ------------------------------------------------------------------ dropout


def _seed(n):
    registry.get("manual_seed").impl(n)  # the generator itself, whatever the eager wrapper returns


def test_dropout():
    x = np.ones((200, 50))
    close(F.dropout(T(x), 0.3, training=False), x)
    _seed(0)
    y = F.dropout(T(x), 0.3).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    _seed(0)
    np.testing.assert_array_equal(F.dropout(T(x), 0.3).numpy(), y)  # the seeded generator
    close(F.dropout(T(x), 1.0), np.zeros_like(x))
    xt = T(x, requires_grad=True)
    out = ts.dropout(xt, 0.5, True)
    out.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), (out.detach().numpy() != 0) * 2.0)
    with pytest.raises(ValueError):
        F.dropout(T(x), 1.5)


# ------------------------------------------------------------------ activations

ACTIVATIONS = [
    ("leaky_relu", {}, lambda x: np.where(x > 0, x, 0.01 * x)),
    ("leaky_relu", {"negative_slope": 0.2}, lambda x: np.where(x > 0, x, 0.2 * x)),
    ("elu", {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (
        "selu",
        {},
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    ),
    ("celu", {"alpha": 2.0}, lambda x: np.where(x > 0, x, 2.0 * (np.exp(x / 2.0) - 1))),
    ("hardtanh", {}, lambda x: np.clip(x, -1, 1)),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}, lambda x: np.clip(x, -0.5, 2.0)),
    ("relu6", {}, lambda x: np.clip(x, 0, 6)),
    ("hardsigmoid", {}, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("hardswish", {}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("logsigmoid", {}, lambda x: -np.log1p(np.exp(-x))),
    ("softsign", {}, lambda x: x / (1 + np.abs(x))),
    ("tanhshrink", {}, lambda x: x - np.tanh(x)),
    ("mish", {}, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("threshold", {"threshold": 0.1, "value": -2.0}, lambda x: np.where(x > 0.1, x, -2.0)),
    ("relu", {}, lambda x: np.maximum(x, 0)),
    ("sigmoid", {}, lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", {}, np.tanh),
    ("silu", {}, lambda x: x / (1 + np.exp(-x))),
    ("softplus", {}, lambda x: np.log1p(np.exp(x))),
    ("gelu", {}, lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,kwargs,ref", ACTIVATIONS)
def test_activation(name, kwargs, ref, dtype):
    x = np.concatenate([randn(3, 4), [[-7.0, -3.5, 3.5, 7.0]]]).astype(dtype)  # past the kinks
    close(getattr(F, name)(T(x), **kwargs), ref(x.astype(np.float64)), dtype, rtol=1e-4, atol=1e-5)
    grad_check(lambda t: getattr(F, name)(t, **kwargs), randn(3, 4) * 2)


def test_activations_are_reachable_in_the_functional_namespace():
    for name in (
        "relu",
        "gelu",
        "silu",
        "sigmoid",
        "tanh",
        "softplus",
        "leaky_relu",
        "elu",
        "hardtanh",
        "relu6",
        "softmax",
        "log_softmax",
        "softmin",
    ):
        assert registry.functions_in(Namespace.FUNCTIONAL, name), name
    close(F.relu(T(np.array([-1.0, 2.0])), inplace=False), [0.0, 2.0])
    close(F.silu(T(np.array([0.0])), inplace=False), [0.0])


def test_gradients_accumulate_across_backward_calls():
    x, y = T(randn(3, 4), requires_grad=True), T(randn(3, 4))
    for _ in range(2):
        F.mse_loss(x, y).backward()  # the first .grad must be writable for the second
    close(x.grad, 4 * (x.detach().numpy() - y.numpy()) / 12)


# ------------------------------------------------------------------ softmax family


def softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_family(dtype):
    x = randn(3, 4, 5, dtype=dtype)
    close(F.softmax(T(x), dim=-1), softmax_ref(x, -1), dtype)
    close(
        F.log_softmax(T(x), dim=0), np.log(softmax_ref(x.astype(np.float64), 0)), dtype, rtol=1e-4
    )
    close(F.softmin(T(x), dim=1), softmax_ref(-x, 1), dtype)
    close(F.softmax(T(x), 2, 3, ts.float64), softmax_ref(x.astype(np.float64), 2), "float64")
    close(F.softmax(input=T(x)), softmax_ref(x, 0), dtype)  # implicit dim: 0 for 3-D input
    close(
        F.log_softmax(input=T(x[0])),
        np.log(softmax_ref(x[0].astype(np.float64), 1)),
        dtype,
        rtol=1e-4,
    )
    grad_check(lambda t: F.softmin(t, 1), randn(2, 3))
    grad_check(lambda t: F.softmax(input=t), randn(2, 3))
    grad_check(lambda t: F.log_softmax(input=t, dim=0), randn(2, 3))


# ------------------------------------------------------------------ normalization


def layer_norm_ref(x, k, w, b, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,k", [((4, 6), 1), ((2, 3, 4), 2), ((5,), 1), ((0, 3), 1)])
def test_layer_norm(shape, k, dtype):
    x = (randn(*shape) * 3 + 10).astype(dtype)  # an offset mean tests the variance's stability
    ns = list(shape[len(shape) - k :])
    w, b = randn(*ns, dtype=dtype), randn(*ns, dtype=dtype)
    xd = x.astype(np.float64)
    close(
        F.layer_norm(T(x), ns, T(w), T(b)),
        layer_norm_ref(xd, k, w, b, 1e-5),
        dtype,
        rtol=1e-4,
        atol=1e-5,
    )
    close(
        F.layer_norm(T(x), ns), layer_norm_ref(xd, k, None, None, 1e-5), dtype, rtol=1e-4, atol=1e-5
    )
    close(
        ts.layer_norm(T(x), ns, eps=0.1),
        layer_norm_ref(xd, k, None, None, 0.1),
        dtype,
        rtol=1e-4,
        atol=1e-5,
    )


def test_layer_norm_grad_and_errors():
    grad_check(lambda x, w, b: F.layer_norm(x, [4], w, b), randn(3, 4), randn(4), randn(4))
    grad_check(lambda x: F.layer_norm(x, [2, 3]), randn(2, 2, 3))
    grad_check(lambda x, w: F.layer_norm(x, [3], w), randn(2, 3), randn(3))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(T(randn(2, 3)), [4])


def test_batch_norm_eval_and_train():
    x = randn(4, 3, 2, 2)
    mean, var, w, b = randn(3), np.abs(randn(3)) + 0.5, randn(3), randn(3)
    shape = (1, 3, 1, 1)
    expected = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-5) * w.reshape(
        shape
    ) + b.reshape(shape)
    close(F.batch_norm(T(x), T(mean), T(var), T(w), T(b), False, 0.1, 1e-5), expected)
    rm, rv = T(mean.copy()), T(var.copy())
    out = F.batch_norm(T(x), rm, rv, T(w), T(b), training=True, momentum=0.2)
    bm, bv = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    close(
        out,
        (x - bm.reshape(shape)) / np.sqrt(bv.reshape(shape) + 1e-5) * w.reshape(shape)
        + b.reshape(shape),
    )
    close(rm, 0.8 * mean + 0.2 * bm)
    close(rv, 0.8 * var + 0.2 * x.var(axis=(0, 2, 3), ddof=1))
    grad_check(
        lambda t, c, d: F.batch_norm(t, None, None, c, d, training=True),
        randn(3, 2, 2),
        randn(2),
        randn(2),
    )
    grad_check(
        lambda t, c, d: F.batch_norm(t, T(mean[:2]), T(var[:2]), c, d),
        randn(3, 2),
        randn(2),
        randn(2),
    )
    with pytest.raises(ValueError):
        F.batch_norm(T(randn(1, 3)), None, None, training=True)


def test_group_and_instance_norm():
    x = randn(2, 6, 3)
    w, b = randn(6), randn(6)
    g = x.reshape(2, 3, -1)
    ref = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(
        x.shape
    )
    close(F.group_norm(T(x), 3, T(w), T(b)), ref * w[:, None] + b[:, None])
    grad_check(lambda t, c, d: F.group_norm(t, 2, c, d), randn(2, 4, 3), randn(4), randn(4))
    ref_in = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    close(F.instance_norm(T(x)), ref_in)
    grad_check(lambda t: F.instance_norm(t), randn(2, 3, 4))


def test_normalize_cosine_pairwise():
    a, b = randn(3, 4), randn(3, 4)
    close(F.normalize(T(a), dim=1), a / np.linalg.norm(a, axis=1, keepdims=True))
    close(F.normalize(T(a), p=1.0, dim=0), a / np.abs(a).sum(0, keepdims=True))
    close(F.normalize(T(np.zeros((2, 3)))), np.zeros((2, 3)))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    close(F.cosine_similarity(T(a), T(b), dim=1), cos)
    close(
        ts.cosine_similarity(T(a), T(b[:1])),
        (a * b[:1]).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b[0]),
    )
    close(F.pairwise_distance(T(a), T(b)), np.linalg.norm(a - b + 1e-6, axis=1))
    close(
        F.pairwise_distance(T(a), T(b), p=1.0, keepdim=True),
        np.abs(a - b + 1e-6).sum(1, keepdims=True),
    )
    grad_check(lambda t: F.normalize(t, dim=1), a)
    grad_check(lambda t: F.normalize(t, p=3.0, dim=0), a)
    grad_check(lambda t, u: F.cosine_similarity(t, u, dim=1), a, b)
    grad_check(lambda t, u: F.cosine_similarity(t, u, dim=0), a, b[:1])
    grad_check(lambda t, u: F.pairwise_distance(t, u), a, b)


# ------------------------------------------------------------------ losses


def ce_ref(x, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """Class-index cross entropy for (N, C) input, written out per sample."""
    n, c = x.shape
    w = np.ones(c) if weight is None else weight
    logp = np.log(softmax_ref(x, 1))
    losses, denom = [], 0.0
    for i in range(n):
        if t[i] == ignore_index:
            losses.append(0.0)
            continue
        nll = -w[t[i]] * logp[i, t[i]]
        smooth = -(w * logp[i]).sum() / c
        losses.append((1 - smoothing) * nll + smoothing * smooth)
        denom += w[t[i]]
    losses = np.array(losses)
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / denom}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_class_indices(reduction, weighted, smoothing):
    x, t = randn(5, 4), np.array([0, 3, 1, -100, 3])
    w = np.abs(randn(4)) + 0.1 if weighted else None
    kw = {
        "weight": None if w is None else T(w),
        "ignore_index": -100,
        "reduction": reduction,
        "label_smoothing": smoothing,
    }
    close(F.cross_entropy(T(x), T(t), **kw), ce_ref(x, t, w, -100, reduction, smoothing))
    grad_check(lambda a: F.cross_entropy(a, T(t), **kw), x)


def test_cross_entropy_spatial_probability_targets_and_float32():
    x, t = randn(2, 3, 4), RNG.integers(0, 3, size=(2, 4))
    flat = np.moveaxis(x, 1, -1).reshape(-1, 3)
    close(
        F.cross_entropy(T(x), T(t), reduction="none"),
        ce_ref(flat, t.reshape(-1), reduction="none").reshape(2, 4),
    )
    close(F.cross_entropy(T(x.astype("float32")), T(t)), ce_ref(flat, t.reshape(-1)), "float32")
    p = softmax_ref(randn(3, 4), 1)
    logits = randn(3, 4)
    expected = -(p * np.log(softmax_ref(logits, 1))).sum(1).mean()
    close(F.cross_entropy(T(logits), T(p)), expected)
    grad_check(lambda a, q: F.cross_entropy(a, q, label_smoothing=0.1), logits, p)
    close(
        F.cross_entropy(T(logits), T(p), reduction="none"),
        -(p * np.log(softmax_ref(logits, 1))).sum(1),
    )
    grad_check(lambda a, q: F.cross_entropy(a, q, reduction="none"), logits, p)
    grad_check(lambda a: F.cross_entropy(a, T(t), reduction="none", label_smoothing=0.3), x)
    close(F.cross_entropy(T(logits[0]), T(np.array(2))), -np.log(softmax_ref(logits[:1], 1))[0, 2])


def test_cross_entropy_errors():
    with pytest.raises(IndexError):
        F.cross_entropy(T(randn(2, 3)), T(np.array([0, 3])))
    with pytest.raises(RuntimeError):
        F.cross_entropy(T(randn(2, 3)), T(np.array([0, 1, 2])))
    with pytest.raises(ValueError):
        F.cross_entropy(T(randn(2, 3)), T(np.array([0, 1])), reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(reduction):
    lp = np.log(softmax_ref(randn(4, 3), 1))
    t = np.array([2, 0, 1, 1])
    w = np.array([0.2, 1.0, 3.0])
    per = -w[t] * lp[np.arange(4), t]
    per[1] = 0.0
    expected = {"none": per, "sum": per.sum(), "mean": per.sum() / (w[t].sum() - w[0])}[reduction]
    close(F.nll_loss(T(lp), T(t), T(w), ignore_index=0, reduction=reduction), expected)
    grad_check(lambda a: F.nll_loss(a, T(t), T(w), ignore_index=0, reduction=reduction), lp)
    close(F.nll_loss(T(lp), T(t), size_average=False), -lp[np.arange(4), t].sum())  # legacy flags


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    x, y = randn(3, 4), randn(3, 4)
    d = x - y
    red = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    cases = [
        ("mse_loss", {}, d**2),
        ("l1_loss", {}, np.abs(d)),
        (
            "smooth_l1_loss",
            {"beta": 0.5},
            np.where(np.abs(d) < 0.5, 0.5 * d**2 / 0.5, np.abs(d) - 0.25),
        ),
        (
            "huber_loss",
            {"delta": 0.5},
            np.where(np.abs(d) < 0.5, 0.5 * d**2, 0.5 * (np.abs(d) - 0.25)),
        ),
    ]
    for name, kw, elem in cases:
        fn = getattr(F, name)
        close(fn(T(x), T(y), reduction=reduction, **kw), red(elem))
        grad_check(lambda a, b, fn=fn, kw=kw: fn(a, b, reduction=reduction, **kw), x, y)
    close(F.mse_loss(T(x.astype("float32")), T(y.astype("float32"))), np.mean(d**2), "float32")


def test_kl_div():
    x = np.log(softmax_ref(randn(3, 4), 1))
    t = softmax_ref(randn(3, 4), 1)
    elem = t * (np.log(t) - x)
    close(F.kl_div(T(x), T(t), reduction="batchmean"), elem.sum() / 3)
    close(F.kl_div(T(x), T(np.log(t)), reduction="sum", log_target=True), elem.sum())
    grad_check(lambda a, b: F.kl_div(a, b, reduction="mean"), x, t)
    grad_check(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True), x, np.log(t))


def test_binary_cross_entropy():
    p = 1 / (1 + np.exp(-randn(3, 4)))
    y = (RNG.random((3, 4)) > 0.5).astype(np.float64)
    w = np.abs(randn(4)) + 0.1
    elem = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    close(F.binary_cross_entropy(T(p), T(y)), elem.mean())
    close(F.binary_cross_entropy(T(p), T(y), weight=T(w), reduction="none"), elem * w)
    grad_check(lambda a: F.binary_cross_entropy(a, T(y), weight=T(w)), p)
    # logs are clamped at -100, so certain wrong answers give 100, not inf
    close(
        F.binary_cross_entropy(T(np.array([0.0, 1.0])), T(np.array([1.0, 0.0])), reduction="none"),
        [100.0, 100.0],
    )
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(T(np.array([1.5])), T(np.array([1.0])))


def test_binary_cross_entropy_with_logits():
    x, y = randn(3, 4) * 3, RNG.random((3, 4))
    w, pw = np.abs(randn(4)) + 0.1, np.abs(randn(4)) + 0.5
    sig = 1 / (1 + np.exp(-x))
    elem = -(pw * y * np.log(sig) + (1 - y) * np.log(1 - sig)) * w
    close(
        F.binary_cross_entropy_with_logits(T(x), T(y)),
        (-(y * np.log(sig) + (1 - y) * np.log(1 - sig))).mean(),
    )
    close(
        F.binary_cross_entropy_with_logits(T(x), T(y), T(w), reduction="sum", pos_weight=T(pw)),
        elem.sum(),
    )
    grad_check(
        lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, pos_weight=d), x, y, w, pw
    )
    close(
        F.binary_cross_entropy_with_logits(T(np.array([1000.0])), T(np.array([0.0]))), 1000.0
    )  # stable


# ------------------------------------------------------------------ one_hot, pad, attention


def test_one_hot():
    t = np.array([[0, 2], [1, 4]])
    close(F.one_hot(T(t), 5), np.eye(5, dtype=np.int64)[t], "int64")
    close(F.one_hot(T(t)), np.eye(5, dtype=np.int64)[t], "int64")
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(T(t), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(T(np.array([-1])), 3)


def test_pad():
    x = randn(2, 3, 4)
    close(F.pad(T(x), [1, 2]), np.pad(x, ((0, 0), (0, 0), (1, 2))))
    close(
        F.pad(T(x), [1, 1, 2, 0], value=-1.0),
        np.pad(x, ((0, 0), (2, 0), (1, 1)), constant_values=-1.0),
    )
    close(F.pad(T(x), (-1, 1)), np.pad(x, ((0, 0), (0, 0), (0, 1)))[:, :, 1:])  # negative crops
    close(F.pad(T(x), [2, 1], mode="reflect"), np.pad(x, ((0, 0), (0, 0), (2, 1)), mode="reflect"))
    close(
        F.pad(T(x), [2, 1, 1, 2], mode="replicate"),
        np.pad(x, ((0, 0), (1, 2), (2, 1)), mode="edge"),
    )
    close(F.pad(T(x), [3, 1], mode="circular"), np.pad(x, ((0, 0), (0, 0), (3, 1)), mode="wrap"))
    close(F.pad(T(x.astype("float32")), [1, 1]), np.pad(x, ((0, 0), (0, 0), (1, 1))), "float32")
    for mode in ("constant", "reflect", "replicate", "circular"):
        grad_check(lambda t, mode=mode: F.pad(t, [2, 1, 1, 1], mode=mode), randn(2, 3, 4))
    grad_check(lambda t: F.pad(t, [-1, 2]), randn(2, 4))


def test_scaled_dot_product_attention():
    q, k, v = randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 2)
    s = q @ k.transpose(0, 2, 1) / 2.0
    close(F.scaled_dot_product_attention(T(q), T(k), T(v)), softmax_ref(s, -1) @ v)
    mask = RNG.random((3, 5)) > 0.3
    mask[:, 0] = True
    close(
        F.scaled_dot_product_attention(T(q), T(k), T(v), T(mask)),
        softmax_ref(np.where(mask, s, -np.inf), -1) @ v,
    )
    qc = randn(2, 5, 4)
    sc = qc @ k.transpose(0, 2, 1) / 2.0
    close(
        F.scaled_dot_product_attention(T(qc), T(k), T(v), is_causal=True),
        softmax_ref(np.where(np.tril(np.ones((5, 5), bool)), sc, -np.inf), -1) @ v,
    )
    grad_check(F.scaled_dot_product_attention, q, k, v)
    grad_check(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), qc, k, v)


# ------------------------------------------------------------------ the registry's side


def test_every_functional_op_is_in_the_module_and_differentiable_ones_have_rules():
    for op in registry.all_ops():
        if Namespace.FUNCTIONAL in op.namespaces:
            assert callable(getattr(F, op.name)), op.name
    for name in (
        "conv1d",
        "conv2d",
        "max_pool2d",
        "avg_pool2d",
        "adaptive_avg_pool2d",
        "embedding",
        "layer_norm",
        "batch_norm",
        "group_norm",
        "cross_entropy",
        "nll_loss",
        "mse_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "pad",
        "normalize",
    ):
        for op in registry.functions_in(Namespace.FUNCTIONAL, name):
            assert op.grad is not None, op.qualified_name


def test_script_uses_the_functional_namespace():
    cu = ts.CompilationUnit(
        "def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:\n"
        "    return torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(x, w, padding=1), "
        "2)\n"
    )
    x, w = randn(1, 2, 4, 4), randn(3, 2, 3, 3)
    ref = conv2d_ref(x, w, None, (1, 1), (1, 1), (1, 1), 1)
    close(cu.f(T(x), T(w)), max_pool2d_ref(ref, (2, 2), (2, 2), (0, 0), (1, 1), False)[0])


def test_unfold_fold():
    x = randn(2, 3, 5, 6)
    cols = F.unfold(T(x), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (5 + 2 - 2 - 1) // 1 + 1, (6 + 2 - 2 - 1) // 2 + 1
    expected = np.zeros((2, 3, 2, 3, oh, ow))
    for a in range(2):
        for b in range(3):
            expected[:, :, a, b] = xp[:, :, a * 2 : a * 2 + oh, b : b + 2 * (ow - 1) + 1 : 2]
    close(cols, expected.reshape(2, 18, oh * ow))
    # fold is the adjoint of unfold: <unfold(x), c> == <x, fold(c)>
    c = randn(2, 18, oh * ow)
    back = F.fold(T(c), (5, 6), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)).numpy()
    np.testing.assert_allclose(np.sum(cols.numpy() * c), np.sum(x * back))
    grad_check(lambda t: F.unfold(t, 2, padding=1), randn(1, 2, 3, 3))
    grad_check(lambda t: F.fold(t, (3, 3), 2), randn(1, 4, 4))


def test_torch_batch_norm_order():
    x, w, b, m, v = randn(4, 3), randn(3), randn(3), randn(3), np.abs(randn(3)) + 0.5
    close(
        ts.batch_norm(T(x), T(w), T(b), T(m), T(v), False, 0.1, 1e-5, False),
        F.batch_norm(T(x), T(m), T(v), T(w), T(b)).numpy(),
    )
    grad_check(lambda t, c, d: ts.batch_norm(t, c, d, None, None, True, 0.1, 1e-5, False), x, w, b)


@pytest.mark.parametrize(
    "stride,pad,out_pad,dil,groups",
    [
        ((1, 1), (0, 0), (0, 0), (1, 1), 1),
        ((2, 1), (1, 0), (1, 0), (1, 2), 2),
        ((2, 2), (1, 1), (0, 1), (1, 1), 1),
    ],
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, pad, out_pad, dil, groups):
    x, w, b = randn(2, 4, 3, 4), randn(4, 3, 3, 2), randn(3 * groups)
    y = F.conv_transpose2d(T(x), T(w), T(b), stride, pad, out_pad, groups, dil).numpy()
    oh = (3 - 1) * stride[0] - 2 * pad[0] + dil[0] * 2 + out_pad[0] + 1
    ow = (4 - 1) * stride[1] - 2 * pad[1] + dil[1] * 1 + out_pad[1] + 1
    assert y.shape == (2, 3 * groups, oh, ow)
    # <conv_transpose(x, w), u> == <x, conv(u, w)>, the bias adding sum(u) per channel
    u = randn(*y.shape)
    lhs = np.sum((y - b.reshape(1, -1, 1, 1)) * u)
    rhs = np.sum(x * conv2d_ref(u, w, None, stride, pad, dil, groups)[:, :, :3, :4])
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    grad_check(
        lambda a, c, d: F.conv_transpose2d(a, c, d, stride, pad, out_pad, groups, dil),
        randn(1, 4, 3, 3),
        w,
        b,
    )


def test_conv_transpose1d():
    x, w = randn(2, 3, 5), randn(3, 2, 3)
    y = F.conv_transpose1d(T(x), T(w), stride=2, padding=1, output_padding=1)
    ref = F.conv_transpose2d(T(x[:, :, None]), T(w[:, :, None]), None, (1, 2), (0, 1), (0, 1))
    close(y, ref.numpy()[:, :, 0])
    grad_check(lambda a, c: F.conv_transpose1d(a, c, stride=2), randn(1, 3, 4), w)


def test_glu_and_prelu():
    x = randn(2, 6, 3)
    a, b = x[:, :3], x[:, 3:]
    close(F.glu(T(x), 1), a / (1 + np.exp(-b)))
    close(F.glu(T(x.astype("float32")), 1), a / (1 + np.exp(-b)), "float32")
    grad_check(lambda t: F.glu(t, 1), x)
    with pytest.raises(RuntimeError, match="even"):
        F.glu(T(x))
    w = np.array([0.1, -0.5, 2.0, 0.3, 0.0, 1.0])
    close(F.prelu(T(x), T(w)), np.where(x > 0, x, w[None, :, None] * x))
    close(F.prelu(T(x), T(np.array([0.25]))), np.where(x > 0, x, 0.25 * x))
    grad_check(F.prelu, x, w)
    grad_check(F.prelu, x, np.array([0.25]))


def linear_resize_ref(x, out, align_corners, scale=None):
    """1-D linear resampling along the last axis, PyTorch's source-index formula."""
    n = x.shape[-1]
    res = np.zeros(x.shape[:-1] + (out,))
    for j in range(out):
        if align_corners:
            src = j * (n - 1) / (out - 1) if out > 1 else 0.0
        else:
            src = max((j + 0.5) * (scale or n / out) - 0.5, 0.0)
        i0 = min(math.floor(src), n - 1)
        i1 = min(i0 + 1, n - 1)
        f = src - i0
        res[..., j] = (1 - f) * x[..., i0] + f * x[..., i1]
    return res


def test_interpolate():
    x = randn(2, 3, 4, 5)
    near = F.interpolate(T(x), size=(7, 3)).numpy()
    rows = np.minimum(np.floor(np.arange(7) * 4 / 7).astype(int), 3)
    cols = np.minimum(np.floor(np.arange(3) * 5 / 3).astype(int), 4)
    np.testing.assert_allclose(near, x[:, :, rows][:, :, :, cols])
    close(F.interpolate(T(x), scale_factor=2.0), x.repeat(2, axis=2).repeat(2, axis=3))
    for ac in (False, True):
        got = F.interpolate(T(x), size=[6, 8], mode="bilinear", align_corners=ac)
        ref = linear_resize_ref(x, 8, ac)
        ref = np.swapaxes(linear_resize_ref(np.swapaxes(ref, -1, -2), 6, ac), -1, -2)
        close(got, ref)
        grad_check(
            lambda t, ac=ac: F.interpolate(t, size=[3, 7], mode="bilinear", align_corners=ac),
            randn(1, 2, 4, 5),
        )
    x1 = randn(2, 3, 5)
    close(
        F.interpolate(T(x1), scale_factor=1.5, mode="linear"),
        linear_resize_ref(x1, 7, False, 1 / 1.5),
    )
    close(
        F.interpolate(T(x1.astype("float32")), 9, mode="linear"),
        linear_resize_ref(x1, 9, False),
        "float32",
    )
    grad_check(lambda t: F.interpolate(t, scale_factor=2.0), randn(1, 2, 3, 2))
    with pytest.raises(ValueError):
        F.interpolate(T(x), size=4, scale_factor=2.0)


def test_adaptive_max_pool():
    x = randn(2, 3, 7, 6)
    out, idx = F.adaptive_max_pool2d(T(x), (3, 4), return_indices=True)
    ref = np.zeros((2, 3, 3, 4))
    ref_idx = np.zeros((2, 3, 3, 4), dtype=np.int64)
    for i in range(3):
        r0, r1 = (i * 7) // 3, -(-(i + 1) * 7 // 3)
        for j in range(4):
            c0, c1 = (j * 6) // 4, -(-(j + 1) * 6 // 4)
            win = x[:, :, r0:r1, c0:c1].reshape(2, 3, -1)
            ref[:, :, i, j] = win.max(-1)
            k = win.argmax(-1)
            ref_idx[:, :, i, j] = (r0 + k // (c1 - c0)) * 6 + c0 + k % (c1 - c0)
    close(out, ref)
    close(idx, ref_idx, "int64")
    close(F.adaptive_max_pool2d(T(x), (3, 4)), ref)
    x1 = randn(2, 3, 7)
    close(
        F.adaptive_max_pool1d(T(x1), 3),
        np.stack([x1[:, :, (i * 7) // 3 : -(-(i + 1) * 7 // 3)].max(-1) for i in range(3)], -1),
    )
    grad_check(
        lambda t: F.adaptive_max_pool2d(t, (3, 2)), RNG.permutation(42).reshape(1, 2, 7, 3) * 0.1
    )


def test_pixel_shuffle_round_trip():
    x = randn(2, 8, 3, 2)
    y = F.pixel_shuffle(T(x), 2).numpy()
    assert y.shape == (2, 2, 6, 4)
    # output (c, h*r + i, w*r + j) is input channel c*r*r + i*r + j at (h, w)
    assert y[1, 1, 2 * 2 + 1, 1 * 2 + 0] == x[1, 1 * 4 + 1 * 2 + 0, 2, 1]
    close(F.pixel_unshuffle(T(y), 2), x)
    close(ts.pixel_shuffle(T(x[0]), 2), y[0])
    grad_check(lambda t: F.pixel_shuffle(t, 2), randn(1, 4, 2, 3))


def test_more_losses():
    x, y = randn(3, 4), np.sign(randn(3, 4))
    close(F.soft_margin_loss(T(x), T(y)), np.log1p(np.exp(-y * x)).mean())
    grad_check(lambda a: F.soft_margin_loss(a, T(y), reduction="sum"), x)
    rate, counts = randn(3, 4), RNG.integers(0, 5, (3, 4)).astype(np.float64)
    close(F.poisson_nll_loss(T(rate), T(counts)), (np.exp(rate) - counts * rate).mean())
    pos = np.abs(rate) + 0.5
    stirling = np.where(
        counts > 1,
        counts * np.log(np.maximum(counts, 1))
        - counts
        + 0.5 * np.log(2 * np.pi * np.maximum(counts, 1)),
        0.0,
    )
    close(
        F.poisson_nll_loss(T(pos), T(counts), log_input=False, full=True, reduction="none"),
        pos - counts * np.log(pos + 1e-8) + stirling,
    )
    grad_check(lambda a: F.poisson_nll_loss(a, T(counts)), rate)
    grad_check(lambda a: F.poisson_nll_loss(a, T(counts), log_input=False), pos)
    a, b, t = randn(5), randn(5), np.sign(randn(5))
    close(
        F.margin_ranking_loss(T(a), T(b), T(t), margin=0.3),
        np.maximum(0, -t * (a - b) + 0.3).mean(),
    )
    grad_check(lambda p, q: F.margin_ranking_loss(p, q, T(t), margin=0.3), a, b)


def test_noncontiguous_inputs():
    x = randn(6, 4).T  # (4, 6), Fortran order
    w, b = randn(6), randn(6)
    close(
        F.layer_norm(T(x), [6], T(w), T(b)), layer_norm_ref(np.ascontiguousarray(x), 1, w, b, 1e-5)
    )
    t = np.array([0, 5, 2, 1])
    close(F.cross_entropy(T(x), T(t)), ce_ref(np.ascontiguousarray(x), t))
    close(F.softmin(T(x), 0), softmax_ref(-x, 0))
    table = randn(7, 3)
    idx = np.array([[1, 2], [3, 4], [5, 6]]).T  # non-contiguous indices
    close(F.embedding(T(idx), T(table)), table[idx])
    wt = randn(5, 6)[:, ::2]  # strided weight
    close(F.linear(T(x[:, ::2]), T(wt)), x[:, ::2] @ wt.T)
    g = randn(3, 2, 4, 5).transpose(0, 1, 3, 2)
    close(F.group_norm(T(g), 2), F.group_norm(T(np.ascontiguousarray(g)), 2).numpy())
    grad_check(lambda a: F.layer_norm(a.t(), [3]), randn(3, 2))


def second_order_check(fn, x, eps=1e-6):
    """d/dx of sum(v * d/dx sum(fn(x)^2)) by autograd (create_graph) vs finite differences."""
    v = np.random.default_rng(2).standard_normal(x.shape)

    def first(a, create_graph=False):
        t = T(a, requires_grad=True)
        (g,) = ts.autograd.grad([fn(t).pow(2).sum()], [t], create_graph=create_graph)
        return t, g

    t, g = first(x, create_graph=True)
    (hv,) = ts.autograd.grad([(g * T(v)).sum()], [t])
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        p, m = x.copy(), x.copy()
        p[idx] += eps
        m[idx] -= eps
        num[idx] = (np.sum(first(p)[1].numpy() * v) - np.sum(first(m)[1].numpy() * v)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "fn,shape",
    [
        (lambda t: F.max_pool2d(t, 2, 1), (1, 2, 3, 4)),
        (lambda t: F.avg_pool2d(t, 2, 1, 1), (1, 2, 3, 4)),
        (lambda t: F.adaptive_avg_pool2d(t, (2, 3)), (1, 2, 3, 4)),
        (lambda t: F.conv1d(t, T(np.linspace(-1, 1, 12).reshape(2, 2, 3)), padding=1), (1, 2, 6)),
        (lambda t: F.embedding(T(np.array([[0, 2, 0]])), t), (3, 4)),
    ],
)
def test_second_order(fn, shape):
    distinct = RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.1  # no ties in max
    second_order_check(fn, distinct)


def test_pool_stride_none_and_positional_return_indices():
    x = randn(1, 2, 6, 6)
    ref, ref_idx = max_pool2d_ref(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    close(F.max_pool2d(T(x), 2, None), ref)
    _, idx = F.max_pool2d(T(x), 2, None, 0, 1, False, True)
    close(idx, ref_idx, "int64")
    close(
        F.avg_pool2d(T(x), 3, stride=None),
        avg_pool2d_ref(x, (3, 3), (3, 3), (0, 0), False, True, None),
    )
    assert len(F.adaptive_max_pool2d(T(x), 2, True)) == 2


def test_feature_dropout():
    x = np.ones((40, 30, 2, 3))
    _seed(1)
    y = F.dropout2d(T(x), 0.4).numpy()
    per_channel = y.reshape(40, 30, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels kept or zeroed
    assert abs((per_channel[..., 0] != 0).mean() - 0.6) < 0.05
    close(F.dropout2d(T(x), 0.4, training=False), x)
    assert F.dropout1d(T(np.ones((4, 5, 6))), 0.5).shape == (4, 5, 6)
    with pytest.raises(RuntimeError):
        F.dropout2d(T(np.ones(3)), 0.5)


def test_embedding_losses():
    x, t = randn(3, 4), np.sign(randn(3, 4))
    ref = np.where(t == 1, x, np.maximum(0, 0.5 - x))
    close(F.hinge_embedding_loss(T(x), T(t), 0.5), ref.mean())
    grad_check(lambda a: F.hinge_embedding_loss(a, T(t), margin=0.5, reduction="sum"), x)
    a, b, y = randn(4, 3), randn(4, 3), np.array([1.0, -1.0, 1.0, -1.0])
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    ref = np.where(y == 1, 1 - cos, np.maximum(0, cos + 0.2))
    close(F.cosine_embedding_loss(T(a), T(b), T(y), margin=-0.2, reduction="none"), ref)
    grad_check(lambda p, q: F.cosine_embedding_loss(p, q, T(y), margin=-0.2), a, b)
    anc, pos, neg = randn(5, 3), randn(5, 3), randn(5, 3)

    def d(u, v):
        return np.linalg.norm(u - v + 1e-6, axis=1)

    close(
        F.triplet_margin_loss(T(anc), T(pos), T(neg), margin=1.5),
        np.maximum(d(anc, pos) - d(anc, neg) + 1.5, 0).mean(),
    )
    swapped = np.maximum(d(anc, pos) - np.minimum(d(anc, neg), d(pos, neg)) + 1.5, 0).mean()
    close(F.triplet_margin_loss(T(anc), T(pos), T(neg), margin=1.5, swap=True), swapped)
    grad_check(lambda p, q, r: F.triplet_margin_loss(p, q, r, margin=1.5, swap=True), anc, pos, neg)
    grad_check(lambda p, q, r: F.triplet_margin_loss(p, q, r, p=1.0), anc, pos, neg)
