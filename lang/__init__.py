"""tensorscript: a statically typed subset of Python for tensor programs, and its JIT.

``import tensorscript as ts``: the eager tensor library (PyTorch's names and semantics),
``ts.script`` / ``ts.CompilationUnit`` / ``ts.trace`` for compiled programs, ``ts.nn``.
"""
__version__ = "0.1.0"

import importlib as _importlib  # noqa: E402

from .errors import CompileError, LoadError, ScriptError  # noqa: E402
from .eager import *  # noqa: E402,F401,F403  the tensor library
from .eager import __all__ as _eager_names  # noqa: E402
from .compiler import *  # noqa: E402,F401,F403  script, CompilationUnit, jit, trace
from .compiler import __all__ as _compiler_names  # noqa: E402

__all__ = ["CompileError", "LoadError", "ScriptError", "nn"] + list(_eager_names) + list(_compiler_names)
from .tracing import trace, TracerWarning  # noqa: E402
from .serialization import save, load, load_safetensors, save_safetensors  # noqa: E402

jit.trace = trace  # noqa: F405
from .tracing import is_tracing as _is_tracing  # noqa: E402
jit.is_tracing = _is_tracing  # noqa: F405
__all__ += ["trace", "TracerWarning", "save", "load", "load_safetensors", "save_safetensors"]
from . import linalg  # noqa: E402,F401

# ``nn`` and ``optim`` load when first named (``ts.nn``, ``import tensorscript.nn``): they
# build ~60 functions from the registry and a few dozen classes, which a program that
# scripts functions or computes on tensors never uses.
_SUBMODULES_LOADED_ON_FIRST_USE = ("nn", "optim")


def __getattr__(name: str):
    if name in _SUBMODULES_LOADED_ON_FIRST_USE:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
