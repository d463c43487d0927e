"""Each layer's forward against a NumPy reference, and its backward by finite differences."""
import math

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn

import nn_reference as ref


def P(t):
    if isinstance(t, np.ndarray):
        return t
    return t.detach().numpy().astype(np.float64)


def rand(*shape, seed=0):
    return ts.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=ts.float64)


def gradcheck_module(m, *inputs):
    """Finite differences over the inputs and every parameter of ``m`` (float64)."""
    inputs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    params = list(m.parameters())
    n = len(inputs)

    def fn(*args):
        out = m(*args[:n])
        if isinstance(out, tuple):
            flat = []
            for o in out:
                flat.extend(o if isinstance(o, tuple) else [o])
            return tuple(o for o in flat if o is not None)
        return out

    assert ts.autograd.gradcheck(fn, tuple(inputs) + tuple(params), eps=1e-6, atol=1e-6)


# ------------------------------------------------------------------ linear and conv

def test_linear_forward_shapes_and_init_bounds():
    ts.manual_seed(0)
    m = nn.Linear(64, 32)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [
        ("weight", (32, 64)), ("bias", (32,))]
    bound = 1 / math.sqrt(64)
    w = P(m.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # U(-b, b) has std b / sqrt(3)
    assert np.abs(P(m.bias)).max() <= bound
    x = ts.randn(5, 64)
    np.testing.assert_allclose(P(m(x)), P(x) @ w.T + P(m.bias), rtol=1e-5, atol=1e-5)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_and_bilinear_gradcheck():
    gradcheck_module(nn.Linear(3, 2).double(), rand(4, 3))
    gradcheck_module(nn.Bilinear(2, 3, 2).double(), rand(2, 2), rand(2, 3, seed=1))


@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_linear_gradients_match_numpy_for_any_batch_rank(batch):
    m = nn.Linear(4, 3).double()
    x = rand(*batch, 4, seed=1).requires_grad_()
    g = np.random.default_rng(2).standard_normal(batch + (3,))
    m(x).backward(ts.tensor(g))
    w = P(m.weight)
    g_rows, x_rows = g.reshape(-1, 3), P(x).reshape(-1, 4)
    np.testing.assert_allclose(P(x.grad), g @ w, rtol=1e-12)
    np.testing.assert_allclose(P(m.weight.grad), g_rows.T @ x_rows, rtol=1e-12)
    np.testing.assert_allclose(P(m.bias.grad), g_rows.sum(0), rtol=1e-12)


def test_bilinear_forward():
    m = nn.Bilinear(2, 3, 4).double()
    assert tuple(m.weight.shape) == (4, 2, 3)
    bound = 1 / math.sqrt(2)
    assert np.abs(P(m.weight)).max() <= bound
    x1, x2 = rand(5, 2), rand(5, 3, seed=1)
    expect = np.einsum("ni,kij,nj->nk", P(x1), P(m.weight), P(x2)) + P(m.bias)
    np.testing.assert_allclose(P(m(x1, x2)), expect, rtol=1e-10)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(dilation=2),
                                    dict(groups=2, bias=False)])
