"""What a training step relies on: gradient rules skip the inputs nobody differentiates, a
fresh gradient becomes ``.grad`` without a copy yet never aliases a buffer someone else can
write, mse_loss stays in float32, and the fused linear backward is right to second order."""
import numpy as np
import pytest

import tensorscript as ts
import tensorscript.nn.functional as F
from tensorscript.autograd import grad, gradcheck
from tensorscript.interpreter import autograd
from tensorscript.jit.ops import registry

RNG = np.random.default_rng(7)


def leaf(*shape, requires_grad=True, dtype=ts.float64):
    return ts.tensor(RNG.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


class _OpLog(registry.Handler):
    """Passes every op on to the handler below and remembers (name, args)."""

    def __init__(self):
        self.below = registry.current_handler()
        self.calls = []

    def process(self, op, args):
        self.calls.append((op.name, args))
        return self.below.process(op, args)


def _ops_of_backward(loss):
    log = _OpLog()
    with registry.handler_scope(log):
        loss.backward()
    return log.calls


# ------------------------------------------------------------------ needs_input_grad


def test_first_layer_input_gradient_is_not_computed():
    x = leaf(4, 5, requires_grad=False)
    w1, b1, w2 = leaf(6, 5), leaf(6), leaf(3, 6)
    loss = F.linear(F.linear(x, w1, b1).relu(), w2).sum()
    calls = _ops_of_backward(loss)
    flags = [args[3:] for name, args in calls if name == "linear_backward"]
    # second layer: its input (the hidden layer) needs a gradient, it has no bias
    assert flags == [(True, True, False), (False, True, True)]
    assert x.grad is None
    hidden = np.maximum(x.numpy() @ w1.detach().numpy().T + b1.detach().numpy(), 0)
    np.testing.assert_allclose(w2.grad.numpy(), np.ones((4, 3)).T @ hidden, rtol=1e-12)


def test_matmul_skips_the_operand_that_does_not_require_grad():
    a, b = leaf(3, 4, requires_grad=False), leaf(4, 2)
    calls = _ops_of_backward((a @ b).sum())
    assert [name for name, _ in calls].count("matmul") == 1
    np.testing.assert_allclose(b.grad.numpy(), a.numpy().T @ np.ones((3, 2)), rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(5,), (4, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients_first_and_second_order(x_shape, bias):
    x, w = leaf(*x_shape), leaf(3, 5)
    args = (x, w, leaf(3)) if bias else (x, w)
    assert gradcheck(F.linear, args)

    @ts.enable_grad()
    def squared_gradient_norm(*a):
        out = F.linear(*a)
        return sum((g * g).sum() for g in grad([(out * out).sum()], list(a), create_graph=True))

    assert gradcheck(squared_gradient_norm, args)


def test_linear_second_order_with_a_constant_input():
    x = leaf(4, 5, requires_grad=False)

    @ts.enable_grad()
    def weight_gradient_norm(w, b):
        out = F.linear(x, w, b)
        (gw,) = grad([(out * out).sum()], [w], create_graph=True)
        return (gw * gw).sum()

    assert gradcheck(weight_gradient_norm, (leaf(3, 5), leaf(3)))


@pytest.mark.parametrize("fn", [
    lambda a, b: a @ b,
    lambda a, b: ts.mm(a, b),
    lambda a, b: ts.addmm(ts.tensor([1.0, -2.0], dtype=ts.float64), a, b, beta=0.5, alpha=2.0),
])
def test_matrix_products_with_one_constant_operand(fn):
    a, b = leaf(3, 4), leaf(4, 2)
    assert gradcheck(fn, (a, b))
    constant = leaf(3, 4, requires_grad=False)
    assert gradcheck(lambda b_: fn(constant, b_), (b,))
    assert gradcheck(lambda a_: fn(a_, b.detach()), (a,))


# ------------------------------------------------------------------ .grad without a copy


def test_fresh_gradients_become_grad_without_a_copy(monkeypatch):
    copies = []
    copy = autograd.rt_detached_copy
    monkeypatch.setattr(autograd, "rt_detached_copy", lambda g: copies.append(g) or copy(g))
    x, target = leaf(4, 5, requires_grad=False), leaf(4, 3, requires_grad=False)
    w1, b1, w2, b2 = leaf(6, 5), leaf(6), leaf(3, 6), leaf(3)
    F.mse_loss(F.linear(F.linear(x, w1, b1).relu(), w2, b2), target).backward()
    assert copies == []
    assert all(p.grad is not None for p in (w1, b1, w2, b2))


def test_stolen_gradients_do_not_alias_each_other():
    # add hands one fresh gradient to both leaves: at most one of them may keep it
    a, b = leaf(3), leaf(3)
    target = ts.zeros(3, dtype=ts.float64)
    F.mse_loss(a + b, target, reduction="sum").backward()
    expected = 2 * (a.detach().numpy() + b.detach().numpy())
    a.grad.add_(10.0)
    np.testing.assert_allclose(b.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), expected + 10.0, rtol=1e-12)


def test_grad_of_a_leaf_does_not_alias_the_given_gradient():
    x = leaf(3)
    seed = ts.tensor([1.0, 2.0, 3.0], dtype=ts.float64)
    x.backward(seed)
    seed.mul_(100.0)
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


def test_grad_does_not_alias_a_retained_gradient():
    x = leaf(3)
    y = x + 1.0
    y.retain_grad()
    (y * 2.0).sum().backward()
    x.grad.add_(5.0)
    assert y.grad.tolist() == [2.0, 2.0, 2.0]
    assert x.grad.tolist() == [7.0, 7.0, 7.0]


def test_stolen_gradient_accumulates_over_steps_and_retained_graphs():
    w = leaf(2, 3)
    x = ts.tensor(RNG.standard_normal((4, 3)))
    loss = F.linear(x, w).sum()
    loss.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-12)
    np.testing.assert_allclose(first, np.ones((4, 2)).T @ x.numpy(), rtol=1e-12)


def test_zero_grad_keeps_a_stolen_buffer_usable():
    w = leaf(2, 3)
    x = ts.tensor(RNG.standard_normal((4, 3)))
    opt = ts.optim.SGD([w], lr=0.1)
    F.linear(x, w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert not w.grad.numpy().any()
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 2)).T @ x.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ mse_loss


