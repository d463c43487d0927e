"""``ts.script(module)``: compiled forward matches eager, shares parameters, and trains."""
import numpy as np
import pytest

import tensorscript as ts
import tensorscript.nn.functional as F
from tensorscript import nn, optim

SCALE = 0.5


class Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(0.5)
        self.gain = 2.0

    def forward(self, x):
        y = self.drop(F.gelu(self.fc(x)))
        if self.training:
            y = y * 1.0
        return self.norm(self.residual(x, y))

    def residual(self, x, y):
        return x + y * self.gain * SCALE


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(4) for _ in range(3)])
        self.head = nn.Sequential(nn.Linear(4, 3), nn.Tanh())

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            x = block(x) + i
        x = self.blocks[-1](x)
        return self.head(x) * len(self.blocks)

    @ts.jit.export
    def embed(self, x):
        return self.blocks[0](x)

    @ts.jit.unused
    def debug(self, x):
        print("python only")
        return x

    @ts.jit.ignore
    def python_helper(self):
        return "never compiled"


def P(t):
    return t.detach().numpy()


def test_scripted_forward_matches_eager_and_has_code_and_graph():
    ts.manual_seed(0)
    net = Net().eval()
    sm = ts.script(net)
    x = ts.randn(5, 4)
    np.testing.assert_allclose(P(sm(x)), P(net(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(P(sm.embed(x)), P(net.embed(x)), rtol=1e-5, atol=1e-6)
    assert "forward" in sm.code
    assert "CallMethod" in str(sm.graph)
    assert "class Net(torch.nn.Module):" in sm.source


def test_script_module_shares_parameters_state_dict_and_modes():
    net = Net()
    sm = ts.script(net)
    assert [n for n, _ in sm.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert all(a is b for a, b in zip(sm.parameters(), net.parameters()))
    assert list(sm.state_dict()) == list(net.state_dict())
    assert sm.training
    sm.eval()
    assert not sm.training and not net.blocks[0].drop.training
    x = ts.randn(2, 4)
    np.testing.assert_array_equal(P(sm(x)), P(sm(x)))  # dropout off in eval
    sm.train()
    ts.manual_seed(1)
    a = P(sm(x)).copy()
    ts.manual_seed(2)
    assert not np.allclose(a, P(sm(x)))  # dropout on again, inside the script


def test_training_through_the_scripted_forward():
    ts.manual_seed(0)
    net = Net()
    sm = ts.script(net)
    opt = optim.Adam(sm.parameters(), lr=0.05)
    x = ts.randn(16, 4)
    y = ts.randn(16, 3).tanh()
    before = [P(p).copy() for p in net.parameters()]
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.mse_loss(sm(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert all(not np.array_equal(b, P(p)) for b, p in zip(before, net.parameters()))
    sm.eval()
    np.testing.assert_allclose(P(sm(x)), P(net(x)), rtol=1e-5, atol=1e-6)


def test_scripted_gradients_equal_eager_gradients():
    ts.manual_seed(0)
    net = Net().eval().double()
    sm = ts.script(net)
    x = ts.randn(3, 4, dtype=ts.float64)
    net(x).sum().backward()
    eager_grads = [P(p.grad).copy() for p in net.parameters()]
    net.zero_grad()
    sm(x).sum().backward()
    for g, p in zip(eager_grads, net.parameters()):
        np.testing.assert_allclose(P(p.grad), g, rtol=1e-10, atol=1e-12)


def test_cnn_layers_script_and_batchnorm_updates_its_buffers():
    ts.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                          nn.MaxPool2d(2), nn.AvgPool2d(1), nn.AdaptiveAvgPool2d((1, 1)),
                          nn.Flatten(), nn.Linear(2, 2), nn.LogSoftmax(dim=1))
    twin = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                         nn.MaxPool2d(2), nn.AvgPool2d(1), nn.AdaptiveAvgPool2d((1, 1)),
                         nn.Flatten(), nn.Linear(2, 2), nn.LogSoftmax(dim=1))
    twin.load_state_dict(model.state_dict())
    sm = ts.script(model)
    x = ts.randn(3, 1, 4, 4)
    np.testing.assert_allclose(P(sm(x)), P(twin(x)), rtol=1e-5, atol=1e-6)
    bn, bn_twin = model[1], twin[1]
    assert int(bn.num_batches_tracked) == 1
    np.testing.assert_allclose(P(bn.running_var), P(bn_twin.running_var), rtol=1e-6)
    sm.eval()
    twin.eval()
    np.testing.assert_allclose(P(sm(x)), P(twin(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, args", [
    (lambda: nn.Embedding(5, 3, padding_idx=0), lambda: (ts.tensor([0, 4, 2]),)),
    (lambda: nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular"), lambda: (ts.randn(1, 2, 5),)),
    (lambda: nn.Conv2d(2, 2, 3, padding="same", bias=False), lambda: (ts.randn(1, 2, 4, 4),)),
    (lambda: nn.GroupNorm(2, 4), lambda: (ts.randn(2, 4, 3),)),
    (lambda: nn.Bilinear(2, 3, 2), lambda: (ts.randn(4, 2), ts.randn(4, 3))),
    (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), lambda: (ts.randn(4, 3),
                                                               ts.tensor([0, 1, 2, 0]))),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=ts.ones(3)), lambda: (ts.randn(4, 3), ts.rand(4, 3))),
    (lambda: nn.MaxPool2d(2, return_indices=True), lambda: (ts.randn(1, 1, 4, 4),)),
])
def test_library_layers_script(make, args):
    m = make()
    inputs = args()
    out, expect = ts.script(m)(*inputs), m(*inputs)
    if isinstance(expect, tuple):
        for o, e in zip(out, expect):
            np.testing.assert_allclose(P(o), P(e), rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(P(out), P(expect), rtol=1e-5, atol=1e-6)


def test_keyword_arguments_and_defaults_bind_like_python():
    class WithDefault(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x, scale: float = 2.0):
            return self.fc(x) * scale

    m = WithDefault()
    sm = ts.script(m)
    x = ts.ones(1, 2)
    np.testing.assert_allclose(P(sm(x)), P(m(x)), rtol=1e-6)
    np.testing.assert_allclose(P(sm(x, scale=3.0)), P(m(x, 3.0)), rtol=1e-6)


def test_ignored_method_called_from_forward_is_a_compile_error():
    class Bad(nn.Module):
        def forward(self, x):
            return self.helper(x)

        @ts.jit.ignore
        def helper(self, x):
            return x

    with pytest.raises(ts.CompileError, match="ignore"):
        ts.script(Bad())


def _attention_matches(monkeypatch_env=None):
    ts.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0,
                                       activation="gelu", norm_first=True).eval()
    sm = ts.script(layer)
    x = ts.randn(3, 2, 4)
    mask = ts.tensor([[False, False, True]] * 3)
    kpm = ts.tensor([[False, False, False], [True, False, False]])
    np.testing.assert_allclose(P(sm(x, src_mask=mask, src_key_padding_mask=kpm)),
                               P(layer(x, src_mask=mask, src_key_padding_mask=kpm)),
                               rtol=1e-5, atol=1e-6)
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    q = ts.randn(2, 3, 4)
    out, w = ts.script(mha)(q, q, q)
    eout, ew = mha(q, q, q)
    np.testing.assert_allclose(P(out), P(eout), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(P(w), P(ew), rtol=1e-5, atol=1e-6)


def test_attention_layers_script_without_autodiff_subgraphs(monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_DISABLE_PASSES", "create_autodiff_subgraphs")
    _attention_matches()


def test_attention_layers_script_with_the_default_pipeline():
    # Regression: autodiff regions once captured a value that an If block returned.
    _attention_matches()


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True),
    lambda: nn.GRU(3, 4, num_layers=2),
])
def test_recurrent_layers_script_and_train(make):
    ts.manual_seed(0)
    m = make()
    sm = ts.script(m)
    x = ts.randn(2, 5, 3)
    out, state = sm(x)
    eout, estate = m(x)
    np.testing.assert_allclose(P(out), P(eout), rtol=1e-5, atol=1e-6)
    flat = state if isinstance(state, tuple) else (state,)
    eflat = estate if isinstance(estate, tuple) else (estate,)
    for a, b in zip(flat, eflat):
        np.testing.assert_allclose(P(a), P(b), rtol=1e-5, atol=1e-6)
    opt = optim.SGD(sm.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = (sm(x)[0] ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_rnn_rejects_wrong_input_size():
    with pytest.raises(RuntimeError, match="input_size"):
        nn.LSTM(3, 2)(ts.randn(4, 1, 5))
