"""``ts.save`` / ``ts.load`` of script modules and traced modules (the ``module`` kind), and
``ts.trace(module, ...)``."""
import io
import json
import zipfile

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn

from archive_helpers import build, members_of


def P(t):
    if isinstance(t, tuple):
        return tuple(P(x) for x in t)
    return t.detach().numpy()


def assert_same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
        return
    np.testing.assert_allclose(P(a), P(b), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ the models

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(16, 3)
        self.sizes = [6, 16, 3]
        self.scale = 2

    def forward(self, x):
        return self.fc2(self.drop(ts.relu(self.fc1(x)))) * self.scale


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        h = self.features(x)
        return self.head(h.flatten(1))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(4, 8)
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.encoder(self.embed(x)))


class LSTMLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 6)
        self.lstm = nn.LSTM(6, 8, num_layers=1, batch_first=True)
        self.proj = nn.Linear(8, 11)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.proj(h)


MODELS = {
    "mlp": (MLP, lambda: (ts.randn(5, 6),)),
    "cnn": (CNN, lambda: (ts.randn(2, 1, 8, 8),)),
    "transformer": (Encoder, lambda: (ts.randn(2, 5, 4),)),
    "lstm_lm": (LSTMLM, lambda: (ts.tensor(np.arange(12).reshape(2, 6) % 11),)),
}


def _run(model, inputs, seed=7):
    ts.manual_seed(seed)
    return model(*inputs)


@pytest.mark.parametrize("name", list(MODELS))
def test_script_module_round_trip_in_train_and_eval_mode(tmp_path, monkeypatch, name):
    make, example = MODELS[name]
    ts.manual_seed(0)
    model = make()
    inputs = example()
    sm = ts.script(model)
    path = tmp_path / f"{name}.ts"
    ts.save(sm, path)
    loaded = ts.load(path)
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert list(loaded.state_dict()) == list(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k].numpy(), v.numpy())
    assert loaded.training
    assert_same(_run(loaded, inputs), _run(sm, inputs))  # train mode: dropout, batch stats
    for k, v in model.state_dict().items():  # running stats moved the same way
        np.testing.assert_allclose(loaded.state_dict()[k].numpy(), v.numpy(), rtol=1e-6)
    sm.eval()
    loaded.eval()
    assert not loaded.training
    assert_same(_run(loaded, inputs), _run(sm, inputs))
    assert_same(loaded(*inputs), model(*inputs))


