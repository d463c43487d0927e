"""The runtime's Tensor: an ndarray view plus autograd state.

A Tensor holds a NumPy array; views (``view``, ``transpose``, slicing, ...) hold views of the
same memory and share the base's version counter, which every in-place op bumps. Every
operator and method goes through the op registry: methods are generated from the entries
registered with ``method=True`` (so adding an op adds its method), operators resolve
``BINARY_OPERATORS`` and friends, and resolution is cached per argument kinds
(``runtime.call_cached``).
"""
from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from ..jit.ir import dtypes
from ..jit.ops import registry
from ..jit.ops.registry import (BINARY_OPERATORS, COMPARISON_OPERATORS, methods, overloads)
from . import autograd, runtime
from .runtime import binary_operator, call_cached, dtype_of, unary_method, wrap


class Size(tuple):
    """``x.shape``: a tuple of ints, printed as PyTorch prints ``torch.Size``."""

    def __repr__(self) -> str:
        return f"ts.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class device:
    """A minimal ``torch.device``: only the CPU runs eager tensors."""

    __slots__ = ("type", "index")

    def __init__(self, type: str = "cpu", index: Optional[int] = None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        self.type = name
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def _method_candidates(name):
    return lambda: methods(name)


def _op_candidates(name):
    return lambda: overloads(name)


class Tensor:
    """A multi-dimensional array with PyTorch's semantics and eager autograd."""

    _ts_tensor = True
    __slots__ = ("_data", "_version", "_requires_grad", "_grad_fn", "__weakref__", "__dict__")
    # Rarely set state lives in the instance dict, created on first write: wrapping a kernel's
    # result then costs four attribute stores.
    _output_nr = 0
    _grad = None
    _grad_acc = None
    _base = None
    _saved_version = None
    _retains_grad = False
    __array_priority__ = 1000  # ndarray op Tensor defers to Tensor's reflected operators

    def __new__(cls, *data, **kwargs):
        if len(data) == 1 and not isinstance(data[0], numbers.Integral):
            arr = np.array(data[0], dtype=np.float32)
        else:
            arr = np.empty(tuple(int(d) for d in data), dtype=np.float32)
        t = object.__new__(cls)
        _init_fields(t, arr)
        return t

    @staticmethod
    def _make_subclass(cls, data, requires_grad: bool = False):
        """A ``cls`` instance sharing ``data``'s storage (how ``nn.Parameter`` is made)."""
        t = object.__new__(cls)
        _init_fields(t, data._data)
        t._version = data._version
        if requires_grad:
            runtime._set_requires_grad(t, True)
        return t

    # ---------------------------------------------------------------- metadata

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: Optional[int] = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> dtypes.DType:
        return dtype_of(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: Optional[int] = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        base = self._base._data if self._base is not None else self._data
        delta = self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return delta // self._data.itemsize

    def is_contiguous(self, memory_format=None) -> bool:
        return self._data.flags.c_contiguous

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def _version_value(self) -> int:
        return self._version[0]

    # ---------------------------------------------------------------- autograd state

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._grad_fn is not None:
            if flag:
                return
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        runtime._set_requires_grad(self, bool(flag))

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> Optional["Tensor"]:
        return self._grad

    @grad.setter
    def grad(self, value: Optional["Tensor"]) -> None:
        if value is not None and tuple(value.shape) != tuple(self.shape):
            raise RuntimeError(f"assigned grad has data of a different size")
        self._grad = value

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node = self._grad_fn
        if node.retained is None:
            node.retained = {}
        node.retained[self._output_nr] = self
        self._retains_grad = True

    def backward(self, gradient=None, retain_graph: Optional[bool] = None,
                 create_graph: bool = False, inputs=None) -> None:
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach_(self) -> "Tensor":
        self._grad_fn = None
        self._requires_grad = False
        return self

    def register_hook(self, hook):
        raise NotImplementedError("Tensor.register_hook is not supported by the eager runtime")

    # ---------------------------------------------------------------- conversions

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        if copy:
            return self._data.copy()
        return self._data

    def __dlpack__(self, *args, **kwargs):
        if self._requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter([self[i] for i in range(self._data.shape[0])])

    def __contains__(self, element) -> bool:
        return bool((self == element).any())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self._data.reshape(()))

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self._data.reshape(()))

    def __index__(self) -> int:
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __complex__(self) -> complex:
        return complex(float(self))

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return object.__format__(repr(self), spec)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return _tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("tensorscript tensors are not pickled; save weights with ts.save "
                        "(safetensors)")

    def __deepcopy__(self, memo):
        t = wrap(np.array(self._data, copy=True))
        t._requires_grad = self._requires_grad and self._grad_fn is None
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        if type(self) is not Tensor:
            sub = object.__new__(type(self))
            for slot in ("_data", "_version", "_requires_grad", "_grad_fn"):
                setattr(sub, slot, getattr(t, slot))
            sub.__dict__.update(t.__dict__)
            sub.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith("_")})
            t = sub
        memo[id(self)] = t
        return t

    # ---------------------------------------------------------------- indexing

    def __getitem__(self, key):
        # x[a:b:c] on a plain tensor is a NumPy basic slice (same clamping as slice.Tensor)
        if (type(key) is slice and not self._requires_grad and self._saved_version is None
                and runtime._handlers[-1] is runtime.HANDLER and self._data.ndim
                and type(key.start) in _SLICE_BOUND and type(key.stop) in _SLICE_BOUND
                and (key.step is None or type(key.step) is int and key.step > 0)):
            out = self._data[key]
            if out.size:
                return runtime._wrap_view(out, self)
        from ..jit.ops import indexing
        getitem = getattr(indexing, "getitem", None)
        if getitem is None:
            raise NotImplementedError("tensor indexing needs jit.ops.indexing.getitem")
        return getitem(self, key)

    def __setitem__(self, key, value) -> None:
        from ..jit.ops import indexing
        setitem = getattr(indexing, "setitem", None)
        if setitem is None:
            raise NotImplementedError("tensor index assignment needs jit.ops.indexing.setitem")
        setitem(self, key, value)

    # ---------------------------------------------------------------- properties that are ops

    @property
    def T(self) -> "Tensor":
        return self.permute(list(range(self._data.ndim))[::-1])

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    @property
    def data(self) -> "Tensor":
        return self.detach()

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data
        self._version = value._version

    # ---------------------------------------------------------------- unknown methods

    def __getattr__(self, name: str):
        if name.startswith("__") or not methods(name):
            raise AttributeError(f"'Tensor' object has no attribute '{name}'")
        install_method(name)
        return getattr(self, name)