def test_conv2d_forward(kwargs):
    m = nn.Conv2d(4, 6, 3, **kwargs).double()
    fan_in = 4 // m.groups * 9
    assert tuple(m.weight.shape) == (6, 4 // m.groups, 3, 3)
    assert np.abs(P(m.weight)).max() <= 1 / math.sqrt(fan_in)
    x = rand(2, 4, 7, 7)
    expect = ref.conv2d(P(x), P(m.weight), None if m.bias is None else P(m.bias),
                        m.stride, m.padding, m.dilation, m.groups)
    np.testing.assert_allclose(P(m(x)), expect, rtol=1e-10, atol=1e-12)


def test_conv1d_forward_and_padding_modes():
    m = nn.Conv1d(2, 3, 3, padding=1).double()
    x = rand(2, 2, 6)
    expect = ref.conv2d(P(x)[:, :, None, :], P(m.weight)[:, :, None, :], P(m.bias),
                        padding=(0, 1))[:, :, 0, :]
    np.testing.assert_allclose(P(m(x)), expect, rtol=1e-10, atol=1e-12)
    c = nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular").double()
    xp = np.concatenate([P(x)[:, :, -1:], P(x), P(x)[:, :, :1]], axis=2)
    expect = ref.conv2d(xp[:, :, None, :], P(c.weight)[:, :, None, :], P(c.bias))[:, :, 0, :]
    np.testing.assert_allclose(P(c(x)), expect, rtol=1e-10, atol=1e-12)
    same = nn.Conv2d(2, 2, 3, padding="same")
    assert tuple(same(ts.randn(1, 2, 5, 5)).shape) == (1, 2, 5, 5)


def test_conv_gradcheck():
    gradcheck_module(nn.Conv2d(2, 2, 2, stride=1, padding=1).double(), rand(1, 2, 3, 3))
    gradcheck_module(nn.Conv1d(2, 2, 2).double(), rand(1, 2, 4))


# ------------------------------------------------------------------ pooling

def test_pooling_forward():
    x = rand(2, 3, 6, 6)
    np.testing.assert_allclose(P(nn.MaxPool2d(2)(x)), ref.pool2d(P(x), 2, 2, np.max))
    np.testing.assert_allclose(P(nn.AvgPool2d(3, stride=3)(x)), ref.pool2d(P(x), 3, 3, np.mean))
    np.testing.assert_allclose(P(nn.AdaptiveAvgPool2d((1, 1))(x)),
                               P(x).mean(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(P(nn.AdaptiveAvgPool2d(3)(x)), ref.pool2d(P(x), 2, 2, np.mean))
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert idx.dtype == ts.int64 and tuple(out.shape) == (2, 3, 3, 3)


def test_pooling_gradcheck():
    x = rand(1, 2, 4, 4)
    gradcheck_module(nn.MaxPool2d(2), x)
    gradcheck_module(nn.AvgPool2d(2), x)
    gradcheck_module(nn.AdaptiveAvgPool2d(2), x)


# ------------------------------------------------------------------ normalization

def test_batchnorm_training_statistics():
    m = nn.BatchNorm1d(3).double()
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var",
                                                 "num_batches_tracked"]
    assert m.num_batches_tracked.dtype == ts.int64 and m.num_batches_tracked.dim() == 0
    x = rand(8, 3)
    xn = P(x)
    y = m(x)
    mean, var_b, var_u = xn.mean(0), xn.var(0), xn.var(0, ddof=1)
    np.testing.assert_allclose(P(y), (xn - mean) / np.sqrt(var_b + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(P(m.running_mean), 0.1 * mean, rtol=1e-10)
    np.testing.assert_allclose(P(m.running_var), 0.9 + 0.1 * var_u, rtol=1e-10)
    assert int(m.num_batches_tracked) == 1
    m(x)
    assert int(m.num_batches_tracked) == 2
    m.eval()
    rm, rv = P(m.running_mean), P(m.running_var)
    x2 = rand(4, 3, seed=3)
    np.testing.assert_allclose(P(m(x2)), (P(x2) - rm) / np.sqrt(rv + 1e-5), rtol=1e-10)
    assert int(m.num_batches_tracked) == 2  # eval forward leaves it alone


def test_batchnorm_loads_checkpoints_without_num_batches_tracked():
    m = nn.BatchNorm1d(2)
    m(ts.randn(4, 2))
    sd = {k: v for k, v in m.state_dict().items() if k != "num_batches_tracked"}
    fresh = nn.BatchNorm1d(2)
    assert fresh.load_state_dict(sd).missing_keys == []
    assert int(fresh.num_batches_tracked) == 0
    np.testing.assert_array_equal(P(fresh.running_mean), P(m.running_mean))


def test_batchnorm_cumulative_average_when_momentum_is_none():
    m = nn.BatchNorm1d(2, momentum=None).double()
    batches = [rand(5, 2, seed=s) for s in range(3)]
    for b in batches:
        m(b)
    means = np.mean([P(b).mean(0) for b in batches], axis=0)
    vars_ = np.mean([P(b).var(0, ddof=1) for b in batches], axis=0)
    np.testing.assert_allclose(P(m.running_mean), means, rtol=1e-10)
    np.testing.assert_allclose(P(m.running_var), vars_, rtol=1e-10)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    m = nn.BatchNorm2d(2, track_running_stats=False).double()
    assert list(m.named_buffers()) == [] and list(m.state_dict()) == ["weight", "bias"]
    m.eval()
    x = rand(3, 2, 2, 2)
    xn = P(x)
    mean = xn.mean(axis=(0, 2, 3), keepdims=True)
    var = xn.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(P(m(x)), (xn - mean) / np.sqrt(var + 1e-5), rtol=1e-10)
    with pytest.raises(ValueError, match="expected 4D input"):
        m(rand(2, 2))


def test_batchnorm_gradcheck():
    m = nn.BatchNorm1d(2).double()
    with ts.no_grad():
        m.weight.copy_(ts.tensor([1.5, -0.5], dtype=ts.float64))
    gradcheck_module(m, rand(4, 2))
    m.eval()
    gradcheck_module(m, rand(4, 2))


def test_layer_norm_and_group_norm():
    ln = nn.LayerNorm([2, 3]).double()
    assert np.all(P(ln.weight) == 1) and np.all(P(ln.bias) == 0)
    with ts.no_grad():
        ln.weight.copy_(rand(2, 3, seed=4))
        ln.bias.copy_(rand(2, 3, seed=5))
    x = rand(4, 2, 3)
    np.testing.assert_allclose(P(ln(x)), ref.layer_norm(P(x), (2, 3), P(ln.weight),
                                                        P(ln.bias), 1e-5), rtol=1e-9)
    gradcheck_module(ln, rand(2, 2, 3))
    gn = nn.GroupNorm(2, 4).double()
    with ts.no_grad():
        gn.weight.copy_(rand(4, seed=6))
    x = rand(3, 4, 5)
    np.testing.assert_allclose(P(gn(x)), ref.group_norm(P(x), 2, P(gn.weight), P(gn.bias), 1e-5),
                               rtol=1e-9)
    gradcheck_module(gn, rand(2, 4, 2))


# ------------------------------------------------------------------ embedding and dropout

def test_embedding_init_lookup_and_padding_gradient():
    ts.manual_seed(0)
    m = nn.Embedding(1000, 8, padding_idx=3)
    w = P(m.weight)
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.05 and abs(rest.std() - 1) < 0.05
    idx = ts.tensor([[3, 1], [1, 7]])
    out = m(idx)
    np.testing.assert_array_equal(P(out), w[P(idx).astype(int)])
    out.sum().backward()
    g = P(m.weight.grad)
    assert np.all(g[3] == 0) and np.all(g[1] == 2) and np.all(g[7] == 1)
    assert nn.Embedding(4, 2, padding_idx=-1).padding_idx == 3
    pre = nn.Embedding.from_pretrained(ts.ones(3, 2))
    assert not pre.weight.requires_grad


def test_dropout_modes():
    ts.manual_seed(1)
    m = nn.Dropout(0.25)
    x = ts.ones(10000)
    y = P(m(x))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    m.eval()
    assert m(x) is x or np.array_equal(P(m(x)), P(x))
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


# ------------------------------------------------------------------ activations

@pytest.mark.parametrize("module, fn", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                      * (x + 0.044715 * x ** 3)))),
    (nn.SiLU(), lambda x: x * ref.sigmoid(x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), ref.sigmoid),
    (nn.Softmax(dim=1), lambda x: ref.softmax(x, 1)),
    (nn.LogSoftmax(dim=0), lambda x: np.log(ref.softmax(x, 0))),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
    (nn.Identity(), lambda x: x),
])
def test_activations(module, fn):
    x = rand(3, 4) + 0.01  # away from the kinks of relu at exactly 0
    np.testing.assert_allclose(P(module(x)), fn(P(x)), rtol=1e-9, atol=1e-12)
    gradcheck_module(module, x)


