"""``ts.nn.init``: bounds and statistics of each initialiser, seeding, and no autograd record."""
import math

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn
from tensorscript.nn import init


def stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError):
        init.calculate_gain("nope")


def test_uniform_normal_constant():
    ts.manual_seed(0)
    w = nn.Parameter(ts.empty(200, 100))
    init.uniform_(w, -0.5, 0.25)
    lo, hi, mean, _ = stats(w)
    assert -0.5 <= lo and hi <= 0.25 and abs(mean + 0.125) < 0.01
    assert w.grad_fn is None and w.requires_grad
    init.normal_(w, 2.0, 0.5)
    _, _, mean, std = stats(w)
    assert abs(mean - 2.0) < 0.01 and abs(std - 0.5) < 0.01
    init.constant_(w, 0.3)
    assert np.all(w.detach().numpy() == np.float32(0.3))
    init.zeros_(w)
    assert float(w.abs().sum()) == 0
    init.ones_(w)
    assert float(w.sum()) == 20000
    eye = init.eye_(ts.empty(2, 3))
    np.testing.assert_array_equal(eye.numpy(), np.eye(2, 3))


def test_xavier_and_kaiming():
    w = ts.empty(300, 200)
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 500)
    lo, hi, _, std = stats(w)
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound
    init.xavier_normal_(w)
    assert abs(stats(w)[3] - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    conv = ts.empty(64, 16, 3, 3)  # fan_in 144, fan_out 576
    init.kaiming_uniform_(conv, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 144)
    lo, hi, _, _ = stats(conv)
    assert -bound <= lo and hi <= bound and hi > 0.95 * bound
    init.kaiming_normal_(conv, mode="fan_out", nonlinearity="relu")
    assert abs(stats(conv)[3] - math.sqrt(2 / 576)) < 0.03 * math.sqrt(2 / 576)
    with pytest.raises(ValueError, match="Fan in and fan out"):
        init.xavier_uniform_(ts.empty(3))


def test_trunc_normal_stays_in_bounds():
    w = init.trunc_normal_(ts.empty(10000), mean=0.0, std=1.0, a=-0.5, b=1.0)
    lo, hi, _, _ = stats(w)
    assert -0.5 <= lo and hi <= 1.0


def test_seeding_reproduces_layers():
    ts.manual_seed(123)
    a = nn.Linear(4, 3)
    ts.manual_seed(123)
    b = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())


def test_conv_and_rnn_default_bounds():
    ts.manual_seed(0)
    c = nn.Conv2d(8, 4, 3)
    bound = 1 / math.sqrt(8 * 9)
    assert float(c.weight.abs().max()) <= bound and float(c.bias.abs().max()) <= bound
    r = nn.GRU(4, 16)
    assert all(float(p.abs().max()) <= 0.25 for p in r.parameters())
    ln = nn.LayerNorm(5)
    assert float(ln.weight.sum()) == 5 and float(ln.bias.abs().sum()) == 0
