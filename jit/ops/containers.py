"""Lists and dicts: operators, indexing and slicing, membership, methods, and the builtins
that take containers (``len``, ``list``, ``sorted``, ``sum``, ``any``, ``all``, ``print``).

Lists are Python lists and dicts Python dicts (insertion-ordered, as in Python and
TorchScript); mutating ops change them in place, so aliases see the change. Generic ops are
written once over the type variables ``t`` (list elements), ``k`` and ``v`` (dict keys and
values). Tuples are typed statically: indexing, unpacking and ``len`` of a tuple are resolved
by the type checker, not here.

Equality of elements is Python's ``==`` except that tensors compare as ``torch.equal`` does
(same shape and values), so ``[t1] == [t2]``, ``t in xs`` and ``xs.index(t)`` work on tensor
lists. ``print`` writes values as TorchScript does (``strings.format_value``). Where Python and
TorchScript disagree, TorchScript wins: ``popitem`` removes the first entry, not the last.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .dispatch import is_tensor
from .registry import MUTATES, SHAPE_QUERY, SIDE_EFFECT, Namespace, register
from .strings import format_value

_PLAIN = (bool, int, float, str, type(None))
_BUILTIN = (Namespace.BUILTINS,)


# ------------------------------------------------------------------ element equality

def _as_array(value: Any):
    if is_tensor(value):
        return value.numpy()
    if isinstance(value, np.ndarray):
        return value
    return None


def values_equal(a: Any, b: Any) -> bool:
    """``a == b`` as a bool, for any values a script can hold."""
    if isinstance(a, _PLAIN) and isinstance(b, _PLAIN):
        return a == b
    arr_a, arr_b = _as_array(a), _as_array(b)
    if arr_a is not None or arr_b is not None:
        if arr_a is None or arr_b is None:
            return False
        return arr_a.shape == arr_b.shape and bool(np.array_equal(arr_a, arr_b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return (len(a) == len(b)
                and all(k in b and values_equal(v, b[k]) for k, v in a.items()))
    return bool(a == b)


def _position(items: list, el: Any) -> int:
    """The first index holding ``el``, or -1."""
    if isinstance(el, _PLAIN):
        try:
            return items.index(el)
        except ValueError:
            return -1
    for i, item in enumerate(items):
        if values_equal(item, el):
            return i
    return -1


# ------------------------------------------------------------------ list operators

def _list_getitem(items: list, idx: int) -> Any:
    try:
        return items[idx]
    except IndexError:
        raise IndexError("list index out of range") from None


def _list_setitem(items: list, idx: int, el: Any) -> None:
    try:
        items[idx] = el
    except IndexError:
        raise IndexError("list assignment index out of range") from None


def _list_delitem(items: list, idx: int) -> None:
    try:
        del items[idx]
    except IndexError:
        raise IndexError("list assignment index out of range") from None


def _list_slice(items: list, start, end, step: int) -> list:
    return items[start:end:step]


def _list_contains(items: list, item: Any) -> bool:
    return _position(items, item) >= 0


def _list_add(a: list, b: list) -> list:
    return a + b


def _list_iadd(items: list, other: list) -> list:
    items.extend(other)
    return items


def _list_repeat(items: list, n: int) -> list:
    return items * n


def _list_repeat_right(n: int, items: list) -> list:
    return items * n


def _list_eq(a: list, b: list) -> bool:
    return values_equal(a, b)


def _list_ne(a: list, b: list) -> bool:
    return not values_equal(a, b)


def _is_empty(a) -> bool:
    return not a


def _is_nonempty(a) -> bool:
    return bool(a)


register("__getitem__.t(t[] list, int idx) -> t", _list_getitem)
register("__setitem__.t(t[] l, int idx, t el) -> ()", _list_setitem, tags={MUTATES})
register("__delitem__.t(t[] self, int idx) -> ()", _list_delitem, tags={MUTATES})
register("__contains__.t(t[] l, t item) -> bool", _list_contains)
register("slice.t(t[] l, int? start=None, int? end=None, int step=1) -> t[]", _list_slice)
register("add.t(t[] a, t[] b) -> t[]", _list_add)
register("add_.t(t[] self, t[] b) -> t[]", _list_iadd, tags={MUTATES})
register("mul.left_t(t[] l, int n) -> t[]", _list_repeat)
register("mul.right_t(int n, t[] l) -> t[]", _list_repeat_right)
register("eq.t(t[] a, t[] b) -> bool", _list_eq)
register("ne.t(t[] a, t[] b) -> bool", _list_ne)
register("__not__.t(t[] a) -> bool", _is_empty)
register("bool.t(t[] a) -> bool", _is_nonempty, namespaces=_BUILTIN)


# ------------------------------------------------------------------ list methods

def _append(self: list, el: Any) -> list:
    self.append(el)
    return self


def _extend(self: list, other: list) -> None:
    self.extend(other)


def _insert(self: list, idx: int, el: Any) -> None:
    self.insert(idx, el)


def _pop(self: list, idx: int) -> Any:
    return self.pop(idx)


def _remove(self: list, el: Any) -> None:
    i = _position(self, el)
    if i < 0:
        raise ValueError("list.remove(x): x not in list")
    del self[i]


def _index(self: list, el: Any) -> int:
    i = _position(self, el)
    if i < 0:
        raise ValueError(f"{el!r} is not in list")
    return i


def _count(self: list, el: Any) -> int:
    if isinstance(el, _PLAIN):
        return self.count(el)
    return sum(1 for item in self if values_equal(item, el))


def _clear(self: list) -> None:
    self.clear()


def _reverse(self: list) -> None:
    self.reverse()


def _sort(self: list, reverse: bool) -> None:
    self.sort(reverse=reverse)


def _copy(self: list) -> list:
    return list(self)


_MUTATES = {"tags": {MUTATES}, "method": True}
register("append.t(t[] self, t el) -> t[]", _append, **_MUTATES)
register("extend.t(t[] self, t[] other) -> ()", _extend, **_MUTATES)
register("insert.t(t[] self, int idx, t el) -> ()", _insert, **_MUTATES)
register("pop.t(t[] self, int idx=-1) -> t", _pop, **_MUTATES)
register("remove.t(t[] self, t el) -> ()", _remove, **_MUTATES)
register("clear.t(t[] self) -> ()", _clear, **_MUTATES)
register("reverse.t(t[] self) -> ()", _reverse, **_MUTATES)
register("sort.t(t[] self, bool reverse=False) -> ()", _sort, **_MUTATES)
register("index.t(t[] self, t el) -> int", _index, method=True)
register("count.t(t[] self, t el) -> int", _count, method=True)
register("copy.t(t[] self) -> t[]", _copy, method=True)


# ------------------------------------------------------------------ list builtins

def _len_tensor(t) -> int:
    arr = t.numpy() if is_tensor(t) else np.asarray(t)
    if arr.ndim == 0:
        raise TypeError("len() of a 0-d tensor")
    return arr.shape[0]


def _sorted(input: list, reverse: bool) -> list:
    return sorted(input, reverse=reverse)


def _sum_ints(self: list) -> int:
    return sum(self)


def _sum_floats(self: list) -> float:
    return float(sum(self))


def _print(*values: Any) -> None:
    # sys.stdout is looked up per call so that redirecting it (tests, notebooks) is honoured
    print(" ".join(format_value(v) for v in values), file=sys.stdout)


def _is(a: Any, b: Any) -> bool:
    """``a is b``: the same object; numbers and bools are the same when they are equal."""
    if isinstance(a, (bool, int, float)) and isinstance(b, (bool, int, float)):
        return type(a) is type(b) and a == b
    return a is b


def _is_not(a: Any, b: Any) -> bool:
    return not _is(a, b)


register("__is__.Any(Any self, Any obj) -> bool", _is)
register("__isnot__.Any(Any self, Any obj) -> bool", _is_not)
register("len.t(t[] a) -> int", len, namespaces=_BUILTIN)
register("len.Dict(Dict(k, v) self) -> int", len, namespaces=_BUILTIN)
register("len.Tensor(Tensor t) -> int", _len_tensor, tags={SHAPE_QUERY}, namespaces=_BUILTIN)
register("list.t(t[] l) -> t[]", _copy, namespaces=_BUILTIN)
register("sorted.t(t[] input, *, bool reverse=False) -> t[]", _sorted, namespaces=_BUILTIN)
register("sum.int(int[] self) -> int", _sum_ints, namespaces=_BUILTIN)
register("sum.float(float[] self) -> float", _sum_floats, namespaces=_BUILTIN)
register("sum.bool(bool[] self) -> int", _sum_ints, namespaces=_BUILTIN)
for _t in ("bool", "int", "float", "str"):
    register(f"any.{_t}({_t}[] self) -> bool", any, namespaces=_BUILTIN)
    register(f"all.{_t}({_t}[] self) -> bool", all, namespaces=_BUILTIN)
register("print(...) -> ()", _print, tags={SIDE_EFFECT}, namespaces=_BUILTIN)


# ------------------------------------------------------------------ dicts

def _dict_getitem(self: dict, key: Any) -> Any:
    return self[key]


def _dict_setitem(self: dict, key: Any, value: Any) -> None:
    self[key] = value


def _dict_delitem(self: dict, key: Any) -> None:
    del self[key]


def _dict_contains(dict: dict, key: Any) -> bool:
    return key in dict


def _dict_eq(a: dict, b: dict) -> bool:
    return values_equal(a, b)


def _dict_ne(a: dict, b: dict) -> bool:
    return not values_equal(a, b)


def _keys(self: dict) -> list:
    return list(self.keys())


def _values(self: dict) -> list:
    return list(self.values())


def _items(self: dict) -> list:
    return list(self.items())


def _get(self: dict, key: Any) -> Any:
    return self.get(key)


def _get_default(self: dict, key: Any, default_value: Any) -> Any:
    return self.get(key, default_value)


def _dict_pop(self: dict, key: Any) -> Any:
    return self.pop(key)


def _dict_pop_default(self: dict, key: Any, default_value: Any) -> Any:
    return self.pop(key, default_value)


def _setdefault(self: dict, key: Any, default_value: Any) -> Any:
    return self.setdefault(key, default_value)


def _update(self: dict, to_add: dict) -> None:
    self.update(to_add)


def _dict_clear(self: dict) -> None:
    self.clear()


def _dict_copy(self: dict) -> dict:
    return dict(self)


def _popitem(self: dict) -> tuple:
    if not self:
        raise KeyError("popitem(): dictionary is empty")
    key = next(iter(self))
    return key, self.pop(key)


_DICT = "Dict(k, v) self"
register(f"__getitem__.Dict({_DICT}, k key) -> v", _dict_getitem)
register(f"__setitem__.Dict({_DICT}, k key, v value) -> ()", _dict_setitem, tags={MUTATES})
register(f"__delitem__.Dict({_DICT}, k key) -> ()", _dict_delitem, tags={MUTATES})
register("__contains__.Dict(Dict(k, v) dict, k key) -> bool", _dict_contains)
register("eq.Dict(Dict(k, v) a, Dict(k, v) b) -> bool", _dict_eq)
register("ne.Dict(Dict(k, v) a, Dict(k, v) b) -> bool", _dict_ne)
register(f"__not__.Dict({_DICT}) -> bool", _is_empty)
register(f"bool.Dict({_DICT}) -> bool", _is_nonempty, namespaces=_BUILTIN)
register(f"keys.Dict({_DICT}) -> k[]", _keys, method=True)
register(f"values.Dict({_DICT}) -> v[]", _values, method=True)
register(f"items.Dict({_DICT}) -> ((k, v)[])", _items, method=True)
register(f"get.Dict({_DICT}, k key) -> v?", _get, method=True)
register(f"get.Dict_default({_DICT}, k key, v default_value) -> v", _get_default, method=True)
register(f"pop.Dict({_DICT}, k key) -> v", _dict_pop, **_MUTATES)
register(f"pop.Dict_default({_DICT}, k key, v default_value) -> v", _dict_pop_default,
         **_MUTATES)
register(f"setdefault.Dict({_DICT}, k key, v default_value) -> v", _setdefault, **_MUTATES)
register(f"update.Dict({_DICT}, Dict(k, v) to_add) -> ()", _update, **_MUTATES)
register(f"clear.Dict({_DICT}) -> ()", _dict_clear, **_MUTATES)
register(f"popitem.Dict({_DICT}) -> ((k, v))", _popitem, **_MUTATES)
register(f"copy.Dict({_DICT}) -> Dict(k, v)", _dict_copy, method=True)
