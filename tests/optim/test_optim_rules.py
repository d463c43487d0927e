"""Each optimizer's update over several steps against a NumPy re-implementation of PyTorch's
documented algorithm, plus param groups and the state_dict layout."""
import math

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn, optim

STEPS = 6
RNG = np.random.default_rng(0)
P0 = RNG.standard_normal(5)
C = RNG.uniform(0.5, 2.0, 5)
D = RNG.standard_normal(5)


def grad_of(p):
    """Gradient of ``0.5 * c * p^2 + d * p``, the loss used on the tensorscript side."""
    return C * p + D


def run_ts(make_opt, steps=STEPS):
    p = nn.Parameter(ts.tensor(P0.copy(), dtype=ts.float64))
    opt = make_opt([p])
    c, d = ts.tensor(C), ts.tensor(D)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (0.5 * c * p * p + d * p).sum()
        loss.backward()
        opt.step()
        history.append(p.detach().numpy().copy())
    return history, opt, p


def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  maximize=False):
    p, buf, out = P0.copy(), None, []
    for _ in range(STEPS):
        g = grad_of(p)
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled=False, maximize=False):
    p = P0.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    out = []
    b1, b2 = betas
    for t in range(1, STEPS + 1):
        g = grad_of(p)
        g = -g if maximize else g
        if weight_decay:
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
            denom = np.sqrt(vmax) / math.sqrt(1 - b2 ** t) + eps
        else:
            denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
        p = p - lr / (1 - b1 ** t) * m / denom
        out.append(p)
    return out


def rmsprop_reference(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    p = P0.copy()
    sq = np.zeros_like(p)
    gavg = np.zeros_like(p)
    buf = np.zeros_like(p)
    out = []
    for _ in range(STEPS):
        g = grad_of(p)
        if weight_decay:
            g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            gavg = alpha * gavg + (1 - alpha) * g
            avg = np.sqrt(sq - gavg * gavg) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        out.append(p)
    return out


def assert_history(history, expected):
    for step, (got, want) in enumerate(zip(history, expected)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


@pytest.mark.parametrize("kw", [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.1, weight_decay=0.1, momentum=0.5),
    dict(lr=0.1, maximize=True),
])
def test_sgd(kw):
    history, _, _ = run_ts(lambda ps: optim.SGD(ps, **kw))
    assert_history(history, sgd_reference(**kw))


@pytest.mark.parametrize("kw", [
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, maximize=True),
])
def test_adam(kw):
    history, opt, p = run_ts(lambda ps: optim.Adam(ps, **kw))
    assert_history(history, adam_reference(**kw))
    state = opt.state[p]
    assert float(state["step"]) == STEPS and state["step"].dtype == ts.float32
    assert ("max_exp_avg_sq" in state) == kw.get("amsgrad", False)


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, weight_decay=0.5, amsgrad=True)])
def test_adamw(kw):
    history, opt, _ = run_ts(lambda ps: optim.AdamW(ps, **kw))
    expected_wd = kw.get("weight_decay", 1e-2)
    assert opt.param_groups[0]["weight_decay"] == expected_wd
    ref_kw = dict(kw, weight_decay=expected_wd)
    assert_history(history, adam_reference(decoupled=True, **ref_kw))


@pytest.mark.parametrize("kw", [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, momentum=0.5),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1),
])
def test_rmsprop(kw):
    history, opt, p = run_ts(lambda ps: optim.RMSprop(ps, **kw))
    assert_history(history, rmsprop_reference(**kw))
    assert ("grad_avg" in opt.state[p]) == kw.get("centered", False)


def test_argument_errors():
    p = [nn.Parameter(ts.ones(1))]
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": p}, {"params": p}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p[0] * 2], lr=0.1)


def test_param_groups_with_own_options_and_add_param_group():
    a, b, c = (nn.Parameter(ts.ones(2, dtype=ts.float64)) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": [c], "momentum": 0.0})
    for p in (a, b, c):
        p.grad = ts.ones(2, dtype=ts.float64)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 0.9)
    np.testing.assert_allclose(b.detach().numpy(), 0.5)
    np.testing.assert_allclose(c.detach().numpy(), 0.9)
    assert opt.param_groups[2]["lr"] == 0.1


def test_zero_grad_and_params_without_grad():
    a, b = nn.Parameter(ts.ones(2)), nn.Parameter(ts.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ts.ones(2)
    opt.step()
    assert b not in opt.state and float(b.sum()) == 2.0
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and float(a.grad.sum()) == 0.0
    opt.zero_grad()
    assert a.grad is None


def test_state_dict_layout_and_round_trip():
    def model():
        ts.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()

    def train(m, opt, steps):
        x = ts.tensor(np.linspace(-1, 1, 24).reshape(8, 3))
        for _ in range(steps):
            opt.zero_grad()
            (m(x) ** 2).mean().backward()
            opt.step()

    m1 = model()
    opt1 = optim.Adam([{"params": m1[0].parameters()}, {"params": m1[2].parameters(),
                                                         "lr": 0.01}], lr=0.05, amsgrad=True)
    train(m1, opt1, 3)
    sd = opt1.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.01 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]

    m2 = model()
    m2.load_state_dict(m1.state_dict())
    opt2 = optim.Adam([{"params": m2[0].parameters()}, {"params": m2[2].parameters()}], lr=0.9)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.01
    train(m1, opt1, 2)
    train(m2, opt2, 2)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())

    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam(m2.parameters()).load_state_dict(sd)


def test_sgd_state_dict_momentum_buffer():
    p = nn.Parameter(ts.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = ts.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert list(sd["state"][0]) == ["momentum_buffer"]
    plain = optim.SGD([p], lr=0.1)
    plain.step()
    assert plain.state_dict()["state"] == {}


def test_step_closure_returns_loss():
    p = nn.Parameter(ts.tensor([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)
