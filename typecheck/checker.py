"""The static type checker: AST to typed AST (see docs/internals.md and targets.py).

``check_module`` resolves every name, infers and checks every type, resolves every call and
operator against the registry's schemas and the unit's functions, and records what each
resolved to, so lowering resolves nothing again. Errors are collected per statement and per
function; the first is raised as a ``CompileError`` carrying all of them (``errors``, in
source order, each with its stable code from messages.py).

The typed AST, beyond ``Expr.type`` on every expression and ``target`` (targets.py):

- ``Call.bound``: the arguments in the callee's parameter order, defaults filled in as
  ``Constant`` / ``List`` nodes, an implicit conversion wrapped in a call of the builtin that
  does it (``float.int`` for an int where a float is expected; ``float.Tensor`` /
  ``int.Tensor`` for a tensor where a float / int is; ``float.Scalar`` / ``int.Scalar``), trailing
  ints for an ``int[]`` parameter packed into one ``List`` node (an ``int[N]`` parameter given
  one int gets that int: lowering repeats it), ``...`` arguments appended; for a method call
  ``bound[0]`` is the receiver. Lowering reads ``bound``, never ``args`` / ``keywords``.
  ``Call.func`` is typed ``Any`` (it is no value); module prefixes too.
- Operators: ``BinOp`` / ``UnaryOp`` / ``AugAssign.op_target`` / each ``Compare.targets``
  pair hold the op; ``swapped`` means the reflected op was chosen (pass the right operand
  first); ``a in b`` is ``(__contains__, True)``. Operand fields hold the operands as written,
  an implicit conversion wrapped around one in place. A non-bool condition (``if``, ``while``,
  ``assert``, ``and`` / ``or`` operands, ``not``, conditional expressions, comprehension
  filters) is replaced by a call of the ``bool`` op (``bool.Tensor`` for ``if x.sum() > 0``).
- Refinements are explicit: at the start of a branch, a loop body, after an ``assert`` or a
  ``while`` loop, the checker inserts ``x = x`` (an ``Assign`` whose value ``Name`` has
  ``target=SpecialTarget("refined", <type before>)`` and the narrowed type); inside expressions
  (``and``/``or`` operands, conditional expressions, comprehension filters) the narrowed
  ``Name`` loads carry that target. Lowering inserts an unchecked cast for such a Name.
- Variables: a store ``Name`` has the type of the value bound (the declared type for an
  annotated assignment); after an ``if`` a variable has
  ``types.unify`` of its branch types; a loop-carried variable keeps the type it had before the
  loop (assignments inside must be subtypes); a variable first defined inside a loop is not
  visible after it. A branch ruled out statically (``isinstance``, ``is None`` on a
  non-Optional, ``torch.jit.is_scripting()``) is left unchecked: lowering skips it.
- Loops: ``For.iter`` is a ``range`` / ``enumerate`` / ``zip`` call marked with a
  ``SpecialTarget`` (``bound`` complete) or a value: List, Dict (keys), Tensor (rows),
  str (characters), tuple (unrolled; ``For.unrolled`` holds one typed (target, body) per
  element when the element types differ). Comprehensions use the same ``iter`` marking; their
  variables live in their own scope.
- ``with torch.no_grad():`` is a ``Call`` with ``SpecialTarget("no_grad")``; ``raise
  ValueError(msg)`` a ``Call`` (or ``Name``) with ``SpecialTarget("exception", "ValueError")``.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from ..jit.ir import types as T
from ..jit.ops import registry
from ..parser import ast
from ..parser.source import CompileError, Span
from . import builtins as B
from . import messages as M
from . import refine as R
from .annotations import AnnotationResolver, dotted_name, make_union
from .resolve import (
    conversion_call,
    conversion_op,
    list_from_tuple,
    UNKNOWN,
    Arg,
    Match,
    constant_node,
    constant_type,
    contains_unknown,
    function_signature,
    op_signature,
)
from .resolve import resolve as resolve_call
from .scope import Frame, Var
from .targets import (
    ConstantTarget,
    ConstructTarget,
    FieldTarget,
    FunctionTarget,
    MethodTarget,
    SpecialTarget,
)

MAX_DEPTH = 200  # nesting of expressions and blocks; deeper programs are rejected


@dataclass
class CheckedModule:
    """A checked unit. ``functions``: top-level function name -> its typed FunctionDef
    (``.type`` a FunctionType; methods stay in their ClassDef's body, typed, qualified
    ``Class.method``). ``classes``: name -> ClassDef (``.type`` a ClassType with attributes and
    method types, or a NamedTuple's TupleType). ``constants``: module-level names assigned
    once to an int, float, bool, str or None literal (their uses carry ConstantTarget; their
    assignments are not in ``main``). ``main``: a synthetic FunctionDef ``<module>`` (no
    parameters, returns None) holding the other top-level statements in order, or None."""

    functions: dict
    classes: dict
    constants: dict
    main: Optional[ast.FunctionDef]
    module: Optional[ast.Module] = None


class _Abort(Exception):
    """Stops checking one statement after its error was recorded."""


@dataclass
class FunctionInfo:
    node: ast.FunctionDef
    qualified_name: str
    cls: Any = None  # ClassInfo for methods
    state: str = "new"  # new | checking | done
    type: Optional[T.FunctionType] = None
    defaults: dict = field(default_factory=dict)
    param_types: list = field(default_factory=list)
    declared_return: Optional[T.Type] = None


@dataclass
class ClassInfo:
    node: ast.ClassDef
    type: Any  # ClassType or TupleType (NamedTuple)
    methods: dict = field(default_factory=dict)  # name -> FunctionInfo
    namedtuple: bool = False
    defaults: dict = field(default_factory=dict)


def check_module(module: ast.Module, *, globals: Optional[dict] = None) -> CheckedModule:
    """Type-check a parsed module; raise CompileError with every independent error found."""
    # Callees whose return type is inferred are checked before their callers, recursively:
    # allow long call chains (expressions and blocks stay bounded by MAX_DEPTH).
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        return ModuleChecker(module, globals).run()
    finally:
        sys.setrecursionlimit(limit)


def _err(span: Optional[Span], message: M.Message, **kw) -> CompileError:
    return CompileError.at(span, message.format(**kw), message.code)


def _synthetic_def(name: str, body: list, span: Span) -> ast.FunctionDef:
    return ast.FunctionDef(name, [], None, body, [], span=span)


class ModuleChecker:
    def __init__(self, module: ast.Module, py_globals: Optional[dict]):
        self.module = module
        self.py_globals = dict(py_globals or {})
        self.errors: list[CompileError] = []
        self.aliases = dict(B.DEFAULT_ALIASES)
        self.functions: dict[str, FunctionInfo] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.constants: dict[str, Any] = {}
        self.toplevel_names: set[str] = set()
        self.stack: list[FunctionInfo] = []
        self.calls: list = []  # (caller, callee, span) of every call of a unit function
        self.annotations = AnnotationResolver(self.canonical, self._user_type)
        self._seen: set = set()
        for name, value in list(self.py_globals.items()):
            module = _module_alias(value)
            if module is not None:
                self.aliases[name] = module
                del self.py_globals[name]

    # ---------------------------------------------------------------- errors

    def report(self, error: CompileError) -> None:
        key = (error.message, error.lineno, error.col)
        if key not in self._seen:
            self._seen.add(key)
            self.errors.append(error)

    # ---------------------------------------------------------------- names

    def canonical(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        base = self.aliases.get(head)
        if base is None:
            return dotted
        return f"{base}.{rest}" if rest else base

    def is_alias(self, name: str) -> bool:
        return name in self.aliases

    def _user_type(self, name: str) -> Optional[T.Type]:
        info = self.classes.get(name)
        return info.type if info is not None else None

    def resolve_annotation(self, expr: ast.Expr) -> T.Type:
        """The Type a type expression spells; its nodes are typed ``Any`` (they are no values)
        and the root's target is ``SpecialTarget("type", <the Type>)``."""
        result = self.annotations.resolve(expr)
        for node in ast.walk(expr):
            if isinstance(node, ast.Expr):
                node.type = T.AnyType
        expr.target = SpecialTarget("type", result)
        return result

    # ---------------------------------------------------------------- driver

    def run(self) -> CheckedModule:
        body = self.module.body
        main_body: list = []
        try:
            self._collect(body, main_body)
            for info in list(self.classes.values()):
                self._guard(lambda info=info: self._class_signature(info), info.node.span)
            for info in list(self.functions.values()):
                self._guard(lambda info=info: self._signature(info), info.node.span)
            for info in list(self.classes.values()):
                for m in info.methods.values():
                    self._guard(lambda m=m: self._signature(m), m.node.span)
            for info in list(self.classes.values()):
                init = info.methods.get("__init__")
                if init is not None:
                    self.ensure_checked(init, None)
            for info in list(self.functions.values()):
                self.ensure_checked(info, None)
            for info in list(self.classes.values()):
                for m in info.methods.values():
                    self.ensure_checked(m, None)
            main = None
            if main_body:
                main = _synthetic_def("<module>", main_body, self.module.span)
                info = FunctionInfo(main, "<module>")
                info.declared_return = T.NoneType
                info.type = T.FunctionType((), T.NoneType, "<module>")
                FunctionChecker(self, info, toplevel=True).check()
                main.type = info.type
            self.check_calls()
        except RecursionError:
            self.report(_err(self.module.span, M.TOO_DEEP, limit=MAX_DEPTH))
            main = None
        except CompileError as e:
            self.report(e)
            main = None
        except Exception as e:  # a checker bug must still reach the user as a CompileError
            self.report(_err(self.module.span, M.INTERNAL, what=f"{type(e).__name__}: {e}"))
            main = None
        if self.errors:
            self.errors.sort(key=lambda e: (e.lineno, e.col))
            first = self.errors[0]
            raise CompileError(
                first.message,
                first.lineno,
                first.col,
                span=first.span,
                errors=[pair for e in self.errors for pair in e.errors],
                code=first.code,
            )
        return CheckedModule(
            {name: info.node for name, info in self.functions.items()},
            {name: info.node for name, info in self.classes.items()},
            dict(self.constants),
            main,
            self.module,
        )

    def _guard(self, fn, span) -> None:
        try:
            fn()
        except CompileError as e:
            self.report(e)
        except RecursionError:
            self.report(_err(span, M.TOO_DEEP, limit=MAX_DEPTH))

    def _collect(self, body: list, main_body: list) -> None:
        assigned_count: dict[str, int] = {}
        for stmt in body:
            for node in (
                ast.walk(stmt) if not isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) else ()
            ):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        for n in ast.walk(t):
                            if isinstance(n, ast.Name):
                                assigned_count[n.id] = assigned_count.get(n.id, 0) + (
                                    1
                                    if node is stmt
                                    and isinstance(node, (ast.Assign, ast.AnnAssign))
                                    else 2
                                )
                                self.toplevel_names.add(n.id)
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._guard(lambda s=stmt: self._import(s), stmt.span)
            elif isinstance(stmt, ast.FunctionDef):
                if stmt.name in self.functions or stmt.name in self.classes:
                    self.report(_err(stmt.span, M.DUPLICATE_FUNCTION, name=stmt.name))
                    continue
                self.functions[stmt.name] = FunctionInfo(stmt, stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                if stmt.name in self.functions or stmt.name in self.classes:
                    self.report(_err(stmt.span, M.DUPLICATE_FUNCTION, name=stmt.name))
                    continue
                self._declare_class(stmt)
            elif self._is_constant_def(stmt, assigned_count):
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                self.constants[target.id] = self._constant_value(stmt.value)
                self.toplevel_names.discard(target.id)
                target.type = constant_type(self.constants[target.id])
                target.target = ConstantTarget(self.constants[target.id])
                stmt.value.type = target.type
            else:
                main_body.append(stmt)

    def _is_constant_def(self, stmt, counts) -> bool:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target = stmt.target
        else:
            return False
        if not isinstance(target, ast.Name) or counts.get(target.id, 0) != 1:
            return False
        value = self._constant_value(stmt.value)
        return value is not _NOT_CONSTANT and not isinstance(value, (tuple, list))

    def _constant_value(self, expr: ast.Expr):
        if isinstance(expr, ast.Constant) and expr.value is not Ellipsis:
            if isinstance(expr.value, (int, float, bool, str)) or expr.value is None:
                return expr.value
        if isinstance(expr, ast.UnaryOp) and expr.op == "-":
            inner = self._constant_value(expr.operand)
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner
        if isinstance(expr, (ast.Tuple, ast.List)):
            items = [self._constant_value(e) for e in expr.elts]
            if all(i is not _NOT_CONSTANT for i in items):
                return tuple(items) if isinstance(expr, ast.Tuple) else items
        if isinstance(expr, ast.Name) and expr.id in self.constants:
            return self.constants[expr.id]
        if isinstance(expr, ast.Attribute):
            dn = dotted_name(expr)
            if dn is not None:
                canon = self.canonical(dn)
                head, last = B.split_path(canon)
                if head == "math" and last in B.math_constants():
                    return B.math_constants()[last]
        return _NOT_CONSTANT

    def _import(self, stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                module = alias.name
                if module.startswith("tensorscript"):
                    module = "torch" + module[len("tensorscript") :]
                if module not in B.MODULES:
                    raise _err(alias.span, M.UNKNOWN_MODULE, module=alias.name)
                if alias.asname:
                    self.aliases[alias.asname] = module
                else:
                    head = alias.name.split(".")[0]
                    self.aliases[head] = "torch" if head == "tensorscript" else head
            return
        module = stmt.module
        if module.startswith("tensorscript"):
            module = "torch" + module[len("tensorscript") :]
        if module not in B.MODULES:
            raise _err(stmt.span, M.UNKNOWN_MODULE, module=stmt.module)
        for alias in stmt.names:
            full = f"{module}.{alias.name}"
            if (
                module != "torch"
                and full not in B.MODULES
                and alias.name not in B.IMPORTABLE.get(module, set())
            ):
                raise _err(alias.span, M.UNKNOWN_IMPORT, name=alias.name, module=stmt.module)
            self.aliases[alias.asname or alias.name] = full

    # ---------------------------------------------------------------- classes

    def _declare_class(self, node: ast.ClassDef) -> None:
        bases = [self.canonical(dotted_name(b) or "") for b in node.bases]
        if "typing.NamedTuple" in bases:
            info = ClassInfo(node, T.TupleType((), (), node.name), namedtuple=True)
        else:
            is_module = any(b in ("torch.nn.Module",) for b in bases)
            info = ClassInfo(node, T.ClassType(node.name, {}, {}, is_module))
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef):
                    info.methods[stmt.name] = FunctionInfo(
                        stmt, f"{node.name}.{stmt.name}", cls=info
                    )
        self.classes[node.name] = info
        node.type = info.type

    def _class_signature(self, info: ClassInfo) -> None:
        node = info.node
        if info.namedtuple:
            names, types = [], []
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    names.append(stmt.target.id)
                    types.append(self.resolve_annotation(stmt.annotation))
                    if stmt.value is not None:
                        value = self._constant_value(stmt.value)
                        if value is _NOT_CONSTANT:
                            raise _err(stmt.value.span, M.DEFAULT_NOT_CONSTANT, name=stmt.target.id)
                        info.defaults[stmt.target.id] = value
                elif isinstance(stmt, ast.Pass) or (
                    isinstance(stmt, ast.ExprStmt) and isinstance(stmt.value, ast.Constant)
                ):
                    continue
                else:
                    raise _err(stmt.span, M.NAMEDTUPLE_FIELD)
            info.type = T.TupleType(tuple(types), tuple(names), node.name)
            node.type = info.type
            return
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                info.type.attributes[stmt.target.id] = self.resolve_annotation(stmt.annotation)
            elif isinstance(stmt, (ast.FunctionDef, ast.Pass)):
                continue
            elif isinstance(stmt, ast.ExprStmt) and isinstance(stmt.value, ast.Constant):
                continue
            else:
                self.report(_err(stmt.span, M.CLASS_BODY))

    # ---------------------------------------------------------------- functions

    def _signature(self, info: FunctionInfo) -> None:
        node = info.node
        for dec in node.decorators:
            name = dotted_name(dec.func if isinstance(dec, ast.Call) else dec)
            if name is None or (
                self.canonical(name) not in B.DECORATORS
                and name.rpartition(".")[2] not in B.DECORATOR_NAMES
            ):
                raise _err(dec.span, M.DECORATOR)
            for sub in ast.walk(dec):
                if isinstance(sub, ast.Expr):
                    sub.type = T.AnyType
        if node.type_comment is not None:
            self._apply_type_comment(node)
        params = []
        for i, p in enumerate(node.params):
            if p.name.startswith("*"):
                raise _err(p.span, M.STAR_PARAMS)
            if i == 0 and info.cls is not None:
                ptype = info.cls.type
            elif p.annotation is None:
                ptype = T.TensorType
            else:
                ptype = self._annotation_or_unknown(p.annotation)
            p.type = ptype
            has_default = p.default is not None
            if has_default and _unknown(ptype):
                info.defaults[p.name] = None
            elif has_default:
                value = self._constant_value(p.default)
                if value is _NOT_CONSTANT:
                    raise _err(p.default.span, M.DEFAULT_NOT_CONSTANT, name=p.name)
                vtype = constant_type(value)
                if (
                    isinstance(value, int)
                    and not isinstance(value, bool)
                    and ptype in (T.FloatType, T.optional(T.FloatType))
                ):
                    value = float(value)
                    vtype = T.FloatType
                if isinstance(value, list):
                    elem = ptype.elem if isinstance(ptype, T.ListType) else None
                    fits = elem is not None and all(
                        T.is_subtype(constant_type(v), elem) for v in value
                    )
                    vtype = (
                        ptype
                        if fits
                        else T.ListType(constant_type(value[0]) if value else T.TensorType)
                    )
                if not T.is_subtype(vtype, ptype):
                    raise _err(
                        p.default.span, M.DEFAULT_MISMATCH, name=p.name, got=vtype, declared=ptype
                    )
                info.defaults[p.name] = value
                for sub in ast.walk(p.default):
                    if isinstance(sub, ast.Expr):
                        sub.type = constant_type(self._constant_value(sub))
                p.default.type = vtype
            params.append((p.name, ptype, has_default))
        info.param_types = params
        if node.returns is not None:
            info.declared_return = self._annotation_or_unknown(node.returns)
            info.type = T.FunctionType(tuple(params), info.declared_return, node.name)
        elif node.name == "__init__" and info.cls is not None:
            info.declared_return = T.NoneType
            info.type = T.FunctionType(tuple(params), T.NoneType, node.name)
        node.type = info.type
        if info.cls is not None and not info.cls.namedtuple and info.type is not None:
            info.cls.type.methods[node.name] = info.type

    def _apply_type_comment(self, node: ast.FunctionDef) -> None:
        """TorchScript's ``# type: (int, float) -> float`` signature comment: the types of
        the parameters (``self`` excluded) and the return type, for a header without them."""
        text = node.type_comment
        head, arrow, ret = text.rpartition("->")
        if not arrow or not head.strip().startswith("("):
            raise _err(node.span, M.TYPE_COMMENT, text=text)
        from ..parser.parse import parse_expression  # loaded already by the parse that found it

        try:
            params = parse_expression(head.strip(), line_offset=node.span.line)
            returns = parse_expression(ret.strip(), line_offset=node.span.line)
        except CompileError:
            raise _err(node.span, M.TYPE_COMMENT, text=text) from None
        types = params.elts if isinstance(params, ast.Tuple) else [params]
        if head.strip().replace(" ", "") == "()":
            types = []
        targets = list(node.params)
        if len(targets) == len(types) + 1 and targets and targets[0].name == "self":
            targets = targets[1:]
        if len(targets) != len(types):
            raise _err(node.span, M.TYPE_COMMENT_ARITY, params=len(targets), types=len(types))
        for p, t in zip(targets, types):
            if p.annotation is None:
                p.annotation = t
        if node.returns is None:
            node.returns = returns

    def _annotation_or_unknown(self, expr: ast.Expr) -> T.Type:
        """A parameter's or return's annotation; an invalid one is reported and the body is
        still checked (with that type unknown)."""
        try:
            return self.resolve_annotation(expr)
        except CompileError as e:
            self.report(e)
            return UNKNOWN

    def callee_type(
        self, info: FunctionInfo, caller: FunctionInfo, call_span: Span
    ) -> Optional[T.FunctionType]:
        """The type of a called unit function. Its body is checked first only when its return
        type must be inferred; recursion is found from the recorded calls (``check_calls``),
        so deep call chains of annotated functions cost no stack."""
        self.calls.append((caller, info, call_span))
        if info.type is not None and info.state != "checking" and info.declared_return is not None:
            return info.type
        return self.ensure_checked(info, call_span)

    def check_calls(self) -> None:
        """Report each cycle of calls once, at the first call (in source order) closing it."""
        graph: dict = {}
        for caller, callee, _ in self.calls:
            graph.setdefault(id(caller), {})[id(callee)] = callee
        reported: set = set()
        for caller, callee, span in sorted(self.calls, key=lambda c: (c[2].line, c[2].col)):
            path = self._path(graph, callee, caller)
            if path is None:
                continue
            members = frozenset(id(f) for f in path)
            if members in reported:
                continue
            reported.add(members)
            chain = " -> ".join([caller.qualified_name] + [f.qualified_name for f in path])
            self.report(_err(span, M.RECURSION, chain=chain))

    @staticmethod
    def _path(graph: dict, start: FunctionInfo, goal: FunctionInfo) -> Optional[list]:
        """Functions from ``start`` to ``goal`` along calls (iteratively), or None."""
        parents = {id(start): None}
        stack = [start]
        nodes = {id(start): start}
        while stack:
            node = stack.pop()
            if node is goal:
                path = []
                key: Optional[int] = id(node)
                while key is not None:
                    path.append(nodes[key])
                    key = parents[key]
                return list(reversed(path))
            for nxt in graph.get(id(node), {}).values():
                if id(nxt) not in parents:
                    parents[id(nxt)] = id(node)
                    nodes[id(nxt)] = nxt
                    stack.append(nxt)
        return None

    def ensure_checked(
        self, info: FunctionInfo, call_span: Optional[Span]
    ) -> Optional[T.FunctionType]:
        """The function's type, checking its body first when needed (callees before callers)."""
        if info.state == "checking":
            if call_span is not None:
                raise _Abort()  # a recursive call: check_calls reports it
            return info.type
        if info.state == "new":
            if not info.param_types and info.node.params and info.type is None:
                try:
                    self._signature(info)
                except CompileError as e:
                    self.report(e)
                    info.state = "done"
                    return None
            info.state = "checking"
            self.stack.append(info)
            try:
                if info.cls is not None and info.node.name != "__init__":
                    init = info.cls.methods.get("__init__")
                    if init is not None and init.state == "new":
                        self.ensure_checked(init, None)
                FunctionChecker(self, info).check()
            except RecursionError:
                self.report(_err(info.node.span, M.TOO_DEEP, limit=MAX_DEPTH))
            finally:
                self.stack.pop()
                info.state = "done"
        return info.type


_NOT_CONSTANT = object()
# (operator names, operand types) -> which overload matched; see resolve._CHOICES.
_OPERATOR_CHOICES: dict = {}


class FunctionChecker:
    def __init__(self, mod: ModuleChecker, info: FunctionInfo, toplevel: bool = False):
        self.mod = mod
        self.info = info
        self.toplevel = toplevel
        self.returns: list[T.Type] = []
        self.loops: list[dict] = []
        self.depth = 0
        self.closures: dict[str, ast.FunctionDef] = {}
        self.closure_used: set[str] = set()
        self.in_raise = False

    # ---------------------------------------------------------------- driver

    def check(self) -> None:
        node = self.info.node
        frame = Frame(None, "function")
        for name, ptype, _ in self.info.param_types:
            frame.set(name, ptype)
        falls = self.block(node.body, frame)
        for name, fn in self.closures.items():
            if name not in self.closure_used:
                self.mod.report(_err(fn.span, M.NESTED_DEF, name=name))
        declared = self.info.declared_return
        if declared is None:
            ret = T.NoneType
            if any(_unknown(r) for r in self.returns):
                ret = UNKNOWN
            elif self.returns:
                ret = self.returns[0]
                for r in self.returns[1:]:
                    ret = T.unify(ret, r) or ret
                if falls and ret != T.NoneType and not _unknown(ret):
                    ret = T.optional(ret)
            self.info.declared_return = ret
            self.info.type = T.FunctionType(tuple(self.info.param_types), ret, node.name)
            node.type = self.info.type
            if self.info.cls is not None and not self.info.cls.namedtuple:
                self.info.cls.type.methods[node.name] = self.info.type
        elif falls and declared != T.NoneType and not self.toplevel:
            self.mod.report(_err(node.span, M.MISSING_RETURN, name=node.name, declared=declared))

    # ---------------------------------------------------------------- blocks

    def block(self, stmts: list, frame: Frame) -> bool:
        """Check a statement list; whether control can reach its end."""
        falls = True
        i = 0
        while i < len(stmts):
            stmt = stmts[i]
            try:
                self.enter(stmt.span)
                try:
                    result = self.stmt(stmt, frame)
                finally:
                    self.depth -= 1
            except CompileError as e:
                self.mod.report(e)
                result = self._recover(stmt, frame)
            except _Abort:
                result = self._recover(stmt, frame)
            if isinstance(result, tuple):
                result, after = result
                if after:
                    stmts[i + 1 : i + 1] = after
                    i += len(after)
            if not result:
                falls = False
            i += 1
        return falls

    def enter(self, span: Span) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth -= 1
            raise _err(span, M.TOO_DEEP, limit=MAX_DEPTH)

    def _recover(self, stmt, frame: Frame) -> bool:
        """After an error in ``stmt``: whether it falls through, with what it would have defined
        made unknown so one mistake is reported once."""
        if isinstance(stmt, ast.Return):
            self.returns.append(UNKNOWN)
            return False
        self._define_targets_unknown(stmt, frame)
        return not isinstance(stmt, ast.Raise)

    def _define_targets_unknown(self, stmt, frame: Frame) -> None:
        targets = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            targets = [stmt.target]
        for t in targets:
            if isinstance(t, ast.Attribute):
                self.bind_unknown(t, frame)
                continue
            for n in ast.walk(t):
                if isinstance(n, ast.Name) and frame.lookup(n.id) is None:
                    frame.set(n.id, UNKNOWN)

    def stmt(self, s: ast.Stmt, frame: Frame):
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise _err(s.span, M.UNSUPPORTED, what=f"the statement '{type(s).__name__}'")
        return method(s, frame)

    # ---------------------------------------------------------------- simple statements

    def stmt_ExprStmt(self, s: ast.ExprStmt, frame: Frame):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            s.value.type = T.StrType  # a docstring
            return True
        self.expr(s.value, frame)
        return True

    def stmt_Pass(self, s, frame):
        return True

    def stmt_Break(self, s, frame):
        if not self.loops:
            raise _err(s.span, M.BREAK_OUTSIDE, what="break")
        self.loops[-1]["break"] = True
        return False

    def stmt_Continue(self, s, frame):
        if not self.loops:
            raise _err(s.span, M.BREAK_OUTSIDE, what="continue")
        return False

    def stmt_Import(self, s, frame):
        self.mod._import(s)
        return True

    stmt_ImportFrom = stmt_Import

    def stmt_FunctionDef(self, s: ast.FunctionDef, frame: Frame):
        self.closures[s.name] = s
        return True

    def stmt_ClassDef(self, s, frame):
        raise _err(s.span, M.UNSUPPORTED, what="a class defined inside a function")

    def stmt_Return(self, s: ast.Return, frame: Frame):
        if self.toplevel:
            raise _err(s.span, M.RETURN_OUTSIDE)
        declared = self.info.declared_return
        if s.value is None:
            got = T.NoneType
        else:
            got = self.expr(s.value, frame, expected=declared)
        if declared is not None and s.value is not None and not T.is_subtype(got, declared):
            converted = _implicit_conversion(s.value, got, declared)
            if converted is not None:
                s.value = converted
                got = converted.type
        if declared is not None:
            if not T.is_subtype(got, declared) and not _unknown(got):
                if (
                    isinstance(declared, T.ListType)
                    and isinstance(got, T.ListType)
                    and isinstance(s.value, ast.List)
                ):
                    raise _err(s.value.span, M.LIST_ANNOTATION, declared=declared, got=got.elem)
                raise _err(
                    s.value.span if s.value is not None else s.span,
                    M.RETURN_MISMATCH,
                    declared=declared,
                    got=got,
                )
        else:
            if self.returns:
                previous = self.returns[0]
                for r in self.returns[1:]:
                    previous = T.unify(previous, r) or previous
                if T.unify(previous, got) is None and not _unknown(got) and not _unknown(previous):
                    raise _err(s.span, M.RETURN_UNIFY, previous=previous, got=got)
            self.returns.append(got)
        return False

    def stmt_Raise(self, s: ast.Raise, frame: Frame):
        exc = s.exc
        if exc is None:
            raise _err(s.span, M.RAISE_FORM)
        if isinstance(exc, ast.Name) and exc.id in B.EXCEPTIONS and frame.lookup(exc.id) is None:
            exc.type = T.NoneType
            exc.target = SpecialTarget("exception", exc.id)
            return False
        if (
            isinstance(exc, ast.Call)
            and isinstance(exc.func, ast.Name)
            and exc.func.id in B.EXCEPTIONS
        ):
            if exc.keywords:
                raise _err(
                    exc.keywords[0].span,
                    M.UNKNOWN_KEYWORD,
                    callee=exc.func.id,
                    keyword=exc.keywords[0].name,
                    hint="",
                )
            for a in exc.args:
                self.expr(a, frame)
            exc.type = T.NoneType
            exc.target = SpecialTarget("exception", exc.func.id)
            exc.func.type = T.AnyType
            exc.func.target = exc.target
            exc.bound = list(exc.args)
            return False
        raise _err(exc.span, M.RAISE_FORM)

    def stmt_Assert(self, s: ast.Assert, frame: Frame):
        refs = self.condition(s, "test", frame)
        if s.msg is not None:
            self.expr(s.msg, frame)
        after = self.materialize(refs.true, frame, s.test.span)
        return True, after

    def stmt_Delete(self, s: ast.Delete, frame: Frame):
        for target in s.targets:
            if isinstance(target, ast.Name):
                self.expr(target, frame)  # the name must be bound; the value is left alone
                continue
            if not isinstance(target, ast.Subscript) or isinstance(target.index, ast.Slice):
                raise _err(target.span, M.DELETE_TARGET)
            vt = self.expr(target.value, frame)
            it = self.expr(target.index, frame)
            if _unknown(vt):
                target.type = UNKNOWN
                continue
            if not isinstance(vt, (T.ListType, T.DictType)):
                raise _err(target.span, M.DELETE_TARGET)
            match = self.resolve_ops(
                registry.overloads(registry.DELITEM),
                [Arg(target.value, vt), Arg(target.index, it)],
                {},
                target.span,
                "del",
                by_first=True,
            )
            target.target = match.target
            target.type = T.NoneType
        return True

    def stmt_With(self, s: ast.With, frame: Frame):
        for item in s.items:
            call = item.context_expr
            path = self.module_path(call.func, frame) if isinstance(call, ast.Call) else None
            if (
                path != "torch.no_grad"
                or call.args
                or call.keywords
                or item.optional_vars is not None
            ):
                raise _err(item.span, M.WITH_FORM)
            call.type = T.NoneType
            call.target = SpecialTarget("no_grad")
            call.func.type = T.AnyType
            call.func.target = call.target
            call.bound = []
        return self.block(s.body, frame)

    # ---------------------------------------------------------------- assignment

    def stmt_Assign(self, s: ast.Assign, frame: Frame):
        try:
            vt = self.expr(s.value, frame)
        except CompileError:
            for t in s.targets:
                self.bind_unknown(t, frame)
            raise
        for target in s.targets:
            self.store(target, vt, s.value, frame)
        return True

    def stmt_AnnAssign(self, s: ast.AnnAssign, frame: Frame):
        declared = self.mod.resolve_annotation(s.annotation)
        target = s.target
        if s.value is None:
            name = target.id if isinstance(target, ast.Name) else "..."
            raise _err(s.span, M.ANNOTATION_NO_VALUE, name=name, declared=declared)
        try:
            got = self.expr(s.value, frame, expected=declared)
        except CompileError:
            self.bind_unknown(target, frame, declared)
            raise
        if isinstance(target, ast.Name):
            if not T.is_subtype(got, declared) and not _unknown(got):
                self.bind_unknown(target, frame, declared)
                if (
                    isinstance(declared, T.ListType)
                    and isinstance(got, T.ListType)
                    and isinstance(s.value, ast.List)
                ):
                    raise _err(s.span, M.LIST_ANNOTATION, declared=declared, got=got.elem)
                raise _err(
                    s.span, M.ANNOTATION_MISMATCH, name=target.id, declared=declared, got=got
                )
            if frame.parent is not None and frame.kind != "comprehension":
                outer = frame.parent.lookup(target.id)
                if outer is not None and outer.poison is None:
                    raise _err(s.span, M.REDECLARE, name=target.id)
            frame.set(target.id, declared)
            target.type = declared
            return True
        if isinstance(target, ast.Attribute):
            self.store_attribute(target, got, frame, declared=declared)
            return True
        raise _err(target.span, M.ASSIGN_TARGET, what="this target with an annotation")

    def stmt_AugAssign(self, s: ast.AugAssign, frame: Frame):
        target = s.target
        if isinstance(target, ast.Name):
            tt = self.expr(target, frame)
            vt = self.expr(s.value, frame)
            result = self.augmented_op(s, tt, vt)
            self.assign_name(target, result, frame, s.span)
            return True
        if isinstance(target, ast.Subscript):
            container = self.expr(target.value, frame)
            if container == T.TensorType:
                self.tensor_index(target, frame)
                vt = self.expr(s.value, frame)
                self.augmented_op(s, T.TensorType, vt)
                target.type = T.TensorType
                target.target = SpecialTarget(
                    "subscript_update",
                    (SpecialTarget("tensor_index"), SpecialTarget("tensor_index_assign")),
                )
                return True
            get_type = self.subscript(target, frame)
            get_target = target.target
            vt = self.expr(s.value, frame)
            result = self.augmented_op(s, get_type, vt)
            set_target = self.setitem(target, container, result, s.value, frame)
            target.target = SpecialTarget("subscript_update", (get_target, set_target))
            return True
        if isinstance(target, ast.Attribute):
            tt = self.expr(target, frame)
            vt = self.expr(s.value, frame)
            result = self.augmented_op(s, tt, vt)
            self.store_attribute(target, result, frame)
            return True
        raise _err(target.span, M.ASSIGN_TARGET, what="this expression")

    def augmented_op(self, s: ast.AugAssign, tt: T.Type, vt: T.Type) -> T.Type:
        if _unknown(tt) or _unknown(vt):
            return UNKNOWN
        names = registry.BINARY_OPERATORS.get(s.op)
        if names is None:
            raise _err(s.span, M.UNSUPPORTED, what=f"the operator {s.op}=")
        args = [Arg(s.target, tt), Arg(s.value, vt)]
        if tt == T.TensorType:
            inplace = registry.methods(names[0] + "_")
            found = resolve_call(
                [op_signature(op, names[0] + "_") for op in inplace],
                args,
                {},
                s.span,
                names[0] + "_",
            )
            if isinstance(found, Match):
                s.op_target = found.target
                self._apply_conversions(s, found, ("target", "value"))
                return T.TensorType
        found = resolve_call(
            [op_signature(op, names[0]) for op in registry.overloads(names[0])],
            args,
            {},
            s.span,
            names[0],
        )
        if not isinstance(found, Match):
            raise CompileError.at(
                s.span,
                M.BINARY_OPERATOR.format(op=s.op + "=", left=tt, right=vt, candidates=""),
                M.BINARY_OPERATOR.code,
            )
        s.op_target = found.target
        self._apply_conversions(s, found, ("target", "value"))
        if tt == T.TensorType:
            return T.TensorType
        return found.type

    def _apply_conversions(self, node, found: Match, fields: tuple) -> None:
        """Put conversion wrappers the match made back into the operator's operand fields."""
        for name, new in zip(fields, found.bound):
            old = getattr(node, name)
            if new is not old and isinstance(new, ast.Call) and new.bound and new.bound[0] is old:
                if name == "target":
                    continue
                setattr(node, name, new)

    def bind_unknown(self, target, frame: Frame, typ: T.Type = UNKNOWN) -> None:
        cls = self.info.cls
        if (
            isinstance(target, ast.Attribute)
            and cls is not None
            and not cls.namedtuple
            and self.info.node.name == "__init__"
        ):
            cls.type.attributes.setdefault(target.attr, typ)
            return
        for n in ast.walk(target):
            if isinstance(n, ast.Name) and not isinstance(target, (ast.Subscript, ast.Attribute)):
                frame.set(n.id, typ)

    def store(self, target: ast.Expr, vt: T.Type, value: Optional[ast.Expr], frame: Frame) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target, vt, frame, target.span)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target, vt, frame)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value, frame)
            if container == T.TensorType:
                self.tensor_index(target, frame)
                if not (_unknown(vt) or vt in (T.TensorType, T.IntType, T.FloatType, T.BoolType)):
                    raise _err(
                        target.span,
                        M.ARG_TYPE,
                        expected="Tensor or a number",
                        arg="value",
                        callee="tensor index assignment",
                        got=vt,
                    )
                target.type = T.TensorType
                target.target = SpecialTarget("tensor_index_assign")
                return
            self.expr(target.index, frame)
            target.target = self.setitem(target, container, vt, value, frame)
        elif isinstance(target, ast.Attribute):
            self.store_attribute(target, vt, frame)
        elif isinstance(target, ast.Starred):
            raise _err(target.span, M.STARRED)
        else:
            raise _err(target.span, M.ASSIGN_TARGET, what="this expression")

    def setitem(self, target: ast.Subscript, container: T.Type, vt: T.Type, value, frame: Frame):
        it = target.index.type if target.index.type is not None else self.expr(target.index, frame)
        if _unknown(container) or _unknown(vt):
            target.type = UNKNOWN
            return None
        if isinstance(target.index, ast.Slice):
            raise _err(target.span, M.ASSIGN_TARGET, what="a list slice")
        if not isinstance(container, (T.ListType, T.DictType)):
            raise _err(target.span, M.ASSIGN_TARGET, what=f"an item of a value of type {container}")
        args = [
            Arg(target.value, container),
            Arg(target.index, it),
            Arg(value if value is not None else target, vt, flexible=_is_empty_literal(value)),
        ]
        match = self.resolve_ops(
            registry.overloads(registry.SETITEM),
            args,
            {},
            target.span,
            f"{container}.__setitem__",
            by_first=True,
        )
        for node, t in match.retype:
            node.type = t
        target.type = container.elem if isinstance(container, T.ListType) else container.value
        return match.target

    def store_attribute(
        self, target: ast.Attribute, vt: T.Type, frame: Frame, declared=None
    ) -> None:
        ot = self.expr(target.value, frame)
        if not isinstance(ot, T.ClassType):
            raise _err(target.span, M.ASSIGN_TARGET, what=f"an attribute of a value of type {ot}")
        attrs = ot.attributes
        in_init = (
            self.info.node.name == "__init__"
            and self.info.cls is not None
            and self.info.cls.type is ot
        )
        if target.attr not in attrs:
            if not in_init:
                raise _err(
                    target.span,
                    M.CLASS_ATTRIBUTE,
                    cls=ot,
                    name=target.attr,
                    hint=M.suggest(target.attr, attrs),
                )
            attrs[target.attr] = declared if declared is not None else vt
        expected = attrs[target.attr]
        if declared is not None and declared != expected:
            raise _err(
                target.span,
                M.ATTRIBUTE_MISMATCH,
                name=target.attr,
                cls=ot,
                declared=expected,
                got=declared,
            )
        if not T.is_subtype(vt, expected) and not _unknown(vt):
            raise _err(
                target.span,
                M.ATTRIBUTE_MISMATCH,
                name=target.attr,
                cls=ot,
                declared=expected,
                got=vt,
            )
        target.type = expected
        target.target = FieldTarget(target.attr)

    def assign_name(self, target: ast.Name, vt: T.Type, frame: Frame, span: Span) -> None:
        name = target.id
        if frame.parent is not None and frame.kind != "comprehension" and not _unknown(vt):
            outer = frame.parent.lookup(name)
            if outer is not None and outer.poison is None and not _unknown(outer.type):
                if not T.is_subtype(vt, outer.type):
                    frame.set(name, outer.type)
                    raise _err(span, M.REASSIGN_OUTER, name=name, old=outer.type, new=vt)
        frame.set(name, vt)
        target.type = vt

    def unpack(self, target, vt: T.Type, frame: Frame) -> None:
        elts = target.elts
        if any(isinstance(e, ast.Starred) for e in elts):
            raise _err(target.span, M.STARRED)
        target.type = vt
        if _unknown(vt):
            types = [UNKNOWN] * len(elts)
        elif isinstance(vt, T.TupleType):
            if len(vt.elems) != len(elts):
                for e in elts:
                    self.bind_unknown(e, frame)
                raise _err(
                    target.span, M.UNPACK_ARITY, type=vt, length=len(vt.elems), targets=len(elts)
                )
            types = list(vt.elems)
        elif isinstance(vt, T.ListType):
            types = [vt.elem] * len(elts)
            target.target = SpecialTarget("list_unpack")
        else:
            for e in elts:
                self.bind_unknown(e, frame)
            raise _err(target.span, M.UNPACK_TYPE, type=vt)
        for e, t in zip(elts, types):
            self.store(e, t, None, frame)

    # ---------------------------------------------------------------- control flow

    def condition(self, owner, field_name: str, frame: Frame) -> R.Refinements:
        """Check ``owner.<field_name>`` as a condition (converted to bool) and return what it
        proves. A non-bool test is replaced by a call of the ``bool`` op."""
        test = getattr(owner, field_name)
        refs = self.cond_expr(test, frame)
        t = test.type
        if t != T.BoolType and not _unknown(t):
            setattr(owner, field_name, self.to_bool(test, t))
        return refs

    def to_bool(self, node: ast.Expr, t: T.Type) -> ast.Expr:
        sigs = [
            op_signature(op, "bool")
            for op in registry.functions_in(registry.Namespace.BUILTINS, "bool")
        ]
        sigs = sigs or [op_signature(op, "bool") for op in registry.overloads("bool")]
        found = resolve_call(sigs, [Arg(node, t)], {}, node.span, "bool")
        if not isinstance(found, Match) or found.type != T.BoolType:
            raise _err(node.span, M.CONDITION_TYPE, type=t)
        func = ast.Name("bool", span=node.span)
        func.type = T.AnyType
        func.target = found.target
        call = ast.Call(func, [node], [], span=node.span)
        call.type = T.BoolType
        call.target = found.target
        call.bound = found.bound
        return call

    def cond_expr(self, e: ast.Expr, frame: Frame) -> R.Refinements:
        """Type a condition and compute its refinements (and, or, not, is, isinstance)."""
        if isinstance(e, ast.BoolOp):
            return self.boolop(e, frame)
        if isinstance(e, ast.UnaryOp) and e.op == "not":
            refs = self.cond_expr(e.operand, frame)
            self.finish_not(e)
            return refs.negate()
        self.expr(e, frame)
        return self.refinements_of(e, frame)

    def refinements_of(self, e: ast.Expr, frame: Frame) -> R.Refinements:
        if isinstance(e, ast.Compare) and len(e.ops) == 1:
            left, right = e.left, e.comparators[0]
            op = e.ops[0]
            if op in ("is", "is not", "==", "!=") and (_is_none(left) or _is_none(right)):
                subject = right if _is_none(left) else left
                if isinstance(subject, ast.Name):
                    var = frame.lookup(subject.id)
                    if var is not None and var.poison is None:
                        declared = var.refined_from or var.type
                        refs = R.is_none_test(
                            subject.id, subject.type if subject.type is not None else declared
                        )
                        return refs if op in ("is", "==") else refs.negate()
        if (
            isinstance(e, ast.Call)
            and isinstance(e.target, SpecialTarget)
            and e.target.kind == "isinstance"
        ):
            refs = getattr(e, "_refinements", None)
            if refs is not None:
                return refs
        return R.NONE

    def boolop(self, e: ast.BoolOp, frame: Frame) -> R.Refinements:
        refs: Optional[R.Refinements] = None
        current = frame
        for i, value in enumerate(e.values):
            if refs is not None:
                current = Frame(current, "expr")
                for name, t in (refs.true if e.op == "and" else refs.false).items():
                    current.refine(name, t)
            r = self.cond_expr(value, current)
            vt = value.type
            if vt != T.BoolType and not _unknown(vt):
                e.values[i] = self.to_bool(value, vt)
            refs = r if refs is None else (R.both(refs, r) if e.op == "and" else R.either(refs, r))
        e.type = T.BoolType
        return refs or R.NONE

    def finish_not(self, e: ast.UnaryOp) -> None:
        t = e.operand.type
        if t != T.BoolType and not _unknown(t):
            e.operand = self.to_bool(e.operand, t)
        ops = registry.overloads(registry.UNARY_OPERATORS["not"])
        found = (
            resolve_call(
                [op_signature(op, "not") for op in ops],
                [Arg(e.operand, T.BoolType)],
                {},
                e.span,
                "not",
            )
            if ops
            else None
        )
        e.target = found.target if isinstance(found, Match) else SpecialTarget("not")
        e.type = T.BoolType

    def materialize(self, narrowed: dict, frame: Frame, span: Span) -> list:
        """``x = x`` statements that make refinements explicit assignments (see module doc)."""
        out = []
        for name, typ in narrowed.items():
            var = frame.lookup(name)
            if var is None or var.poison is not None or var.type == typ:
                continue
            source = ast.Name(name, span=span)
            source.type = typ
            source.target = SpecialTarget("refined", var.type)
            dest = ast.Name(name, span=span)
            dest.type = typ
            frame.set(name, typ)
            out.append(ast.Assign([dest], source, span=span))
        return out

    def static_value(self, test: ast.Expr) -> Optional[bool]:
        """The value of a test known at compile time (isinstance, is None, is_scripting)."""
        if isinstance(test, ast.UnaryOp) and test.op == "not":
            inner = self.static_value(test.operand)
            return None if inner is None else not inner
        target = test.target
        if isinstance(test, ast.Compare) and test.targets and len(test.targets) == 1:
            target = test.targets[0][0]
        if isinstance(target, SpecialTarget) and target.kind in (
            "isinstance",
            "is",
            "is_scripting",
        ):
            return target.value
        return None

    def stmt_If(self, s: ast.If, frame: Frame):
        try:
            refs = self.condition(s, "test", frame)
        except CompileError as e:
            self.mod.report(e)
            refs = R.NONE
        known = self.static_value(s.test)
        branches = []
        for body, narrowed, live in (
            (s.body, refs.true, known is not False),
            (s.orelse, refs.false, known is not True),
        ):
            sub = Frame(frame, "if")
            if not live:
                branches.append((sub, False))
                continue
            synth = self.materialize(narrowed, sub, s.test.span)
            body[0:0] = synth
            branches.append((sub, self.block(body, sub)))
        self.merge(frame, branches, s.span)
        return any(falls for _, falls in branches)

    def merge(self, frame: Frame, branches: list, span: Span) -> None:
        live = [sub for sub, falls in branches if falls]
        if not live:
            return
        if len(live) == 1:
            sub = live[0]
            frame.vars.update(sub.vars)
            frame.assigned.update(sub.assigned)
            return
        (tf, _), (ff, _) = branches
        for name in sorted(tf.assigned | ff.assigned):
            a, b = tf.lookup(name), ff.lookup(name)
            if a is None or a.poison is not None or b is None or b.poison is not None:
                if (a is None or a.poison) and (b is None or b.poison) and (a or b):
                    poison = (a or b).poison
                else:
                    branch = "true" if (a is None or a.poison is not None) else "false"
                    poison = (
                        M.NOT_IN_BRANCH.format(name=name, branch=branch),
                        M.NOT_IN_BRANCH.code,
                        span,
                    )
                frame.vars[name] = Var(UNKNOWN, poison=poison)
                frame.assigned.add(name)
                continue
            if _unknown(a.type) or _unknown(b.type):
                u = UNKNOWN
            else:
                u = T.unify(a.type, b.type)
                if u is None:
                    outer = frame.lookup(name)
                    if (
                        outer is not None
                        and outer.poison is None
                        and T.is_subtype(a.type, outer.type)
                        and T.is_subtype(b.type, outer.type)
                    ):
                        u = outer.type
            if u is None:
                message = M.BRANCH_MISMATCH.format(name=name, true_type=a.type, false_type=b.type)
                frame.vars[name] = Var(UNKNOWN, poison=(message, M.BRANCH_MISMATCH.code, span))
            else:
                frame.vars[name] = Var(u)
            frame.assigned.add(name)

    def after_loop(self, frame: Frame, body: Frame, span: Span) -> None:
        for name in body.assigned:
            outer = frame.lookup(name)
            if outer is None or outer.poison is not None:
                frame.vars[name] = Var(
                    UNKNOWN, poison=(M.LOOP_ONLY.format(name=name), M.LOOP_ONLY.code, None)
                )
                frame.assigned.add(name)

    def stmt_While(self, s: ast.While, frame: Frame):
        if s.orelse:
            raise _err(s.orelse[0].span, M.UNSUPPORTED, what="'else' on a while loop")
        try:
            refs = self.condition(s, "test", frame)
        except CompileError as e:
            self.mod.report(e)
            refs = R.NONE
        body = Frame(frame, "loop")
        s.body[0:0] = self.materialize(refs.true, body, s.test.span)
        self.loops.append({"break": False})
        try:
            self.block(s.body, body)
        finally:
            loop = self.loops.pop()
        self.after_loop(frame, body, s.span)
        # As in TorchScript, a loop may always be left (even ``while True:``): code after it
        # is reachable, and a function that ends in one still needs a return.
        after = [] if loop["break"] else self.materialize(refs.false, frame, s.test.span)
        return True, after

    def stmt_For(self, s: ast.For, frame: Frame):
        if s.orelse:
            raise _err(s.orelse[0].span, M.UNSUPPORTED, what="'else' on a for loop")
        elem = self.iterable(s.iter, frame)
        if isinstance(elem, list):  # a heterogeneous tuple: one typed copy of the body per element
            copies = []
            for t in elem:
                memo = {id(s.span.source): s.span.source}
                target = copy.deepcopy(s.target, memo)
                body = copy.deepcopy(s.body, memo)
                self.loop_body(target, t, body, frame, s.span)
                copies.append((target, body))
            s.unrolled = copies
            s.target.type = UNKNOWN
            return True
        self.loop_body(s.target, elem, s.body, frame, s.span)
        return True

    def loop_body(self, target, elem: T.Type, stmts: list, frame: Frame, span: Span) -> None:
        body = Frame(frame, "loop")
        try:
            self.store(target, elem, None, body)
        except CompileError as e:
            self.mod.report(e)
        self.loops.append({"break": False})
        try:
            self.block(stmts, body)
        finally:
            self.loops.pop()
        self.after_loop(frame, body, span)

    def iterable(self, node: ast.Expr, frame: Frame):
        """The element type of a for loop's iterable (a list of types for a heterogeneous tuple)."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in B.ITERATION_FORMS
            and frame.lookup(node.func.id) is None
        ):
            return self.iteration_form(node, frame)
        t = self.expr(node, frame)
        if isinstance(t, T.TupleType):
            if not t.elems:
                return UNKNOWN
            if all(e == t.elems[0] for e in t.elems):
                return t.elems[0]
            return list(t.elems)
        return self.element_type(t, node)

    def element_type(self, t: T.Type, node: ast.Expr) -> T.Type:
        if _unknown(t):
            return UNKNOWN
        if isinstance(t, T.ListType):
            return t.elem
        if isinstance(t, T.DictType):
            return t.key
        if t in (T.TensorType, T.StrType):
            return t
        if isinstance(t, T.TupleType) and t.elems:
            u = t.elems[0]
            for e in t.elems[1:]:
                u = T.unify(u, e)
                if u is None:
                    break
            if u is not None:
                return u
        raise _err(node.span, M.NOT_ITERABLE, type=t)

    def iteration_form(self, node: ast.Call, frame: Frame) -> T.Type:
        name = node.func.id
        node.func.type = T.AnyType
        if node.keywords and name != "enumerate":
            raise _err(
                node.keywords[0].span,
                M.UNKNOWN_KEYWORD,
                callee=name,
                keyword=node.keywords[0].name,
                hint="",
            )
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise _err(node.span, M.STARRED_ARG)
        if name == "range":
            types = [self.expr(a, frame) for a in node.args]
            if not 1 <= len(types) <= 3 or not all(t == T.IntType or _unknown(t) for t in types):
                raise _err(node.span, M.RANGE_ARGS, got=", ".join(str(t) for t in types))
            args = list(node.args)
            if len(args) == 1:
                args = [constant_node(0, node.span)] + args
            if len(args) == 2:
                args = args + [constant_node(1, node.span)]
            node.bound = args
            node.target = SpecialTarget("range")
            node.type = T.ListType(T.IntType)
            node.func.target = node.target
            return T.IntType
        if name == "enumerate":
            if len(node.args) not in (1, 2):
                raise _err(
                    node.span,
                    M.MISSING_ARG if not node.args else M.TOO_MANY_ARGS,
                    callee="enumerate",
                    arg="iterable",
                    limit=2,
                    given=len(node.args),
                )
            elem = self.iterable(node.args[0], frame)
            if isinstance(elem, list):
                raise _err(node.args[0].span, M.NOT_ITERABLE, type=node.args[0].type)
            start: ast.Expr = node.args[1] if len(node.args) == 2 else constant_node(0, node.span)
            for kw in node.keywords:
                if kw.name != "start" or len(node.args) == 2:
                    raise _err(
                        kw.span, M.UNKNOWN_KEYWORD, callee="enumerate", keyword=kw.name, hint=""
                    )
                start = kw.value
            st = self.expr(start, frame)
            if st != T.IntType and not _unknown(st):
                raise _err(
                    start.span, M.ARG_TYPE, expected="int", arg="start", callee="enumerate", got=st
                )
            node.bound = [node.args[0], start]
            node.target = SpecialTarget("enumerate")
            result = T.TupleType((T.IntType, elem))
            node.type = T.ListType(result)
            node.func.target = node.target
            return result
        if not node.args:
            raise _err(node.span, M.MISSING_ARG, callee="zip", arg="iterable")
        elems = []
        for a in node.args:
            e = self.iterable(a, frame)
            if isinstance(e, list):
                raise _err(a.span, M.NOT_ITERABLE, type=a.type)
            elems.append(e)
        node.bound = list(node.args)
        node.target = SpecialTarget("zip")
        result = T.TupleType(tuple(elems))
        node.type = T.ListType(result)
        node.func.target = node.target
        return result

    # ---------------------------------------------------------------- expressions

    def expr(self, e: ast.Expr, frame: Frame, expected: Optional[T.Type] = None) -> T.Type:
        self.enter(e.span)
        try:
            method = getattr(self, "expr_" + type(e).__name__, None)
            if method is None:
                raise _err(e.span, M.UNSUPPORTED, what=f"the expression '{type(e).__name__}'")
            t = method(e, frame, expected)
        finally:
            self.depth -= 1
        e.type = t
        return t

    def expr_Constant(self, e: ast.Constant, frame, expected):
        if e.value is Ellipsis:
            raise _err(e.span, M.ELLIPSIS_VALUE)
        return constant_type(e.value)

    def expr_JoinedStr(self, e: ast.JoinedStr, frame, expected):
        for v in e.values:
            if isinstance(v, ast.FormattedValue):
                self.expr(v.value, frame)
        return T.StrType

    def expr_Starred(self, e, frame, expected):
        raise _err(e.span, M.STARRED)

    def expr_Slice(self, e, frame, expected):
        raise _err(e.span, M.SLICE_VALUE)

    def expr_Name(self, e: ast.Name, frame: Frame, expected):
        var = frame.lookup(e.id)
        if var is not None:
            if var.poison is not None:
                message, code, span = var.poison
                if var.reported:
                    raise _Abort()
                var.reported = True
                # Branch mismatches point at the if (as TorchScript does), loop-only names at
                # their use.
                raise CompileError.at(span if span is not None else e.span, message, code)
            if var.refined_from is not None:
                e.target = SpecialTarget("refined", var.refined_from)
            return var.type
        return self.global_name(e, frame)

    def global_name(self, e: ast.Name, frame: Frame) -> T.Type:
        name = e.id
        mod = self.mod
        if name in mod.constants:
            e.target = ConstantTarget(mod.constants[name])
            return constant_type(mod.constants[name])
        if name in mod.toplevel_names and not self.toplevel:
            raise _err(e.span, M.TOPLEVEL_VARIABLE, name=name)
        if name in mod.py_globals and name not in mod.functions and name not in mod.classes:
            return self.python_global(e, mod.py_globals[name])
        if name == "__name__":
            e.target = ConstantTarget("__main__")
            return T.StrType
        if name in mod.functions or name in self.closures:
            raise _err(e.span, M.FUNCTION_AS_VALUE, name=name)
        if name in mod.classes or name in ("int", "float", "str", "bool"):
            raise _err(e.span, M.TYPE_AS_VALUE, name=name)
        if mod.is_alias(name):
            canon = mod.canonical(name)
            if canon in B.TYPE_NAMES:
                raise _err(e.span, M.TYPE_AS_VALUE, name=name)
            raise _err(e.span, M.MODULE_AS_VALUE, name=name)
        if name in B.EXCEPTIONS:
            raise _err(e.span, M.EXCEPTION_VALUE, name=name)
        candidates = frame.names() | set(mod.constants) | set(mod.functions) | set(mod.aliases)
        raise _err(e.span, M.NAME_UNDEFINED, name=name, hint=M.suggest(name, candidates))

    def python_global(self, e: ast.Name, value: Any) -> T.Type:
        from ..jit.ir import dtypes

        if isinstance(value, dtypes.DType):
            e.target = ConstantTarget(value)
            return T.DTypeType
        if value is None or isinstance(value, (bool, int, float, str)):
            e.target = ConstantTarget(value)
            return constant_type(value)
        if isinstance(value, tuple) and all(isinstance(v, (bool, int, float, str)) for v in value):
            e.target = ConstantTarget(value)
            return constant_type(value)
        raise _err(e.span, M.GLOBAL_VALUE, name=e.id, pytype=type(value).__name__)

    def module_path(self, e: ast.Expr, frame: Frame) -> Optional[str]:
        """The canonical dotted path when ``e`` names something in a module (``torch.float32``)."""
        dn = dotted_name(e)
        if dn is None:
            return None
        head = dn.split(".")[0]
        if (
            frame.lookup(head) is not None
            or head in self.mod.constants
            or not self.mod.is_alias(head)
        ):
            return None
        inner = e.value if isinstance(e, ast.Attribute) else None
        while inner is not None:
            inner.type = T.AnyType  # a module, not a value
            inner = inner.value if isinstance(inner, ast.Attribute) else None
        return self.mod.canonical(dn)

    def expr_Attribute(self, e: ast.Attribute, frame: Frame, expected):
        path = self.module_path(e, frame)
        if path is not None:
            return self.module_attribute(e, path)
        vt = self.expr(e.value, frame)
        return self.attribute_of(e, vt)

    def module_attribute(self, e: ast.Attribute, path: str) -> T.Type:
        head, last = B.split_path(path)
        if head == "torch":
            dt = B.dtype_constant(last)
            if dt is not None:
                e.target = ConstantTarget(dt)
                return T.DTypeType
        if head == "math":
            consts = B.math_constants()
            if last in consts:
                e.target = ConstantTarget(consts[last])
                return constant_type(consts[last])
        if path in B.MODULES:
            raise _err(e.span, M.MODULE_AS_VALUE, name=path)
        if path in B.TYPE_NAMES:
            raise _err(e.span, M.TYPE_AS_VALUE, name=path)
        namespace = B.NAMESPACES.get(head)
        if namespace is not None and registry.functions_in(namespace, last):
            raise _err(e.span, M.FUNCTION_AS_VALUE, name=path)
        raise _err(
            e.span,
            M.UNKNOWN_MODULE_ATTR,
            module=head,
            name=last,
            hint=M.suggest(last, self.module_names(head)),
        )

    def module_names(self, head: str) -> list:
        namespace = B.NAMESPACES.get(head)
        names = (
            [op.name for op in registry.all_ops() if namespace in op.namespaces]
            if namespace
            else []
        )
        if head == "math":
            names += list(B.math_constants())
        return names

    def attribute_of(self, e: ast.Attribute, vt: T.Type) -> T.Type:
        name = e.attr
        if _unknown(vt):
            return UNKNOWN
        if vt == T.TensorType:
            ops = [
                op
                for op in registry.overloads(name)
                if (op.method or op.extra.get("property"))
                and op.schema.params
                and op.schema.params[0].type.kind == "Tensor"
                and all(p.has_default for p in op.schema.params[1:])
            ]
            ops.sort(key=lambda op: not op.extra.get("property"))
            if ops:
                found = resolve_call(
                    [op_signature(op, f"Tensor.{name}") for op in ops],
                    [Arg(e.value, vt)],
                    {},
                    e.span,
                    f"Tensor.{name}",
                )
                if isinstance(found, Match):
                    e.target = found.target
                    return found.type
            if name in B.TENSOR_PROPERTIES:
                e.target = SpecialTarget("tensor_property", name)
                return B.TENSOR_PROPERTIES[name]
        if isinstance(vt, T.ClassType):
            if name in vt.attributes:
                e.target = FieldTarget(name)
                return vt.attributes[name]
            if name in vt.methods or name in self._class_methods(vt):
                raise _err(e.span, M.METHOD_AS_VALUE, name=name, type=vt)
            raise _err(
                e.span, M.CLASS_ATTRIBUTE, cls=vt, name=name, hint=M.suggest(name, vt.attributes)
            )
        if isinstance(vt, T.TupleType) and vt.field_names:
            if name in vt.field_names:
                index = vt.field_names.index(name)
                e.target = FieldTarget(name, index)
                return vt.elems[index]
            raise _err(
                e.span, M.CLASS_ATTRIBUTE, cls=vt, name=name, hint=M.suggest(name, vt.field_names)
            )
        raise _err(e.span, M.UNKNOWN_ATTR, type=vt, name=name, hint=self.attr_hint(name, vt))

    def attr_hint(self, name: str, vt: T.Type) -> str:
        if isinstance(vt, T.OptionalType):
            return " (an Optional value must be refined first, e.g. with 'if x is not None:')"
        return M.suggest(name, self.method_names(vt))

    def _class_methods(self, ct: T.ClassType) -> dict:
        info = self.mod.classes.get(ct.class_name)
        return info.methods if info is not None else {}

    def method_names(self, t: T.Type) -> list:
        names = []
        for op in registry.all_ops():
            if op.method and op.schema.params:
                first = op.schema.params[0].type
                if first.kind == "Tensor" and t == T.TensorType:
                    names.append(op.name)
                elif t != T.TensorType and first.kind != "Tensor":
                    names.append(op.name)
        return names

    # ---------------------------------------------------------------- literals

    def expr_List(self, e: ast.List, frame: Frame, expected):
        hint = expected.elem if isinstance(expected, T.ListType) else None
        if isinstance(expected, T.OptionalType) and isinstance(expected.elem, T.ListType):
            hint = expected.elem.elem
        if not e.elts:
            return T.ListType(hint) if hint is not None else T.ListType(T.TensorType)
        types = [self.expr(x, frame, expected=hint) for x in e.elts]
        if any(_unknown(t) for t in types):
            return T.ListType(UNKNOWN)
        if hint is not None and all(T.is_subtype(t, hint) for t in types):
            return T.ListType(hint)
        elem = types[0]
        for t in types[1:]:
            u = T.unify(elem, t)
            elem = u if u is not None else make_union([elem, t])
        return T.ListType(elem)

    def expr_Tuple(self, e: ast.Tuple, frame: Frame, expected):
        hints = (
            expected.elems
            if isinstance(expected, T.TupleType) and len(expected.elems) == len(e.elts)
            else None
        )
        types = [
            self.expr(x, frame, expected=hints[i] if hints else None) for i, x in enumerate(e.elts)
        ]
        return T.TupleType(tuple(types))

    def expr_Dict(self, e: ast.Dict, frame: Frame, expected):
        kh = expected.key if isinstance(expected, T.DictType) else None
        vh = expected.value if isinstance(expected, T.DictType) else None
        if not e.keys:
            return (
                expected
                if isinstance(expected, T.DictType)
                else T.DictType(T.StrType, T.TensorType)
            )
        keys = [self.expr(k, frame, expected=kh) for k in e.keys]
        values = [self.expr(v, frame, expected=vh) for v in e.values]
        key = self.unify_all(keys, kh, "key", e)
        value = self.unify_all(values, vh, "value", e)
        if key not in (
            T.StrType,
            T.IntType,
            T.FloatType,
            T.BoolType,
            T.TensorType,
        ) and not _unknown(key):
            raise _err(e.span, M.DICT_KEY_TYPE, key=key)
        return T.DictType(key, value)

    def unify_all(self, types: list, hint, part: str, e: ast.Expr) -> T.Type:
        if any(_unknown(t) for t in types):
            return UNKNOWN
        if hint is not None:
            for t in types:
                if not T.is_subtype(t, hint):
                    raise _err(e.span, M.DICT_ENTRY, part=part, got=t, declared=hint)
            return hint
        u = types[0]
        for t in types[1:]:
            nu = T.unify(u, t)
            if nu is None:
                raise _err(e.span, M.DICT_UNIFY, part=part, first=u, second=t)
            u = nu
        return u

    def expr_ListComp(self, e: ast.ListComp, frame: Frame, expected):
        inner = self.comprehension(e.generators, frame)
        hint = expected.elem if isinstance(expected, T.ListType) else None
        t = self.expr(e.elt, inner, expected=hint)
        if hint is not None and T.is_subtype(t, hint):
            t = hint
        return T.ListType(t)

    def expr_DictComp(self, e: ast.DictComp, frame: Frame, expected):
        inner = self.comprehension(e.generators, frame)
        k = self.expr(e.key, inner)
        v = self.expr(
            e.value, inner, expected=expected.value if isinstance(expected, T.DictType) else None
        )
        if isinstance(expected, T.DictType) and T.is_subtype(v, expected.value):
            v = expected.value
        return T.DictType(k, v)

    def comprehension(self, generators: list, frame: Frame) -> Frame:
        current = frame
        for gen in generators:
            elem = self.iterable(gen.iter, current)
            if isinstance(elem, list):
                raise _err(gen.iter.span, M.NOT_ITERABLE, type=gen.iter.type)
            current = Frame(current, "comprehension")
            self.store(gen.target, elem, None, current)
            for i, cond in enumerate(gen.ifs):
                holder = _Holder(cond)
                refs = self.condition(holder, "value", current)
                gen.ifs[i] = holder.value
                if refs.true:
                    current = Frame(current, "expr")
                    for name, t in refs.true.items():
                        current.refine(name, t)
        return current

    def expr_IfExp(self, e: ast.IfExp, frame: Frame, expected):
        refs = self.condition(e, "test", frame)
        known = self.static_value(e.test)
        bt = ft = None
        if known is not False:
            bt = self.expr(e.body, self.refined_frame(frame, refs.true), expected)
        if known is not True:
            ft = self.expr(e.orelse, self.refined_frame(frame, refs.false), expected)
        if bt is None or ft is None:
            return bt if bt is not None else ft
        if _unknown(bt) or _unknown(ft):
            return UNKNOWN
        if expected is not None and T.is_subtype(bt, expected) and T.is_subtype(ft, expected):
            u = T.unify(bt, ft)
            return u if u is not None else expected
        u = T.unify(bt, ft)
        if u is None:
            raise _err(e.span, M.IFEXP_MISMATCH, true_type=bt, false_type=ft)
        return u

    def refined_frame(self, frame: Frame, narrowed: dict) -> Frame:
        if not narrowed:
            return frame
        sub = Frame(frame, "expr")
        for name, t in narrowed.items():
            sub.refine(name, t)
        return sub

    def expr_BoolOp(self, e: ast.BoolOp, frame: Frame, expected):
        self.boolop(e, frame)
        return T.BoolType

    # ---------------------------------------------------------------- operators

    def expr_UnaryOp(self, e: ast.UnaryOp, frame: Frame, expected):
        if e.op == "not":
            self.cond_expr(e.operand, frame)
            self.finish_not(e)
            return T.BoolType
        t = self.expr(e.operand, frame)
        if _unknown(t):
            return UNKNOWN
        name = registry.UNARY_OPERATORS.get(e.op)
        ops = registry.overloads(name) if name else []
        found = resolve_call(
            [op_signature(op, name) for op in ops], [Arg(e.operand, t)], {}, e.span, name or e.op
        )
        if not isinstance(found, Match):
            raise _err(e.span, M.UNARY_OPERATOR, op=e.op, operand=t)
        e.target = found.target
        if found.bound and found.bound[0] is not e.operand:
            e.operand = found.bound[0]
        return found.type

    def expr_BinOp(self, e: ast.BinOp, frame: Frame, expected):
        lt = self.expr(e.left, frame)
        rt = self.expr(e.right, frame)
        if _unknown(lt) or _unknown(rt):
            return UNKNOWN
        names = registry.BINARY_OPERATORS.get(e.op)
        if names is None:
            raise _err(e.span, M.UNSUPPORTED, what=f"the operator {e.op}")
        found, swapped = self.operator(names, e.left, lt, e.right, rt, e.span)
        if found is None:
            raise _err(
                e.span,
                M.BINARY_OPERATOR,
                op=e.op,
                left=lt,
                right=rt,
                candidates=self.candidates_text(names, lt, rt),
            )
        e.target = found.target
        e.swapped = swapped
        first, second = (
            (found.bound[1], found.bound[0]) if swapped else (found.bound[0], found.bound[1])
        )
        e.left, e.right = first, second
        return found.type

    def operator(self, names, left, lt, right, rt, span):
        forward, reflected = names
        fsigs = [op_signature(op, forward) for op in registry.overloads(forward)]
        rsigs = (
            [op_signature(op, reflected) for op in registry.overloads(reflected)]
            if reflected
            else []
        )
        fargs = [Arg(left, lt, _is_empty_literal(left)), Arg(right, rt, _is_empty_literal(right))]
        rargs = [fargs[1], fargs[0]]
        from .resolve import match as match_one

        key = (forward, reflected, lt, rt, fargs[0].flexible, fargs[1].flexible)
        order = [
            (allow_conv, sigs, args, swapped)
            for allow_conv in (False, True)
            for sigs, args, swapped in ((fsigs, fargs, False), (rsigs, rargs, True))
        ]
        known = _OPERATOR_CHOICES.get(key)
        if known is not None:
            allow_conv, which, index = known
            _, sigs, args, swapped = order[which]
            result = match_one(sigs[index], args, {}, allow_conv, span)
            if isinstance(result, Match):
                for node, t in result.retype:
                    node.type = t
                return result, swapped
        for which, (allow_conv, sigs, args, swapped) in enumerate(order):
            for index, sig in enumerate(sigs):
                result = match_one(sig, args, {}, allow_conv, span)
                if isinstance(result, Match) and len(result.bound) >= 2:
                    for node, t in result.retype:
                        node.type = t
                    if len(_OPERATOR_CHOICES) < 100_000:
                        _OPERATOR_CHOICES[key] = (allow_conv, which, index)
                    return result, swapped
        return None, False

    def candidates_text(self, names, lt: T.Type, rt: T.Type) -> str:
        if isinstance(lt, T.OptionalType) or isinstance(rt, T.OptionalType):
            return " (an Optional value must be refined first, e.g. with 'if x is not None:')"
        ops = [
            op
            for op in registry.overloads(names[0])
            if _first_param_accepts(op, lt) or _first_param_accepts(op, rt)
        ]
        if not ops:
            return ""
        return "; candidates:\n" + "\n".join(f"  {op.schema.text}" for op in ops[:12])

    def expr_Compare(self, e: ast.Compare, frame: Frame, expected):
        operands = [e.left] + list(e.comparators)
        types = [self.expr(x, frame) for x in operands]
        targets = []
        result = T.BoolType
        for i, op in enumerate(e.ops):
            a, b = operands[i], operands[i + 1]
            at, bt = types[i], types[i + 1]
            if _unknown(at) or _unknown(bt):
                targets.append((None, False))
                result = UNKNOWN if len(e.ops) == 1 else result
                continue
            if op in ("is", "is not") or (op in ("==", "!=") and (_is_none(a) or _is_none(b))):
                if T.NoneType not in R.members(at) + R.members(bt) and T.AnyType not in (at, bt):
                    if op in ("==", "!="):
                        raise _err(e.span, M.IS_NONE_ONLY, op=op, left=at, right=bt)
                    name = "__is__" if op == "is" else "__isnot__"
                    found = resolve_call(
                        [op_signature(o, op) for o in registry.overloads(name)],
                        [Arg(a, at), Arg(b, bt)], {}, e.span, op,
                    )
                    if not isinstance(found, Match):
                        raise _err(e.span, M.IS_NONE_ONLY, op=op, left=at, right=bt)
                    targets.append((found.target, False))
                    if len(e.ops) == 1:
                        result = T.BoolType
                    continue
                if op in ("==", "!=") and not all(
                    T.NoneType in R.members(t) or t == T.AnyType for t in (at, bt)
                ):
                    raise _err(e.span, M.EQ_NONE, op=op, left=bt if at == T.NoneType else at)
                targets.append((SpecialTarget("is", self.static_is(op, at, bt)), False))
                continue
            if op in ("in", "not in"):
                elem = _common_type(bt.elems) if isinstance(bt, T.TupleType) else None
                if elem is not None:
                    b = list_from_tuple(b, T.ListType(elem))
                    self._replace_operand(e, i + 1, b)
                    bt = b.type
                ops = registry.overloads(registry.CONTAINS)
                found = resolve_call(
                    [op_signature(o, "in") for o in ops], [Arg(b, bt), Arg(a, at)], {}, e.span, "in"
                )
                if not isinstance(found, Match):
                    raise _err(e.span, M.BINARY_OPERATOR, op=op, left=at, right=bt, candidates="")
                targets.append((found.target, True))
                rtype = found.type
            else:
                names = registry.COMPARISON_OPERATORS[op]
                found, swapped = self.operator(names, a, at, b, bt, e.span)
                if found is None:
                    raise _err(
                        e.span,
                        M.BINARY_OPERATOR,
                        op=op,
                        left=at,
                        right=bt,
                        candidates=self.candidates_text(names, at, bt),
                    )
                targets.append((found.target, swapped))
                first, second = (
                    (found.bound[1], found.bound[0])
                    if swapped
                    else (found.bound[0], found.bound[1])
                )
                self._replace_operand(e, i, first)
                self._replace_operand(e, i + 1, second)
                rtype = found.type
            if len(e.ops) == 1:
                result = rtype
            elif rtype != T.BoolType:
                raise _err(e.span, M.COMPARE_CHAIN, op=op, got=rtype)
        e.targets = targets
        return result

    def _replace_operand(self, e: ast.Compare, index: int, node: ast.Expr) -> None:
        if index == 0:
            if (
                node is not e.left
                and isinstance(node, ast.Call)
                and node.bound
                and node.bound[0] is e.left
            ):
                e.left = node
        else:
            old = e.comparators[index - 1]
            if (
                node is not old
                and isinstance(node, ast.Call)
                and node.bound
                and node.bound[0] is old
            ):
                e.comparators[index - 1] = node

    def static_is(self, op: str, at: T.Type, bt: T.Type) -> Optional[bool]:
        positive = op in ("is", "==")
        value = None
        if at == T.NoneType and bt == T.NoneType:
            value = True
        elif (at == T.NoneType and T.NoneType not in R.members(bt) and bt != T.AnyType) or (
            bt == T.NoneType and T.NoneType not in R.members(at) and at != T.AnyType
        ):
            value = False
        if value is None:
            return None
        return value if positive else not value

    # ---------------------------------------------------------------- subscripts

    def expr_Subscript(self, e: ast.Subscript, frame: Frame, expected):
        vt = self.expr(e.value, frame)
        if vt == T.TensorType:
            self.tensor_index(e, frame)
            e.target = SpecialTarget("tensor_index")
            return T.TensorType
        return self.subscript(e, frame)

    def subscript(self, e: ast.Subscript, frame: Frame) -> T.Type:
        vt = e.value.type
        index = e.index
        if _unknown(vt):
            self._type_index(index, frame)
            return UNKNOWN
        if isinstance(vt, T.TupleType):
            return self.tuple_subscript(e, vt, frame)
        if isinstance(index, ast.Slice):
            parts = self.slice_parts(index, frame)
            if not isinstance(vt, (T.ListType,)) and vt != T.StrType:
                raise _err(e.span, M.NOT_SUBSCRIPTABLE, type=vt)
            index.type = T.NoneType
            args = [Arg(e.value, vt)] + [
                Arg(p, p.type) if p is not None else Arg(e, T.NoneType) for p in parts
            ]
            ops = registry.overloads("slice")
            found = resolve_call(
                [op_signature(op, "slice") for op in ops], args, {}, e.span, f"{vt} slice"
            )
            if not isinstance(found, Match):
                found = resolve_call(
                    [op_signature(op, "slice") for op in ops], args[:1], {}, e.span, f"{vt} slice"
                )
                if not isinstance(found, Match):
                    raise CompileError.at(e.span, found, "index")
            e.target = found.target
            return found.type
        it = self.expr(index, frame)
        if not isinstance(vt, (T.ListType, T.DictType)) and vt != T.StrType:
            raise _err(e.span, M.NOT_SUBSCRIPTABLE, type=vt)
        match = self.resolve_ops(
            registry.overloads(registry.GETITEM),
            [Arg(e.value, vt), Arg(index, it)],
            {},
            e.span,
            f"{vt}.__getitem__",
            by_first=True,
        )
        e.target = match.target
        if match.bound[1] is not index:
            e.index = match.bound[1]
        return match.type

    def _type_index(self, index, frame):
        if isinstance(index, ast.Slice):
            self.slice_parts(index, frame)
            index.type = T.NoneType
        elif isinstance(index, ast.Tuple):
            for x in index.elts:
                self._type_index(x, frame)
            index.type = UNKNOWN
        elif isinstance(index, ast.Constant) and index.value is Ellipsis:
            index.type = T.NoneType
        else:
            self.expr(index, frame)

    def slice_parts(self, s: ast.Slice, frame: Frame) -> list:
        parts = []
        for part in (s.lower, s.upper, s.step):
            if part is not None:
                t = self.expr(part, frame)
                if t not in (T.IntType, T.NoneType) and not _unknown(t):
                    raise _err(part.span, M.SLICE_PART, got=t)
            parts.append(part)
        return parts

    def const_int(self, e: ast.Expr) -> Optional[int]:
        value = self.mod._constant_value(e)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return None

    def tuple_subscript(self, e: ast.Subscript, vt: T.TupleType, frame: Frame) -> T.Type:
        index = e.index
        n = len(vt.elems)
        if isinstance(index, ast.Slice):
            bounds = []
            for part in (index.lower, index.upper, index.step):
                if part is None:
                    bounds.append(None)
                    continue
                self.expr(part, frame)
                value = self.const_int(part)
                if value is None:
                    raise _err(part.span, M.TUPLE_INDEX_CONSTANT, got=part.type)
                bounds.append(value)
            if bounds[2] == 0:
                raise _err(index.span, M.TUPLE_INDEX_CONSTANT, got="a zero step")
            indices = range(n)[slice(*bounds)]
            index.type = T.NoneType
            e.target = SpecialTarget("tuple_slice", (indices.start, indices.stop, indices.step))
            return T.TupleType(tuple(vt.elems[i] for i in indices))
        it = self.expr(index, frame)
        value = self.const_int(index)
        elem = _common_type(vt.elems)
        if value is None and it == T.IntType and elem is not None:
            # a run-time index into a tuple whose elements share one type reads it as a list
            e.value = list_from_tuple(e.value, T.ListType(elem))
            match = self.resolve_ops(
                registry.overloads(registry.GETITEM),
                [Arg(e.value, e.value.type), Arg(index, it)],
                {},
                e.span,
                f"{vt}.__getitem__",
                by_first=True,
            )
            e.target = match.target
            return match.type
        if value is None:
            raise _err(index.span, M.TUPLE_INDEX_CONSTANT, got=it)
        if not -n <= value < n:
            raise _err(e.span, M.TUPLE_INDEX_RANGE, type=vt, length=n, index=value)
        position = value % n
        e.target = SpecialTarget("tuple_index", position)
        return vt.elems[position]

    def tensor_index(self, e: ast.Subscript, frame: Frame) -> None:
        index = e.index
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        for item in items:
            if isinstance(item, ast.Slice):
                self.slice_parts(item, frame)
                item.type = T.NoneType
            elif isinstance(item, ast.Constant) and item.value is Ellipsis:
                item.type = T.NoneType
            else:
                t = self.expr(item, frame)
                ok = (
                    t in (T.IntType, T.NoneType, T.TensorType, T.BoolType)
                    or _unknown(t)
                    or (
                        isinstance(t, T.ListType)
                        and t.elem in (T.IntType, T.BoolType, T.TensorType)
                    )
                )
                if not ok:
                    raise _err(item.span, M.TENSOR_INDEX, got=t)
        if isinstance(index, ast.Tuple):
            index.type = T.TupleType(
                tuple(x.type if x.type is not None else T.NoneType for x in index.elts)
            )

    # ---------------------------------------------------------------- calls

    def resolve_ops(
        self, ops: list, args: list, kwargs: dict, span: Span, callee: str, by_first: bool = False
    ) -> Match:
        if by_first and args:
            # Operator overloads for other containers only clutter the message.
            fitting = [op for op in ops if _first_param_accepts(op, args[0].type)]
            ops = fitting or ops
        sigs = [op_signature(op, callee) for op in ops]
        if not sigs:
            raise CompileError.at(
                span,
                M.UNKNOWN_FUNCTION.format(module="", name=callee, hint="").lstrip("."),
                M.UNKNOWN_FUNCTION.code,
            )
        found = resolve_call(sigs, args, kwargs, span, callee)
        if not isinstance(found, Match):
            raise CompileError.at(span, found, "call")
        for node, t in found.retype:
            node.type = t
        return found

    def call_args(self, e: ast.Call, frame: Frame, skip: int = 0):
        for a in e.args:
            if isinstance(a, ast.Starred):
                raise _err(a.span, M.STARRED_ARG)
        args = []
        for a in e.args[skip:]:
            args.append(Arg(a, self.expr(a, frame), _is_empty_literal(a)))
        kwargs = {}
        for kw in e.keywords:
            if kw.name is None:
                raise _err(kw.span, M.STARRED_ARG)
            if kw.name in kwargs:
                raise _err(kw.span, M.DUPLICATE_ARG, callee="call", arg=kw.name)
            kwargs[kw.name] = Arg(kw.value, self.expr(kw.value, frame), _is_empty_literal(kw.value))
        return args, kwargs

    def finish_call(self, e: ast.Call, found: Match) -> T.Type:
        e.target = found.target
        e.bound = found.bound
        e.func.type = T.AnyType
        if e.func.target is None:
            e.func.target = found.target
        return found.type

    def expr_Call(self, e: ast.Call, frame: Frame, expected):
        func = e.func
        if isinstance(func, ast.Name) and frame.lookup(func.id) is None:
            return self.call_name(e, func.id, frame, expected)
        if isinstance(func, ast.Attribute):
            path = self.module_path(func, frame)
            if path is not None:
                return self.call_path(e, path, frame, expected)
            return self.call_method(e, frame)
        if isinstance(func, ast.Name):
            raise _err(func.span, M.NOT_CALLABLE, type=frame.lookup(func.id).type)
        t = self.expr(func, frame)
        raise _err(func.span, M.NOT_CALLABLE, type=t)

    def call_name(self, e: ast.Call, name: str, frame: Frame, expected) -> T.Type:
        mod = self.mod
        if name in self.closures:
            self.closure_used.add(name)
            raise _err(e.span, M.CLOSURE, name=name)
        if name in mod.functions:
            return self.call_function(e, mod.functions[name], frame)
        if name in mod.classes:
            return self.construct(e, mod.classes[name], frame)
        if name in mod.constants or (name in mod.toplevel_names and not self.toplevel):
            self.global_name(e.func, frame)
            raise _err(e.func.span, M.NOT_CALLABLE, type=e.func.type)
        if name in B.EXCEPTIONS:
            raise _err(e.span, M.EXCEPTION_VALUE, name=name)
        if name in B.ITERATION_FORMS:
            raise _err(e.span, M.RANGE_CONTEXT, name=name)
        if name == "isinstance":
            return self.call_isinstance(e, frame)
        if mod.is_alias(name):
            return self.call_path(e, mod.canonical(name), frame, expected)
        if name in ("list", "dict", "tuple"):
            special = self.container_constructor(e, name, frame)
            if special is not None:
                return special
        ops = registry.functions_in(registry.Namespace.BUILTINS, name)
        if not ops:
            candidates = (
                frame.names()
                | set(mod.functions)
                | {
                    op.name
                    for op in registry.all_ops()
                    if registry.Namespace.BUILTINS in op.namespaces
                }
            )
            raise _err(e.func.span, M.NAME_UNDEFINED, name=name, hint=M.suggest(name, candidates))
        args, kwargs = self.call_args(e, frame)
        if (name == "len" and len(args) == 1 and not kwargs
                and isinstance(args[0].type, T.TupleType)):
            e.target = ConstantTarget(len(args[0].type.elems))
            e.bound = []
            e.func.type = T.AnyType
            e.func.target = e.target
            return T.IntType
        return self.finish_call(e, self.resolve_ops(ops, args, kwargs, e.span, name))

    def container_constructor(self, e: ast.Call, name: str, frame: Frame) -> Optional[T.Type]:
        """``list(iterable)``, ``list()``, ``dict()``: typed here when no registry op takes them."""
        if e.keywords or len(e.args) > 1:
            return None
        if not e.args:
            if name == "tuple":
                return None
            e.target = SpecialTarget(name)
            e.bound = []
            e.func.type = T.AnyType
            e.func.target = e.target
            return (
                T.ListType(T.TensorType) if name == "list" else T.DictType(T.StrType, T.TensorType)
            )
        if name != "list":
            return None
        arg = e.args[0]
        if (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Name)
            and arg.func.id in B.ITERATION_FORMS
            and frame.lookup(arg.func.id) is None
        ):
            elem = self.iterable(arg, frame)
        else:
            t = self.expr(arg, frame)
            ops = registry.functions_in(registry.Namespace.BUILTINS, "list")
            if ops:
                found = resolve_call(
                    [op_signature(op, "list") for op in ops], [Arg(arg, t)], {}, e.span, "list"
                )
                if isinstance(found, Match):
                    return self.finish_call(e, found)
            elem = (
                self.iterable(arg, frame)
                if not isinstance(t, T.TupleType)
                else self.element_type(t, arg)
            )
            if isinstance(elem, list):
                raise _err(arg.span, M.NOT_ITERABLE, type=t)
        e.target = SpecialTarget("list")
        e.bound = [arg]
        e.func.type = T.AnyType
        e.func.target = e.target
        return T.ListType(elem)

    def call_function(self, e: ast.Call, info: FunctionInfo, frame: Frame) -> T.Type:
        args, kwargs = self.call_args(e, frame)
        fn_type = self.mod.callee_type(info, self.info, e.span)
        if fn_type is None:
            raise _Abort()
        sig = function_signature(
            fn_type, info.node.name, info.defaults, FunctionTarget(info.qualified_name, fn_type),
            kwonly=_keyword_only(info),
        )
        found = resolve_call([sig], args, kwargs, e.span, info.node.name)
        if not isinstance(found, Match):
            raise CompileError.at(e.span, found, "call-arg")
        for node, t in found.retype:
            node.type = t
        return self.finish_call(e, found)

    def construct(self, e: ast.Call, info: ClassInfo, frame: Frame) -> T.Type:
        args, kwargs = self.call_args(e, frame)
        ct = info.type
        if info.namedtuple:
            params = tuple((n, t, n in info.defaults) for n, t in zip(ct.field_names, ct.elems))
            fn_type = T.FunctionType(params, ct, info.node.name)
            sig = function_signature(fn_type, info.node.name, info.defaults, ConstructTarget(ct))
        else:
            init = info.methods.get("__init__")
            if init is None:
                fn_type = T.FunctionType((), T.NoneType, "__init__")
                sig = function_signature(fn_type, info.node.name, {}, ConstructTarget(ct))
            else:
                fn_type = self.mod.callee_type(init, self.info, e.span)
                if fn_type is None:
                    raise _Abort()
                sig = function_signature(
                    fn_type, info.node.name, init.defaults, ConstructTarget(ct), skip_self=True,
                    kwonly=_keyword_only(init),
                )
            sig.returns = lambda env, ct=ct: ct
        found = resolve_call([sig], args, kwargs, e.span, info.node.name)
        if not isinstance(found, Match):
            raise CompileError.at(e.span, found, "call-arg")
        for node, t in found.retype:
            node.type = t
        self.finish_call(e, found)
        return ct

    def call_isinstance(self, e: ast.Call, frame: Frame) -> T.Type:
        if len(e.args) != 2 or e.keywords:
            raise _err(e.span, M.ISINSTANCE_TYPE)
        subject, spec = e.args
        st = self.expr(subject, frame)
        items = spec.elts if isinstance(spec, ast.Tuple) else [spec]
        targets = []
        for item in items:
            try:
                targets.append(self.mod.resolve_annotation(item))
            except CompileError:
                raise _err(item.span, M.ISINSTANCE_TYPE)
            item.type = T.AnyType
        if isinstance(spec, ast.Tuple):
            spec.type = T.AnyType
        if isinstance(subject, ast.Name) and not _unknown(st):
            var = frame.lookup(subject.id)
            refs, known = (
                R.isinstance_test(subject.id, st, targets) if var is not None else (R.NONE, None)
            )
        else:
            refs, known = R.NONE, (None if _unknown(st) else R.isinstance_test("", st, targets)[1])
        e._refinements = refs
        e.target = SpecialTarget("isinstance", known)
        e.bound = [subject]
        e.func.type = T.AnyType
        e.func.target = e.target
        return T.BoolType

    def call_path(self, e: ast.Call, path: str, frame: Frame, expected) -> T.Type:
        special = B.SPECIAL_CALLS.get(path)
        if special == "annotate":
            if len(e.args) != 2 or e.keywords:
                raise _err(e.span, M.ANNOTATE_ARGS)
            declared = self.mod.resolve_annotation(e.args[0])
            e.args[0].type = T.AnyType
            got = self.expr(e.args[1], frame, expected=declared)
            if not T.is_subtype(got, declared) and not _unknown(got):
                if not (_is_empty_literal(e.args[1]) and type(got) is type(declared)):
                    raise _err(
                        e.span, M.ANNOTATION_MISMATCH, name="annotate", declared=declared, got=got
                    )
                e.args[1].type = declared
            e.target = SpecialTarget("annotate")
            e.bound = [e.args[1]]
            e.func.type = T.AnyType
            e.func.target = e.target
            return declared
        if special == "is_scripting":
            e.target = SpecialTarget("is_scripting", True)
            e.bound = []
            e.func.type = T.AnyType
            e.func.target = e.target
            return T.BoolType
        if special == "isinstance":
            return self.call_isinstance(e, frame)
        if special == "unwrap_optional":
            args, _ = self.call_args(e, frame)
            if len(args) != 1:
                raise _err(e.span, M.ANNOTATE_ARGS)
            e.target = SpecialTarget("unchecked_cast")
            e.bound = [args[0].node]
            e.func.type = T.AnyType
            return R.without_none(args[0].type)
        if special == "no_grad":
            raise _err(e.span, M.NO_GRAD_VALUE)
        head, last = B.split_path(path)
        namespace = B.NAMESPACES.get(head)
        if path in B.TYPE_NAMES or path == "torch.device" or namespace is None:
            ops = (
                registry.functions_in(registry.Namespace.TORCH, last)
                if path == "torch.device"
                else []
            )
            if not ops:
                raise _err(
                    e.func.span,
                    M.UNKNOWN_FUNCTION,
                    module=head or path,
                    name=last,
                    hint=M.suggest(last, self.module_names(head)),
                )
        else:
            ops = registry.functions_in(namespace, last)
        if not ops:
            raise _err(
                e.func.span,
                M.UNKNOWN_FUNCTION,
                module=head,
                name=last,
                hint=M.suggest(last, self.module_names(head)),
            )
        args, kwargs = self.call_args(e, frame)
        if namespace == registry.Namespace.MATH and any(
            a.type == T.TensorType for a in list(args) + list(kwargs.values())
        ):
            # math.f is the same operator as torch.f in TorchScript: a Tensor argument takes
            # the Tensor overload (and the result converts where a number is expected)
            ops = list(ops) + registry.functions_in(registry.Namespace.TORCH, last)
        return self.finish_call(e, self.resolve_ops(ops, args, kwargs, e.span, path))

    def call_method(self, e: ast.Call, frame: Frame) -> T.Type:
        func = e.func
        name = func.attr
        vt = self.expr(func.value, frame)
        args, kwargs = self.call_args(e, frame)
        if _unknown(vt):
            func.type = T.AnyType
            return UNKNOWN
        if isinstance(vt, T.ClassType):
            info = self.mod.classes.get(vt.class_name)
            minfo = info.methods.get(name) if info is not None else None
            if minfo is None:
                if name in vt.attributes:
                    raise _err(e.span, M.NOT_CALLABLE, type=vt.attributes[name])
                raise _err(
                    func.span,
                    M.CLASS_ATTRIBUTE,
                    cls=vt,
                    name=name,
                    hint=M.suggest(name, list(vt.attributes) + list(info.methods if info else [])),
                )
            fn_type = self.mod.callee_type(minfo, self.info, e.span)
            if fn_type is None:
                raise _Abort()
            sig = function_signature(
                fn_type, f"{vt}.{name}", minfo.defaults, MethodTarget(vt, name), skip_self=True,
                kwonly=_keyword_only(minfo),
            )
            found = resolve_call([sig], args, kwargs, e.span, f"{vt}.{name}")
            if not isinstance(found, Match):
                raise CompileError.at(e.span, found, "call-arg")
            for node, t in found.retype:
                node.type = t
            found.bound = [func.value] + found.bound
            return self.finish_call(e, found)
        ops = registry.methods(name)
        self_arg = Arg(func.value, vt)
        sigs = [op_signature(op, f"{_type_label(vt)}.{name}") for op in ops]
        applicable = [s for s, op in zip(sigs, ops) if _first_param_accepts(op, vt)]
        if not applicable:
            raise _err(
                func.span,
                M.UNKNOWN_ATTR,
                type=_type_label(vt),
                name=name,
                hint=self.attr_hint(name, vt),
            )
        found = resolve_call(
            applicable, [self_arg] + args, kwargs, e.span, f"{_type_label(vt)}.{name}"
        )
        if not isinstance(found, Match):
            raise CompileError.at(e.span, found, "call")
        for node, t in found.retype:
            node.type = t
        return self.finish_call(e, found)


def _module_alias(value: Any) -> Optional[str]:
    """The canonical module a captured Python global stands for (``torch``, ``F``, ``math``)."""
    import types as pytypes

    if not isinstance(value, pytypes.ModuleType):
        return None
    name = value.__name__
    for prefix in ("tensorscript", "torch"):
        if name == prefix or name.startswith(prefix + "."):
            canon = "torch" + name[len(prefix) :]
            canon = canon.replace("torch.lang", "torch").replace("torch.jit.ops", "torch")
            return canon if canon in B.MODULES else "torch"
    if name in ("math", "typing"):
        return name
    return None


class _Holder:
    def __init__(self, value):
        self.value = value


def _implicit_conversion(node: ast.Expr, got: T.Type, declared: T.Type) -> Optional[ast.Expr]:
    """``node`` converted as TorchScript converts a returned value (a 0-dim Tensor or a number
    to int or float, element by element in a tuple display), or None where it does not."""
    if _unknown(got):
        return None
    if conversion_op(got, declared) is not None and got != T.IntType:
        return conversion_call(node, got, declared)
    if (isinstance(node, ast.Tuple) and isinstance(got, T.TupleType)
            and isinstance(declared, T.TupleType) and len(got.elems) == len(declared.elems)):
        changed = False
        elts = list(node.elts)
        for i, (el, g, d) in enumerate(zip(node.elts, got.elems, declared.elems)):
            if T.is_subtype(g, d):
                continue
            new = _implicit_conversion(el, g, d)
            if new is None:
                return None
            elts[i] = new
            changed = True
        if changed:
            node.elts = elts
            node.type = T.TupleType(tuple(e.type for e in elts))
            return node
    return None


def _keyword_only(info: FunctionInfo) -> frozenset:
    return frozenset(p.name for p in info.node.params if p.kw_only)


def _common_type(types) -> Optional[T.Type]:
    """The one type all of ``types`` unify to, or None (also for none at all)."""
    if not types:
        return None
    u = types[0]
    for t in types[1:]:
        u = T.unify(u, t)
        if u is None:
            return None
    return u


def _unknown(t) -> bool:
    return t is None or contains_unknown(t)


def _is_none(e: ast.Expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


def _is_empty_literal(e) -> bool:
    return isinstance(e, (ast.List, ast.Dict)) and not (
        e.elts if isinstance(e, ast.List) else e.keys
    )


def _type_label(t: T.Type) -> str:
    if isinstance(t, T.ListType):
        return "list"
    if isinstance(t, T.DictType):
        return "dict"
    return str(t)


def _first_param_accepts(op: registry.OpDef, t: T.Type) -> bool:
    """Whether a method op's ``self`` parameter can take a value of type ``t`` (a rough filter
    for candidate lists; full matching decides)."""
    if not op.schema.params:
        return False
    s = op.schema.params[0].type
    kind = s.kind
    if kind == "Tensor":
        return t == T.TensorType
    if kind == "list":
        return isinstance(t, T.ListType)
    if kind == "dict":
        return isinstance(t, T.DictType)
    if kind == "str":
        return t == T.StrType
    if kind == "tuple":
        return isinstance(t, T.TupleType)
    if kind in ("int", "float", "bool", "Scalar"):
        return t in (T.IntType, T.FloatType, T.BoolType, T.NumberType)
    if kind == "optional":
        return True
    return t != T.TensorType
