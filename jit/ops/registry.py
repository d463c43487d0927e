"""The op registry: the one place every operator is defined.

An entry (``OpDef``) holds one overload: its schema, its CPU kernel (which is also the NumPy
reference the tests and the constant folder use), its dtype/shape rule, its gradient rule,
its tags, and where the language exposes it. The type checker resolves calls against the
schemas, the interpreter runs the kernels, autograd reads the gradient rules, the fuser reads
the tags and scalar expressions, and the tracer and printer read the names; none of them keeps
a list of ops of its own.

Every application of an op goes through :func:`bind`, which hands it to the innermost active
handler (evaluate, trace, differentiate). The runtime installs its handler when it is
imported, so this module never imports the runtime.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Optional

from .schema import NO_DEFAULT, Schema, SType, parse_schema

# Tags with a meaning every reader shares.
POINTWISE = "pointwise"  # elementwise with broadcasting; fusible through ``scalar_expr``
REDUCTION = "reduction"  # reduces over ``dim``; a fusion group may end in one
VIEW = "view"  # the result shares storage with the first argument
INPLACE = "inplace"  # writes into its first argument and returns it
MUTATES = "mutates"  # changes a container argument (list.append, dict setitem)
RANDOM = "random"  # reads the generator: never folded, never merged by CSE
SIDE_EFFECT = "side_effect"  # print, raise: never removed, never reordered
NONDIFFERENTIABLE = "nondifferentiable"  # outputs never require grad (comparisons, argmax)
SHAPE_QUERY = "shape_query"  # the result depends only on the tensor's shape (size, dim, numel)


class Namespace:
    """Where a function is reachable from script source and from the eager API."""

    TORCH = "torch"
    FUNCTIONAL = "torch.nn.functional"
    LINALG = "torch.linalg"
    MATH = "math"
    BUILTINS = "builtins"  # len, print, range, str, int, ...
    OPERATOR = "operator"  # reachable only through an operator (+, [], in, ...)


# The name and overload at the head of a schema, read without parsing the rest.
_SCHEMA_HEAD = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)(?:\.([A-Za-z_][A-Za-z_0-9]*))?\s*\(")


@dataclass(eq=False)
class OpDef:
    # The parsed schema, or its text until ``schema`` is first read: parsing the ~1,100
    # schemas would cost every ``import tensorscript`` a tenth of a second, most of them for
    # ops a program never names.
    signature: Schema | str
    impl: Callable  # CPU kernel on NumPy arrays and Python values, arguments in schema order
    grad: Optional[Callable] = None  # grad(ctx, *grad_outputs) -> one gradient per argument
    meta: Optional[Callable] = None  # dtype/shape rule: (*arg metas) -> output meta(s)
    tags: frozenset = frozenset()
    scalar_expr: Optional[str] = None  # pointwise ops: the body the fuser composes
    method: bool = False  # callable as ``self.<name>(...)`` on its first argument
    namespaces: tuple = ()  # where it is callable as a function
    cuda_kernel: Optional[str] = None
    doc: str = ""
    extra: dict = field(default_factory=dict)  # anything an op needs that no reader shares

    @cached_property
    def schema(self) -> Schema:
        if isinstance(self.signature, str):
            self.signature = parse_schema(self.signature)
        return self.signature

    @cached_property
    def name(self) -> str:
        return self._head()[0]

    @cached_property
    def qualified_name(self) -> str:
        name, overload = self._head()
        return f"{name}.{overload}" if overload else name

    def _head(self) -> tuple[str, str]:
        if isinstance(self.signature, Schema):
            return self.signature.name, self.signature.overload
        head = _SCHEMA_HEAD.match(self.signature)
        if head is None:
            return self.schema.name, self.schema.overload  # raises the parser's error
        return head.group(1), head.group(2) or ""

    @property
    def schema_text(self) -> str:
        """The schema as registered, read without parsing it."""
        return self.signature if isinstance(self.signature, str) else self.signature.text

    def has(self, tag: str) -> bool:
        return tag in self.tags

    def __repr__(self) -> str:
        return f"<op {self.schema_text}>"


_OPS: dict[str, OpDef] = {}  # qualified name -> entry
_OVERLOADS: dict[str, list[OpDef]] = {}  # base name -> overloads in registration order


def register(schema: str, impl: Callable, *, grad: Optional[Callable] = None,
             meta: Optional[Callable] = None, tags: Iterable[str] = (),
             scalar_expr: Optional[str] = None, method: bool = False,
             namespaces: Iterable[str] = (), cuda_kernel: Optional[str] = None,
             doc: str = "", **extra) -> OpDef:
    op = OpDef(schema, impl, grad, meta, frozenset(tags), scalar_expr, method,
               tuple(namespaces), cuda_kernel, doc, extra)
    if op.qualified_name in _OPS:
        raise ValueError(f"op {op.qualified_name} is registered twice")
    _OPS[op.qualified_name] = op
    _OVERLOADS.setdefault(op.name, []).append(op)
    return op


def get(qualified_name: str) -> OpDef:
    """The entry for ``add.Tensor`` (or ``add`` when it has no overload name)."""
    return _OPS[qualified_name]


def overloads(name: str) -> list[OpDef]:
    """Every overload of a base name, in registration order (the order resolution tries)."""
    return _OVERLOADS.get(name, [])


def all_ops() -> list[OpDef]:
    return list(_OPS.values())


def functions_in(namespace: str, name: str) -> list[OpDef]:
    return [op for op in overloads(name) if namespace in op.namespaces]


def methods(name: str) -> list[OpDef]:
    return [op for op in overloads(name) if op.method]


# Python operators and the ops they mean. The second name is tried with the operands
# swapped when the first has no overload for the operand types (``2 * x``, ``1.0 - x``).
BINARY_OPERATORS = {
    "+": ("add", "add"), "-": ("sub", "rsub"), "*": ("mul", "mul"), "/": ("div", "rdiv"),
    "//": ("floor_divide", "rfloor_divide"), "%": ("remainder", "rremainder"),
    "**": ("pow", "rpow"), "@": ("matmul", None),
    "&": ("bitwise_and", "bitwise_and"), "|": ("bitwise_or", "bitwise_or"),
    "^": ("bitwise_xor", "bitwise_xor"), "<<": ("bitwise_left_shift", None),
    ">>": ("bitwise_right_shift", None),
}
COMPARISON_OPERATORS = {
    "==": ("eq", "eq"), "!=": ("ne", "ne"), "<": ("lt", "gt"), "<=": ("le", "ge"),
    ">": ("gt", "lt"), ">=": ("ge", "le"),
}
UNARY_OPERATORS = {"-": "neg", "+": "pos", "~": "bitwise_not", "not": "__not__"}
# ``a in b`` is ``__contains__(b, a)``; ``a[i]`` is ``__getitem__``, ``a[i] = v`` ``__setitem__``.
CONTAINS, GETITEM, SETITEM, DELITEM = "__contains__", "__getitem__", "__setitem__", "__delitem__"


# ------------------------------------------------------------------ bind and handlers

class Handler:
    """Receives op applications. ``process`` gets the entry and the arguments in schema order."""

    def process(self, op: OpDef, args: tuple) -> Any:
        raise NotImplementedError


class EvalHandler(Handler):
    """Runs the kernel on raw values: the bottom of the stack (and the constant folder)."""

    def process(self, op: OpDef, args: tuple) -> Any:
        return op.impl(*args)


_handlers: list[Handler] = [EvalHandler()]


def bind(op: OpDef, *args: Any) -> Any:
    """Apply ``op`` to ``args`` (schema order, defaults filled) through the innermost handler."""
    return _handlers[-1].process(op, args)


def push_handler(handler: Handler) -> None:
    _handlers.append(handler)


def pop_handler(handler: Handler) -> None:
    if _handlers[-1] is not handler:
        raise RuntimeError("handlers popped out of order")
    _handlers.pop()


def install_base_handler(handler: Handler) -> None:
    """The runtime replaces the bottom handler so raw calls produce its Tensors."""
    _handlers[0] = handler


def current_handler() -> Handler:
    return _handlers[-1]


class handler_scope:
    """``with handler_scope(h): ...`` makes ``h`` the innermost handler inside the block."""

    def __init__(self, handler: Handler):
        self.handler = handler

    def __enter__(self) -> Handler:
        push_handler(self.handler)
        return self.handler

    def __exit__(self, *exc) -> None:
        pop_handler(self.handler)


__all__ = [
    "OpDef", "Schema", "SType", "NO_DEFAULT", "register", "get", "overloads", "all_ops",
    "functions_in", "methods", "bind", "Handler", "EvalHandler", "push_handler", "pop_handler",
    "install_base_handler", "current_handler", "handler_scope", "Namespace",
    "BINARY_OPERATORS", "COMPARISON_OPERATORS", "UNARY_OPERATORS",
    "POINTWISE", "REDUCTION", "VIEW", "INPLACE", "MUTATES", "RANDOM", "SIDE_EFFECT",
    "NONDIFFERENTIABLE", "SHAPE_QUERY",
]