_SLICE_BOUND = (int, type(None))


def _init_fields(t, arr: np.ndarray) -> None:
    t._data = arr
    t._version = [0]
    t._requires_grad = False
    t._grad_fn = None


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n if ndim else 0


runtime._Tensor = Tensor


# ------------------------------------------------------------------ printing (PyTorch's format)

_EDGE = 3  # items shown at each end of a summarized dimension
_THRESHOLD = 1000


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)].astype(np.float64)
    if finite.size == 0:
        return lambda v: _nonfinite(v) or f"{v:.4f}"
    nonzero = np.abs(finite[finite != 0])
    absmax = nonzero.max() if nonzero.size else 0.0
    absmin = nonzero.min() if nonzero.size else 0.0
    if np.all(finite == np.round(finite)) and absmax < 1e8:
        def fmt(v):
            return _nonfinite(v) or f"{v:.0f}."
    elif absmax > 1e8 or (absmin < 1e-4 and absmin != 0) or (absmin and absmax / absmin > 1e3):
        def fmt(v):
            return _nonfinite(v) or f"{v:.4e}"
    else:
        def fmt(v):
            return _nonfinite(v) or f"{v:.4f}"
    return fmt


def _nonfinite(v) -> Optional[str]:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _summarize(arr: np.ndarray, summarize: bool) -> np.ndarray:
    if not summarize or arr.ndim == 0:
        return arr.ravel()
    parts = []
    def walk(a):
        if a.ndim == 0:
            parts.append(a.reshape(1))
            return
        idx = range(a.shape[0])
        if a.shape[0] > 2 * _EDGE:
            idx = list(range(_EDGE)) + list(range(a.shape[0] - _EDGE, a.shape[0]))
        for i in idx:
            walk(a[i])
    walk(arr)
    return np.concatenate(parts) if parts else arr.ravel()


