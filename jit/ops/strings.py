"""Strings: operators, indexing and slicing, ``len``/``ord``/``chr``, and the ``str`` methods.

Strings follow Python's semantics on Unicode text (TorchScript works on bytes, so the two
agree on ASCII). Argument names are TorchScript's (``split(separator, max)``,
``replace(old, new, max)``) so TorchScript code calling them by keyword keeps working; ranges
(``start``/``end``) follow Python's slicing rules. :func:`format_value` is the one place a
value becomes text: ``str()``, ``print`` and ``format`` all use it, and spell values as
TorchScript does, which differs from Python for floats (``str(2.0)`` is ``2.``).
"""
from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

from .dispatch import is_tensor
from .registry import Namespace, register

_PLAIN = (bool, int, float, str, type(None))


# ------------------------------------------------------------------ values as text

def _array_repr(arr: np.ndarray) -> str:
    body = np.array2string(np.asarray(arr), separator=", ", prefix="tensor(")
    return f"tensor({body})"


def format_float(d: float) -> str:
    """A float as TorchScript's ``str``/``print``/``format`` spell it: whole numbers below
    1e10 as ``2.``, everything else with 17 significant digits (``0.10000000000000001``)."""
    if math.isfinite(d) and abs(d) < 1e10 and d == int(d):
        if d == 0 and math.copysign(1.0, d) < 0:
            return "-0."
        return f"{int(d)}."
    return "%.17g" % d


def format_value(value: Any) -> str:
    """``str(value)`` in TorchScript: the text ``print`` writes and ``format`` substitutes.

    Containers print their elements the same way, so strings inside them are not quoted
    (``str(["a"])`` is ``[a]``), and floats are spelled by :func:`format_float`.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, _PLAIN):
        return str(value)
    if is_tensor(value):
        return str(value)
    if isinstance(value, np.ndarray):
        return _array_repr(value)
    if isinstance(value, (np.number, np.bool_)):
        return format_value(value.item())
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v)}"
                               for k, v in value.items()) + "}"
    return str(value)


class _ScriptFormatter(string.Formatter):
    """``str.format``: a bare ``{}`` substitutes the value's TorchScript text; a field with a
    format spec (``{:.2f}``, an extension TorchScript lacks) formats as Python does."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec:
            return format_value(value)
        if isinstance(value, (np.number, np.bool_)):
            value = value.item()
        return format(value, format_spec)


_FORMATTER = _ScriptFormatter()


def _format_argument(value: Any) -> Any:
    # Numbers and strings stay themselves so that ``%d`` and ``%.2f`` keep working.
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (np.number, np.bool_)):
        return value.item()
    return format_value(value)


# ------------------------------------------------------------------ operators

def _str_getitem(s: str, index: int) -> str:
    try:
        return s[index]
    except IndexError:
        raise IndexError("string index out of range") from None


def _str_slice(s: str, start, end, step: int) -> str:
    return s[start:end:step]


def _percent_format(self: str, *args: Any) -> str:
    if len(args) == 1 and isinstance(args[0], tuple):  # "%d %d" % (a, b)
        args = args[0]
    return self % tuple(_format_argument(a) for a in args)


register("add.str(str a, str b) -> str", lambda a, b: a + b)
register("remainder.str(str self, ...) -> str", _percent_format)
for _name, _fn in {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}.items():
    register(f"{_name}.str(str a, str b) -> bool", _fn)
register("__contains__.str(str self, str key) -> bool", lambda self, key: key in self)
register("__getitem__.str(str s, int index) -> str", _str_getitem)
register("slice.str(str s, int? start=None, int? end=None, int step=1) -> str", _str_slice)
register("__not__.str(str a) -> bool", lambda a: not a)


# ------------------------------------------------------------------ builtins

def _ord(string: str) -> int:
    return ord(string)


def _list_chars(t: str) -> list:
    return list(t)


_BUILTIN = (Namespace.BUILTINS,)
register("len.str(str s) -> int", len, namespaces=_BUILTIN)
register("bool.str(str a) -> bool", bool, namespaces=_BUILTIN)
register("list.str(str t) -> str[]", _list_chars, namespaces=_BUILTIN)
register("ord.str(str string) -> int", _ord, namespaces=_BUILTIN)
register("chr.int(int i) -> str", chr, namespaces=_BUILTIN)
register("hex.int(int i) -> str", hex, namespaces=_BUILTIN)
register("oct.int(int i) -> str", oct, namespaces=_BUILTIN)
register("bin.int(int i) -> str", bin, namespaces=_BUILTIN)


# ------------------------------------------------------------------ str methods

def _strip(self: str, chars):
    return self.strip(chars)


