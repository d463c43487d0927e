"""ts.save / ts.load round trips: the loaded object has the same code and gives the same results."""
import json
import zipfile

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.serialization import FORMAT_VERSION, LoadedTracedFunction

torch = ts

SOURCE = '''
def scale(x: torch.Tensor) -> torch.Tensor:
    return x * torch.tensor([1.0, 2.0, 3.0])

def affine(x: torch.Tensor, n: int = 2, shift: float = -0.5) -> torch.Tensor:
    return scale(x) * n + shift
'''


def t(*shape, seed=0):
    return ts.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def same(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


W = t(3, 4, seed=11)
B = ts.tensor(np.array([1, 2, 3, 4], dtype=np.int64))
FLAGS = ts.tensor(np.array([True, False, True, True]))


def head(x):
    h = torch.relu(x @ W) + B
    return torch.where(FLAGS, h, h * 0.0).sum(dim=-1)


def test_traced_function_with_tensor_constants(tmp_path):
    traced = ts.trace(head, (t(2, 3),))
    assert set(traced.constants) == {"c0", "c1", "c2"}
    path = tmp_path / "head.tsa"
    ts.save(traced, path)
    loaded = ts.load(path)
    assert isinstance(loaded, LoadedTracedFunction)
    assert loaded.code == traced.code
    assert set(loaded.constants) == set(traced.constants)
    for name, value in traced.constants.items():
        same(loaded.constants[name], value)
    x = t(5, 3, seed=2)
    same(loaded(x), traced(x))
    ts.CompilationUnit(loaded.code)  # the saved code re-parses on its own


def test_archive_layout(tmp_path):
    traced = ts.trace(head, (t(2, 3),))
    path = tmp_path / "head.tsa"
    traced.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["code/head.py", "constants.safetensors", "meta.json"]
        meta = json.loads(zf.read("meta.json"))
        assert zf.read("code/head.py").decode() == traced.code
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["tensorscript_version"] == ts.__version__
    assert meta["kind"] == "traced_function"
    assert meta["entry_points"] == [{"name": "head", "schema": "head(Tensor x) -> Tensor"}]
    assert meta["constants"]["c0"] == {"dtype": "F32", "shape": [3, 4]}
    assert meta["constants"]["c2"] == {"dtype": "BOOL", "shape": [4]}


def test_saving_twice_gives_the_same_bytes(tmp_path):
    traced = ts.trace(head, (t(2, 3),))
    a, b = tmp_path / "a.tsa", tmp_path / "b.tsa"
    ts.save(traced, a)
    ts.save(ts.load(a), b)
    assert a.read_bytes() == b.read_bytes()


def test_traced_function_with_sizes_and_inplace(tmp_path):
    def f(x):
        y = x.clone()
        y[:, 0] = 1.0
        return y.view(x.size(0) * x.shape[1])

    traced = ts.trace(f, (t(2, 3),))
    ts.save(traced, tmp_path / "f.tsa")
    loaded = ts.load(tmp_path / "f.tsa")
    x = t(4, 3, seed=3)
    same(loaded(x), traced(x))
    assert loaded.code == traced.code


def test_script_function(tmp_path):
    cu = ts.CompilationUnit(SOURCE)
    ts.save(cu.affine, tmp_path / "affine.tsa")
    loaded = ts.load(tmp_path / "affine.tsa")
    assert loaded.code == cu.affine.code
    assert loaded.schema == cu.affine.schema
    x = t(4, 3, seed=1)
    same(loaded(x), cu.affine(x))
    same(loaded(x, 5, shift=1.5), cu.affine(x, 5, shift=1.5))


K = 3


def test_scripted_python_function_with_captured_constants(tmp_path):
    @ts.script
    def times_k(x: torch.Tensor) -> torch.Tensor:
        return x * K

    ts.save(times_k, tmp_path / "k.tsa")
    loaded = ts.load(tmp_path / "k.tsa")
    assert loaded.code == times_k.code
    same(loaded(t(3)), times_k(t(3)))


def test_compilation_unit(tmp_path):
    cu = ts.CompilationUnit(SOURCE)
    ts.save(cu, tmp_path / "cu.tsa")
    loaded = ts.load(tmp_path / "cu.tsa")
    assert isinstance(loaded, ts.CompilationUnit)
    assert set(loaded.functions) == set(cu.functions)
    x = t(2, 3, seed=4)
    same(loaded.scale(x), cu.scale(x))
    same(loaded.affine(x), cu.affine(x))
    assert loaded.affine.code == cu.affine.code


def test_grad_through_loaded_traced_function(tmp_path):
    traced = ts.trace(lambda w, x: ((x @ w) ** 2).mean(), (t(3, 1), t(4, 3)))
    ts.save(traced, tmp_path / "g.tsa")
    loaded = ts.load(tmp_path / "g.tsa")
    w1, w2 = t(3, 1, seed=5).requires_grad_(), t(3, 1, seed=5).requires_grad_()
    x = t(4, 3, seed=6)
    traced(w1, x).backward()
    loaded(w2, x).backward()
    np.testing.assert_allclose(w1.grad.numpy(), w2.grad.numpy(), rtol=1e-6)


def test_unsupported_objects():
    with pytest.raises(TypeError, match="cannot save"):
        ts.save(lambda x: x, "never-written.tsa")


def test_safetensors_files(tmp_path):
    tensors = {"w": W, "b": B, "flags": FLAGS, "scalar": ts.tensor(2.5, dtype=ts.float64),
               "empty": ts.zeros(0, 3)}
    ts.save_safetensors(tensors, tmp_path / "w.safetensors")
    loaded = ts.load_safetensors(tmp_path / "w.safetensors")
    assert list(loaded) == sorted(tensors) or set(loaded) == set(tensors)
    for k, v in tensors.items():
        assert loaded[k].dtype == v.dtype
        same(loaded[k], v)


def test_safetensors_written_by_the_reference_library(tmp_path):
    from safetensors.numpy import save_file
    arrays = {"a": np.arange(12, dtype=np.int32).reshape(3, 4),
              "h": np.linspace(0, 1, 5).astype(np.float16)}
    save_file(arrays, str(tmp_path / "ref.safetensors"), metadata={"who": "them"})
    loaded = ts.load_safetensors(tmp_path / "ref.safetensors")
    np.testing.assert_array_equal(loaded["a"].numpy(), arrays["a"])
    np.testing.assert_array_equal(loaded["h"].numpy(), arrays["h"])


def test_bf16_is_read_as_float32(tmp_path):
    import struct
    values = np.array([1.0, -2.5, 0.15625], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    (tmp_path / "bf.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bf16)
    loaded = ts.load_safetensors(tmp_path / "bf.safetensors")
    np.testing.assert_array_equal(loaded["x"].numpy(), values)


def test_save_methods(tmp_path):
    cu = ts.CompilationUnit(SOURCE)
    cu.affine.save(tmp_path / "m.tsa")
    x = t(2, 3, seed=8)
    same(ts.load(tmp_path / "m.tsa")(x), cu.affine(x))


def test_non_finite_and_signed_zero_constants(tmp_path):
    c = ts.tensor(np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45], dtype=np.float32))
    traced = ts.trace(lambda x: x + c, (t(5),))
    ts.save(traced, tmp_path / "nf.tsa")
    loaded = ts.load(tmp_path / "nf.tsa")
    got = loaded(ts.zeros(5)).numpy()
    np.testing.assert_array_equal(got, c.numpy())
    np.testing.assert_array_equal(loaded.constants["c0"].numpy(), c.numpy())


DATA = __import__("pathlib").Path(__file__).parent / "data"


def test_archives_from_format_version_1_keep_loading():
    from archive_helpers import behaves
    behaves(ts.load(DATA / "traced_head_v1.tsa"))
    unit = ts.load(DATA / "unit_v1.tsa")
    same(unit.affine(ts.ones(3)), ts.tensor(np.array([3.0, 4.0, 5.0], dtype=np.float32)))
