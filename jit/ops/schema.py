"""Op signatures in TorchScript's schema language, parsed when an op's schema is first read.

    add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor
    max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)
    append.t(t[] self, t el) -> t[]
    get.str(Dict(str, t) self, str key) -> t?
    format(str self, ...) -> str

Argument types: ``Tensor``, ``Scalar`` (int, float or bool), ``int``, ``float``, ``bool``,
``str``, ``ScalarType`` (a dtype), ``Device``, ``Any``, type variables ``t``, ``k``, ``v``;
``T[]`` a list, ``T?`` optional, ``Dict(K, V)``, ``(A, B)`` a tuple. ``int[2]`` is a list of
ints that also accepts a single int (repeated), as in TorchScript. ``*`` makes the following
parameters keyword-only; ``...`` takes any number of extra positional arguments.
"""
from __future__ import annotations

import ast as _pyast
import re
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class SType:
    """A schema type. ``kind`` is a base name, "list", "optional", "dict" or "tuple"."""

    kind: str
    args: tuple = ()
    size: Optional[int] = None  # int[2]: a fixed-size list that also accepts a single int

    def __str__(self) -> str:
        if self.kind == "list":
            return f"{self.args[0]}[{self.size if self.size else ''}]"
        if self.kind == "optional":
            return f"{self.args[0]}?"
        if self.kind == "dict":
            return f"Dict({self.args[0]}, {self.args[1]})"
        if self.kind == "tuple":
            return "(" + ", ".join(str(a) for a in self.args) + ")"
        return self.kind

    @property
    def is_tensor(self) -> bool:
        return self.kind == "Tensor"

    @property
    def is_tensor_list(self) -> bool:
        return self.kind == "list" and self.args[0].kind == "Tensor"


NO_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    name: str
    type: SType
    default: Any = NO_DEFAULT
    kwarg_only: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass(frozen=True)
class Schema:
    name: str  # the base name: "add"
    overload: str  # "Tensor", "" when there is none
    params: tuple
    returns: tuple  # of SType; empty for "-> ()"
    return_names: tuple = ()
    varargs: bool = False
    text: str = field(default="", compare=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.name}.{self.overload}" if self.overload else self.name

    @property
    def returns_tuple(self) -> bool:
        return len(self.returns) != 1

    def __str__(self) -> str:
        return self.text


_TOKEN = re.compile(r"\s*(->|\.\.\.|[A-Za-z_][A-Za-z_0-9]*|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\"[^\"]*\"|'[^']*'|\S)")


class _Tokens:
    def __init__(self, text: str):
        self.text = text
        self.toks = _TOKEN.findall(text)
        self.end = len(self.toks)
        self.i = 0

    def peek(self, k: int = 0) -> Optional[str]:
        j = self.i + k
        return self.toks[j] if j < self.end else None

    def next(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ValueError(f"unexpected end of schema: {self.text}")
        self.i += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.next()
        if got != tok:
            raise ValueError(f"expected {tok!r}, got {got!r} in schema: {self.text}")


# Types are immutable: one instance per base type spares most of the constructor calls.
_BASE_TYPES: dict = {}


def _parse_type(ts: _Tokens) -> SType:
    tok = ts.next()
    if tok == "(":
        elems = []
        while ts.peek() != ")":
            elems.append(_parse_type(ts))
            if ts.peek() == ",":
                ts.next()
        ts.expect(")")
        t = SType("tuple", tuple(elems))
    elif tok == "Dict":
        ts.expect("(")
        key = _parse_type(ts)
        ts.expect(",")
        value = _parse_type(ts)
        ts.expect(")")
        t = SType("dict", (key, value))
    else:
        t = _BASE_TYPES.get(tok) or _BASE_TYPES.setdefault(tok, SType(tok))
    while ts.peek() in ("[", "?"):
        if ts.next() == "[":
            size = None
            if ts.peek() != "]":
                size = int(ts.next())
            ts.expect("]")
            t = SType("list", (t,), size)
        else:
            t = SType("optional", (t,))
    return t


def _parse_default(ts: _Tokens) -> Any:
    tok = ts.next()
    if tok == "[":
        items = []
        while ts.peek() != "]":
            items.append(_parse_default(ts))
            if ts.peek() == ",":
                ts.next()
        ts.expect("]")
        return items
    if tok == "-" and ts.peek() is not None:
        return -_parse_default(ts)
    if tok in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[tok]
    if tok in ("inf", "nan"):
        return float(tok)
    if tok in ("contiguous_format", "Mean", "None"):
        return tok
    try:
        return _pyast.literal_eval(tok)
    except (ValueError, SyntaxError):
        return tok  # an enum-like name such as "mean"


def parse_schema(text: str) -> Schema:
    ts = _Tokens(text)
    name = ts.next()
    overload = ""
    if ts.peek() == ".":
        ts.next()
        overload = ts.next()
    ts.expect("(")
    params = []
    kwarg_only = False
    varargs = False
    while ts.peek() != ")":
        if ts.peek() == "*":
            ts.next()
            kwarg_only = True
        elif ts.peek() == "...":
            ts.next()
            varargs = True
        else:
            ptype = _parse_type(ts)
            pname = ts.next()
            default = NO_DEFAULT
            if ts.peek() == "=":
                ts.next()
                default = _parse_default(ts)
            params.append(Param(pname, ptype, default, kwarg_only))
        if ts.peek() == ",":
            ts.next()
    ts.expect(")")
    ts.expect("->")
    returns, names = [], []
    if ts.peek() == "(":
        ts.next()
        while ts.peek() != ")":
            returns.append(_parse_type(ts))
            if ts.peek() not in (",", ")"):
                names.append(ts.next())
            if ts.peek() == ",":
                ts.next()
        ts.expect(")")
    else:
        returns.append(_parse_type(ts))
    if ts.peek() is not None:
        raise ValueError(f"trailing text in schema: {text}")
    return Schema(name, overload, tuple(params), tuple(returns), tuple(names), varargs, text)
