"""The names script source can use without defining them: modules, typing names, special forms.

Modules are recognised, not executed: a module alias maps to a canonical path (``ts`` and
``tensorscript`` are ``torch``, ``F`` after ``import torch.nn.functional as F`` is
``torch.nn.functional``), and a canonical path maps to the registry namespace its functions
live in. The special forms are the calls the checker types itself instead of resolving them
against the registry (the registry has no schema that could say what they do).
"""

from __future__ import annotations

from typing import Optional

from ..jit.ir import dtypes
from ..jit.ir import types as T
from ..jit.ops.registry import Namespace

# Aliases every program has, imported or not (TorchScript code runs unchanged).
DEFAULT_ALIASES = {
    "torch": "torch",
    "ts": "torch",
    "tensorscript": "torch",
    "math": "math",
    "time": "time",
    "typing": "typing",
    "List": "typing.List",
    "Dict": "typing.Dict",
    "Tuple": "typing.Tuple",
    "Optional": "typing.Optional",
    "Union": "typing.Union",
    "Any": "typing.Any",
    "NamedTuple": "typing.NamedTuple",
    "Final": "typing.Final",
    "Tensor": "torch.Tensor",
}

# Modules an import may name, by canonical path.
MODULES = {
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.jit",
    "torch.linalg",
    "torch.autograd",
    "math",
    "time",
    "typing",
    "__future__",
    "collections",
}
# What ``from <module> import <name>`` may bring in, beyond submodules.
IMPORTABLE = {
    "torch": {"Tensor", "nn", "jit", "linalg", "autograd", "device", "dtype"},
    "torch.nn": {"functional"},
    "typing": {"List", "Dict", "Tuple", "Optional", "Union", "Any", "NamedTuple", "Final"},
    "__future__": {"annotations"},
    "collections": {"namedtuple"},
}

NAMESPACES = {
    "torch": Namespace.TORCH,
    "torch.nn.functional": Namespace.FUNCTIONAL,
    "torch.linalg": Namespace.LINALG,
    "torch.autograd": "torch.autograd",
    "time": "time",
    "math": Namespace.MATH,
}

TYPE_NAMES = {
    "torch.Tensor",
    "torch.device",
    "torch.dtype",
    "typing.List",
    "typing.Dict",
    "typing.Tuple",
    "typing.Optional",
    "typing.Union",
    "typing.Any",
    "typing.NamedTuple",
    "typing.Final",
}

# Decorators known by their last name too: ``@script`` after ``from tensorscript import script``.
DECORATOR_NAMES = {"script", "export", "ignore", "unused", "script_method", "staticmethod"}
DECORATORS = {
    "torch.jit.script",
    "torch.jit.export",
    "torch.jit.ignore",
    "torch.jit.unused",
    "torch.jit.script_method",
    "torch.script",
    "staticmethod",
}

EXCEPTIONS = {
    "Exception",
    "ValueError",
    "RuntimeError",
    "TypeError",
    "IndexError",
    "KeyError",
    "AssertionError",
    "NotImplementedError",
    "ZeroDivisionError",
    "ArithmeticError",
    "OverflowError",
    "StopIteration",
    "LookupError",
    "AttributeError",
}

# Iteration forms: only valid as a for loop's or comprehension's iterable (or inside list()).
ITERATION_FORMS = {"range", "enumerate", "zip"}

# torch.jit and torch specials, by canonical path.
SPECIAL_CALLS = {
    "torch.jit.annotate": "annotate",
    "torch.jit.is_scripting": "is_scripting",
    "torch.jit.isinstance": "isinstance",
    "torch.no_grad": "no_grad",
    "torch.jit._unwrap_optional": "unwrap_optional",
}


def dtype_constant(name: str) -> Optional[dtypes.DType]:
    """``torch.<name>`` as a dtype (``float32``, ``float``, ``long``, ``bool``, ...)."""
    try:
        return dtypes.by_name(name)
    except KeyError:
        return None


def math_constants() -> dict:
    from ..jit.ops import mathlib

    return dict(getattr(mathlib, "MATH_CONSTANTS", {}) or {})


def split_path(path: str) -> tuple[str, str]:
    head, _, last = path.rpartition(".")
    return head, last


# Tensor properties the checker types when the registry has no op of that name (an op tagged
# ``property`` in the registry always wins): lowering reads them with
# ``SpecialTarget("tensor_property", name)``.
TENSOR_PROPERTIES = {
    "dtype": T.DTypeType,
    "device": T.DeviceType,
    "requires_grad": T.BoolType,
    "is_cuda": T.BoolType,
    "is_leaf": T.BoolType,
    "grad": T.OptionalType(T.TensorType),
    "T": T.TensorType,
    "mT": T.TensorType,
    "data": T.TensorType,
    "ndim": T.IntType,
    "shape": T.ListType(T.IntType),
}
