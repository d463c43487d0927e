"""Refinement: what a condition proves about local names when it is true and when it is false.

``x is None`` / ``x is not None`` (also ``==`` / ``!=`` against None) narrow Optional types,
``isinstance(x, T)`` narrows Optional and Union types; ``and``, ``or`` and ``not`` combine them
as Python evaluates them (TorchScript's ``RefinementSet``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..jit.ir import types as T
from .annotations import make_union


@dataclass
class Refinements:
    true: dict = field(default_factory=dict)  # name -> narrowed Type when the test is true
    false: dict = field(default_factory=dict)

    def negate(self) -> "Refinements":
        return Refinements(dict(self.false), dict(self.true))


NONE = Refinements()


def _meet(a: dict, b: dict) -> dict:
    """Names narrowed on both paths, to the type covering both."""
    out = {}
    for name in a.keys() & b.keys():
        u = T.unify(a[name], b[name])
        if u is not None:
            out[name] = u
    return out


def both(a: Refinements, b: Refinements) -> Refinements:
    """``a and b``: both held when true; when false, either failed."""
    return Refinements({**a.true, **b.true}, _meet(a.false, b.false))


def either(a: Refinements, b: Refinements) -> Refinements:
    """``a or b``: when true, either held; when false, both failed."""
    return Refinements(_meet(a.true, b.true), {**a.false, **b.false})


def members(t: T.Type) -> list:
    if isinstance(t, T.OptionalType):
        return members(t.elem) + [T.NoneType]
    if isinstance(t, T.UnionType):
        return list(t.members)
    return [t]


def without_none(t: T.Type) -> T.Type:
    rest = [m for m in members(t) if m != T.NoneType]
    return make_union(rest) if rest else T.NoneType


def is_none_test(name: str, t: T.Type) -> Refinements:
    """Refinements of ``name is None`` for a name of type ``t``."""
    if T.NoneType not in members(t) and t != T.AnyType:
        return NONE
    return Refinements({name: T.NoneType}, {name: without_none(t)})


def isinstance_test(name: str, t: T.Type, targets: list) -> tuple[Refinements, Optional[bool]]:
    """Refinements of ``isinstance(name, targets)`` and its value when known statically."""
    if T.is_subtype(t, make_union(targets)) and t != T.AnyType:
        return NONE, True
    yes = [m for m in members(t) if any(T.is_subtype(m, x) for x in targets)]
    no = [m for m in members(t) if not any(T.is_subtype(m, x) for x in targets)]
    if not yes:
        return NONE, False
    refs = Refinements({name: make_union(yes)}, {name: make_union(no)} if no else {})
    return refs, None
