"""What lowering needs besides the AST walk: static op resolution, constants' types, and the
scopes that turn variables into SSA values."""
from __future__ import annotations

from typing import Any, Optional

from .ir import dtypes
from .ir import types as T
from .ops import registry as R
from .ir.verify import accepts, stype_to_type
from .ops.schema import NO_DEFAULT, SType


# ------------------------------------------------------------------ static op resolution

def return_type(op: R.OpDef, typevars: dict) -> T.Type:
    rets = op.schema.returns
    if not rets:
        return T.NoneType
    if len(rets) == 1:
        return stype_to_type(rets[0], typevars)
    return T.TupleType(tuple(stype_to_type(r, typevars) for r in rets))


def match(op: R.OpDef, arg_types: list, kwarg_types: dict) -> Optional[tuple[list, dict]]:
    """Bind static argument types to ``op``'s schema: ``(per-parameter source, typevars)``
    where a source is ``("arg", i)``, ``("kw", name)`` or ``("default", value)``."""
    params = op.schema.params
    positional = [p for p in params if not p.kwarg_only]
    if len(arg_types) > len(positional) and not op.schema.varargs:
        return None
    typevars: dict = {}
    sources: list = []
    for i, p in enumerate(params):
        if i < len(arg_types) and not p.kwarg_only:
            if p.name in kwarg_types or not accepts(p.type, arg_types[i], typevars):
                return None
            sources.append(("arg", i))
        elif p.name in kwarg_types:
            if not accepts(p.type, kwarg_types[p.name], typevars):
                return None
            sources.append(("kw", p.name))
        elif p.default is not NO_DEFAULT:
            sources.append(("default", p.default))
        else:
            return None
    if any(k not in {p.name for p in params} for k in kwarg_types):
        return None
    if op.schema.varargs:
        sources.extend(("arg", i) for i in range(len(positional), len(arg_types)))
    return sources, typevars


def resolve(name: str, arg_types: list, kwarg_types: Optional[dict] = None):
    """The first overload of ``name`` accepting the types: ``(op, sources, typevars)``."""
    for op in R.overloads(name):
        bound = match(op, list(arg_types), dict(kwarg_types or {}))
        if bound is not None:
            return op, bound[0], bound[1]
    return None


# ------------------------------------------------------------------ constants

def constant_type(value: Any) -> T.Type:
    if isinstance(value, bool):
        return T.BoolType
    if isinstance(value, int):
        return T.IntType
    if isinstance(value, float):
        return T.FloatType
    if isinstance(value, str):
        return T.StrType
    if value is None:
        return T.NoneType
    if isinstance(value, dtypes.DType):
        return T.DTypeType
    if isinstance(value, list):
        return T.ListType(constant_type(value[0]) if value else T.IntType)
    if isinstance(value, tuple):
        return T.TupleType(tuple(constant_type(v) for v in value))
    if getattr(type(value), "_ts_tensor", False):
        return T.TensorType
    return T.AnyType


def default_for(value: Any, st: SType) -> tuple[Any, T.Type]:
    """A schema default as a constant of the parameter's type (``int[2] x=1`` is ``[1, 1]``)."""
    if st.kind == "list" and not isinstance(value, list) and value is not None:
        value = [value] * (st.size or 1)
    if st.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if st.kind == "ScalarType" and isinstance(value, str):
        value = dtypes.by_name(value)
    if isinstance(value, list):
        return value, stype_to_type(st, {}) if st.kind == "list" else constant_type(value)
    t = constant_type(value)
    if value is None:
        t = T.NoneType
    return value, t


# ------------------------------------------------------------------ scopes

class Env:
    """Variables of one block: name -> Value, falling back to the enclosing block's."""

    def __init__(self, parent: Optional["Env"] = None):
        self.parent = parent
        self.vars: dict = {}

    def get(self, name: str):
        env = self
        while env is not None:
            v = env.vars.get(name)
            if v is not None:
                return v
            env = env.parent
        return None

    def set(self, name: str, value) -> None:
        self.vars[name] = value