def _lstrip(self: str, chars):
    return self.lstrip(chars)


def _rstrip(self: str, chars):
    return self.rstrip(chars)


def _split(self: str, separator, max: int) -> list:
    return self.split(separator, max)


def _rsplit(self: str, separator, max: int) -> list:
    return self.rsplit(separator, max)


def _replace(self: str, old: str, new: str, max: int) -> str:
    return self.replace(old, new, max)


def _join(self: str, values: list) -> str:
    return self.join(values)


def _find(self: str, substr: str, start: int, end) -> int:
    return self.find(substr, start, end)


def _rfind(self: str, substr: str, start: int, end) -> int:
    return self.rfind(substr, start, end)


def _index(self: str, substr: str, start: int, end) -> int:
    return self.index(substr, start, end)


def _rindex(self: str, substr: str, start: int, end) -> int:
    return self.rindex(substr, start, end)


def _count(self: str, substr: str, start: int, end) -> int:
    return self.count(substr, start, end)


def _startswith(self: str, substr: str, start: int, end) -> bool:
    return self.startswith(substr, start, end)


def _endswith(self: str, substr: str, start: int, end) -> bool:
    return self.endswith(substr, start, end)


def _center(self: str, width: int, fillchar: str) -> str:
    return self.center(width, fillchar)


def _ljust(self: str, width: int, fillchar: str) -> str:
    return self.ljust(width, fillchar)


def _rjust(self: str, width: int, fillchar: str) -> str:
    return self.rjust(width, fillchar)


def _zfill(self: str, width: int) -> str:
    # TorchScript pads on the left without looking for a sign: "-7".zfill(4) is "00-7".
    return "0" * (width - len(self)) + self


def _format(self: str, *args: Any) -> str:
    return _FORMATTER.format(self, *args)


_NO_ARGUMENT_METHODS = {
    "upper": str.upper, "lower": str.lower, "capitalize": str.capitalize, "title": str.title,
    "swapcase": str.swapcase, "casefold": str.casefold,
}
_PREDICATES = {
    "isdigit": str.isdigit, "isalpha": str.isalpha, "isalnum": str.isalnum,
    "isspace": str.isspace, "isupper": str.isupper, "islower": str.islower,
    "istitle": str.istitle, "isdecimal": str.isdecimal, "isnumeric": str.isnumeric,
    "isidentifier": str.isidentifier, "isprintable": str.isprintable,
}
for _name, _fn in _NO_ARGUMENT_METHODS.items():
    register(f"{_name}.str(str self) -> str", _fn, method=True)
for _name, _fn in _PREDICATES.items():
    register(f"{_name}.str(str self) -> bool", _fn, method=True)

_SEARCH = "(str self, str substr, int start=0, int? end=None)"
register("strip.str(str self, str? chars=None) -> str", _strip, method=True)
register("lstrip.str(str self, str? chars=None) -> str", _lstrip, method=True)
register("rstrip.str(str self, str? chars=None) -> str", _rstrip, method=True)
register("split.str(str self, str? separator=None, int max=-1) -> str[]", _split, method=True)
register("rsplit.str(str self, str? separator=None, int max=-1) -> str[]", _rsplit, method=True)
register("splitlines.str(str self, bool keepends=False) -> str[]", str.splitlines, method=True)
register("join.str(str self, str[] values) -> str", _join, method=True)
register("replace.str(str self, str old, str new, int max=-1) -> str", _replace, method=True)
register(f"find.str{_SEARCH} -> int", _find, method=True)
register(f"rfind.str{_SEARCH} -> int", _rfind, method=True)
register(f"index.str{_SEARCH} -> int", _index, method=True)
register(f"rindex.str{_SEARCH} -> int", _rindex, method=True)
register(f"count.str{_SEARCH} -> int", _count, method=True)
register(f"startswith.str{_SEARCH} -> bool", _startswith, method=True)
register(f"endswith.str{_SEARCH} -> bool", _endswith, method=True)
register("zfill.str(str self, int width) -> str", _zfill, method=True)
register("center.str(str self, int width, str fillchar=' ') -> str", _center, method=True)
register("ljust.str(str self, int width, str fillchar=' ') -> str", _ljust, method=True)
register("rjust.str(str self, int width, str fillchar=' ') -> str", _rjust, method=True)
register("expandtabs.str(str self, int tabsize=8) -> str", str.expandtabs, method=True)
register("partition.str(str self, str separator) -> ((str, str, str))", str.partition,
         method=True)
register("rpartition.str(str self, str separator) -> ((str, str, str))", str.rpartition,
         method=True)
register("format.str(str self, ...) -> str", _format, method=True)
