"""Local variables: one frame per block, TorchScript's rules for types across blocks.

A variable's type is the type of the value it holds. In straight-line code a name may be
re-bound to a value of another type (it is then a new variable). A block nested in a loop or
a branch may assign a name of an outer block only a value whose type is a subtype of the outer
type. After an if, a name assigned in a branch has the unified type of both branches; a name
that cannot be unified, or that only one branch defines, is poisoned: reading it is an error
(TorchScript reports these on use). After a loop, names first assigned in its body are poisoned.

A refinement (``x is not None``, ``isinstance``) narrows a name in a frame without assigning
it; reads of a refined name carry the type it was narrowed from (see ``Var.refined_from``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..jit.ir import types as T


@dataclass
class Var:
    type: T.Type
    refined_from: Optional[T.Type] = None  # the unrefined type when a condition narrowed it
    poison: Optional[tuple] = None  # (message, code, span): reading it is this error
    reported: bool = False


class Frame:
    def __init__(self, parent: Optional["Frame"], kind: str):
        self.parent = parent
        self.kind = kind  # function | if | loop | comprehension
        self.vars: dict[str, Var] = {}
        self.assigned: set[str] = set()

    def lookup(self, name: str) -> Optional[Var]:
        frame: Optional[Frame] = self
        while frame is not None:
            var = frame.vars.get(name)
            if var is not None:
                return var
            frame = frame.parent
        return None

    def lookup_outer(self, name: str) -> Optional[Var]:
        """The variable as the blocks around this one see it."""
        return self.parent.lookup(name) if self.parent is not None else None

    def set(self, name: str, typ: T.Type) -> None:
        self.vars[name] = Var(typ)
        self.assigned.add(name)

    def refine(self, name: str, typ: T.Type) -> None:
        var = self.lookup(name)
        if var is None or var.poison is not None:
            return
        origin = var.refined_from if var.refined_from is not None else var.type
        if typ == origin:
            self.vars[name] = Var(origin)
        else:
            self.vars[name] = Var(typ, refined_from=origin)

    def names(self) -> set:
        out: set = set()
        frame: Optional[Frame] = self
        while frame is not None:
            out.update(frame.vars)
            frame = frame.parent
        return out
