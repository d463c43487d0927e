"""Eager autograd: the engine, the API, grad modes, in-place rules, higher-order gradients."""
import numpy as np
import pytest

import tensorscript as ts


def leaf(values, dtype=ts.float64):
    return ts.tensor(values, dtype=dtype, requires_grad=True)


def test_backward_accumulates_into_leaves():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_shared_subexpression_and_diamond():
    x = leaf([2.0])
    a = x * x
    b = a + a * x
    b.backward()
    assert x.grad.tolist() == [2 * 2.0 + 3 * 4.0]


def test_backward_with_gradient_and_nonscalar_error():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(ts.tensor([1.0, 10.0], dtype=ts.float64))
    assert x.grad.tolist() == [2.0, 20.0]


def test_retain_graph():
    x = leaf([1.0])
    y = x.exp() * 2
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4 * np.e])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_grad_and_is_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert not h.is_leaf and h.retains_grad
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]


def test_grad_fn_names():
    x = leaf([1.0])
    assert (x + 1).grad_fn.name() == "AddBackward0"
    assert (x * x).grad_fn.name() == "MulBackward0"
    assert x.exp().grad_fn.name() == "ExpBackward0"
    assert ts.floor_divide(x, 2).grad_fn.name() == "FloorDivideBackward0"
    assert "MulBackward0" in repr((x * 2).grad_fn)
    assert (x * 2).grad_fn.next_functions[0][0].name() == "AccumulateGrad"


def test_grad_reduces_broadcast_and_keeps_dtype():
    x = ts.ones(2, 3, requires_grad=True)
    b = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = ts.tensor(2.0, dtype=ts.float64, requires_grad=True)
    out = (x * b + s)
    assert out.dtype is ts.float32
    out.sum().backward()
    assert b.grad.tolist() == [2.0, 2.0, 2.0] and b.grad.dtype is ts.float32
    assert s.grad.shape == () and s.grad.dtype is ts.float64 and s.grad.item() == 6.0
    assert x.grad.shape == (2, 3)


def test_nondifferentiable_outputs():
    x = leaf([1.0, -1.0])
    assert not (x > 0).requires_grad
    assert not x.long().requires_grad
    assert not ts.isnan(x).requires_grad
    assert not ts.zeros_like(x).requires_grad


def test_detach():
    x = leaf([1.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_grad_modes():
    x = leaf([1.0])
    with ts.no_grad():
        assert not ts.is_grad_enabled()
        y = x * 2
        with ts.enable_grad():
            assert (x * 2).requires_grad
    assert ts.is_grad_enabled() and not y.requires_grad

    @ts.no_grad()
    def f(t):
        return t * 2

    @ts.no_grad
    def g(t):
        return t * 2
    assert not f(x).requires_grad and not g(x).requires_grad
    with ts.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    ts.set_grad_enabled(False)
    assert not ts.is_grad_enabled()
    ts.set_grad_enabled(True)
    assert ts.autograd.is_grad_enabled()


def test_inplace_on_leaf_requiring_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x += 1
    with ts.no_grad():
        x.sub_(0.5)
    assert x.tolist() == [0.5]


def test_modified_saved_tensor_is_detected():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = y * 3
    y.add_(1)  # exp saved its output
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_modifying_an_unsaved_tensor_is_fine():
    x = leaf([1.0, 2.0])
    h = x * 2  # mul by a scalar saves only the scalar
    h2 = h + 1  # add saves nothing it reads
    h.relu_()
    (h2.sum() + h.sum()).backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_inplace_on_nonleaf_gives_correct_gradients():
    x = leaf([1.0, 2.0, -3.0])
    y = x * 2
    y.mul_(x * 2)  # y = (2x)^2
    y.add_(1)
    y.relu_()
    y.sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, -24.0]
    z = leaf([0.5, 1.5])
    w = z * 1
    w.exp_()
    w.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), np.exp([0.5, 1.5]))


