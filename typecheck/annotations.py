"""Type expressions (annotations, ``isinstance`` arguments, ``torch.jit.annotate``) to Types.

Every spelling TorchScript accepts is accepted: ``torch.Tensor`` / ``Tensor``, ``List[int]`` /
``list[int]``, ``Optional[int]`` / ``int | None`` / ``Union[int, None]``, ``Tuple[()]``,
``Dict[str, Tensor]``, script class and NamedTuple names, and string forward references.
"""

from __future__ import annotations

from typing import Callable, Optional

from ..jit.ir import types as T
from ..parser import ast
from ..parser.source import CompileError
from . import messages as M

SIMPLE = {
    "int": T.IntType,
    "float": T.FloatType,
    "bool": T.BoolType,
    "str": T.StrType,
    "None": T.NoneType,
    "NoneType": T.NoneType,
    "torch.Tensor": T.TensorType,
    "torch.device": T.DeviceType,
    "torch.dtype": T.DTypeType,
    "typing.Any": T.AnyType,
}
GENERIC = {
    "typing.List": "list",
    "list": "list",
    "typing.Dict": "dict",
    "dict": "dict",
    "typing.Tuple": "tuple",
    "tuple": "tuple",
    "typing.Optional": "optional",
    "typing.Union": "union",
    "typing.Final": "final",
}
DICT_KEYS = (T.StrType, T.IntType, T.FloatType, T.BoolType, T.TensorType)


def dotted_name(expr: ast.Expr) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def make_union(members) -> T.Type:
    """A Union of ``members`` flattened and deduplicated; None makes it Optional."""
    flat: list = []
    has_none = False
    for m in members:
        inner = (
            m.members
            if isinstance(m, T.UnionType)
            else ((m.elem, T.NoneType) if isinstance(m, T.OptionalType) else (m,))
        )
        for x in inner:
            if x == T.NoneType:
                has_none = True
            elif x not in flat:
                flat.append(x)
    if not flat:
        return T.NoneType
    core = flat[0] if len(flat) == 1 else T.UnionType(tuple(flat))
    return T.optional(core) if has_none else core


class AnnotationResolver:
    """Turns type expressions into Types.

    ``canonical(dotted)`` maps a spelled name through the imports (``Tensor`` to
    ``torch.Tensor``, ``List`` to ``typing.List``); ``user_type(name)`` finds the unit's
    classes and NamedTuples.
    """

    def __init__(
        self, canonical: Callable[[str], str], user_type: Callable[[str], Optional[T.Type]]
    ):
        self.canonical = canonical
        self.user_type = user_type

    def resolve(self, expr: ast.Expr) -> T.Type:
        if isinstance(expr, ast.Constant):
            if expr.value is None:
                return T.NoneType
            if isinstance(expr.value, str):
                return self._forward_ref(expr)
            raise self._invalid(expr)
        if isinstance(expr, ast.BinOp) and expr.op == "|":
            return make_union([self.resolve(expr.left), self.resolve(expr.right)])
        if isinstance(expr, ast.Subscript):
            return self._generic(expr)
        name = dotted_name(expr)
        if name is None:
            raise self._invalid(expr)
        canon = self.canonical(name)
        if canon in SIMPLE:
            return SIMPLE[canon]
        if canon in GENERIC:
            head = GENERIC[canon]
            if head == "list":
                return T.ListType(T.TensorType)
            if head == "dict":
                return T.DictType(T.StrType, T.TensorType)
            if head == "tuple":
                return T.TupleType(())
            raise self._invalid(expr, f"; {name} needs type arguments")
        user = self.user_type(name)
        if user is not None:
            return user
        raise self._invalid(expr)

    def _forward_ref(self, expr: ast.Constant) -> T.Type:
        text = expr.value.strip()
        if text.isidentifier() or all(p.isidentifier() for p in text.split(".")):
            parts = text.split(".")
            node: ast.Expr = ast.Name(parts[0], span=expr.span)
            for p in parts[1:]:
                node = ast.Attribute(node, p, span=expr.span)
            return self.resolve(node)
        raise self._invalid(expr)

    def _generic(self, expr: ast.Subscript) -> T.Type:
        name = dotted_name(expr.value)
        head = GENERIC.get(self.canonical(name)) if name else None
        if head is None:
            raise self._invalid(expr)
        index = expr.index
        args = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        if head == "tuple":
            if isinstance(index, ast.Tuple) and not index.elts:
                return T.TupleType(())
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                elem = self.resolve(args[0])
                raise CompileError.at(
                    expr.span, M.TUPLE_ELLIPSIS.format(elem=elem), M.TUPLE_ELLIPSIS.code
                )
            return T.TupleType(tuple(self.resolve(a) for a in args))
        if head == "list":
            self._arity(expr, args, 1)
            return T.ListType(self.resolve(args[0]))
        if head == "dict":
            self._arity(expr, args, 2)
            key = self.resolve(args[0])
            if key not in DICT_KEYS:
                raise CompileError.at(
                    args[0].span, M.DICT_KEY_TYPE.format(key=key), M.DICT_KEY_TYPE.code
                )
            return T.DictType(key, self.resolve(args[1]))
        if head == "optional":
            self._arity(expr, args, 1)
            return T.optional(self.resolve(args[0]))
        if head == "final":
            self._arity(expr, args, 1)
            return self.resolve(args[0])
        return make_union([self.resolve(a) for a in args])

    def _arity(self, expr: ast.Subscript, args: list, n: int) -> None:
        if len(args) != n:
            raise self._invalid(expr, f"; it takes {n} type argument{'s' if n > 1 else ''}")

    def _invalid(self, expr: ast.Expr, hint: str = "") -> CompileError:
        text = expr.span.source.text
        lines = text.split("\n")
        if expr.span.line == expr.span.end_line and 1 <= expr.span.line <= len(lines):
            shown = lines[expr.span.line - 1][expr.span.col - 1 : expr.span.end_col - 1]
        else:
            shown = type(expr).__name__
        return CompileError.at(
            expr.span, M.ANNOTATION_INVALID.format(text=shown, hint=hint), M.ANNOTATION_INVALID.code
        )
