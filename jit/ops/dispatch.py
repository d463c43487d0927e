"""Choosing an overload for run-time values: the eager API's and gradient rules' way in.

``call("add", x, 2, alpha=3)`` picks the first overload of ``add`` whose schema accepts the
values (in registration order, as the type checker does statically), fills defaults, and
applies it with :func:`registry.bind`. Tensors are recognised by the ``_ts_tensor`` class
attribute, so this layer never imports the runtime.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..ir import dtypes
from .registry import OpDef, bind, functions_in, methods, overloads
from .schema import SType


def is_tensor(value: Any) -> bool:
    return getattr(type(value), "_ts_tensor", False)


def _accepts(stype: SType, value: Any, typevars: dict) -> bool:
    kind = stype.kind
    if kind == "Tensor":
        return is_tensor(value)
    if kind == "optional":
        return value is None or _accepts(stype.args[0], value, typevars)
    if kind == "Scalar":
        return isinstance(value, (int, float, bool, np.number, np.bool_)) and not is_tensor(value)
    if kind == "int":
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if kind == "float":
        return isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))
    if kind == "bool":
        return isinstance(value, (bool, np.bool_))
    if kind == "str":
        return isinstance(value, str)
    if kind == "ScalarType":
        return isinstance(value, dtypes.DType)
    if kind == "Device":
        return isinstance(value, str) or type(value).__name__ == "device"
    if kind == "Any":
        return True
    if kind == "list":
        elem = stype.args[0]
        if stype.size is not None and elem.kind == "int" and _accepts(elem, value, typevars):
            return True  # int[2] accepts a single int
        if not isinstance(value, (list, tuple)):
            return False
        return all(_accepts(elem, v, typevars) for v in value)
    if kind == "tuple":
        return (isinstance(value, tuple) and len(value) == len(stype.args)
                and all(_accepts(t, v, typevars) for t, v in zip(stype.args, value)))
    if kind == "dict":
        return isinstance(value, dict)
    # a type variable: binds to the first value's Python type
    bound = typevars.get(kind)
    if bound is None:
        typevars[kind] = type(value)
        return True
    return isinstance(value, bound) or (is_tensor(value) and is_tensor(bound))


def bind_arguments(op: OpDef, args: tuple, kwargs: dict) -> Optional[list]:
    """The arguments in schema order with defaults filled, or None when the schema rejects them."""
    schema = op.schema
    params = schema.params
    typevars: dict = {}
    positional = [p for p in params if not p.kwarg_only]
    out: list = []
    # int[] parameters take the remaining positional ints as varargs: x.view(2, -1), and
    # x.reshape(-1) (a single int fills an unsized int[] as a one-element list)
    last_type = positional[-1].type if positional else None
    if (positional and last_type.kind == "list" and not schema.varargs
            and (len(args) > len(positional)
                 or (len(args) == len(positional) and last_type.size is None
                     and last_type.args[0].kind == "int"))):
        last = len(positional) - 1
        tail = args[last:]
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in tail):
            args = tuple(args[:last]) + (list(tail),)
        elif (len(args) > len(positional) and last_type.args[0].kind == "Tensor"
              and all(is_tensor(v) for v in tail)):
            args = tuple(args[:last]) + (list(tail),)  # broadcast_tensors(a, b)
    if len(args) > len(positional) and not schema.varargs:
        return None
    for i, p in enumerate(params):
        if i < len(args) and not p.kwarg_only:
            value = args[i]
            if p.name in kwargs:
                return None
        elif p.name in kwargs:
            value = kwargs[p.name]
        elif p.has_default:
            value = p.default
            if isinstance(value, list):
                value = list(value)
        else:
            return None
        if not _accepts(p.type, value, typevars):
            return None
        out.append(_convert(p.type, value))
    used = {p.name for p in params}
    if any(k not in used for k in kwargs):
        return None
    if schema.varargs:
        out.extend(args[len(positional):])
    return out


def _convert(stype: SType, value: Any) -> Any:
    """Normalise accepted values: int[2] from one int, tuples to lists, numpy scalars to Python."""
    kind = stype.kind
    if kind == "optional":
        return None if value is None else _convert(stype.args[0], value)
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            return [int(value)] * (stype.size or 1)
        return [_convert(stype.args[0], v) for v in value]
    if kind == "int" and isinstance(value, np.integer):
        return int(value)
    if kind == "float":
        return float(value) if not isinstance(value, float) else value
    if kind == "Scalar" and isinstance(value, (np.number, np.bool_)):
        return value.item()
    return value


def resolve(candidates: list, args: tuple, kwargs: dict, what: str):
    for op in candidates:
        bound = bind_arguments(op, args, kwargs)
        if bound is not None:
            return op, bound
    raise TypeError(no_match_message(what, candidates, args, kwargs))


def no_match_message(what: str, candidates: list, args: tuple, kwargs: dict) -> str:
    got = ", ".join([_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()])
    if not candidates:
        return f"{what}() is not a known function"
    lines = [f"{what}() received an invalid combination of arguments - got ({got}), but expected one of:"]
    lines += [f" * {op.schema.text}" for op in candidates]
    return "\n".join(lines)


def _describe(value: Any) -> str:
    if is_tensor(value):
        return "Tensor"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_describe(v) for v in value[:3])
        return f"{type(value).__name__} of [{inner}{', ...' if len(value) > 3 else ''}]"
    return type(value).__name__


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Apply the op ``name`` (any overload, function or method) to run-time values."""
    op, bound = resolve(overloads(name), args, kwargs, name)
    return bind(op, *bound)


def call_function(namespace: str, name: str, *args: Any, **kwargs: Any) -> Any:
    op, bound = resolve(functions_in(namespace, name), args, kwargs, f"{namespace}.{name}")
    return bind(op, *bound)


def call_method(name: str, self: Any, *args: Any, **kwargs: Any) -> Any:
    op, bound = resolve(methods(name), (self,) + args, kwargs, f"Tensor.{name}")
    return bind(op, *bound)