POINTWISE_LOSSES = [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
    ("huber_loss", {"delta": 0.7}), ("soft_margin_loss", {}),
]


@pytest.mark.parametrize("name, params", POINTWISE_LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_loss_gradients_both_ways(name, params, reduction):
    def loss(a, b):
        return getattr(F, name)(a, b, reduction=reduction, **params)

    assert gradcheck(loss, (leaf(3, 4), leaf(3, 4)))
    assert gradcheck(loss, (leaf(3, 4), leaf(4)))  # the target broadcast


def test_mse_loss_float32_value_and_gradient():
    x32 = RNG.standard_normal((5, 7)).astype(np.float32)
    t32 = RNG.standard_normal((5, 7)).astype(np.float32)
    x = ts.tensor(x32, requires_grad=True)
    loss = F.mse_loss(x, ts.tensor(t32))
    assert loss.dtype == ts.float32
    diff = x32.astype(np.float64) - t32
    np.testing.assert_allclose(loss.item(), np.mean(diff**2), rtol=1e-6)
    loss.backward()
    assert x.grad.dtype == ts.float32
    np.testing.assert_allclose(x.grad.numpy(), 2 * diff / diff.size, rtol=1e-6)


@pytest.mark.parametrize("name, params", POINTWISE_LOSSES)
def test_loss_does_not_differentiate_a_constant_target(name, params):
    x, t = leaf(3, 4), leaf(3, 4, requires_grad=False)
    calls = _ops_of_backward(getattr(F, name)(x, t, **params))
    (flags,) = [args[3:5] for op, args in calls if op == f"{name}_backward"]
    assert flags == (True, False)
    assert t.grad is None
    alone = x.grad.numpy().copy()
    x.grad = None
    getattr(F, name)(x, t.detach().requires_grad_(), **params).backward()
    np.testing.assert_allclose(alone, x.grad.numpy(), rtol=1e-12)