def test_loaded_module_keeps_attributes_and_trains(tmp_path):
    ts.manual_seed(0)
    model = MLP().eval()
    ts.save(ts.script(model), tmp_path / "mlp.ts")
    loaded = ts.load(tmp_path / "mlp.ts")
    assert not loaded.training and not loaded.drop.training
    assert loaded.sizes == [6, 16, 3] and loaded.scale == 2 and loaded.fc1.in_features == 6
    loaded.train()
    assert loaded.training and loaded.fc1.training
    x, y = ts.randn(8, 6), ts.randn(8, 3)
    opt = ts.optim.SGD(loaded.parameters(), lr=0.05)
    before = None
    for _ in range(5):
        opt.zero_grad()
        loss = ((loaded(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        before = before if before is not None else float(loss)
    assert float(((loaded(x) - y) ** 2).mean()) < before
    # and its weights load into the Python module
    fresh = MLP()
    fresh.load_state_dict(loaded.state_dict())
    loaded.eval()
    fresh.eval()
    assert_same(loaded(x), fresh(x))


@pytest.mark.parametrize("name", list(MODELS))
def test_traced_module_round_trip(tmp_path, monkeypatch, name):
    make, example = MODELS[name]
    ts.manual_seed(0)
    model = make().eval()
    inputs = example()
    tm = ts.trace(model, inputs)
    assert "class " in tm.code and "def forward(self" in tm.code
    assert [n for n, _ in tm.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert_same(tm(*inputs), model(*inputs))
    path = tmp_path / f"{name}.ts"
    ts.save(tm, path)
    loaded = ts.load(path)
    assert type(loaded).__name__ == "TracedModule"
    assert loaded.code == tm.code
    assert list(loaded.state_dict()) == list(model.state_dict())
    assert_same(loaded(*inputs), model(*inputs))


def test_traced_module_keeps_parameters_as_attributes():
    ts.manual_seed(0)
    model = MLP().eval()
    x = ts.randn(4, 6)
    tm = ts.trace(model, (x,))
    assert "_constant_" not in tm.code  # nothing baked
    assert all(a is b for a, b in zip(tm.parameters(), model.parameters()))
    # load_state_dict on the traced module changes what it computes
    other = MLP().eval()
    tm.load_state_dict(other.state_dict())
    assert_same(tm(x), other(x))
    # and it trains
    opt = ts.optim.Adam(tm.parameters(), lr=0.01)
    first = None
    for _ in range(5):
        opt.zero_grad()
        loss = tm(x).pow(2).mean()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss)
    assert float(tm(x).pow(2).mean()) < first
    # the code re-parses
    ts.CompilationUnit(tm.code)


# ------------------------------------------------------------------ weights from other tools

def test_load_state_dict_from_a_foreign_safetensors_file(tmp_path):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(0)
    arrays = {
        "features.0.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32),
        "features.0.bias": rng.standard_normal(4).astype(np.float32),
        "features.1.weight": rng.standard_normal(4).astype(np.float32),
        "features.1.bias": rng.standard_normal(4).astype(np.float32),
        "features.1.running_mean": rng.standard_normal(4).astype(np.float32),
        "features.1.running_var": rng.random(4).astype(np.float32) + 0.5,
        "features.1.num_batches_tracked": np.array(3, dtype=np.int64),
        "head.weight": rng.standard_normal((5, 64)).astype(np.float32),
        "head.bias": rng.standard_normal(5).astype(np.float32),
    }
    save_file(arrays, str(tmp_path / "cnn.safetensors"))
    model = CNN()
    model.load_state_dict(ts.load_safetensors(tmp_path / "cnn.safetensors"))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), arrays[k])


# ------------------------------------------------------------------ hostile module archives

@pytest.fixture(scope="module")
def module_archive(tmp_path_factory):
    ts.manual_seed(0)
    path = tmp_path_factory.mktemp("mod") / "mlp.ts"
    ts.save(ts.script(MLP()), path)
    return members_of(path.read_bytes())


def _load(tmp_path, members):
    path = tmp_path / "hostile.ts"
    path.write_bytes(build(members))
    return ts.load(path)


def _meta(members):
    return json.loads(members["meta.json"])


def _with(members, meta=None, tensors=None):
    out = dict(members)
    if meta is not None:
        out["meta.json"] = json.dumps(meta).encode()
    if tensors is not None:
        from safetensors.numpy import save
        out["constants.safetensors"] = save(tensors)
        if meta is None:
            meta = _meta(members)
        meta["constants"] = {k: {"dtype": {"float32": "F32", "int64": "I64"}[str(v.dtype)],
                                 "shape": list(v.shape)} for k, v in tensors.items()}
        out["meta.json"] = json.dumps(meta).encode()
    return out


def _tensors(members):
    from safetensors.numpy import load
    return dict(load(members["constants.safetensors"]))


def test_module_archive_loads_unchanged(tmp_path, module_archive):
    assert "fc1.weight" in _tensors(module_archive)
    _load(tmp_path, module_archive)


def test_missing_weight_is_rejected(tmp_path, module_archive):
    tensors = _tensors(module_archive)
    del tensors["fc2.bias"]
    with pytest.raises(ts.LoadError, match="fc2.bias.*missing"):
        _load(tmp_path, _with(module_archive, tensors=tensors))


def test_extra_weight_is_rejected(tmp_path, module_archive):
    tensors = _tensors(module_archive)
    tensors["fc3.weight"] = np.zeros((2, 2), np.float32)
    with pytest.raises(ts.LoadError, match="no module attribute uses.*fc3.weight"):
        _load(tmp_path, _with(module_archive, tensors=tensors))


def test_weights_disagreeing_with_meta_are_rejected(tmp_path, module_archive):
    tensors = _tensors(module_archive)
    meta = _meta(module_archive)
    out = _with(module_archive, tensors=tensors)
    meta["constants"]["fc1.weight"]["shape"] = [3, 3]
    out["meta.json"] = json.dumps(meta).encode()
    with pytest.raises(ts.LoadError, match="fc1.weight"):
        _load(tmp_path, out)
    meta["constants"]["fc1.weight"] = {"dtype": "F64", "shape": [16, 6]}
    out["meta.json"] = json.dumps(meta).encode()
    with pytest.raises(ts.LoadError, match="fc1.weight"):
        _load(tmp_path, out)


def test_description_must_match_the_code(tmp_path, module_archive):
    meta = _meta(module_archive)
    root = meta["module"]["root"]
    del root["attributes"]["scale"]
    with pytest.raises(ts.LoadError, match="scale"):
        _load(tmp_path, _with(module_archive, meta=meta))
    meta = _meta(module_archive)
    meta["module"]["root"]["attributes"]["scale"] = "two"
    with pytest.raises(ts.LoadError, match="does not fit"):
        _load(tmp_path, _with(module_archive, meta=meta))
    meta = _meta(module_archive)
    meta["module"]["root"]["attributes"]["extra"] = 1
    with pytest.raises(ts.LoadError, match="declares no such attribute"):
        _load(tmp_path, _with(module_archive, meta=meta))
    meta = _meta(module_archive)
    meta["module"]["root"]["children"]["fc1"]["class"] = "MLP"
    with pytest.raises(ts.LoadError, match="fc1"):
        _load(tmp_path, _with(module_archive, meta=meta))
    meta = _meta(module_archive)
    meta["module"]["root"]["children"]["fc1"]["parameters"]["weight"]["tensor"] = "fc2.weight"
    with pytest.raises(ts.LoadError):
        _load(tmp_path, _with(module_archive, meta=meta))
    meta = _meta(module_archive)
    del meta["module"]
    with pytest.raises(ts.LoadError, match="'module' entry"):
        _load(tmp_path, _with(module_archive, meta=meta))


def test_code_declaring_other_tensors_is_rejected(tmp_path, module_archive):
    out = dict(module_archive)
    (code,) = [m for m in out if m.startswith("code/")]
    text = out[code].decode().replace("    weight: Tensor\n", "    weight: Tensor\n    mask: Tensor\n", 1)
    out[code] = text.encode()
    with pytest.raises(ts.LoadError, match="mask"):
        _load(tmp_path, out)


def test_forward_schema_must_match(tmp_path, module_archive):
    meta = _meta(module_archive)
    meta["entry_points"][0]["schema"] = "forward(Tensor x, Tensor y) -> Tensor"
    with pytest.raises(ts.LoadError, match="schema"):
        _load(tmp_path, _with(module_archive, meta=meta))
