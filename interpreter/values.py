"""Run-time values against static types: ``isinstance``, script objects, and result normalising.

Inside a running graph values are plain Python values (int, float, bool, str, None, list,
tuple, dict, DType), runtime Tensors, and :class:`ScriptObject` instances of script classes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..jit.ir import dtypes
from ..jit.ir import types as T


def is_tensor(value: Any) -> bool:
    return getattr(type(value), "_ts_tensor", False)


class ScriptObject:
    """An instance of a script class: its static ClassType and its attributes. Methods are the
    program's graphs ``Class.method``; from Python they are reached as bound callables."""

    __slots__ = ("_ts_type", "_ts_program", "__dict__")

    def __init__(self, cls: T.ClassType, program: Any = None):
        self._ts_type = cls
        self._ts_program = program

    def __getattr__(self, name: str):
        program = self._ts_program
        if program is None or name.startswith("__"):
            raise AttributeError(f"'{self._ts_type.class_name}' object has no attribute '{name}'")
        qualified = program.method_name(self._ts_type, name)
        if qualified not in program.graphs:
            raise AttributeError(f"'{self._ts_type.class_name}' object has no attribute '{name}'")
        from .executor import run_prepared

        prepared = program.prepared(qualified)
        return lambda *args: run_prepared(prepared, (self, *args))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{self._ts_type.class_name}({fields})"


def type_of(value: Any) -> str:
    """The TorchScript spelling of a run-time value's type, for messages."""
    if is_tensor(value):
        return "Tensor"
    if value is None:
        return "NoneType"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dtypes.DType):
        return "ScalarType"
    if isinstance(value, ScriptObject):
        return value._ts_type.class_name
    if isinstance(value, list):
        return f"List[{type_of(value[0])}]" if value else "List[Any]"
    if isinstance(value, tuple):
        return "Tuple[" + ", ".join(type_of(v) for v in value) + "]"
    if isinstance(value, dict):
        if value:
            k, v = next(iter(value.items()))
            return f"Dict[{type_of(k)}, {type_of(v)}]"
        return "Dict[Any, Any]"
    return type(value).__name__


def matches(value: Any, t: T.Type) -> bool:
    """Whether ``value`` is an instance of the static type ``t`` (TorchScript's isinstance)."""
    if t == T.TensorType:
        return is_tensor(value)
    if t == T.IntType:
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if t == T.FloatType:
        return isinstance(value, (float, np.floating))
    if t == T.BoolType:
        return isinstance(value, (bool, np.bool_))
    if t == T.StrType:
        return isinstance(value, str)
    if t == T.NoneType:
        return value is None
    if t == T.AnyType:
        return True
    if t == T.NumberType:
        return isinstance(value, (int, float, np.number)) and not is_tensor(value)
    if t == T.DTypeType:
        return isinstance(value, dtypes.DType)
    if t == T.DeviceType:
        return isinstance(value, str) or type(value).__name__ == "device"
    if isinstance(t, T.OptionalType):
        return value is None or matches(value, t.elem)
    if isinstance(t, T.UnionType):
        return any(matches(value, m) for m in t.members)
    if isinstance(t, T.ListType):
        return isinstance(value, list) and all(matches(v, t.elem) for v in value)
    if isinstance(t, T.TupleType):
        return (isinstance(value, tuple) and len(value) == len(t.elems)
                and all(matches(v, e) for v, e in zip(value, t.elems)))
    if isinstance(t, T.DictType):
        return isinstance(value, dict) and all(
            matches(k, t.key) and matches(v, t.value) for k, v in value.items())
    if isinstance(t, T.ClassType):
        return isinstance(value, ScriptObject) and value._ts_type is t
    return False


def _needs_normalising(t: T.Type) -> bool:
    if t in (T.TensorType, T.StrType, T.NoneType, T.DTypeType, T.DeviceType, T.AnyType):
        return False
    if isinstance(t, T.ClassType):
        return False
    return True


def _identity(value: Any) -> Any:
    return value


def _to_int(value: Any) -> Any:
    return value if type(value) is int or value is None else int(value)


def _to_float(value: Any) -> Any:
    return value if type(value) is float or value is None else float(value)


def _to_bool(value: Any) -> Any:
    return value if type(value) is bool or value is None else bool(value)


def _to_number(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


_normalisers: dict = {}


def normaliser(t: T.Type):
    """A function making a value of static type ``t`` the exact Python type it names: ints are
    ``int`` (not NumPy scalars or bools), floats ``float``, lists ``list``, tuples ``tuple``."""
    try:
        return _normalisers[t]
    except (KeyError, TypeError):
        pass
    fn = _build_normaliser(t)
    try:
        _normalisers[t] = fn
    except TypeError:
        pass
    return fn


def _build_normaliser(t: T.Type):
    if not _needs_normalising(t):
        return _identity
    if t == T.IntType:
        return _to_int
    if t == T.FloatType:
        return _to_float
    if t == T.BoolType:
        return _to_bool
    if t == T.NumberType:
        return _to_number
    if isinstance(t, T.OptionalType):
        inner = normaliser(t.elem)
        return lambda v: None if v is None else inner(v)
    if isinstance(t, T.ListType):
        if _needs_normalising(t.elem):
            elem = normaliser(t.elem)
            return lambda v: [elem(x) for x in v]
        return lambda v: v if type(v) is list else list(v)
    if isinstance(t, T.TupleType):
        elems = [normaliser(e) for e in t.elems]

        def tuple_(v):
            if len(v) != len(elems):
                return tuple(v)
            return tuple([f(x) for f, x in zip(elems, v)])
        return tuple_
    if isinstance(t, T.DictType):
        if _needs_normalising(t.key) or _needs_normalising(t.value):
            key, value = normaliser(t.key), normaliser(t.value)
            return lambda v: {key(k): value(x) for k, x in v.items()}
        return _identity
    if isinstance(t, T.UnionType):
        def union(v):
            for m in t.members:
                if matches(v, m):
                    return normaliser(m)(v)
            return _to_number(v)
        return union
    return _to_number


def normalise(value: Any, t: T.Type) -> Any:
    return normaliser(t)(value)