def _format_array(arr: np.ndarray, indent: int) -> str:
    summarize = arr.size > _THRESHOLD
    shown = _summarize(arr, summarize)
    kind = arr.dtype.kind
    if kind == "f":
        fmt = _float_formatter(shown)
    elif kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    else:
        fmt = lambda v: str(int(v))  # noqa: E731
    width = max((len(fmt(v)) for v in shown), default=1)

    def rec(a, depth):
        if a.ndim == 0:
            return fmt(a.item()).rjust(width)
        n = a.shape[0]
        if a.ndim == 1:
            if summarize and n > 2 * _EDGE:
                items = [rec(a[i], depth + 1) for i in range(_EDGE)] + ["..."] + \
                        [rec(a[i], depth + 1) for i in range(n - _EDGE, n)]
            else:
                items = [rec(a[i], depth + 1) for i in range(n)]
            return "[" + ", ".join(items) + "]"
        sep = "," + "\n" * (a.ndim - 1) + " " * (indent + depth + 1)
        if summarize and n > 2 * _EDGE:
            rows = [rec(a[i], depth + 1) for i in range(_EDGE)] + ["..."] + \
                   [rec(a[i], depth + 1) for i in range(n - _EDGE, n)]
        else:
            rows = [rec(a[i], depth + 1) for i in range(n)]
        return "[" + sep.join(rows) + "]"
    return rec(arr, 0)


def _tensor_repr(t: "Tensor") -> str:
    arr = t._data
    prefix = "tensor("
    suffix = []
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffix.append(f"size={tuple(arr.shape)}")
    else:
        body = _format_array(arr, len(prefix))
    if arr.dtype not in _DEFAULT_DTYPES:
        suffix.append(f"dtype={dtype_of(arr.dtype)!r}")
    if t._grad_fn is not None:
        suffix.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    return prefix + ", ".join([body] + suffix) + ")"


# ------------------------------------------------------------------ generated methods

def _make_method(name: str):
    what = f"Tensor.{name}"
    method = unary_method(what, what, _method_candidates(name))
    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method._ts_generated = True
    return method


def install_method(name: str) -> None:
    existing = Tensor.__dict__.get(name)
    if existing is not None and not getattr(existing, "_ts_generated", False):
        return  # hand-written metadata methods win
    setattr(Tensor, name, _make_method(name))


def install_methods() -> None:
    """Give Tensor a method for every registered op with ``method=True``."""
    for op in registry.all_ops():
        if op.method and op.name not in Tensor.__dict__:
            install_method(op.name)


# ------------------------------------------------------------------ operators

def _binary(name: str):
    return binary_operator(name, _op_candidates(name))


def _inplace(name: str):
    candidates = _method_candidates(name)
    what = f"Tensor.{name}"

    def op(self, other):
        return call_cached(what, candidates, (self, other), {}, what)
    return op


def _unary(name: str):
    return unary_method(name, name, _op_candidates(name))


_DUNDER = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
           "**": "pow", "@": "matmul", "&": "and", "|": "or", "^": "xor", "<<": "lshift",
           ">>": "rshift"}
_INPLACE_OPS = {"+": "add_", "-": "sub_", "*": "mul_", "/": "div_", "//": "floor_divide_",
                "%": "remainder_", "**": "pow_", "&": "bitwise_and_", "|": "bitwise_or_",
                "^": "bitwise_xor_", "<<": "bitwise_left_shift_", ">>": "bitwise_right_shift_"}
_CMP_DUNDER = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}

for _sym, (_fwd, _rev) in BINARY_OPERATORS.items():
    _d = _DUNDER[_sym]
    setattr(Tensor, f"__{_d}__", _binary(_fwd))
    if _rev is not None:
        setattr(Tensor, f"__r{_d}__", _binary(_rev))
    if _sym in _INPLACE_OPS:
        setattr(Tensor, f"__i{_d}__", _inplace(_INPLACE_OPS[_sym]))
for _sym, (_fwd, _rev) in COMPARISON_OPERATORS.items():
    setattr(Tensor, f"__{_CMP_DUNDER[_sym]}__", _binary(_fwd))
Tensor.__neg__ = _unary("neg")
Tensor.__pos__ = _unary("pos")
Tensor.__invert__ = _unary("bitwise_not")
Tensor.__abs__ = _unary("abs")

install_methods()

__all__ = ["Tensor", "Size", "device", "install_methods", "install_method"]
