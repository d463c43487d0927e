"""Shape and movement ops against NumPy: values, storage sharing, errors and gradients."""
import numpy as np
import pytest

import tensorscript as ts
from conftest import T

RNG = np.random.default_rng(0)


def check(t, expected, dtype=None):
    got = t.detach().numpy()
    expected = np.asarray(expected)
    assert list(got.shape) == list(expected.shape), (got.shape, expected.shape)
    if dtype is not None:
        assert t.dtype == getattr(ts, dtype)
    np.testing.assert_array_equal(got, expected)


def shares(a, b) -> bool:
    return np.shares_memory(a.numpy(), b.numpy())


def grad_check(fn, *arrays, eps=1e-6):
    """Autograd against central differences of ``sum(fn(*xs) * w)`` in float64."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    xs = [T(a, requires_grad=True) for a in arrays]

    def scalar(outs, ws):
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return outs, ws or [np.random.default_rng(1 + i).standard_normal(o.shape) for i,
                            o in enumerate(outs)]

    outs, ws = scalar(fn(*xs), None)
    total = None
    for o, w in zip(outs, ws):
        term = (o * T(w)).sum()
        total = term if total is None else total + term
    total.backward()

    def value(arrs):
        o, _ = scalar(fn(*[T(a) for a in arrs]), ws)
        return float(sum(np.sum(oi.detach().numpy() * w) for oi, w in zip(o, ws)))

    for k, a in enumerate(arrays):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (value(plus) - value(minus)) / (2 * eps)
        got = xs[k].grad
        np.testing.assert_allclose(np.zeros_like(a) if got is None else got.numpy(), num, atol=1e-6)


# ------------------------------------------------------------------ views

def test_view_and_reshape():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = T(a)
    check(x.view(2, -1), a.reshape(2, -1))
    check(x.view([4, 6]), a.reshape(4, 6))
    check(x.view(-1), a.reshape(-1))
    check(x.reshape(3, 2, -1), a.reshape(3, 2, 4))
    check(x.view_as(T(np.zeros((6, 4)))), a.reshape(6, 4))
    check(x.reshape_as(T(np.zeros(24))), a.reshape(24))
    assert shares(x.view(6, 4), x)
    assert shares(x.reshape(-1), x)
    y = x.transpose(0, 2)
    with pytest.raises(RuntimeError, match="reshape"):
        y.view(-1)
    check(y.reshape(-1), a.transpose(2, 1, 0).reshape(-1))
    with pytest.raises(RuntimeError, match="invalid"):
        x.view(5, -1)
    with pytest.raises(RuntimeError):
        x.view(-1, -1)
    check(T(np.float32(2.0)).view(1, 1), np.full((1, 1), 2.0))
    check(T(np.zeros((0, 3))).view(-1, 3), np.zeros((0, 3)))


def test_view_writes_through():
    x = T(np.zeros((2, 3), np.float32))
    v = x.view(-1)
    v[4] = 7.0
    assert x.numpy()[1, 1] == 7.0


def test_flatten_unflatten_squeeze_unsqueeze():
    a = np.arange(24).reshape(2, 1, 3, 4)
    x = T(a)
    check(x.flatten(), a.reshape(-1))
    check(x.flatten(1), a.reshape(2, -1))
    check(ts.flatten(x, 1, 2), a.reshape(2, 3, 4))
    check(x.flatten(-2, -1), a.reshape(2, 1, 12))
    check(T(np.int64(3)).flatten(), np.array([3]))
    check(x.unflatten(-1, (2, 2)), a.reshape(2, 1, 3, 2, 2))
    check(x.unflatten(2, [-1, 1]), a.reshape(2, 1, 3, 1, 4))
    check(x.squeeze(), a.squeeze())
    check(x.squeeze(1), a.squeeze(1))
    check(x.squeeze(0), a)
    check(x.squeeze([0, 1]), a.squeeze(1))
    check(x.unsqueeze(0), a[None])
    check(x.unsqueeze(-1), a[..., None])
    check(ts.unsqueeze(T(np.int64(3)), 0), np.array([3]))
    with pytest.raises(IndexError):
        x.unsqueeze(5)
    assert shares(x.squeeze(), x) and shares(x.unsqueeze(1), x)


def test_permutations():
    a = np.arange(24).reshape(2, 3, 4)
    x = T(a)
    check(x.permute(2, 0, 1), a.transpose(2, 0, 1))
    check(x.permute([1, 2, 0]), a.transpose(1, 2, 0))
    check(x.permute(-1, 0, 1), a.transpose(2, 0, 1))
    check(x.transpose(0, 1), a.swapaxes(0, 1))
    check(x.transpose(-1, -2), a.swapaxes(-1, -2))
    check(ts.swapaxes(x, 0, 2), a.swapaxes(0, 2))
    check(x.movedim(0, -1), np.moveaxis(a, 0, -1))
    check(ts.movedim(x, [0, 1], [2, 0]), np.moveaxis(a, [0, 1], [2, 0]))
    check(T(a[0]).t(), a[0].T)
    check(T(a[0, 0]).t(), a[0, 0])
    with pytest.raises(RuntimeError, match="2 dimensions"):
        x.t()
    with pytest.raises(RuntimeError):
        x.permute(0, 1)
    with pytest.raises(RuntimeError):
        x.permute(0, 0, 1)
    assert shares(x.permute(2, 1, 0), x) and shares(x.transpose(0, 1), x)


def test_expand_and_broadcast():
    a = np.arange(3, dtype=np.float32).reshape(3, 1)
    x = T(a)
    check(x.expand(3, 4), np.broadcast_to(a, (3, 4)))
    check(x.expand(2, 3, -1), np.broadcast_to(a, (2, 3, 1)))
    check(x.expand_as(T(np.zeros((2, 3, 5)))), np.broadcast_to(a, (2, 3, 5)))
    check(ts.broadcast_to(x, (3, 2)), np.broadcast_to(a, (3, 2)))
    p, q = ts.broadcast_tensors(x, T(np.zeros(4)))
    assert p.shape == (3, 4) and q.shape == (3, 4)
    assert shares(x.expand(3, 4), x)
    with pytest.raises(RuntimeError):
        x.expand(4, 4)
    with pytest.raises(RuntimeError):
        x.expand(3)


def test_repeat_tile():
    a = np.arange(6).reshape(2, 3)
    x = T(a)
    check(x.repeat(2, 3), np.tile(a, (2, 3)))
    check(x.repeat(2, 1, 1), np.tile(a, (2, 1, 1)))
    check(x.tile((2,)), np.tile(a, 2))
    check(ts.tile(x, (2, 1, 2)), np.tile(a, (2, 1, 2)))
    with pytest.raises(RuntimeError):
        x.repeat(2)


# ------------------------------------------------------------------ joining and splitting

def test_cat_stack():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(3, dtype=np.int64).reshape(1, 3)
    check(ts.cat([T(a), T(b)]), np.concatenate([a, b]).astype(np.float32), "float32")
    check(ts.cat([T(a), T(a)], dim=-1), np.concatenate([a, a], 1))
    check(ts.concat([T(a), T(np.zeros(0))], 0), a)
    check(ts.stack([T(a), T(a)], 1), np.stack([a, a], 1))
    check(ts.stack([T(a[0]), T(a[1])], -1), np.stack([a[0], a[1]], -1))
    check(ts.hstack([T(a), T(a)]), np.hstack([a, a]))
    check(ts.hstack([T(a[0]), T(a[1])]), np.hstack([a[0], a[1]]))
    check(ts.vstack([T(a[0]), T(a)]), np.vstack([a[0], a]))
    with pytest.raises(RuntimeError, match="non-empty"):
        ts.cat([])
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        ts.cat([T(a), T(np.zeros((2, 2)))], 0)
    with pytest.raises(RuntimeError):
        ts.stack([T(a), T(b)])
    with pytest.raises(RuntimeError):
        ts.stack([])


def test_split_chunk_unbind():
    a = np.arange(20).reshape(5, 4)
    x = T(a)
    parts = ts.split(x, 2, dim=0)
    assert [p.shape[0] for p in parts] == [2, 2, 1]
    check(parts[2], a[4:])
    parts = x.split([1, 3], dim=1)
    check(parts[0], a[:, :1])
    check(parts[1], a[:, 1:])
    assert [p.shape[0] for p in ts.chunk(x, 3, 0)] == [2, 2, 1]
    assert [p.shape[0] for p in T(np.zeros(4)).chunk(3)] == [2, 2]
    assert [p.shape[0] for p in T(np.zeros(6)).chunk(4)] == [2, 2, 2]
    rows = ts.unbind(x, 0)
    assert len(rows) == 5
    check(rows[3], a[3])
    check(x.unbind(1)[2], a[:, 2])
    assert all(shares(p, x) for p in parts)
    with pytest.raises(RuntimeError):
        x.split([1, 2], 1)


def test_narrow_select_slice():
    a = np.arange(20).reshape(5, 4)
    x = T(a)
    check(x.narrow(1, 1, 2), a[:, 1:3])
    check(ts.narrow(x, 0, -2, 1), a[3:4])
    check(x.select(1, -1), a[:, -1])
    check(ts.slice(x, 0, 1, None, 2) if hasattr(ts, "slice") else x.slice(0, 1, None, 2), a[1::2])
    check(x.slice(1, -3, 100), a[:, -3:100])
    with pytest.raises(IndexError, match="out of range"):
        x.select(0, 5)
    with pytest.raises(RuntimeError):
        x.narrow(0, 3, 3)
    assert shares(x.narrow(0, 1, 2), x) and shares(x.select(0, 1), x)


def test_flip_roll_diagonal_diag():
    a = np.arange(12).reshape(3, 4)
    x = T(a)
    check(ts.flip(x, [0]), a[::-1])
    check(x.flip([0, 1]), a[::-1, ::-1])
    check(x.flip(-1), a[:, ::-1])
    check(ts.roll(x, 1, 0), np.roll(a, 1, 0))
    check(ts.roll(x, -2, 1), np.roll(a, -2, 1))
    check(x.roll(5), np.roll(a, 5))
    check(x.roll((1, 2), (0, 1)), np.roll(a, (1, 2), (0, 1)))
    check(x.diagonal(), np.diagonal(a))
    check(x.diagonal(1), np.diagonal(a, 1))
    check(x.diagonal(-1), np.diagonal(a, -1))
    d = x.diagonal()
    d[0] = 100
    assert x.numpy()[0, 0] == 100
    check(ts.diag(T(np.array([1, 2]))), np.diag([1, 2]))
    check(ts.diag(x, 1), np.diag(a, 1))


def test_sizes():
    x = T(np.zeros((2, 3, 4)))
    assert x.size(-1) == 4 and x.size() == (2, 3, 4) and x.dim() == 3 and x.numel() == 24
    assert ts.numel(x) == 24


# ------------------------------------------------------------------ gradients

@pytest.mark.parametrize("fn", [
    lambda x: x.view(6, 4),
    lambda x: x.reshape(4, -1),
    lambda x: x.transpose(0, 2).reshape(-1),
    lambda x: x.flatten(1),
    lambda x: x.unflatten(2, (2, 2)),
    lambda x: x.permute(2, 0, 1),
    lambda x: x.transpose(0, 1),
    lambda x: x.movedim(0, 2),
    lambda x: x[0].t(),
    lambda x: x.unsqueeze(1).squeeze(1),
    lambda x: x.narrow(1, 1, 2) * 2,
    lambda x: x.select(2, -1),
    lambda x: x.slice(1, 0, 3, 2),
    lambda x: x.flip([0, 2]),
    lambda x: x.roll(1, 2),
    lambda x: x.diagonal(0, 1, 2),
    lambda x: x.repeat(2, 1, 2),
    lambda x: x.tile((2,)),
    lambda x: x[:, :1].expand(2, 3, 4),
    lambda x: list(x.split(1, 1)),
    lambda x: list(x.split([1, 3], 2)),
    lambda x: list(x.chunk(2, 2)),
    lambda x: list(x.unbind(0)),
    lambda x: ts.cat([x, x * 2], 1),
    lambda x: ts.stack([x, x.flip(0)], 0),
    lambda x: ts.hstack([x, x]),
    lambda x: ts.vstack([x[0], x[1]]),
    lambda x: ts.diag(x[0, 0]),
    lambda x: ts.diag(x[0]),
], ids=lambda f: "")
def test_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3, 4)))


def test_split_gradient_with_unused_piece():
    x = T(np.arange(6.0), requires_grad=True)
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    assert x.grad.tolist() == [0, 0, 3, 3, 0, 0]


def test_cat_gradient_two_inputs():
    grad_check(lambda a, b: ts.cat([a, b], 0), RNG.standard_normal((2, 3)),
               RNG.standard_normal((1, 3)))
    grad_check(lambda a, b: ts.stack([a, b], 2), RNG.standard_normal((2, 3)),
               RNG.standard_normal((2, 3)))


def test_unfold_rot90_meshgrid_tensor_split_stacks():
    a = np.arange(10.0)
    x = T(a)
    check(x.unfold(0, 3, 2), np.lib.stride_tricks.sliding_window_view(a, 3)[::2])
    assert shares(x.unfold(0, 4, 3), x)
    b = np.arange(12).reshape(3, 4)
    check(ts.rot90(T(b)), np.rot90(b))
    check(T(b).rot90(-1, [1, 0]), np.rot90(b, -1, (1, 0)))
    for indexing in ("ij", "xy"):
        got = ts.meshgrid(T(np.arange(3)), T(np.arange(2)), indexing=indexing)
        for g, e in zip(got, np.meshgrid(np.arange(3), np.arange(2), indexing=indexing)):
            check(g, e)
    assert [p.shape[0] for p in ts.tensor_split(x, 3)] == [4, 3, 3]
    assert [p.shape[0] for p in x.tensor_split([2, -3, 20])] == [2, 5, 3, 0]
    check(ts.dstack([x, x]), np.dstack([a, a]))
    check(ts.column_stack([x, x]), np.column_stack([a, a]))
    check(ts.atleast_2d(x), np.atleast_2d(a))
    check(ts.atleast_3d(T(b)), np.atleast_3d(b))


@pytest.mark.parametrize("fn", [
    lambda x: x.unfold(2, 2, 1),
    lambda x: x.unfold(1, 2, 2),
    lambda x: ts.rot90(x, 1, [1, 2]),
    lambda x: list(ts.meshgrid(x[0, 0], x[1, :, 0], indexing="xy")),
    lambda x: list(x.tensor_split([1, 3], 2)),
    lambda x: ts.dstack([x[0], x[1]]),
    lambda x: ts.column_stack([x[0, 0], x[1, 1]]),
    lambda x: ts.atleast_3d(x[0, 0]),
], ids=lambda f: "")
def test_more_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3, 4)))


def test_gradcheck_and_double_backward():
    x = T(RNG.standard_normal((3, 4)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda t: t.permute(1, 0)[1:, ::2].flip([0]), (x,))
    y = (x.select(1, 2) ** 3).sum() if hasattr(x, "__pow__") else None
    if y is not None:
        (g,) = ts.autograd.grad([y], [x], create_graph=True)
        (gg,) = ts.autograd.grad([g.sum()], [x])
        expected = np.zeros((3, 4))
        expected[:, 2] = 6 * x.detach().numpy()[:, 2]
        np.testing.assert_allclose(gg.numpy(), expected)


def test_repeat_interleave_and_diff():
    a = np.arange(6).reshape(2, 3)
    x = T(a)
    check(x.repeat_interleave(2), np.repeat(a, 2))
    check(ts.repeat_interleave(x, 2, dim=1), np.repeat(a, 2, 1))
    check(x.repeat_interleave(T(np.array([1, 3])), dim=0), np.repeat(a, [1, 3], 0))
    check(ts.diff(x), np.diff(a))
    check(x.diff(n=2, dim=1), np.diff(a, 2, 1))
    check(x.diff(dim=0, prepend=T(np.zeros((1, 3), np.int64))), np.diff(a, 1, 0, prepend=0))
    check(T(np.array([True, False, False])).diff(), np.array([True, False]))


@pytest.mark.parametrize("fn", [
    lambda x: x.repeat_interleave(2, dim=1),
    lambda x: x.repeat_interleave(T(np.array([2, 0, 1])), dim=1),
    lambda x: x.repeat_interleave(3),
    lambda x: x.diff(),
    lambda x: x.diff(n=2, dim=2),
    lambda x: ts.diff(x, dim=0, append=x[:1] * 3),
], ids=lambda f: "")
def test_repeat_interleave_diff_gradients(fn):
    grad_check(fn, RNG.standard_normal((2, 3, 4)))


def test_inplace_on_reshape_copy_leaves_source_alone():
    # reshape of a transposed tensor must copy; the copy is not a view of the source
    x = T(np.arange(6.0).reshape(2, 3), requires_grad=True)
    z = x * 1
    y = z.t().reshape(-1)
    assert not shares(y.detach(), z.detach())
    y.mul_(2)
    check(z, np.arange(6.0).reshape(2, 3))
    (y * T(np.arange(6.0))).sum().backward()
    check(x.grad, 2 * np.arange(6.0).reshape(3, 2).T)
