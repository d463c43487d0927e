"""Tensor indexing: ``x[i, 1:3, None, ..., idx]`` and ``x[key] = v`` as registry ops.

As in PyTorch, integers are ``select``, slices ``slice`` (a full ``:`` is skipped), ``None`` is
``unsqueeze`` (all views), and integer or boolean tensors and lists of ints are advanced indices
gathered into one ``index`` (which copies). Indices before an ``...`` address dims from the
front, those after it from the back (negative dims), so the rank need not be known. Assignment
writes through the view: ``copy_`` for a tensor, ``fill_`` for a scalar, ``index_put_`` when there
are advanced indices.
"""
from __future__ import annotations

from ..parser import ast as A
from ..parser.source import CompileError
from .ir import graph as G
from .ir import types as T
from .ops import registry as R


def _items(e: A.Subscript) -> list:
    return list(e.index.elts) if isinstance(e.index, A.Tuple) else [e.index]


def _is_ellipsis(item) -> bool:
    return isinstance(item, A.Constant) and item.value is Ellipsis


def _is_none(item) -> bool:
    return isinstance(item, A.Constant) and item.value is None


def _evaluate(lw, items: list, span) -> list:
    """Each index item as ``(kind, payload)``, sub-expressions evaluated left to right."""
    out = []
    for it in items:
        if _is_ellipsis(it):
            out.append(("ellipsis", None))
        elif _is_none(it):
            out.append(("none", None))
        elif isinstance(it, A.Slice):
            if it.lower is None and it.upper is None and it.step is None:
                out.append(("full", None))
                continue
            lo = lw.expr(it.lower) if it.lower is not None else lw.const(None, span=span)
            hi = lw.expr(it.upper) if it.upper is not None else lw.const(None, span=span)
            step = lw.expr(it.step) if it.step is not None else lw.const(1, span=span)
            out.append(("slice", (lo, hi, step)))
        elif isinstance(it, A.Constant) and isinstance(it.value, bool):
            out.append(("bool", it.value))
        else:
            v = lw.expr(it)
            t = v.type
            if t == T.IntType:
                out.append(("int", v))
            elif t == T.TensorType:
                out.append(("tensor", v))
            elif isinstance(t, T.ListType) or isinstance(t, T.TupleType):
                out.append(("tensor", lw.call_op("tensor", [v], it.span, out_type=T.TensorType)))
            elif t == T.BoolType:
                raise CompileError.at(it.span, "a bool index must be a literal True or False")
            else:
                raise CompileError.at(it.span, f"a tensor cannot be indexed with a value of type {t}")
    if sum(1 for kind, _ in out if kind == "ellipsis") > 1:
        raise CompileError.at(span, "an index can only have a single ellipsis ('...')")
    return out


def apply_basic(lw, base, e: A.Subscript):
    """The view selected by the basic parts of the index, and the advanced ones by dim."""
    span = e.span
    items = _evaluate(lw, _items(e), span)
    cut = next((k for k, (kind, _) in enumerate(items) if kind == "ellipsis"), None)
    head = items if cut is None else items[:cut]
    tail = [] if cut is None else items[cut + 1:]
    result = base
    advanced: dict = {}

    def c(value):
        return lw.const(value, span=span)

    dim = 0
    for kind, payload in head:
        if kind == "none":
            result = lw.call_op("unsqueeze", [result, c(dim)], span)
            dim += 1
        elif kind == "bool":
            result = lw.call_op("unsqueeze", [result, c(dim)], span)
            if not payload:
                result = lw.call_op("slice", [result, c(dim), c(0), c(0), c(1)], span)
            dim += 1
        elif kind == "int":
            result = lw.call_op("select", [result, c(dim), payload], span)
        elif kind == "slice":
            lo, hi, step = payload
            result = lw.call_op("slice", [result, c(dim), lo, hi, step], span)
            dim += 1
        elif kind == "full":
            dim += 1
        elif kind == "tensor":
            advanced[dim] = payload
            dim += 1
    dim = -1
    for kind, payload in reversed(tail):
        if kind in ("none", "bool"):
            result = lw.call_op("unsqueeze", [result, c(dim)], span)
            if kind == "bool" and not payload:
                result = lw.call_op("slice", [result, c(dim), c(0), c(0), c(1)], span)
            dim -= 1
        elif kind == "int":
            result = lw.call_op("select", [result, c(dim), payload], span)
        elif kind == "slice":
            lo, hi, step = payload
            result = lw.call_op("slice", [result, c(dim), lo, hi, step], span)
            dim -= 1
        elif kind == "full":
            dim -= 1
        elif kind == "tensor":
            raise CompileError.at(span, "a tensor index after `...` is not supported")
    return result, advanced


def _index_list(lw, advanced: dict, span):
    entries = []
    for d in range(max(advanced) + 1):
        v = advanced.get(d)
        entries.append(v if v is not None else lw.const(None, span=span))
    t = T.ListType(T.OptionalType(T.TensorType))
    return lw.emit(G.LIST_CONSTRUCT, entries, [t], None, span).output


def lower_tensor_index(lw, base, e: A.Subscript):
    result, advanced = apply_basic(lw, base, e)
    if advanced:
        return lw.call_op("index", [result, _index_list(lw, advanced, e.span)], e.span)
    if result is base:
        return lw.call_op("alias", [base], e.span)
    return result


def _as_tensor(lw, value, span):
    if value.type == T.TensorType:
        return value
    empty = lw.emit(G.LIST_CONSTRUCT, [], [T.ListType(T.IntType)], None, span).output
    return lw.call_op("full", [empty, value], span)


def _write(lw, view, advanced: dict, value, span) -> None:
    if advanced:
        indices = _index_list(lw, advanced, span)
        lw.call_op("index_put_", [view, indices, _as_tensor(lw, value, span)], span)
    elif value.type == T.TensorType:
        lw.call_op("copy_", [view, value], span)
    else:
        lw.call_op("fill_", [view, value], span)


def assign_tensor_index(lw, base, target: A.Subscript, value, span) -> None:
    view, advanced = apply_basic(lw, base, target)
    _write(lw, view, advanced, value, span)


def augassign_tensor_index(lw, base, target: A.Subscript, op: R.OpDef, stmt, swapped: bool) -> None:
    """``x[key] op= v``: in place on the view for basic keys, else gather, update, put back."""
    span = stmt.span
    view, advanced = apply_basic(lw, base, target)
    if not advanced:
        current = view
    else:
        current = lw.call_op("index", [view, _index_list(lw, advanced, span)], span)
    rhs = lw.expr(stmt.value)
    new = lw.op_node(op, [rhs, current] if swapped else [current, rhs], span, T.TensorType)
    if advanced or not op.has(R.INPLACE):
        _write(lw, view, advanced, new, span)
