"""LR schedulers against PyTorch's closed forms, and gradient clipping."""
import math

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn, optim
from tensorscript.optim import lr_scheduler


def lrs(make, epochs=10, lr=1.0):
    p = nn.Parameter(ts.ones(1))
    opt = optim.SGD([p], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0]
    return out


def test_step_lr():
    got = lrs(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5))
    assert got == pytest.approx([0.5 ** (e // 3) for e in range(10)])


def test_multistep_lr():
    got = lrs(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.1))
    assert got == pytest.approx([1, 1, 0.1, 0.1, 0.1, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3])


def test_exponential_lr():
    got = lrs(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))
    assert got == pytest.approx([0.9 ** e for e in range(10)])


def test_cosine_annealing_lr_follows_closed_form_past_t_max():
    got = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.1), epochs=12)
    expect = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(12)]
    assert got == pytest.approx(expect, abs=1e-12)


def test_lambda_lr_and_linear_lr():
    got = lrs(lambda o: lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1)), lr=0.5)
    assert got == pytest.approx([0.5 / (e + 1) for e in range(10)])
    got = lrs(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4))
    assert got == pytest.approx([0.25, 0.4375, 0.625, 0.8125, 1, 1, 1, 1, 1, 1])


def test_scheduler_state_dict_and_groups():
    a, b = nn.Parameter(ts.ones(1)), nn.Parameter(ts.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=1.0)
    sched = lr_scheduler.StepLR(opt, 1, gamma=0.5)
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.5, 0.05])
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 1 and sd["base_lrs"] == [1.0, 0.1]
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_clip_grad_norm():
    a = nn.Parameter(ts.zeros(3, dtype=ts.float64))
    b = nn.Parameter(ts.zeros(2, dtype=ts.float64))
    ga, gb = np.array([3.0, 0.0, 4.0]), np.array([12.0, 0.0])
    a.grad, b.grad = ts.tensor(ga), ts.tensor(gb)
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.3)
    assert float(total) == pytest.approx(13.0)
    scale = 1.3 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad.numpy(), ga * scale, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), gb * scale, rtol=1e-12)
    a.grad, b.grad = ts.tensor(ga), ts.tensor(gb)
    total = nn.utils.clip_grad_norm_([a, b], max_norm=100.0)
    np.testing.assert_allclose(a.grad.numpy(), ga)  # under the limit: unchanged
    a.grad = ts.tensor(ga)
    assert float(nn.utils.clip_grad_norm_(a, 1.0, norm_type=math.inf)) == 4.0
    np.testing.assert_allclose(a.grad.numpy(), ga / (4.0 + 1e-6), rtol=1e-12)
    a.grad = ts.tensor(ga)
    assert float(nn.utils.clip_grad_norm_([a], 1.0, norm_type=1)) == pytest.approx(7.0)
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(ts.ones(1))], 1.0)) == 0.0


def test_clip_grad_value_and_vectors():
    a = nn.Parameter(ts.zeros(3))
    a.grad = ts.tensor([-2.0, 0.5, 3.0])
    nn.utils.clip_grad_value_([a], 1.0)
    np.testing.assert_array_equal(a.grad.numpy(), [-1.0, 0.5, 1.0])
    m = nn.Linear(2, 2)
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert tuple(vec.shape) == (6,)
    nn.utils.vector_to_parameters(ts.arange(6, dtype=ts.float32), m.parameters())
    np.testing.assert_array_equal(m.bias.detach().numpy(), [4.0, 5.0])
