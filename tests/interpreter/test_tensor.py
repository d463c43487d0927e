"""The runtime Tensor: metadata, views and version counters, conversions, printing, methods."""
import math
import pickle

import numpy as np
import pytest

import tensorscript as ts
from tensorscript.jit.ops import registry


def test_metadata():
    x = ts.zeros(2, 3)
    assert x.shape == (2, 3) and isinstance(x.shape, ts.Size) and x.size() == (2, 3)
    assert x.size(1) == 3 and x.size(-1) == 3 and x.shape.numel() == 6
    assert repr(x.shape) == "ts.Size([2, 3])"
    assert x.dim() == 2 == x.ndim and x.numel() == 6
    assert x.stride() == (3, 1) and x.stride(0) == 3 and x.storage_offset() == 0
    assert x.is_contiguous() and x.is_leaf and not x.requires_grad and x.grad_fn is None
    assert x.device.type == "cpu" and x.dtype is ts.float32 and x.is_floating_point()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(2)
    assert hash(x) == id(x) or isinstance(hash(x), int)
    assert len({x, ts.zeros(2, 3)}) == 2


def test_dtypes_and_aliases():
    assert ts.float is ts.float32 and ts.double is ts.float64 and ts.half is ts.float16
    assert ts.long is ts.int64 and ts.int is ts.int32
    for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"):
        assert ts.zeros(1, dtype=getattr(ts, name)).dtype is getattr(ts, name)


def test_views_share_storage_and_version():
    base = ts.arange(6.0)
    views = []
    for make in (lambda t: t.view(2, 3), lambda t: t.reshape(2, 3), lambda t: t.view(2, 3).t(),
                 lambda t: t.view(2, 3).transpose(0, 1), lambda t: t.view(2, 3).permute(1, 0),
                 lambda t: t.unsqueeze(0), lambda t: t.view(1, 6).squeeze(0),
                 lambda t: t.view(1, 6).expand(3, 6), lambda t: t.detach()):
        v = make(base)
        assert v._version is base._version
        views.append(v)
    before = base._version[0]
    views[0].mul_(2)
    assert base.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert base._version[0] == before + 1
    assert views[2].tolist() == [[0.0, 6.0], [2.0, 8.0], [4.0, 10.0]]
    assert not views[2].is_contiguous() and views[2].stride() == (1, 3)


def test_slicing_views():
    x = ts.arange(12).view(3, 4)
    row = x[1]
    row.add_(100)
    assert x[1].tolist() == [104, 105, 106, 107]
    col = x[:, 2]
    col.zero_()
    assert x.tolist()[0][2] == 0 and x.tolist()[2][2] == 0
    assert x[1:, ::2].storage_offset() == 4 and x[1:, ::2].stride() == (4, 2)
    x[0] = ts.tensor([9, 9, 9, 9])
    assert x[0].tolist() == [9, 9, 9, 9]


def test_iteration_len_and_scalars():
    x = ts.tensor([[1, 2], [3, 4]])
    assert len(x) == 2
    assert [r.tolist() for r in x] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        len(ts.tensor(1))
    with pytest.raises(TypeError):
        iter(ts.tensor(1))
    assert bool(ts.tensor([1])) and not bool(ts.tensor(0.0))
    assert float(ts.tensor([2.5])) == 2.5 and int(ts.tensor(3.9)) == 3
    assert [10, 20, 30][ts.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ts.tensor([1, 2]))
    with pytest.raises(ValueError):
        float(ts.tensor([1.0, 2.0]))
    with pytest.raises(ValueError):
        int(ts.tensor([1, 2]))
    with pytest.raises(TypeError):
        [1, 2][ts.tensor(1.0)]
    assert f"{ts.tensor(2.5):.2f}" == "2.50"


def test_numpy_interop():
    x = ts.tensor([1.0, 2.0])
    a = x.numpy()
    a[0] = 5
    assert x.tolist() == [5.0, 2.0]
    assert np.asarray(x) is a and np.add(x, 1).tolist() == [6.0, 3.0]
    assert (np.float32(2) * x).tolist() == [10.0, 4.0]
    y = ts.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        y.numpy()
    assert y.detach().numpy().tolist() == [1.0]
    cap = x.__dlpack__()
    assert x.__dlpack_device__()[0] == 1 and cap is not None
    with pytest.raises(TypeError):
        pickle.dumps(x)


