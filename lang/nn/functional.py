"""``ts.nn.functional``: every op registered in the ``torch.nn.functional`` namespace.

Each name becomes a function that resolves its overload at call time (cached per argument
kinds, as the ``ts.<name>`` functions are), so an op registered in that namespace anywhere
appears here without a list to maintain. Names registered after import are found on first use.
"""

from __future__ import annotations

from ..interpreter import runtime as _runtime
from ..jit.ops import registry as _registry
from ..jit.ops.registry import Namespace as _Namespace

_NAMESPACE = _Namespace.FUNCTIONAL


def _make_function(name: str):
    def candidates():
        return _registry.functions_in(_NAMESPACE, name)

    what = f"torch.nn.functional.{name}"

    def fn(*args, **kwargs):
        # ``inplace`` follows the input, so a lone positional argument cannot request it
        if (kwargs or len(args) > 1) and _inplace_requested(candidates(), args, kwargs):
            out = _runtime.call_cached(what, candidates, (args[0].clone(),) + args[1:], kwargs,
                                       what)
            return args[0].copy_(out)
        return _runtime.call_cached(what, candidates, args, kwargs, what)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = "\n".join(op.schema.text for op in candidates())
    return fn


def _inplace_requested(ops, args, kwargs) -> bool:
    """``inplace=True`` (by keyword or position): the result is written back into the input."""
    if kwargs.get("inplace") is True:
        return bool(args)
    for op in ops:
        names = [p.name for p in op.schema.params]
        if "inplace" in names:
            i = names.index("inplace")
            return len(args) > i and args[i] is True
    return False


def _with_indices(name: str, position: int):
    """``return_indices=True`` changes the result type, so PyTorch dispatches it in Python to
    ``<name>_with_indices``; the registry holds the two forms as separate ops. ``position`` is
    where ``return_indices`` sits among the positional arguments."""
    plain = _make_function(name)
    indexed = _make_function(f"{name}_with_indices")

    def fn(*args, return_indices: bool = False, **kwargs):
        if len(args) > position:
            args, return_indices = args[:position] + args[position + 1 :], args[position]
        return (indexed if return_indices else plain)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = plain.__doc__
    return fn


_HAND_WRITTEN = {
    "max_pool1d": _with_indices("max_pool1d", 6),
    "max_pool2d": _with_indices("max_pool2d", 6),
    "adaptive_max_pool1d": _with_indices("adaptive_max_pool1d", 2),
    "adaptive_max_pool2d": _with_indices("adaptive_max_pool2d", 2),
}
_generated: dict = {}


def _generate() -> list:
    for op in _registry.all_ops():
        name = op.name
        if _NAMESPACE in op.namespaces and name not in _generated:
            _generated[name] = _HAND_WRITTEN.get(name) or _make_function(name)
            globals()[name] = _generated[name]
    return sorted(_generated)


def __getattr__(name: str):
    if _registry.functions_in(_NAMESPACE, name):
        _generate()
        return globals()[name]
    raise AttributeError(f"module 'tensorscript.nn.functional' has no attribute '{name}'")


def __dir__() -> list:
    return sorted(set(globals()) | set(_generate()))


__all__ = _generate()