def test_softmax_implicit_dim():
    x = rand(2, 3)
    np.testing.assert_allclose(P(nn.Softmax()(x)), ref.softmax(P(x), 1), rtol=1e-10)


# ------------------------------------------------------------------ attention and transformer

def _mha_reference(m, q, k, v, **kw):
    e = m.embed_dim
    if m._qkv_same_embed_dim:
        w = P(m.in_proj_weight)
        wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
    else:
        wq, wk, wv = P(m.q_proj_weight), P(m.k_proj_weight), P(m.v_proj_weight)
    return ref.mha(P(q), P(k), P(v), wq, wk, wv, P(m.in_proj_bias), P(m.out_proj.weight),
                   P(m.out_proj.bias), m.num_heads, **kw)


def test_multihead_attention_parameters_and_init():
    m = nn.MultiheadAttention(8, 2)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert np.all(P(m.in_proj_bias) == 0) and np.all(P(m.out_proj.bias) == 0)
    assert np.abs(P(m.in_proj_weight)).max() <= math.sqrt(6 / (24 + 8))
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert [n for n, _ in m2.named_parameters()] == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
        "out_proj.bias"]
    assert m2.in_proj_weight is None


def test_multihead_attention_forward():
    m = nn.MultiheadAttention(8, 2).double()
    with ts.no_grad():
        m.in_proj_bias.copy_(rand(24, seed=7))
        m.out_proj.bias.copy_(rand(8, seed=8))
    q, k = rand(4, 2, 8, seed=1), rand(5, 2, 8, seed=2)
    out, w = m(q, k, k)
    exp_out, exp_w = _mha_reference(m, q, k, k)
    np.testing.assert_allclose(P(out), exp_out, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(P(w), exp_w.mean(1), rtol=1e-9, atol=1e-12)
    _, w_all = m(q, k, k, average_attn_weights=False)
    np.testing.assert_allclose(P(w_all), exp_w, rtol=1e-9, atol=1e-12)
    assert m(q, k, k, need_weights=False)[1] is None

    # bool masks: True means "not attended"
    attn_mask = np.zeros((4, 5), dtype=bool)
    attn_mask[:, 4] = True
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[1, 0] = True
    out, w = m(q, k, k, attn_mask=ts.tensor(attn_mask), key_padding_mask=ts.tensor(kpm))
    exp_out, exp_w = _mha_reference(m, q, k, k, mask=np.where(attn_mask, -np.inf, 0.0),
                                    kpm=np.where(kpm, -np.inf, 0.0))
    np.testing.assert_allclose(P(out), exp_out, rtol=1e-9, atol=1e-12)
    assert np.all(P(w)[:, :, 4] == 0) and np.all(P(w)[1, :, 0] == 0)

    # batch_first gives the same numbers transposed; unbatched input works too
    bf = nn.MultiheadAttention(8, 2, batch_first=True).double()
    bf.load_state_dict(m.state_dict())
    out_bf, _ = bf(q.transpose(0, 1), k.transpose(0, 1), k.transpose(0, 1))
    np.testing.assert_allclose(P(out_bf), P(m(q, k, k)[0]).transpose(1, 0, 2), rtol=1e-10)
    out_u, w_u = m(q[:, 0], k[:, 0], k[:, 0])
    np.testing.assert_allclose(P(out_u), P(m(q, k, k)[0])[:, 0], rtol=1e-10)
    assert tuple(w_u.shape) == (4, 5)


def test_multihead_attention_kdim_vdim_forward_and_gradcheck():
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    q, k, v = rand(2, 1, 4), rand(3, 1, 3, seed=1), rand(3, 1, 2, seed=2)
    out, w = m(q, k, v)
    exp_out, exp_w = _mha_reference(m, q, k, v)
    np.testing.assert_allclose(P(out), exp_out, rtol=1e-9, atol=1e-12)
    gradcheck_module(m, q, k, v)


def test_multihead_attention_gradcheck():
    m = nn.MultiheadAttention(4, 2).double()
    gradcheck_module(m, rand(2, 1, 4), rand(3, 1, 4, seed=1), rand(3, 1, 4, seed=2))


def _encoder_reference(layer, x, norm_first, activation):
    sa = layer.self_attn

    def attend(h):
        return _mha_reference(sa, h, h, h)[0]

    def ln(norm, h):
        return ref.layer_norm(h, (h.shape[-1],), P(norm.weight), P(norm.bias), norm.eps)

    def ff(h):
        return activation(h @ P(layer.linear1.weight).T + P(layer.linear1.bias)) \
            @ P(layer.linear2.weight).T + P(layer.linear2.bias)

    if norm_first:
        x = x + attend(ln(layer.norm1, x))
        return x + ff(ln(layer.norm2, x))
    x = ln(layer.norm1, x + attend(x))
    return ln(layer.norm2, x + ff(x))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer(norm_first, activation):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       activation=activation, norm_first=norm_first).double()
    assert [n for n, _ in layer.named_parameters()] == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
    x = rand(3, 2, 8)
    act = (lambda h: np.maximum(h, 0)) if activation == "relu" else \
        (lambda h: 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2))))
    np.testing.assert_allclose(P(layer(x)), _encoder_reference(layer, P(x), norm_first, act),
                               rtol=1e-8, atol=1e-10)