def test_repr_like_pytorch():
    assert repr(ts.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ts.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(ts.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ts.tensor(3.0)) == "tensor(3.)"
    assert repr(ts.tensor([True, False])) == "tensor([ True, False])"
    assert repr(ts.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(ts.tensor([1, 2], dtype=ts.int32)).endswith("dtype=tensorscript.int32)")
    assert repr(ts.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(ts.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(ts.tensor([math.nan, math.inf])) == "tensor([nan, inf])"
    y = ts.tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert "..." in repr(ts.zeros(2000))


def test_every_method_op_is_a_tensor_method():
    ts.Tensor.__getattr__  # generated methods are installed at import
    x = ts.ones(2)
    for op in registry.all_ops():
        if op.method:
            assert callable(getattr(x, op.name)), op.name


def test_unknown_method_is_attribute_error():
    with pytest.raises(AttributeError):
        ts.ones(1).no_such_method_anywhere()


def test_bad_arguments_raise_type_error():
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        ts.ones(2).add("x")
    with pytest.raises(TypeError):
        ts.ones(2) + "x"


def test_dispatch_cache_respects_argument_types():
    x = ts.tensor([1, 2])
    assert (x + 1).dtype is ts.int64
    assert (x + 1.5).dtype is ts.float32
    assert (x + True).dtype is ts.int64
    assert (x + x).dtype is ts.int64
    assert x.add(1, alpha=2).tolist() == [3, 4]
    assert x.add(1).tolist() == [2, 3]


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        ts.tensor([1, 2], requires_grad=True)
    x = ts.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    assert x.requires_grad_(False) is x and not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad


def test_tensor_constructor_and_subclass():
    assert ts.Tensor([1, 2]).dtype is ts.float32
    assert ts.Tensor(2, 3).shape == (2, 3)

    class Param(ts.Tensor):
        pass
    base = ts.zeros(2)
    p = ts.Tensor._make_subclass(Param, base, True)
    assert isinstance(p, Param) and p.requires_grad and p.is_leaf
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0]
    assert type(p + 1) is ts.Tensor


def test_contains_and_detach_is_not_an_autograd_view():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    assert 2.0 in x and 3.0 not in x
    d = x.detach()
    d.zero_()
    assert x.tolist() == [0.0, 0.0] and x._version[0] == 1
    d.requires_grad_()
    with pytest.raises(RuntimeError, match="a leaf Variable"):
        d.add_(1)


def test_kernel_failures_become_pytorch_errors():
    from tensorscript.jit.ops.registry import OpDef
    from tensorscript.jit.ops.schema import parse_schema

    def op(text, impl):
        return OpDef(parse_schema(text), impl=impl)
    x = ts.ones(2, 3)
    bad_broadcast = op("t_bcast(Tensor self, Tensor other) -> Tensor", lambda a, b: np.add(a, b))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"):
        registry.bind(bad_broadcast, x, ts.ones(4))
    no_loop = op("t_invert(Tensor self) -> Tensor", np.invert)
    with pytest.raises(RuntimeError, match=r'"t_invert" not implemented for \'Float\''):
        registry.bind(no_loop, x)
    zero = op("t_zero(Tensor self) -> Tensor", lambda a: 1 // 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        registry.bind(zero, x)
    axis = op("t_axis(Tensor self) -> Tensor", lambda a: a.sum(axis=5))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"):
        registry.bind(axis, x)


def test_results_with_named_returns_are_named_tuples():
    x = ts.tensor([[1.0, 3.0], [4.0, 2.0]], requires_grad=True)
    result = x.max(1)
    np.testing.assert_array_equal(result.values.detach().numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(result.indices.numpy(), [1, 0])
    values, _ = result
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0]])
    # ops whose returns carry no names still give plain tuples
    assert type(ts.tensor([1.0, 2.0]).split(1)) is list
