"""The AST of TensorScript: plain dataclasses, every node with the span it came from.

Names follow Python's ``ast`` module where the construct is the same. The type checker fills
``Expr.type`` on every expression and ``Call.target`` / ``Call.bound`` on every call, so nothing
after it resolves a name or an overload again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .source import Span


@dataclass(eq=False)
class Node:
    span: Span = field(repr=False, kw_only=True)


# ---------------------------------------------------------------- expressions

@dataclass(eq=False)
class Expr(Node):
    # Filled by the type checker: the static type (a tensorscript.jit.ir.types.Type), and for
    # operators, attributes, names of constants and subscripts what they resolved to (one of
    # the targets in tensorscript.typecheck.targets). ``swapped`` says a binary operator
    # resolved to its reflected op, so its operands are passed right-first.
    type: Any = field(default=None, repr=False, kw_only=True)
    target: Any = field(default=None, repr=False, kw_only=True)
    swapped: bool = field(default=False, repr=False, kw_only=True)


@dataclass(eq=False)
class Name(Expr):
    id: str


@dataclass(eq=False)
class Constant(Expr):
    """int, float, bool, str, None or Ellipsis (``value is Ellipsis``)."""

    value: Any


@dataclass(eq=False)
class FormattedValue(Node):
    value: Expr
    conversion: Optional[str] = None  # "r", "s" or None
    format_spec: Optional[str] = None


@dataclass(eq=False)
class JoinedStr(Expr):
    """An f-string: literal str pieces and FormattedValue fields."""

    values: list


@dataclass(eq=False)
class BinOp(Expr):
    left: Expr
    op: str  # + - * / // % ** @ << >> & | ^
    right: Expr


@dataclass(eq=False)
class UnaryOp(Expr):
    op: str  # - + ~ not
    operand: Expr


@dataclass(eq=False)
class BoolOp(Expr):
    op: str  # and | or
    values: list[Expr]


@dataclass(eq=False)
class Compare(Expr):
    left: Expr
    ops: list[str]  # < <= == != > >= in "not in" is "is not"
    comparators: list[Expr]
    # Filled by the type checker: one (target, swapped) pair per operator.
    targets: Optional[list] = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@dataclass(eq=False)
class Keyword(Node):
    name: str
    value: Expr


@dataclass(eq=False)
class Call(Expr):
    func: Expr
    args: list[Expr]
    keywords: list[Keyword] = field(default_factory=list)
    # Filled by the type checker: the arguments in the callee's parameter order, defaults
    # made explicit (``target`` says what the callee is).
    bound: Optional[list[Expr]] = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class Attribute(Expr):
    value: Expr
    attr: str


@dataclass(eq=False)
class Slice(Expr):
    lower: Optional[Expr] = None
    upper: Optional[Expr] = None
    step: Optional[Expr] = None


@dataclass(eq=False)
class Subscript(Expr):
    value: Expr
    index: Expr  # a Tuple when there are several indices


@dataclass(eq=False)
class List(Expr):
    elts: list[Expr]


@dataclass(eq=False)
class Tuple(Expr):
    elts: list[Expr]


@dataclass(eq=False)
class Dict(Expr):
    keys: list[Expr]
    values: list[Expr]


@dataclass(eq=False)
class Comprehension(Node):
    target: Expr
    iter: Expr
    ifs: list[Expr] = field(default_factory=list)


@dataclass(eq=False)
class ListComp(Expr):
    elt: Expr
    generators: list[Comprehension]


@dataclass(eq=False)
class DictComp(Expr):
    key: Expr
    value: Expr
    generators: list[Comprehension]


@dataclass(eq=False)
class Starred(Expr):
    value: Expr


# ---------------------------------------------------------------- statements

@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Param(Node):
    name: str
    annotation: Optional[Expr] = None
    default: Optional[Expr] = None
    type: Any = field(default=None, repr=False, kw_only=True)
    # Declared after a bare ``*``: passed by keyword only.
    kw_only: bool = field(default=False, kw_only=True)


@dataclass(eq=False)
class FunctionDef(Stmt):
    name: str
    params: list[Param]
    returns: Optional[Expr]
    body: list[Stmt]
    decorators: list[Expr] = field(default_factory=list)
    # Filled by the type checker: the FunctionType (parameter and return types).
    type: Any = field(default=None, repr=False, kw_only=True)
    # TorchScript's signature comment, the text after "# type:" on the line below the
    # header, e.g. "(int, List[float]) -> Tensor"; None when there is none.
    type_comment: Optional[str] = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class ClassDef(Stmt):
    name: str
    bases: list[Expr]
    body: list[Stmt]
    decorators: list[Expr] = field(default_factory=list)
    type: Any = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class Alias(Node):
    name: str  # dotted module name, or the imported name for ImportFrom
    asname: Optional[str] = None


@dataclass(eq=False)
class Import(Stmt):
    names: list[Alias]


@dataclass(eq=False)
class ImportFrom(Stmt):
    module: str
    names: list[Alias]


@dataclass(eq=False)
class Assign(Stmt):
    targets: list[Expr]  # a = b = value has two targets
    value: Expr
    # TorchScript's "x = []  # type: List[int]": the text after "# type:", or None.
    type_comment: Optional[str] = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class AnnAssign(Stmt):
    target: Expr
    annotation: Expr
    value: Optional[Expr] = None


@dataclass(eq=False)
class AugAssign(Stmt):
    target: Expr
    op: str  # the binary operator: + - * / ...
    value: Expr
    # Filled by the type checker: the op the update resolved to (the in-place form for
    # tensors, as in Python: ``x += y`` on a Tensor is ``x.add_(y)``), and whether swapped.
    op_target: Any = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class If(Stmt):
    test: Expr
    body: list[Stmt]
    orelse: list[Stmt] = field(default_factory=list)  # elif is a nested If


@dataclass(eq=False)
class While(Stmt):
    test: Expr
    body: list[Stmt]
    orelse: list[Stmt] = field(default_factory=list)


@dataclass(eq=False)
class For(Stmt):
    target: Expr
    iter: Expr
    body: list[Stmt]
    orelse: list[Stmt] = field(default_factory=list)
    # Filled by the type checker for a loop over a tuple whose elements have different types:
    # one (target, body) pair per element, each typed for its element; lowering unrolls them
    # in order instead of lowering ``target`` / ``body``.
    unrolled: Optional[list] = field(default=None, repr=False, kw_only=True)


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Pass(Stmt):
    pass


@dataclass(eq=False)
class Return(Stmt):
    value: Optional[Expr] = None


@dataclass(eq=False)
class Assert(Stmt):
    test: Expr
    msg: Optional[Expr] = None


@dataclass(eq=False)
class Raise(Stmt):
    exc: Optional[Expr] = None


@dataclass(eq=False)
class Delete(Stmt):
    targets: list[Expr]


@dataclass(eq=False)
class WithItem(Node):
    context_expr: Expr
    optional_vars: Optional[Expr] = None


@dataclass(eq=False)
class With(Stmt):
    items: list[WithItem]
    body: list[Stmt]


@dataclass(eq=False)
class ExprStmt(Stmt):
    value: Expr


@dataclass(eq=False)
class Module(Node):
    body: list[Stmt]
    source: Any = field(default=None, repr=False, kw_only=True)  # the SourceFile


def iter_child_nodes(node: Node):
    """Yield the direct child nodes of ``node`` (fields that are nodes or lists of nodes)."""
    for name in node.__dataclass_fields__:
        if name in ("span", "type", "bound", "source", "swapped", "op_target", "type_comment"):
            continue
        # On expressions these hold what the checker resolved; on statements and
        # comprehensions they are the assigned-to expressions.
        if name in ("target", "targets") and isinstance(node, Expr):
            continue
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(node: Node):
    """Yield ``node`` and every node below it, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(iter_child_nodes(current))))
