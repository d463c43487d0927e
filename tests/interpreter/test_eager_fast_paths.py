"""Operators and methods on tensors skip the handler when they can (runtime's fast paths):
they must record the same autograd nodes, keep the saved-tensor checks, bump versions of
in-place targets and fall back to the general path's errors."""
import numpy as np
import pytest

import tensorscript as ts
import tensorscript.nn.functional as F


def leaf(values, dtype=np.float32):
    return ts.from_numpy(np.asarray(values, dtype=dtype)).requires_grad_()


def plain(values, dtype=np.float32):
    return ts.from_numpy(np.asarray(values, dtype=dtype))


def test_operator_gradients_with_tensors_and_scalars():
    a = leaf([1.0, -2.0, 3.0])
    b = leaf([0.5, 4.0, -1.0])
    ((a * b + a / b - 2.5 * a) * 1.5 - b).sum().backward()
    a64, b64 = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    np.testing.assert_allclose(a.grad.numpy(), 1.5 * (b64 + 1 / b64 - 2.5), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), 1.5 * (a64 - a64 / b64 ** 2) - 1, rtol=1e-6)


def test_method_gradients_with_one_argument_and_none():
    x = leaf([0.25, -0.5, 0.1])
    y = plain([2.0, 1.0, -4.0])
    out = x.mul(y).add(1.0).pow(2).sigmoid().exp()
    out.sum().backward()
    x64, y64 = np.array([0.25, -0.5, 0.1]), np.array([2.0, 1.0, -4.0])
    u = x64 * y64 + 1
    s = 1 / (1 + np.exp(-u ** 2))
    want = np.exp(s) * s * (1 - s) * 2 * u * y64
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5)
    assert out.grad_fn.name() == "ExpBackward0"
    assert y.grad is None and not y.requires_grad


def test_gradient_reduces_to_a_broadcast_input():
    a = leaf(np.arange(3).reshape(3, 1))
    b = plain(np.arange(12).reshape(3, 4))
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.arange(12).reshape(3, 4).sum(1, keepdims=True))


def test_second_order_gradients_through_recorded_nodes():
    x = leaf([1.5, -2.0])
    y = x * x * x
    (g,) = ts.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([1.5, -2.0]) ** 2)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.5, -2.0]))


def test_modifying_a_saved_input_of_an_operator_is_detected():
    x = leaf([1.0, 2.0])
    w = plain([3.0, 4.0])
    y = x * w  # mul saves w for x's gradient
    w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_saved_output_of_a_method_is_checked_and_retain_graph_works():
    x = leaf([0.5, 1.0])
    y = x.exp()
    z = y.sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([0.5, 1.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()


def test_nothing_is_recorded_without_grad_or_for_nondifferentiable_results():
    x = leaf([1.0, -1.0])
    with ts.no_grad():
        assert (x * 2).grad_fn is None and not x.exp().requires_grad
    assert not (x < 0).requires_grad and (x < 0).grad_fn is None
    assert not x.gt(0).requires_grad
    n = plain([1, 2], np.int64)
    assert not (n * 2).requires_grad


def test_inplace_method_bumps_version_and_writes_through_views():
    base = plain(np.zeros(5))
    view = base[1:4]
    v0 = base._version_value
    out = view.add_(plain([1.0, 2.0, 3.0]))
    assert out is view
    assert base._version_value == v0 + 1 and view._version_value == v0 + 1
    np.testing.assert_array_equal(base.numpy(), [0, 1, 2, 3, 0])
    view.mul_(2.0)
    np.testing.assert_array_equal(base.numpy(), [0, 2, 4, 6, 0])
    base.add_(plain([1.0]), alpha=2)  # broadcast other and alpha: the general path
    np.testing.assert_array_equal(base.numpy(), [2, 4, 6, 8, 2])


def test_inplace_method_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf([1.0]).add_(plain([1.0]))
    with pytest.raises(RuntimeError, match="can't be cast"):
        plain([1, 2], np.int64).add_(plain([0.5, 0.5]))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        plain([1.0]).add_(plain([1.0, 2.0]))
    acc = plain([1.0, 2.0])
    acc.add_(leaf([1.0, 1.0]))  # an input requiring grad makes the in-place op record
    assert acc.requires_grad and acc.grad_fn.name() == "AddBackward0"


def test_functional_inplace_flags():
    x = plain([-1.0, 2.0])
    assert F.relu(x, True) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])
    y = plain([-1.0, 2.0])
    assert F.silu(y, inplace=True) is y
    np.testing.assert_allclose(y.numpy(), [-1 / (1 + np.e), 2 / (1 + np.exp(-2))], rtol=1e-6)
    z = plain([-1.0, 2.0])
    F.silu(z)
    np.testing.assert_array_equal(z.numpy(), [-1.0, 2.0])


def test_relu_dtypes_and_nan():
    np.testing.assert_array_equal(plain([-2, 3], np.int32).relu().numpy(), [0, 3])
    assert plain([-2, 3], np.int32).relu().dtype == ts.int32
    h = plain([-2.0, 3.0], np.float16).relu()
    assert h.dtype == ts.float16 and h.tolist() == [0.0, 3.0]
    assert np.isnan(plain([np.nan, -1.0]).relu().numpy()[0])
    assert plain([True, False], np.bool_).relu().tolist() == [True, False]
    assert plain(-1.5).relu().shape == ()


def test_where_dtypes():
    c = plain([True, False], np.bool_)
    same = ts.where(c, plain([1.0, 2.0]), plain([3.0, 4.0]))
    assert same.dtype == ts.float32 and same.tolist() == [1.0, 4.0]
    mixed = ts.where(c, plain([1.0, 2.0]), plain([3.0, 4.0], np.float64))
    assert mixed.dtype == ts.float64 and mixed.tolist() == [1.0, 4.0]
    ints = ts.where(c, plain([1, 2], np.int64), 0.5)
    assert ints.dtype == ts.float32 and ints.tolist() == [1.0, 0.5]
    with pytest.raises(RuntimeError, match="boolean"):
        ts.where(plain([1.0, 0.0]), plain([1.0, 2.0]), plain([3.0, 4.0]))