def test_inplace_with_self_as_argument_is_detected():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_into_a_tensor_that_did_not_require_grad():
    x = leaf([1.0, 2.0])
    buf = ts.zeros(2, dtype=ts.float64)
    buf.add_(x * 3)
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_inplace_through_views_updates_the_base():
    w = leaf([1.0, 2.0, 3.0])
    y = ts.zeros(2, 3, dtype=ts.float64)
    y[0] = w * 2
    y[1].copy_(w)
    y[1].mul_(w)
    weights = ts.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ts.float64)
    (y * weights).sum().backward()
    expected = 2 * np.array([1.0, 2.0, 3.0]) + 2 * np.array([4.0, 5.0, 6.0]) * np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(w.grad.numpy(), expected)
    v = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        v[0].mul_(2)


def test_autograd_grad_and_higher_order():
    x = leaf([1.0, 2.0])
    y = (x ** 3).sum()
    (g,) = ts.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0] and g.requires_grad
    (gg,) = ts.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0]
    assert x.grad is None  # autograd.grad does not accumulate
    z = x.sin()
    (g1,) = ts.autograd.grad(z.sum(), [x], create_graph=True)
    (g2,) = ts.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = ts.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), -np.cos([1.0, 2.0]))


def test_autograd_grad_options():
    x, u = leaf([1.0]), leaf([2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ts.autograd.grad(y.sum(), [x, u], retain_graph=True)
    gx, gu = ts.autograd.grad(y.sum(), [x, u], allow_unused=True, retain_graph=True)
    assert gx.tolist() == [2.0] and gu is None
    (g,) = ts.autograd.grad(y, x, grad_outputs=ts.tensor([5.0], dtype=ts.float64))
    assert g.tolist() == [10.0]
    h = x * 3
    k = h * h
    (gh,) = ts.autograd.grad(k.sum(), h)
    assert gh.tolist() == [6.0]


def test_backward_inputs_and_create_graph():
    x = leaf([3.0])
    y = x * x
    y.backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.tolist() == [6.0]
    x2 = leaf([1.0])
    u = leaf([1.0])
    (x2 * u).sum().backward(inputs=[u])
    assert x2.grad is None and u.grad.tolist() == [1.0]


def test_gradcheck_detects_wrong_rule():
    x = leaf([[0.3, 0.7], [0.2, 0.9]])
    assert ts.autograd.gradcheck(lambda a: a.sigmoid() * a.tanh(), (x,))
    assert ts.autograd.gradcheck(lambda a, b: a * b + b.exp(), (x, leaf([0.1, 0.2])))

    def wrong(a):
        return a.detach() * a  # the detached factor hides half the derivative
    with pytest.raises(RuntimeError):
        ts.autograd.gradcheck(wrong, (x,))
    assert not ts.autograd.gradcheck(wrong, (x,), raise_exception=False)


def test_conversion_gradients():
    x = leaf([1.5, 2.5])
    y = x.float() * 2
    assert y.dtype is ts.float32
    y.sum().backward()
    assert x.grad.dtype is ts.float64 and x.grad.tolist() == [2.0, 2.0]
    h = ts.tensor([1.0], requires_grad=True)
    (h.half() * 3).sum().backward()
    assert h.grad.dtype is ts.float32 and h.grad.tolist() == [3.0]


def test_multiple_outputs_unused_grads_are_zero():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = x * 3
    (a.sum() + 0 * b.sum()).backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_logistic_regression_example_loss_falls():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "logistic_regression.py"
    spec = importlib.util.spec_from_file_location("logistic_regression", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    losses = mod.main(steps=40)
    assert losses[-1] < losses[0] * 0.7
    assert all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))


def test_nodes_without_incoming_gradient_are_skipped():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = ts.where(a > 3, a, 0.0)  # a flows to b; the comparison carries no gradient
    c = b.detach() * a
    c.sum().backward()
    assert x.grad.tolist() == [0.0, 8.0]
