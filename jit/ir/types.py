"""The language's static types: what the type checker infers and the IR carries.

Types are immutable and compare by value. ``str(t)`` spells them as TorchScript does
(``Tensor``, ``List[int]``, ``Optional[str]``, ``Tuple[int, float]``, ``Dict[str, Tensor]``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional as _Opt


class Type:
    def __str__(self) -> str:
        return self.name()

    def name(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name()


@dataclass(frozen=True, repr=False)
class _Simple(Type):
    spelled: str

    def name(self) -> str:
        return self.spelled


TensorType = _Simple("Tensor")
IntType = _Simple("int")
FloatType = _Simple("float")
BoolType = _Simple("bool")
StrType = _Simple("str")
NoneType = _Simple("NoneType")
DeviceType = _Simple("Device")
DTypeType = _Simple("ScalarType")  # torch.float32 and friends; TorchScript treats it as int
NumberType = _Simple("number")  # int or float, decided at run time (schemas' Scalar)
AnyType = _Simple("Any")


@dataclass(frozen=True, repr=False)
class ListType(Type):
    elem: Type

    def name(self) -> str:
        return f"List[{self.elem.name()}]"


@dataclass(frozen=True, repr=False)
class TupleType(Type):
    elems: tuple
    field_names: _Opt[tuple] = None  # a NamedTuple's fields
    class_name: _Opt[str] = None

    def name(self) -> str:
        if self.class_name:
            return self.class_name
        return "Tuple[" + ", ".join(e.name() for e in self.elems) + "]" if self.elems else "Tuple[()]"


@dataclass(frozen=True, repr=False)
class DictType(Type):
    key: Type
    value: Type

    def name(self) -> str:
        return f"Dict[{self.key.name()}, {self.value.name()}]"


@dataclass(frozen=True, repr=False)
class OptionalType(Type):
    elem: Type

    def name(self) -> str:
        return f"Optional[{self.elem.name()}]"


@dataclass(frozen=True, repr=False)
class UnionType(Type):
    members: tuple

    def name(self) -> str:
        return "Union[" + ", ".join(m.name() for m in self.members) + "]"


@dataclass(frozen=True, repr=False)
class FunctionType(Type):
    """A script function's signature."""

    params: tuple  # of (name, Type, has_default)
    returns: Type
    fn_name: str = ""

    def name(self) -> str:
        ps = ", ".join(f"{n}: {t.name()}" for n, t, _ in self.params)
        return f"{self.fn_name}({ps}) -> {self.returns.name()}"


@dataclass(frozen=True, repr=False, eq=False)
class ClassType(Type):
    """A script class or scripted module; compared by identity (one per definition)."""

    class_name: str
    attributes: dict = field(default_factory=dict, compare=False)  # name -> Type
    methods: dict = field(default_factory=dict, compare=False)  # name -> FunctionType
    is_module: bool = False

    def name(self) -> str:
        return self.class_name

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


def optional(t: Type) -> Type:
    if isinstance(t, OptionalType) or t == NoneType:
        return t
    return OptionalType(t)


def is_subtype(sub: Type, sup: Type) -> bool:
    """TorchScript's subtyping: None and T below Optional[T], members below their Union,
    tuples covariant, lists and dicts invariant, everything below Any."""
    if sub == sup or sup == AnyType:
        return True
    if isinstance(sup, OptionalType):
        return sub == NoneType or is_subtype(sub, sup.elem) or (
            isinstance(sub, OptionalType) and is_subtype(sub.elem, sup.elem))
    if isinstance(sup, UnionType):
        if isinstance(sub, UnionType):
            return all(is_subtype(m, sup) for m in sub.members)
        return any(is_subtype(sub, m) for m in sup.members)
    if sup == NumberType:
        return sub in (IntType, FloatType, BoolType)
    if isinstance(sub, TupleType) and isinstance(sup, TupleType):
        return len(sub.elems) == len(sup.elems) and all(
            is_subtype(a, b) for a, b in zip(sub.elems, sup.elems))
    return False


def unify(a: Type, b: Type) -> _Opt[Type]:
    """The type both branches of an if can share, or None (TorchScript's unifyTypes)."""
    if a == b:
        return a
    if a == NoneType and b != NoneType:
        return optional(b)
    if b == NoneType:
        return optional(a)
    if isinstance(a, OptionalType) and is_subtype(b, a):
        return a
    if isinstance(b, OptionalType) and is_subtype(a, b):
        return b
    if isinstance(a, TupleType) and isinstance(b, TupleType) and len(a.elems) == len(b.elems):
        elems = [unify(x, y) for x, y in zip(a.elems, b.elems)]
        if all(e is not None for e in elems):
            return TupleType(tuple(elems))
    return None
