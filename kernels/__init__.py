"""Array compute: CPU and CUDA kernels, fused-kernel code generation, the on-disk kernel cache.

Most kernel modules import Numba, which takes half a second or more, so the layers above
hold them through :func:`load_on_first_use`: ``import tensorscript`` stays fast, and a
program that never reaches a Numba kernel never pays for it.
"""
from __future__ import annotations

import importlib.util
import sys
import threading
import types

# Re-entrant: a kernel module's body (or Numba compiling one of its functions) may touch
# another module that is not loaded yet. Kernel modules import nothing above this package, so
# a thread holding this lock never waits for a module lock held by a thread waiting for it.
_load_lock = threading.RLock()
_executing: set = set()  # names of modules whose body runs now


class _ModuleLoadedOnFirstUse(types.ModuleType):
    """The module object the import system will also hand out, its body not yet run: the
    first lookup of a name it lacks runs the body, and from then on it is a plain module."""

    def __getattr__(self, attr: str):
        name = self.__spec__.name
        with _load_lock:
            if type(self) is _ModuleLoadedOnFirstUse and name not in _executing:
                _executing.add(name)
                try:
                    self.__spec__.loader.exec_module(self)
                finally:
                    _executing.discard(name)
                self.__class__ = types.ModuleType
        if type(self) is _ModuleLoadedOnFirstUse:  # a lookup from the module's own body
            raise AttributeError(f"partially initialized module {name!r} has no attribute {attr!r}")
        return getattr(self, attr)


def load_on_first_use(name: str) -> types.ModuleType:
    """The kernel module ``tensorscript.kernels.<name>``, whose body runs when one of its
    names is first looked up (the module itself when it is already imported)."""
    full_name = f"{__name__}.{name}"
    with _load_lock:
        module = sys.modules.get(full_name)
        if module is None:
            spec = importlib.util.find_spec(full_name)
            if spec is None:
                raise ModuleNotFoundError(f"no kernel module {full_name!r}", name=full_name)
            module = importlib.util.module_from_spec(spec)
            module.__class__ = _ModuleLoadedOnFirstUse
            sys.modules[full_name] = module
            setattr(sys.modules[__name__], name, module)
        return module


__all__ = ["load_on_first_use"]
