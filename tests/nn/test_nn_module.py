"""nn.Module's protocol: registration, iteration order, state_dict, modes, conversion, repr."""
import copy

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(ts.ones(2, 3))
        self.register_buffer("stat", ts.zeros(3))
        self.register_buffer("scratch", ts.zeros(1), persistent=False)
        self.fc = nn.Linear(3, 2)
        self.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())

    def forward(self, x):
        return self.seq(self.fc(x * self.stat + x) + self.w.sum())


def test_registration_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "w", "fc.weight", "fc.bias", "seq.0.weight", "seq.0.bias"]
    assert [n for n, _ in net.named_buffers()] == ["stat", "scratch"]
    assert list(net.state_dict()) == [
        "w", "stat", "fc.weight", "fc.bias", "seq.0.weight", "seq.0.bias"]
    assert [n for n, _ in net.named_children()] == ["fc", "seq"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "seq", "seq.0", "seq.1"]
    assert [n for n, _ in net.named_parameters(prefix="m", recurse=False)] == ["m.w"]
    assert len(list(net.parameters())) == 5
    assert len(list(net.modules())) == 5


def test_assignment_rules():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        net.w = ts.ones(2)
    net.w = None
    assert "w" not in dict(net.named_parameters())
    net.stat = ts.ones(3)  # reassigning a buffer keeps it a buffer
    assert "stat" in dict(net.named_buffers())
    net.plain = 3
    assert net.plain == 3 and "plain" not in net.state_dict()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope
    del net.fc
    assert "fc" not in dict(net.named_children())
    with pytest.raises(KeyError):
        net.register_parameter("a.b", None)


def test_shared_parameters_appear_once_but_state_dict_keeps_every_name():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3)
            self.out = nn.Linear(3, 5, bias=False)
            self.out.weight = self.emb.weight

        def forward(self, idx):
            return self.out(self.emb(idx))

    m = Tied()
    assert [n for n, _ in m.named_parameters()] == ["emb.weight"]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == [
        "emb.weight", "out.weight"]
    sd = m.state_dict()
    assert list(sd) == ["emb.weight", "out.weight"]
    new = ts.arange(15, dtype=ts.float32).reshape(5, 3)
    m.load_state_dict({"emb.weight": new, "out.weight": new})
    assert m.out.weight is m.emb.weight
    np.testing.assert_array_equal(m.emb.weight.detach().numpy(), new.numpy())
    m(ts.tensor([1, 2])).sum().backward()
    assert m.emb.weight.grad is not None


def test_state_dict_values_are_detached_views_and_round_trip():
    net = Net()
    sd = net.state_dict()
    assert not sd["w"].requires_grad
    with ts.no_grad():
        net.w.add_(1)
    assert float(sd["w"][0, 0]) == 2.0  # shares storage with the parameter, as in PyTorch
    assert sd["w"] is not net.w
    other = Net()
    result = other.load_state_dict({k: v.clone() for k, v in net.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    assert sd["w"] is not None and net.state_dict(keep_vars=True)["w"] is net.w


def test_load_state_dict_errors_like_torch():
    net = Net()
    sd = dict(net.state_dict())
    del sd["fc.bias"]
    sd["extra"] = ts.zeros(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra".' in msg
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc.bias"] and result.unexpected_keys == ["extra"]
    sd = dict(net.state_dict())
    sd["fc.weight"] = ts.zeros(3, 3)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight: copying a param with "
                                           r"shape ts.Size\(\[3, 3\]\) from checkpoint"):
        net.load_state_dict(sd)


def test_load_state_dict_copies_in_place():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": ts.ones(2, 2), "bias": ts.zeros(2)})
    assert m.weight is w and m.weight.requires_grad
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((2, 2), np.float32))


def test_train_eval_zero_grad_requires_grad():
    net = Net()
    assert net.training and net.seq[0].training
    assert net.eval() is net
    assert not net.training and not net.seq[0].training
    net.train()
    assert net.seq[1].training
    net(ts.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_keeps_parameter_identity():
    bn = nn.BatchNorm1d(3)
    w = bn.weight
    bn.double()
    assert bn.weight is w and w.dtype == ts.float64 and isinstance(w, nn.Parameter)
    assert bn.running_mean.dtype == ts.float64
    assert bn.num_batches_tracked.dtype == ts.int64
    bn.to(ts.float32)
    assert w.dtype == ts.float32
    bn.half()
    assert w.dtype == ts.float16
    bn.float()
    assert w.dtype == ts.float32 and w.requires_grad


def test_apply_visits_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "ReLU", "Sequential", "Net"]


def test_repr_matches_torch():
    m = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4),
                      nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(16, 2))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)\n"
        "  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (2): ReLU(inplace=True)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=16, out_features=2, bias=True)\n"
        ")")
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    assert repr(nn.LSTM(3, 4, 2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(nn.Parameter(ts.ones(1))).startswith("Parameter containing:\ntensor([1.]")


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml += [nn.Tanh()]
    assert len(ml) == 5 and [n for n, _ in ml.named_children()] == ["0", "1", "2", "3", "4"]
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    pl = nn.ParameterList([nn.Parameter(ts.ones(1)), ts.zeros(2)])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]


def test_deepcopy_gives_independent_parameters():
    m = nn.Linear(2, 2)
    c = copy.deepcopy(m)
    assert isinstance(c.weight, nn.Parameter) and c.weight is not m.weight
    with ts.no_grad():
        c.weight.fill_(0)
    assert float(m.weight.abs().sum()) > 0


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape))
    m(ts.ones(1, 2))
    h.remove()
    m(ts.ones(1, 2))
    assert calls == [ts.Size([1, 2])]


def test_hooks_replace_input_and_output_until_removed():
    m = nn.Identity()
    pre = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    post = m.register_forward_hook(lambda mod, args, out: out + 1)
    assert m(ts.ones(2)).tolist() == [3.0, 3.0]
    pre.remove()
    assert m(ts.ones(2)).tolist() == [2.0, 2.0]
    post.remove()
    assert m(ts.ones(2)).tolist() == [1.0, 1.0]


def test_buffers_without_persistence_and_buffer_marker():
    m = nn.Module()
    m.register_buffer("a", ts.ones(1), persistent=False)
    m.b = nn.Buffer(ts.zeros(2))
    assert list(m.state_dict()) == ["b"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