def test_transformer_encoder_layer_batch_first_dropout_and_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=4, dropout=0.5,
                                       batch_first=True).double()
    x = rand(2, 3, 4)
    layer.eval()
    y = layer(x)
    np.testing.assert_allclose(P(y), P(layer(x)))
    seq_first = nn.TransformerEncoderLayer(4, 2, dim_feedforward=4, dropout=0.5).double().eval()
    seq_first.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(P(seq_first(x.transpose(0, 1))).transpose(1, 0, 2), P(y),
                               rtol=1e-10)
    layer.train()
    ts.manual_seed(0)
    assert not np.allclose(P(layer(x)), P(y))
    layer.eval()
    gradcheck_module(layer, rand(1, 2, 4))


# ------------------------------------------------------------------ recurrent

def _rnn_params(m, layer, suffix=""):
    return [P(getattr(m, f"{kind}_l{layer}{suffix}"))
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def test_lstm_parameters_and_init():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = [(n, tuple(p.shape)) for n, p in m.named_parameters()]
    assert names[:4] == [("weight_ih_l0", (16, 3)), ("weight_hh_l0", (16, 4)),
                         ("bias_ih_l0", (16,)), ("bias_hh_l0", (16,))]
    assert names[4][0] == "weight_ih_l0_reverse" and names[8] == ("weight_ih_l1", (16, 8))
    assert len(names) == 16
    assert all(np.abs(P(p)).max() <= 0.5 for p in m.parameters())
    g = nn.GRU(3, 5)
    assert [(n, tuple(p.shape)) for n, p in g.named_parameters()] == [
        ("weight_ih_l0", (15, 3)), ("weight_hh_l0", (15, 5)), ("bias_ih_l0", (15,)),
        ("bias_hh_l0", (15,))]


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_forward(batch_first):
    m = nn.LSTM(3, 4, num_layers=2, batch_first=batch_first).double()
    x = rand(5, 2, 3)
    h0, c0 = rand(2, 2, 4, seed=1), rand(2, 2, 4, seed=2)
    inp = x.transpose(0, 1) if batch_first else x
    out, (h, c) = m(inp, (h0, c0))
    assert tuple(h.shape) == (2, 2, 4) and tuple(c.shape) == (2, 2, 4)
    o0, h_0, c_0 = ref.lstm_layer(P(x), P(h0)[0], P(c0)[0], *_rnn_params(m, 0))
    o1, h_1, c_1 = ref.lstm_layer(o0, P(h0)[1], P(c0)[1], *_rnn_params(m, 1))
    got = P(out).transpose(1, 0, 2) if batch_first else P(out)
    np.testing.assert_allclose(got, o1, rtol=1e-10)
    np.testing.assert_allclose(P(h), np.stack([h_0, h_1]), rtol=1e-10)
    np.testing.assert_allclose(P(c), np.stack([c_0, c_1]), rtol=1e-10)


def test_lstm_bidirectional_and_unbatched():
    m = nn.LSTM(3, 2, bidirectional=True).double()
    x = rand(4, 1, 3)
    out, (h, c) = m(x)
    z = np.zeros((1, 2))
    fwd, hf, cf = ref.lstm_layer(P(x), z, z, *_rnn_params(m, 0))
    bwd, hb, cb = ref.lstm_layer(P(x), z, z, *_rnn_params(m, 0, "_reverse"), reverse=True)
    np.testing.assert_allclose(P(out), np.concatenate([fwd, bwd], axis=2), rtol=1e-10)
    np.testing.assert_allclose(P(h), np.stack([hf, hb]), rtol=1e-10)
    out_u, (h_u, c_u) = m(x[:, 0])
    np.testing.assert_allclose(P(out_u), P(out)[:, 0], rtol=1e-12)
    assert tuple(h_u.shape) == (2, 2)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gru_forward(bidirectional):
    m = nn.GRU(3, 4, num_layers=2, batch_first=True, bidirectional=bidirectional).double()
    x = rand(2, 5, 3)
    out, h = m(x)
    d = 2 if bidirectional else 1
    assert tuple(h.shape) == (2 * d, 2, 4) and tuple(out.shape) == (2, 5, 4 * d)
    z = np.zeros((2, 4))
    layer_in = P(x).transpose(1, 0, 2)
    finals = []
    for layer in range(2):
        outs = []
        for direction in range(d):
            suffix = "_reverse" if direction else ""
            o, hn = ref.gru_layer(layer_in, z, *_rnn_params(m, layer, suffix),
                                  reverse=bool(direction))
            outs.append(o)
            finals.append(hn)
        layer_in = np.concatenate(outs, axis=2)
    np.testing.assert_allclose(P(out), layer_in.transpose(1, 0, 2), rtol=1e-10)
    np.testing.assert_allclose(P(h), np.stack(finals), rtol=1e-10)


def test_rnn_gradcheck():
    gradcheck_module(nn.LSTM(2, 2).double(), rand(3, 1, 2))
    gradcheck_module(nn.GRU(2, 2).double(), rand(3, 1, 2))


# ------------------------------------------------------------------ losses

def test_losses_against_numpy():
    x, y = rand(4, 3), rand(4, 3, seed=1)
    xn, yn = P(x), P(y)
    assert float(nn.MSELoss()(x, y)) == pytest.approx(((xn - yn) ** 2).mean())
    assert float(nn.MSELoss(reduction="sum")(x, y)) == pytest.approx(((xn - yn) ** 2).sum())
    assert float(nn.L1Loss()(x, y)) == pytest.approx(np.abs(xn - yn).mean())
    d = np.abs(xn - yn)
    smooth = np.where(d < 0.5, 0.5 * d ** 2 / 0.5, d - 0.25).mean()
    assert float(nn.SmoothL1Loss(beta=0.5)(x, y)) == pytest.approx(smooth)
    target = ts.tensor([0, 2, 1, 2])
    logp = np.log(ref.softmax(xn, 1))
    nll = -logp[np.arange(4), [0, 2, 1, 2]]
    assert float(nn.CrossEntropyLoss()(x, target)) == pytest.approx(nll.mean())
    assert float(nn.NLLLoss()(ts.tensor(logp), target)) == pytest.approx(nll.mean())
    w = np.array([1.0, 2.0, 0.5])
    weighted = (nll * w[[0, 2, 1, 2]]).sum() / w[[0, 2, 1, 2]].sum()
    ce = nn.CrossEntropyLoss(weight=ts.tensor(w))
    assert list(ce.state_dict()) == ["weight"]
    assert float(ce(x, target)) == pytest.approx(weighted)
    p = ref.sigmoid(xn)
    t = (yn > 0).astype(np.float64)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    assert float(nn.BCELoss()(ts.tensor(p), ts.tensor(t))) == pytest.approx(bce)
    assert float(nn.BCEWithLogitsLoss()(x, ts.tensor(t))) == pytest.approx(bce)
    pw = np.array([2.0, 1.0, 0.5])
    bce_pw = -(pw * t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    assert float(nn.BCEWithLogitsLoss(pos_weight=ts.tensor(pw))(x, ts.tensor(t))) == \
        pytest.approx(bce_pw)


def test_loss_gradcheck():
    x, y = rand(3, 4), rand(3, 4, seed=1)
    gradcheck_module(nn.MSELoss(), x, y)
    gradcheck_module(nn.SmoothL1Loss(), x, y)
    gradcheck_module(nn.CrossEntropyLoss(), x, ts.tensor([0, 3, 1]))
    gradcheck_module(nn.BCEWithLogitsLoss(), x, (y > 0).double())
