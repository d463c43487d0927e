"""The eager tensor library: ``ts.tensor``, ``ts.add``, ``ts.no_grad``, ... filled from the op registry.

Every op registered in the ``torch`` namespace becomes a module-level function that resolves
its overload at call time (cached per argument kinds), whichever module registered it.
"""
from __future__ import annotations

import numpy as _np

from .jit.ir import dtypes as _dtypes
from .jit.ops import registry as _registry
from .jit.ops.registry import Namespace as _Namespace
from .interpreter import autograd as _autograd_impl
from .interpreter import runtime as _runtime
from .interpreter.tensor import Size, Tensor, device, install_methods as _install_methods
from . import autograd  # noqa: F401  ts.autograd

bool = _dtypes.bool_  # noqa: A001  ts.bool, as torch.bool
uint8 = _dtypes.uint8
int8 = _dtypes.int8
int16 = _dtypes.int16
int32 = _dtypes.int32
int64 = _dtypes.int64
float16 = _dtypes.float16
float32 = _dtypes.float32
float64 = _dtypes.float64
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
dtype = _dtypes.DType

no_grad = _autograd_impl.no_grad
enable_grad = _autograd_impl.enable_grad
set_grad_enabled = _autograd_impl.set_grad_enabled
is_grad_enabled = _autograd_impl.is_grad_enabled


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(t: Tensor) -> bool:
    return t.is_floating_point()


def numel(t: Tensor) -> int:
    return t.numel()


def from_dlpack(ext) -> Tensor:
    """A tensor sharing the memory of any object exporting ``__dlpack__``."""
    return _runtime.wrap(_np.from_dlpack(ext))


def get_default_dtype():
    return _dtypes.DEFAULT_FLOAT


def promote_types(type1, type2):
    return _dtypes.promote_types(type1, type2)


def result_type(tensor1, tensor2):
    from .jit.ops.elementwise import result_dtype
    def raw(v):
        return v._data if isinstance(v, Tensor) else v
    return _runtime.dtype_of(result_dtype(raw(tensor1), raw(tensor2)))


def can_cast(from_, to) -> bool:
    """Whether PyTorch casts ``from_`` to ``to`` implicitly (never down a category)."""
    return from_.category <= to.category


def _make_function(name: str):
    def candidates():
        return _registry.functions_in(_Namespace.TORCH, name)
    what = f"torch.{name}"

    def fn(*args, **kwargs):
        return _runtime.call_cached(what, candidates, args, kwargs, what)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = "\n".join(op.schema_text for op in candidates())
    return fn


_HAND_WRITTEN = set(globals())
_generated: dict = {}


def _generate() -> list:
    names = []
    for op in _registry.all_ops():
        if _Namespace.TORCH in op.namespaces and op.name not in _HAND_WRITTEN and op.name not in _generated:
            _generated[op.name] = _make_function(op.name)
            globals()[op.name] = _generated[op.name]
        if _Namespace.TORCH in op.namespaces:
            names.append(op.name)
    _install_methods()
    return names


def __getattr__(name: str):
    """Ops registered after import are found on first use."""
    if _registry.functions_in(_Namespace.TORCH, name):
        _generate()
        return globals()[name]
    raise AttributeError(f"module 'tensorscript' has no attribute '{name}'")


_generate()

__all__ = sorted({
    "Tensor", "Size", "device", "dtype", "autograd",
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "float", "double", "half", "long", "int", "short",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "is_tensor", "is_floating_point", "numel", "from_dlpack", "get_default_dtype",
    "promote_types", "result_type", "can_cast",
} | set(_generated))
