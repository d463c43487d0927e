"""``ts.linalg``: every op registered in the ``torch.linalg`` namespace, resolved at call time."""

from __future__ import annotations

from .interpreter import runtime as _runtime
from .jit.ops import registry as _registry
from .jit.ops.registry import Namespace as _Namespace

_NAMESPACE = _Namespace.LINALG


def _make_function(name: str):
    def candidates():
        return _registry.functions_in(_NAMESPACE, name)

    what = f"torch.linalg.{name}"

    def fn(*args, **kwargs):
        return _runtime.call_cached(what, candidates, args, kwargs, what)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = "\n".join(op.schema.text for op in candidates())
    return fn


def __getattr__(name: str):
    if _registry.functions_in(_NAMESPACE, name):
        fn = _make_function(name)
        globals()[name] = fn
        return fn
    raise AttributeError(f"module 'tensorscript.linalg' has no attribute '{name}'")


def __dir__() -> list:
    names = {op.name for op in _registry.all_ops() if _NAMESPACE in op.namespaces}
    return sorted(set(globals()) | names)
