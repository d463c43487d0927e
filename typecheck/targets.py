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

    kinds (``value`` in parentheses):

    - iteration forms, on the ``Call`` that is a ``For.iter`` / ``Comprehension.iter`` (or the
      argument of ``list(...)``): ``range`` (``bound`` = [start, stop, step], defaults filled),
      ``enumerate`` (``bound`` = [iterable, start]), ``zip`` (``bound`` = the iterables); the
      ``Call.type`` is ``List[<element>]``. Any other iterable is a value: a List, a Dict (its
      keys), a Tensor (its rows), a str (its characters), a Tuple (unrolled; see ``For.unrolled``).
    - ``isinstance`` (the result when known statically, else None; ``bound`` = [subject]),
      ``is`` (on ``Compare.targets`` for ``is`` / ``is not`` and for ``==`` / ``!=`` against
      None; the comparison's result as written when known statically, else None),
      ``is_scripting`` (True). A branch whose test is one of these with a static value that
      rules it out is not type-checked: lowering must not lower it.
    - ``annotate`` (``torch.jit.annotate``; ``bound`` = [value]), ``unchecked_cast``
      (``torch.jit._unwrap_optional``; ``bound`` = [value]).
    - ``refined`` (the type the variable had before narrowing): on a ``Name`` load whose
      ``type`` a condition narrowed (``is not None``, ``isinstance``); lowering casts.
    - ``list`` / ``dict`` (constructors: ``list(iterable)``, ``list()``, ``dict()``; also
      the implicit tuple to list conversion of an argument), ``bound`` = [iterable] or [].
    - ``not`` (``not x`` when the registry has no ``__not__`` overload for it).
    - ``tensor_index`` (a subscript of a Tensor: lowering decomposes it into select / slice /
      unsqueeze / index ops; the index parts are typed: int, bool, Tensor, List[int], None,
      and ``Slice`` / ``...`` nodes typed NoneType), ``tensor_index_assign`` (the ``Subscript``
      target of ``x[i] = v`` on a Tensor).
    - ``tuple_index`` (the element's position, normalised to >= 0), ``tuple_slice``
      ((start, stop, step), normalised as ``range(n)[slice]`` does): subscripts of tuples.
    - ``list_unpack``: on a ``Tuple`` / ``List`` assignment target whose value is a list
      (``a, b = x.split(2)``): lowering checks the length at run time.
    - ``subscript_update`` ((get, set) targets): the ``Subscript`` target of an augmented
      assignment ``xs[i] += v``; get is the ``__getitem__`` op or ``tensor_index``, set the
      ``__setitem__`` op or ``tensor_index_assign``; ``AugAssign.op_target`` is the update op.
    - ``tensor_property`` (the name): a Tensor attribute the registry has no op for
      (``x.dtype``, ``x.device``, ``x.requires_grad``, ``x.grad``, ...).
    - ``exception`` (the class name): the ``Call`` (or bare ``Name``) in ``raise ValueError(...)``;
      ``bound`` = the message arguments.
    - ``no_grad``: the ``Call`` of a ``with torch.no_grad():`` item.
    - ``type`` (the Type): the root of a type expression (annotations, isinstance and annotate
      arguments); its nodes are typed Any and are no values.

    Subscripts of lists, dicts and strings carry the ``__getitem__`` op (stores: ``__setitem__``,
    ``del``: ``__delitem__``); a slice of a list or str carries the ``slice`` op chosen for
    (container, start, end, step) and lowering takes the operands from the ``Slice`` node (an
    absent part is the schema's default).
    """

    kind: str
    value: Any = None
