"""SGD's in-place update on the arrays: float32 rounding, large parameters updated in blocks,
and the version bump that in-place checks rely on."""
import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn, optim

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("shape", [(7, 3), (300, 250), (1,)])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_update_rounds_like_float32_scaled_subtraction(shape, momentum):
    p0 = RNG.standard_normal(shape).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    p = nn.Parameter(ts.tensor(p0.copy()))
    opt = optim.SGD([p], lr=0.037, momentum=momentum)
    for _ in range(2):
        p.grad = ts.tensor(g.copy())
        opt.step()
    expected = p0.copy()
    buf = None
    for _ in range(2):
        step = g if momentum == 0 else (g.copy() if buf is None else buf * np.float32(momentum) + g)
        buf = step
        expected = expected - step * np.float32(0.037)
    assert p.dtype == ts.float32
    np.testing.assert_array_equal(p.detach().numpy(), expected)


def test_step_counts_as_an_in_place_change_of_the_parameter():
    p = nn.Parameter(ts.tensor(RNG.standard_normal(4)))
    loss = (p * p).sum()
    loss.backward(retain_graph=True)
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_learning_rate_given_as_a_tensor():
    p = nn.Parameter(ts.tensor(np.ones(3, dtype=np.float32)))
    p.grad = ts.tensor(np.full(3, 2.0, dtype=np.float32))
    optim.SGD([p], lr=ts.tensor(0.25)).step()
    np.testing.assert_array_equal(p.detach().numpy(), np.full(3, 0.5, dtype=np.float32))
