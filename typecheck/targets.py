"""What a name, call, operator or attribute resolved to: the typed AST's link to its meaning.

The type checker stores one of these in ``Expr.target`` (``Compare.targets`` for each
comparison, ``AugAssign.op_target`` for updates); lowering reads them and resolves nothing
again. An ``OpDef`` from the registry is stored as it is: an op call whose arguments are in
``Call.bound`` in schema order (defaults filled in as ``Constant`` nodes, extra ``...``
arguments appended).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..jit.ir import types as T


@dataclass(frozen=True)
class FunctionTarget:
    """A call of one of the unit's functions; ``Call.bound`` is in parameter order."""

    qualified_name: str
    type: T.FunctionType


@dataclass(frozen=True)
class MethodTarget:
    """A call of a script class's or module's method; ``Call.bound[0]`` is ``self``."""

    cls: T.ClassType
    method: str


@dataclass(frozen=True)
class ConstructTarget:
    """``ClassName(...)``: builds an object (runs ``__init__``) or a NamedTuple."""

    cls: Any  # ClassType or a NamedTuple's TupleType


@dataclass(frozen=True)
class FieldTarget:
    """``obj.name`` for a class attribute, or ``t.name`` for a NamedTuple field (index)."""

    name: str
    index: int = -1


@dataclass(frozen=True)
class ConstantTarget:
    """A name or attribute with a value known at compile time: module constants, ``math.pi``,
    ``torch.float32``, a Python global captured by ``@script``."""

    value: Any


@dataclass(frozen=True)
class SpecialTarget:
    """A language form that is neither an op nor a function, handled by lowering itself.

    kinds: ``range``, ``enumerate``, ``zip``, ``isinstance`` (value: the refined result as a
    bool when known statically, else None), ``annotate`` (``torch.jit.annotate``), ``is_scripting``,
    ``unchecked_cast``, ``list`` / ``tuple`` / ``dict`` (constructors from an iterable),
    ``tensor_index`` (a subscript of a Tensor: lowering decomposes it into select / slice /
    unsqueeze / index ops), ``tensor_index_assign``, ``exception`` (``ValueError("...")`` in a raise).
    """

    kind: str
    value: Any = None
