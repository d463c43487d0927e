"""Lowering: the typed AST of a checked module to one SSA ``Graph`` per function.

Variables become SSA values through a scope per block (``Env``): a variable assigned in a
branch becomes an output of its ``prim::If``, a variable assigned in a loop body and defined
before the loop is carried by the ``prim::Loop`` (a block parameter and a block return), and a
variable defined on only some paths gets ``prim::Uninitialized`` on the others (the checker has
already rejected reads that could see it).

``break``, ``continue`` and ``return`` become structured control flow (TorchScript's exit
transform), with the flags held in ordinary variables so that they flow through ifs and loops
like any other: ``$skip`` (the rest of the current block is skipped), ``$stop`` (the current loop
ends after this iteration), ``$did_return`` and ``$ret`` (the return value). Code after a
statement that may exit is guarded by ``if $skip``; an ``if`` one of whose branches always exits
gets the statements that follow it in its other branch instead. Unused flags disappear in dead
code elimination.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..parser import ast as A
from ..parser.source import CompileError
from ..typecheck import targets as TG
from .ir import graph as G
from .ir import types as T
from .ir.graph import Block, Graph, Node, Value
from .lower_support import Env, constant_type, default_for, resolve, return_type
from .ops import registry as R

SKIP, STOP, DID_RETURN, RET = "$skip", "$stop", "$did_return", "$ret"
_FLAG_NAMES = {SKIP: "skip", STOP: "stop", DID_RETURN: "did_return", RET: "ret"}
LOOP_FOREVER = 2 ** 63 - 1  # the trip count of a while loop


@dataclass
class LoweredModule:
    """One graph per function (``"__main__"`` for a script's top-level statements) and per
    method (``"Class.method"``)."""

    graphs: dict = field(default_factory=dict)
    classes: dict = field(default_factory=dict)  # name -> ClassType
    constants: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> Graph:
        return self.graphs[name]


def lower_module(checked) -> LoweredModule:
    out = LoweredModule(constants=dict(getattr(checked, "constants", {}) or {}))
    for name, fdef in (getattr(checked, "functions", {}) or {}).items():
        out.graphs[name] = lower_function(fdef, name)
    for cname, cdef in (getattr(checked, "classes", {}) or {}).items():
        cls_type = getattr(cdef, "type", None) or cdef
        out.classes[cname] = cls_type
        for method_name, mdef in _methods_of(cdef):
            out.graphs[f"{cname}.{method_name}"] = lower_function(mdef, f"{cname}.{method_name}",
                                                                  self_type=cls_type)
    main = getattr(checked, "main", None)
    if main is not None:
        out.graphs["__main__"] = lower_function(main, "__main__")
    return out


def _methods_of(cdef):
    if isinstance(cdef, A.ClassDef):
        for stmt in cdef.body:
            if isinstance(stmt, A.FunctionDef):
                yield stmt.name, stmt
    elif hasattr(cdef, "method_defs"):
        yield from cdef.method_defs.items()


def lower_function(fdef: A.FunctionDef, name: Optional[str] = None, self_type=None) -> Graph:
    return _FunctionLowering(fdef, name or fdef.name, self_type).run()


# ------------------------------------------------------------------ exits

@dataclass(frozen=True)
class _Exits:
    terminates: bool  # control never reaches the next statement
    flags: frozenset  # "break", "continue", "return" that may happen


_NO_EXIT = _Exits(False, frozenset())


def _block_exits(stmts: list) -> _Exits:
    flags: set = set()
    for s in stmts:
        e = _stmt_exits(s)
        flags |= e.flags
        if e.terminates:
            return _Exits(True, frozenset(flags))
    return _Exits(False, frozenset(flags))


def _stmt_exits(s) -> _Exits:
    if isinstance(s, A.Return):
        return _Exits(True, frozenset({"return"}))
    if isinstance(s, A.Break):
        return _Exits(True, frozenset({"break"}))
    if isinstance(s, A.Continue):
        return _Exits(True, frozenset({"continue"}))
    if isinstance(s, A.Raise):
        return _Exits(True, frozenset())
    if isinstance(s, A.If):
        a, b = _block_exits(s.body), _block_exits(s.orelse)
        return _Exits(a.terminates and b.terminates, a.flags | b.flags)
    if isinstance(s, (A.For, A.While)):
        body = _block_exits(s.body)
        forever = (isinstance(s, A.While) and isinstance(s.test, A.Constant)
                   and s.test.value is True and "break" not in body.flags)
        return _Exits(forever, body.flags & {"return"})
    if isinstance(s, A.With):
        return _block_exits(s.body)
    return _NO_EXIT


def _assigned_names(stmts: list, out: Optional[dict] = None) -> dict:
    """Names a statement list may assign (an ordered set), not looking into comprehensions."""
    out = {} if out is None else out

    def target(t):
        if isinstance(t, A.Name):
            out[t.id] = None
        elif isinstance(t, (A.Tuple, A.List)):
            for e in t.elts:
                target(e)
        elif isinstance(t, A.Starred):
            target(t.value)

    for s in stmts:
        if isinstance(s, A.Assign):
            for t in s.targets:
                target(t)
        elif isinstance(s, (A.AnnAssign, A.AugAssign)):
            target(s.target)
        elif isinstance(s, A.For):
            target(s.target)
            _assigned_names(s.body, out)
            _assigned_names(s.orelse, out)
        elif isinstance(s, (A.While, A.If)):
            _assigned_names(s.body, out)
            _assigned_names(s.orelse, out)
        elif isinstance(s, A.With):
            for item in s.items:
                if item.optional_vars is not None:
                    target(item.optional_vars)
            _assigned_names(s.body, out)
        elif isinstance(s, A.Return):
            out[DID_RETURN] = None
            out[RET] = None
    return out


def _store_types(stmts: list, name: str) -> list:
    """Static types the checker recorded where ``name`` is assigned in ``stmts``."""
    found = []
    for s in stmts:
        for node in A.walk(s):
            if isinstance(node, A.Name) and node.id == name and node.type is not None:
                found.append(node.type)
    return found


# ------------------------------------------------------------------ iteration sources

@dataclass
class _Iter:
    """Something a ``for`` walks: its length and how to get item ``i`` (a Value, or a list of
    items for ``enumerate``/``zip``, bound element-wise to a tuple target)."""

    length: Optional[Value]
    get: Callable
    unrolled: Optional[list] = None  # a tuple: its items, one body copy each


# ------------------------------------------------------------------ one function

class _FunctionLowering:
    def __init__(self, fdef: A.FunctionDef, name: str, self_type=None):
        self.fdef = fdef
        self.graph = Graph(name)
        self.graph.signature = fdef.type
        self.block = self.graph.block
        self.env = Env()
        self.self_type = self_type
        ftype = fdef.type
        self.ret_type = ftype.returns if ftype is not None else T.NoneType
        self.declared: dict = {RET: self.ret_type, DID_RETURN: T.BoolType,
                               SKIP: T.BoolType, STOP: T.BoolType}
        self.loop_depth = 0
        self.loop_types: dict = {}  # carried variable -> the type of its loop parameter

    # -------------------------------------------------------------- driver

    def run(self) -> Graph:
        fdef = self.fdef
        ptypes = list(self.fdef.type.params) if self.fdef.type is not None else []
        for i, p in enumerate(fdef.params):
            t = p.type
            if t is None and i < len(ptypes):
                t = ptypes[i][1]
            if t is None and i == 0 and self.self_type is not None:
                t = self.self_type
            if t is None:
                t = T.AnyType
            if isinstance(t, T.FunctionType):
                t = t.returns
            v = self.graph.add_input(t, p.name)
            self.env.set(p.name, v)
            self.declared[p.name] = t
        if any(isinstance(n, A.Return) for s in fdef.body for n in A.walk(s)):
            self.set_var(SKIP, self.const(False, span=fdef.span))
            self.set_var(DID_RETURN, self.const(False, span=fdef.span))
        self.stmts(fdef.body)
        if self.ret_type == T.NoneType:
            result = self.const(None, span=fdef.span)
        else:
            result = self.env.get(RET)
            if result is None:
                result = self.uninitialized(self.ret_type, fdef.span)
        self.block.set_returns([result])
        return self.graph

    # -------------------------------------------------------------- emitting

    def emit(self, kind: str, inputs=(), out_types=(), attrs=None, span=None, op=None) -> Node:
        node = Node(kind, op=op, inputs=list(inputs), output_types=list(out_types), attrs=attrs, span=span)
        self.block.append(node)
        return node

    def const(self, value, type_: Optional[T.Type] = None, span=None) -> Value:
        t = type_ if type_ is not None else constant_type(value)
        return self.emit(G.CONSTANT, (), [t], {"value": value}, span).output

    def uninitialized(self, t: T.Type, span=None) -> Value:
        return self.emit(G.UNINITIALIZED, (), [t], None, span).output

    def op_node(self, op: R.OpDef, inputs: list, span, out_type: Optional[T.Type] = None) -> Value:
        """Apply ``op`` to ``inputs`` (schema order); missing trailing defaults become constants."""
        inputs = list(inputs)
        params = op.schema.params
        for p in params[len(inputs):]:
            if not p.has_default:
                raise CompileError.at(span, f"missing argument {p.name!r} of {op.qualified_name}")
            value, t = default_for(p.default, p.type)
            inputs.append(self.const(value, t, span))
        if out_type is None:
            out_type = self._infer_return(op, inputs)
        outs = [] if not op.schema.returns else [out_type]
        node = self.emit(G.OP, inputs, outs, None, span, op=op)
        if not outs:
            return self.const(None, span=span)
        return node.output

    def _infer_return(self, op: R.OpDef, inputs: list) -> T.Type:
        from .lower_support import match
        bound = match(op, [v.type for v in inputs[:len(op.schema.params)]], {})
        return return_type(op, bound[1] if bound else {})

    def call_op(self, name: str, args: list, span, kwargs: Optional[dict] = None,
                out_type: Optional[T.Type] = None) -> Value:
        """Resolve an overload of ``name`` for the values' static types and apply it."""
        kwargs = kwargs or {}
        found = resolve(name, [a.type for a in args], {k: v.type for k, v in kwargs.items()})
        if found is None:
            types = ", ".join(str(a.type) for a in args)
            raise CompileError.at(span, f"no overload of {name} accepts ({types})")
        op, sources, typevars = found
        inputs = []
        for (kind, key), p in zip(sources, list(op.schema.params) + [None] * len(sources)):
            if kind == "arg":
                inputs.append(args[key])
            elif kind == "kw":
                inputs.append(kwargs[key])
            else:
                value, t = default_for(key, p.type)
                inputs.append(self.const(value, t, span))
        if out_type is None:
            out_type = return_type(op, typevars)
        outs = [] if not op.schema.returns else [out_type]
        node = self.emit(G.OP, inputs, outs, None, span, op=op)
        return node.output if outs else self.const(None, span=span)

    @contextmanager
    def scope(self, block: Block, env: Env):
        saved = self.block, self.env
        self.block, self.env = block, env
        try:
            yield
        finally:
            self.block, self.env = saved

    def set_var(self, name: str, value: Value) -> None:
        if not value.name and value.node is not None and value.node.kind != G.CONSTANT:
            value.name = _FLAG_NAMES.get(name, name)
        self.env.set(name, value)

    # -------------------------------------------------------------- structured control flow

    def merged_type(self, name: str, types: list) -> T.Type:
        """The type a variable has where values of ``types`` meet (an If or a loop): their
        unification, else the declared type (the return value always has the declared type)."""
        declared = self.declared.get(name)
        fits = declared is not None and all(T.is_subtype(t, declared) for t in types)
        if fits and name == RET:
            return declared
        t = types[0]
        for other in types[1:]:
            u = T.unify(t, other)
            if u is None:
                if fits:
                    return declared
                u = t if T.is_subtype(other, t) else other
            t = u
        return t

    def emit_if(self, cond: Value, then_fn, else_fn, span, result_type: Optional[T.Type] = None):
        """``prim::If``: each fn lowers into its block (returning the result Value when
        ``result_type`` is given); variables assigned in either block become outputs."""
        node = self.emit(G.IF, [cond], [], None, span)
        envs, results = [], []
        for fn in (then_fn, else_fn):
            block = node.add_block()
            env = Env(self.env)
            with self.scope(block, env):
                r = fn() if fn is not None else None
            envs.append((block, env))
            results.append(r)
        names = list(dict.fromkeys([*envs[0][1].vars, *envs[1][1].vars]))
        returns: list[list] = [[], []]
        out_types, out_names = [], []
        if result_type is not None:
            out_types.append(result_type)
            out_names.append("")
            returns[0].append(results[0])
            returns[1].append(results[1])
        for name in names:
            values = [env.get(name) for _, env in envs]
            if values[0] is values[1]:
                # Both branches hold a value from outside the If: no output needed.
                if values[0] is not None and self.env.get(name) is not values[0]:
                    self.env.set(name, values[0])
                continue
            known = [v.type for v in values if v is not None]
            t = self.merged_type(name, known)
            for i, (block, env) in enumerate(envs):
                v = values[i]
                if v is None:
                    with self.scope(block, env):
                        v = self.uninitialized(t, span)
                returns[i].append(v)
            out_types.append(t)
            out_names.append(name)
        for i, (block, _) in enumerate(envs):
            block.set_returns(returns[i])
        for i, t in enumerate(out_types):
            node.outputs.append(Value(t, node=node, index=i))
        result = None
        for out, name in zip(node.outputs, out_names):
            if name:
                self.set_var(name, out)
            else:
                result = out
        return result

    def emit_loop(self, trip: Value, cond: Value, body_fn, span, carried: list,
                  index_name: str = "i", cond_fn=None) -> None:
        """``prim::Loop``: ``body_fn(i)`` lowers one iteration; ``carried`` variables flow
        through it; ``cond_fn`` recomputes a ``while`` condition at the end of the body."""
        pre = [self.env.get(n) for n in carried]
        node = self.emit(G.LOOP, [trip, cond, *pre], [], None, span)
        block = node.add_block()
        i = block.add_param(T.IntType, index_name)
        env = Env(self.env)
        for name, v in zip(carried, pre):
            t = self.loop_types.get(name) or v.type
            env.set(name, block.add_param(t, _FLAG_NAMES.get(name, name)))
        with self.scope(block, env):
            flags = body_fn(i) or frozenset()
            if flags & {"break", "return"}:
                stop = env.get(STOP)
                if cond_fn is None and resolve("__not__", [T.BoolType]):
                    cont = self.call_op("__not__", [stop], span, out_type=T.BoolType)
                else:
                    cont = self.emit_if(stop, lambda: self.const(False, span=span),
                                        (lambda: cond_fn()) if cond_fn else (lambda: self.const(True, span=span)),
                                        span, T.BoolType)
            elif cond_fn is not None:
                cont = cond_fn()
            else:
                cont = self.const(True, span=span)
            block.set_returns([cont] + [env.get(n) for n in carried])
        for k, name in enumerate(carried):
            t = block.params[k + 1].type
            out = Value(t, node=node, index=k)
            node.outputs.append(out)
            self.set_var(name, out)

    def carried_for(self, body: list, extra: tuple = ()) -> list:
        names = _assigned_names(body)
        for n in extra:
            names[n] = None
        carried = []
        for name in names:
            if name in (SKIP, STOP):
                continue
            if self.env.get(name) is not None:
                carried.append(name)
                types = [self.env.get(name).type] + _store_types(body, name)
                self.loop_types[name] = self.merged_type(name, types)
        return carried

    def prepare_exits(self, body: list, span) -> frozenset:
        """Before a loop: define the return flags it may carry."""
        flags = _block_exits(body).flags
        if "return" in flags:
            if self.env.get(DID_RETURN) is None:
                self.set_var(DID_RETURN, self.const(False, span=span))
            if self.env.get(RET) is None and self.ret_type != T.NoneType:
                self.set_var(RET, self.uninitialized(self.ret_type, span))
        return flags

    def start_iteration(self, flags: frozenset, span) -> None:
        if flags:
            self.set_var(SKIP, self.const(False, span=span))
            self.set_var(STOP, self.const(False, span=span))

    def finish_loop(self, flags: frozenset, span) -> None:
        """After a loop: a return inside it skips what follows (and ends enclosing loops)."""
        if "return" in flags:
            did = self.env.get(DID_RETURN)
            self.set_var(SKIP, did)
            if self.loop_depth:
                self.set_var(STOP, did)

    # -------------------------------------------------------------- statements

    def stmts(self, body: list) -> None:
        for k, s in enumerate(body):
            rest = body[k + 1:]
            if isinstance(s, A.If) and rest:
                a, b = _block_exits(s.body), _block_exits(s.orelse)
                if a.terminates and a.flags and not b.terminates:
                    self.stmt(A.If(s.test, s.body, list(s.orelse) + rest, span=s.span))
                    return
                if b.terminates and b.flags and not a.terminates:
                    self.stmt(A.If(s.test, list(s.body) + rest, s.orelse, span=s.span))
                    return
            self.stmt(s)
            e = _stmt_exits(s)
            if e.terminates:
                return
            if e.flags and rest:
                skip = self.env.get(SKIP)
                self.emit_if(skip, None, lambda: self.stmts(rest), rest[0].span)
                return

    def stmt(self, s) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise CompileError.at(s.span, f"{type(s).__name__} statements are not supported here")
        method(s)

    def stmt_Pass(self, s) -> None:
        pass

    def stmt_Import(self, s) -> None:
        pass

    stmt_ImportFrom = stmt_Import

    def stmt_ExprStmt(self, s) -> None:
        self.expr(s.value)

    def stmt_Assign(self, s) -> None:
        if (len(s.targets) == 1 and isinstance(s.targets[0], (A.Tuple, A.List))
                and isinstance(s.value, A.Tuple) and len(s.value.elts) == len(s.targets[0].elts)
                and not any(isinstance(e, A.Starred) for e in s.targets[0].elts)):
            values = [self.expr(e) for e in s.value.elts]
            for t, v in zip(s.targets[0].elts, values):
                self.assign(t, v)
            return
        value = self.expr(s.value)
        for t in s.targets:
            self.assign(t, value)

    def stmt_AnnAssign(self, s) -> None:
        declared = getattr(s.target, "type", None)
        if isinstance(s.target, A.Name) and declared is not None:
            self.declared[s.target.id] = declared
        if s.value is None:
            return
        value = self.expr(s.value)
        self.assign(s.target, value)

    def stmt_AugAssign(self, s) -> None:
        op = s.op_target
        if not isinstance(op, R.OpDef):
            raise CompileError.at(s.span, f"unsupported augmented assignment {s.op}=")
        swapped = bool(getattr(s, "swapped", False))
        target = s.target
        if isinstance(target, A.Name):
            cur = self.expr(target)
            rhs = self.expr(s.value)
            new = self.apply_binary(op, cur, rhs, swapped, s.span, target.type)
            self.set_var(target.id, new)
        elif isinstance(target, A.Attribute):
            obj = self.expr(target.value)
            cur = self.get_field(obj, target, target.span)
            rhs = self.expr(s.value)
            new = self.apply_binary(op, cur, rhs, swapped, s.span, target.type)
            self.set_field(obj, target, new, s.span)
        elif isinstance(target, A.Subscript):
            base = self.expr(target.value)
            if _is_tensor_index(target):
                from .lower_index import augassign_tensor_index
                augassign_tensor_index(self, base, target, op, s, swapped)
                return
            index = self.expr(target.index)
            get_op = set_op = None
            if isinstance(target.target, TG.SpecialTarget) and target.target.kind == "subscript_update":
                get_op, set_op = target.target.value
            if isinstance(get_op, R.OpDef):
                cur = self.op_node(get_op, [base, index], s.span, target.type)
            else:
                cur = self.call_op(R.GETITEM, [base, index], s.span, out_type=target.type)
            rhs = self.expr(s.value)
            new = self.apply_binary(op, cur, rhs, swapped, s.span, cur.type)
            if isinstance(set_op, R.OpDef):
                self.op_node(set_op, [base, index, new], s.span)
            else:
                self.call_op(R.SETITEM, [base, index, new], s.span)
        else:
            raise CompileError.at(s.span, "unsupported augmented assignment target")

    def apply_binary(self, op: R.OpDef, a: Value, b: Value, swapped: bool, span, out_type=None) -> Value:
        args = [b, a] if swapped else [a, b]
        inferred = self._infer_return(op, args)
        if inferred not in (T.AnyType, T.NumberType) or out_type is None:
            out_type = inferred
        return self.op_node(op, args, span, out_type)

    def stmt_If(self, s) -> None:
        known = _static_value(s.test)
        if known is not None:
            self.stmts(s.body if known else s.orelse)
            return
        cond = self.cond(s.test)
        self.emit_if(cond, lambda: self.stmts(s.body),
                     (lambda: self.stmts(s.orelse)) if s.orelse else None, s.span)

    def stmt_While(self, s) -> None:
        if s.orelse:
            raise CompileError.at(s.span, "while ... else is not supported")
        flags = self.prepare_exits(s.body, s.span)
        carried = self.carried_for(s.body)
        cond0 = self.cond(s.test)
        trip = self.const(LOOP_FOREVER, span=s.span)

        def body(i):
            self.loop_depth += 1
            try:
                self.start_iteration(flags, s.span)
                self.stmts(s.body)
            finally:
                self.loop_depth -= 1
            return flags

        self.emit_loop(trip, cond0, body, s.span, carried, cond_fn=lambda: self.cond(s.test))
        self.finish_loop(flags, s.span)

    def stmt_For(self, s) -> None:
        if s.orelse:
            raise CompileError.at(s.span, "for ... else is not supported")
        src = self.iter_source(s.iter)
        flags = self.prepare_exits(s.body, s.span)
        if src.unrolled is not None:
            copies = getattr(s, "unrolled", None) or [(s.target, s.body)] * len(src.unrolled)
            self.unrolled_for(s, [(t, b, item) for (t, b), item in zip(copies, src.unrolled)], flags)
            return
        carried = self.carried_for(s.body)
        index_name = s.target.id if isinstance(s.target, A.Name) and src.get is _identity else "i"

        def body(i):
            self.loop_depth += 1
            try:
                self.start_iteration(flags, s.span)
                self.bind_target(s.target, src.get(i), s.span)
                self.stmts(s.body)
            finally:
                self.loop_depth -= 1
            return flags

        self.emit_loop(src.length, self.const(True, span=s.span), body, s.span, carried, index_name)
        self.finish_loop(flags, s.span)

    def unrolled_for(self, s, copies: list, flags: frozenset) -> None:
        """A loop over a tuple: one copy of the body per element, in sequence."""
        saved = {n: self.env.get(n) for n in (SKIP, STOP)}
        self.loop_depth += 1
        items = copies
        try:
            def iteration(k: int) -> None:
                if k == len(items):
                    return
                target, body, item = items[k]
                self.start_iteration(flags, s.span)
                self.bind_target(target, item, s.span)
                self.stmts(body)
                if k + 1 < len(items):
                    if flags & {"break", "return"}:
                        self.emit_if(self.env.get(STOP), None, lambda: iteration(k + 1), s.span)
                    else:
                        iteration(k + 1)

            iteration(0)
        finally:
            self.loop_depth -= 1
        for n, v in saved.items():
            if flags:
                self.set_var(n, v if v is not None else self.const(False, span=s.span))
        self.finish_loop(flags, s.span)

    def stmt_Break(self, s) -> None:
        self.set_var(STOP, self.const(True, span=s.span))
        self.set_var(SKIP, self.const(True, span=s.span))

    def stmt_Continue(self, s) -> None:
        self.set_var(SKIP, self.const(True, span=s.span))

    def stmt_Return(self, s) -> None:
        if s.value is not None and self.ret_type != T.NoneType:
            self.set_var(RET, self.expr(s.value))
        elif s.value is not None:
            self.expr(s.value)
        true = self.const(True, span=s.span)
        self.set_var(DID_RETURN, true)
        self.set_var(SKIP, true)
        if self.loop_depth:
            self.set_var(STOP, true)

    def stmt_Raise(self, s) -> None:
        exc = s.exc
        name, msg = "RuntimeError", None
        if isinstance(exc, A.Call):
            name = _callee_name(exc.func) or name
            args = exc.bound if exc.bound is not None else exc.args
            if args:
                msg = self.expr(args[0])
        elif isinstance(exc, (A.Name, A.Attribute)):
            name = _callee_name(exc) or name
        elif exc is not None:
            msg = self.expr(exc)
        if msg is None:
            msg = self.const("", span=s.span)
        self.emit(G.RAISE, [msg], [], {"exception": name}, s.span)

    def stmt_Assert(self, s) -> None:
        cond = self.cond(s.test)

        def fail():
            msg = self.expr(s.msg) if s.msg is not None else self.const("", span=s.span)
            self.emit(G.RAISE, [msg], [], {"exception": "AssertionError"}, s.span)

        self.emit_if(cond, None, fail, s.span)

    def stmt_Delete(self, s) -> None:
        for t in s.targets:
            if isinstance(t, A.Subscript):
                base = self.expr(t.value)
                index = self.expr(t.index)
                if isinstance(t.target, R.OpDef):
                    self.op_node(t.target, [base, index], t.span)
                else:
                    self.call_op(R.DELITEM, [base, index], t.span)
            elif isinstance(t, A.Name):
                pass
            else:
                raise CompileError.at(t.span, "unsupported del target")

    def stmt_With(self, s) -> None:
        restores = []
        for item in s.items:
            ctx = item.context_expr
            name = _callee_name(ctx.func) if isinstance(ctx, A.Call) else _callee_name(ctx)
            if name in ("no_grad", "enable_grad"):
                mode = self.const(name == "enable_grad", span=item.span)
                prev = self.emit(G.GRAD_MODE, [mode], [T.BoolType], None, item.span).output
                prev.name = "grad_enabled"
                restores.append((prev, item.span))
            else:
                raise CompileError.at(item.span, "only `with torch.no_grad():` is supported")
        self.stmts(s.body)
        for prev, span in reversed(restores):
            self.emit(G.GRAD_MODE, [prev], [T.BoolType], None, span)

    def stmt_FunctionDef(self, s) -> None:
        raise CompileError.at(s.span, "nested functions are not supported")

    # -------------------------------------------------------------- assignment targets

    def assign(self, target, value: Value) -> None:
        if isinstance(target, A.Name):
            self.set_var(target.id, value)
        elif isinstance(target, (A.Tuple, A.List)):
            self.unpack(target, value)
        elif isinstance(target, A.Subscript):
            base = self.expr(target.value)
            if _is_tensor_index(target):
                from .lower_index import assign_tensor_index
                assign_tensor_index(self, base, target, value, target.span)
                return
            index = self.expr(target.index)
            if isinstance(target.target, R.OpDef):
                self.op_node(target.target, [base, index, value], target.span)
            else:
                self.call_op(R.SETITEM, [base, index, value], target.span)
        elif isinstance(target, A.Attribute):
            obj = self.expr(target.value)
            self.set_field(obj, target, value, target.span)
        else:
            raise CompileError.at(target.span, "unsupported assignment target")

    def unpack(self, target, value: Value) -> None:
        n = len(target.elts)
        t = value.type
        if isinstance(t, T.TupleType):
            node = self.emit(G.TUPLE_UNPACK, [value], list(t.elems), None, target.span)
        elif isinstance(t, T.ListType):
            node = self.emit(G.LIST_UNPACK, [value], [t.elem] * n, None, target.span)
        else:
            raise CompileError.at(target.span, f"cannot unpack a value of type {t}")
        if len(node.outputs) != n:
            raise CompileError.at(target.span, f"expected {len(node.outputs)} targets, got {n}")
        for elt, v in zip(target.elts, node.outputs):
            self.assign(elt, v)

    def bind_target(self, target, item, span) -> None:
        """Bind a loop target to an item: a Value, or a list of items for enumerate/zip."""
        if isinstance(item, list):
            if isinstance(target, (A.Tuple, A.List)) and len(target.elts) == len(item):
                for t, it in zip(target.elts, item):
                    self.bind_target(t, it, span)
                return
            values = [self.pack(it, span) for it in item]
            item = self.emit(G.TUPLE_CONSTRUCT, values, [T.TupleType(tuple(v.type for v in values))],
                             None, span).output
        self.assign(target, item)

    def pack(self, item, span) -> Value:
        if isinstance(item, list):
            values = [self.pack(it, span) for it in item]
            return self.emit(G.TUPLE_CONSTRUCT, values, [T.TupleType(tuple(v.type for v in values))],
                             None, span).output
        return item

    # -------------------------------------------------------------- fields

    def get_field(self, obj: Value, e: A.Attribute, span) -> Value:
        target = e.target
        if isinstance(target, TG.FieldTarget) and target.index >= 0:
            return self.emit(G.TUPLE_INDEX, [obj], [e.type], {"index": target.index}, span).output
        name = target.name if isinstance(target, TG.FieldTarget) else e.attr
        return self.emit(G.GET_ATTR, [obj], [e.type or T.AnyType], {"name": name}, span).output

    def set_field(self, obj: Value, e: A.Attribute, value: Value, span) -> None:
        name = e.target.name if isinstance(e.target, TG.FieldTarget) else e.attr
        self.emit(G.SET_ATTR, [obj, value], [], {"name": name}, span)

    # -------------------------------------------------------------- iteration

    def iter_source(self, e) -> _Iter:
        target = getattr(e, "target", None)
        if isinstance(e, A.Call) and isinstance(target, TG.SpecialTarget):
            args = e.bound if e.bound is not None else e.args
            if target.kind == "range":
                return self.range_source(e, args)
            if target.kind == "enumerate":
                inner = self.iter_source(args[0])
                start = self.expr(args[1]) if len(args) > 1 else None

                def get(i):
                    index = i if start is None else self.call_op("add", [i, start], e.span)
                    return [index, inner.get(i)]
                if inner.unrolled is not None:
                    raise CompileError.at(e.span, "enumerate over a tuple is not supported")
                return _Iter(inner.length, get)
            if target.kind == "zip":
                inners = [self.iter_source(a) for a in args]
                if any(it.unrolled is not None for it in inners):
                    raise CompileError.at(e.span, "zip over a tuple is not supported")
                length = inners[0].length
                for it in inners[1:]:
                    length = self.min_int(length, it.length, e.span)
                return _Iter(length, lambda i: [it.get(i) for it in inners])
        if isinstance(e, A.Tuple):
            return _Iter(None, None, [self.expr(x) for x in e.elts])
        value = self.expr(e)
        return self.value_source(value, e.span)

    def value_source(self, value: Value, span) -> _Iter:
        t = value.type
        if isinstance(t, T.TupleType):
            items = [self.emit(G.TUPLE_INDEX, [value], [et], {"index": k}, span).output
                     for k, et in enumerate(t.elems)]
            return _Iter(None, None, items)
        if isinstance(t, T.DictType):
            value = self.call_op("keys", [value], span)
            t = value.type
        if isinstance(t, (T.ListType,)) or t == T.StrType:
            length = self.call_op("len", [value], span)
            return _Iter(length, lambda i: self.call_op(R.GETITEM, [value, i], span))
        if t == T.TensorType:
            zero = self.const(0, span=span)
            length = self.call_op("size", [value, zero], span)
            return _Iter(length, lambda i: self.call_op("select", [value, self.const(0, span=span), i], span))
        raise CompileError.at(span, f"cannot iterate over a value of type {t}")

    def range_source(self, e, args) -> _Iter:
        span = e.span
        if len(args) == 1:
            args = [None, args[0], None]
        if len(args) == 2:
            args = [args[0], args[1], None]
        if (args[0] is None or _static_int(args[0]) == 0) and (args[2] is None or _static_int(args[2]) == 1):
            stop = self.expr(args[1])
            return _Iter(stop, _identity)
        args = [a for a in args if a is not None]
        start = self.expr(args[0])
        stop = self.expr(args[1])
        step_const = 1
        step = None
        if len(args) > 2:
            if isinstance(args[2], A.Constant) and isinstance(args[2].value, int):
                step_const = args[2].value
            elif (isinstance(args[2], A.UnaryOp) and args[2].op == "-"
                  and isinstance(args[2].operand, A.Constant) and isinstance(args[2].operand.value, int)):
                step_const = -args[2].operand.value
            else:
                step_const = None
                step = self.expr(args[2])
        if step_const == 0:
            step = self.const(0, span=span)
            step_const = None
        if step_const is None:
            length = self.emit(G.RANGE_LENGTH, [start, stop, step], [T.IntType], None, span).output
        elif step_const == 1:
            length = self.call_op("sub", [stop, start], span)
        else:
            s = abs(step_const)
            lo, hi = (start, stop) if step_const > 0 else (stop, start)
            diff = hi if _is_zero(lo) else self.call_op("sub", [hi, lo], span)
            if s != 1:
                diff = self.call_op("add", [diff, self.const(s - 1, span=span)], span)
                diff = self.call_op("floor_divide", [diff, self.const(s, span=span)], span)
            length = diff
            step = self.const(step_const, span=span)

        def get(i):
            v = i
            if step is not None and step_const != 1:
                v = self.call_op("mul", [v, step], span)
            return self.call_op("add", [start, v], span)
        length.name = length.name or "trip_count"
        return _Iter(length, get)

    def min_int(self, a: Value, b: Value, span) -> Value:
        if resolve("min", [T.IntType, T.IntType]):
            return self.call_op("min", [a, b], span)
        less = self.call_op("lt", [a, b], span)
        return self.emit_if(less, lambda: a, lambda: b, span, T.IntType)

    # -------------------------------------------------------------- expressions

    def cond(self, e) -> Value:
        v = self.expr(e)
        if v.type != T.BoolType and v.type != T.AnyType:
            return self.call_op("bool", [v], e.span, out_type=T.BoolType)
        return v

    def expr(self, e) -> Value:
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            raise CompileError.at(e.span, f"{type(e).__name__} expressions are not supported here")
        return method(e)

    def expr_Name(self, e) -> Value:
        if isinstance(e.target, TG.ConstantTarget):
            return self.const(e.target.value, e.type, e.span)
        v = self.env.get(e.id)
        if v is None:
            raise CompileError.at(e.span, f"{e.id!r} is not defined")
        t = e.type
        if (t is not None and t != v.type and t != T.AnyType and T.is_subtype(t, v.type)
                and not T.is_subtype(v.type, t)):
            v = self.emit(G.UNCHECKED_CAST, [v], [t], None, e.span).output
        return v

    def expr_Constant(self, e) -> Value:
        if e.value is Ellipsis:
            raise CompileError.at(e.span, "`...` is only allowed in a tensor index")
        t = e.type
        if t is None or t == T.AnyType:
            t = constant_type(e.value)
        return self.const(e.value, t, e.span)

    def expr_JoinedStr(self, e) -> Value:
        pieces, args = [], []
        for part in e.values:
            if isinstance(part, str):
                pieces.append(part.replace("{", "{{").replace("}", "}}"))
            elif isinstance(part, A.Constant) and isinstance(part.value, str):
                pieces.append(part.value.replace("{", "{{").replace("}", "}}"))
            else:
                field_text = "{"
                if part.conversion:
                    field_text += "!" + part.conversion
                if part.format_spec:
                    field_text += ":" + part.format_spec
                pieces.append(field_text + "}")
                args.append(self.expr(part.value))
        fmt = self.const("".join(pieces), T.StrType, e.span)
        if not args:
            return fmt
        return self.call_op("format", [fmt, *args], e.span, out_type=T.StrType)

    def expr_BinOp(self, e) -> Value:
        op = e.target
        if not isinstance(op, R.OpDef):
            raise CompileError.at(e.span, f"unsupported operator {e.op}")
        a = self.expr(e.left)
        b = self.expr(e.right)
        return self.op_node(op, [b, a] if e.swapped else [a, b], e.span, e.type)

    def expr_UnaryOp(self, e) -> Value:
        literal = _literal_number(e.operand)
        if e.op == "-" and literal is not None and e.type in (T.IntType, T.FloatType):
            return self.const(-literal, e.type, e.span)  # a negative literal
        v = self.expr(e.operand)
        if isinstance(e.target, R.OpDef):
            return self.op_node(e.target, [v], e.span, e.type)
        if e.op == "not":
            c = v if v.type == T.BoolType else self.call_op("bool", [v], e.span)
            return self.emit_if(c, lambda: self.const(False, span=e.span),
                                lambda: self.const(True, span=e.span), e.span, T.BoolType)
        if e.op == "+":
            return v
        raise CompileError.at(e.span, f"unsupported operator {e.op}")

    def expr_BoolOp(self, e) -> Value:
        def chain(values):
            first = self.cond(values[0])
            if len(values) == 1:
                return first
            rest = lambda: chain(values[1:])  # noqa: E731
            if e.op == "and":
                return self.emit_if(first, rest, lambda: self.const(False, span=e.span), e.span, T.BoolType)
            return self.emit_if(first, lambda: self.const(True, span=e.span), rest, e.span, T.BoolType)

        return chain(list(e.values))

    def expr_Compare(self, e) -> Value:
        targets = e.targets or [(None, False)] * len(e.ops)

        def compare(k: int, left: Value) -> Value:
            right = self.expr(e.comparators[k])
            r = self.compare_one(e, e.ops[k], left, right, targets[k], e.comparators[k])
            if k + 1 == len(e.ops):
                return r
            return self.emit_if(r, lambda: compare(k + 1, right),
                                lambda: self.const(False, span=e.span), e.span, T.BoolType)

        return compare(0, self.expr(e.left))

    def compare_one(self, e, op: str, a: Value, b: Value, target, right_expr) -> Value:
        tgt, swapped = target if isinstance(target, tuple) else (target, False)
        span = e.span
        if isinstance(tgt, TG.SpecialTarget) and tgt.kind == "is":
            if tgt.value is not None:
                return self.const(bool(tgt.value), span=span)
            return self.is_none(a, b, op in ("is", "=="), span)
        if op in ("is", "is not"):
            if isinstance(tgt, R.OpDef):
                return self.op_node(tgt, [b, a] if swapped else [a, b], span, T.BoolType)
            return self.is_none(a, b, op == "is", span)
        if not isinstance(tgt, R.OpDef):
            if op in ("==", "!=") and T.NoneType in (a.type, b.type):
                return self.is_none(a, b, op == "==", span)
            raise CompileError.at(span, f"unsupported comparison {op}")
        if op in ("in", "not in"):
            r = self.op_node(tgt, [b, a], span, T.BoolType)
            if op == "not in":
                r = self.call_op("__not__", [r], span, out_type=T.BoolType)
            return r
        args = [b, a] if swapped else [a, b]
        return self.op_node(tgt, args, span, self._infer_return(tgt, args))

    def is_none(self, a: Value, b: Value, positive: bool, span) -> Value:
        if b.type == T.NoneType:
            x = a
        elif a.type == T.NoneType:
            x = b
        else:
            raise CompileError.at(span, "`is` is only supported with None")
        t = x.type
        if t == T.NoneType:
            return self.const(positive, span=span)
        if not (isinstance(t, (T.OptionalType, T.UnionType)) or t == T.AnyType):
            return self.const(not positive, span=span)
        kind = G.IS_NONE if positive else G.IS_NOT_NONE
        return self.emit(kind, [x], [T.BoolType], None, span).output

    def expr_IfExp(self, e) -> Value:
        known = _static_value(e.test)
        if known is not None:
            return self.expr(e.body if known else e.orelse)
        c = self.cond(e.test)
        return self.emit_if(c, lambda: self.expr(e.body), lambda: self.expr(e.orelse), e.span,
                            e.type or T.AnyType)

    def expr_Attribute(self, e) -> Value:
        target = e.target
        if isinstance(target, TG.ConstantTarget):
            return self.const(target.value, e.type, e.span)
        if isinstance(target, R.OpDef):
            obj = self.expr(e.value)
            return self.op_node(target, [obj], e.span, e.type)
        obj = self.expr(e.value)
        return self.get_field(obj, e, e.span)

    def expr_Subscript(self, e) -> Value:
        if _is_tensor_index(e):
            from .lower_index import lower_tensor_index
            return lower_tensor_index(self, self.expr(e.value), e)
        base = self.expr(e.value)
        if isinstance(base.type, T.TupleType) and not isinstance(e.target, R.OpDef):
            return self.tuple_subscript(base, e)
        if isinstance(e.index, A.Slice):
            return self.slice_subscript(e, base)
        index = self.expr(e.index)
        return self.subscript_value(e, base, index)

    def subscript_value(self, e, base: Value, index: Value) -> Value:
        if isinstance(e.target, R.OpDef) and e.target.name == R.GETITEM:
            return self.op_node(e.target, [base, index], e.span, e.type)
        return self.call_op(R.GETITEM, [base, index], e.span, out_type=e.type)

    def slice_subscript(self, e, base: Value) -> Value:
        sl = e.index
        parts = [self.expr(p) if p is not None else self.const(None, span=e.span)
                 for p in (sl.lower, sl.upper)]
        step = self.expr(sl.step) if sl.step is not None else self.const(1, span=e.span)
        if isinstance(e.target, R.OpDef):
            return self.op_node(e.target, [base, *parts, step], e.span, e.type)
        return self.call_op("slice", [base, *parts, step], e.span, out_type=e.type)

    def tuple_subscript(self, base: Value, e) -> Value:
        t = base.type
        target = e.target
        if isinstance(target, TG.SpecialTarget) and target.kind == "tuple_index":
            k = target.value
            return self.emit(G.TUPLE_INDEX, [base], [t.elems[k]], {"index": k}, e.span).output
        if isinstance(target, TG.SpecialTarget) and target.kind == "tuple_slice":
            picked = list(range(*target.value))
            items = [self.emit(G.TUPLE_INDEX, [base], [t.elems[k]], {"index": k}, e.span).output for k in picked]
            return self.emit(G.TUPLE_CONSTRUCT, items, [e.type or T.TupleType(tuple(v.type for v in items))],
                             None, e.span).output
        index = _static_int(e.index)
        if index is not None:
            if index < 0:
                index += len(t.elems)
            return self.emit(G.TUPLE_INDEX, [base], [t.elems[index]], {"index": index}, e.span).output
        if isinstance(e.index, A.Slice):
            bounds = [_static_int(p) if p is not None else None for p in (e.index.lower, e.index.upper, e.index.step)]
            picked = list(range(len(t.elems)))[slice(*bounds)]
            items = [self.emit(G.TUPLE_INDEX, [base], [t.elems[k]], {"index": k}, e.span).output for k in picked]
            return self.emit(G.TUPLE_CONSTRUCT, items, [T.TupleType(tuple(v.type for v in items))],
                             None, e.span).output
        index_v = self.expr(e.index)
        return self.emit(G.TUPLE_INDEX, [base, index_v], [e.type or T.AnyType], None, e.span).output

    def expr_List(self, e) -> Value:
        values = [self.expr(x) for x in e.elts]
        return self.emit(G.LIST_CONSTRUCT, values, [e.type or T.ListType(T.TensorType)], None, e.span).output

    def expr_Tuple(self, e) -> Value:
        values = [self.expr(x) for x in e.elts]
        t = e.type if isinstance(e.type, T.TupleType) else T.TupleType(tuple(v.type for v in values))
        return self.emit(G.TUPLE_CONSTRUCT, values, [t], None, e.span).output

    def expr_Dict(self, e) -> Value:
        values = []
        for k, v in zip(e.keys, e.values):
            values.append(self.expr(k))
            values.append(self.expr(v))
        return self.emit(G.DICT_CONSTRUCT, values, [e.type or T.DictType(T.StrType, T.TensorType)],
                         None, e.span).output

    def expr_ListComp(self, e) -> Value:
        out = self.emit(G.LIST_CONSTRUCT, [], [e.type], None, e.span).output
        self.comprehension(e, 0, lambda: self.call_op("append", [out, self.expr(e.elt)], e.span))
        return out

    def expr_DictComp(self, e) -> Value:
        out = self.emit(G.DICT_CONSTRUCT, [], [e.type], None, e.span).output

        def add():
            k = self.expr(e.key)
            v = self.expr(e.value)
            self.call_op(R.SETITEM, [out, k, v], e.span)
        self.comprehension(e, 0, add)
        return out

    def comprehension(self, e, k: int, add) -> None:
        if k == len(e.generators):
            add()
            return
        gen = e.generators[k]
        src = self.iter_source(gen.iter)
        if src.unrolled is not None:
            raise CompileError.at(gen.span, "a comprehension over a tuple is not supported")

        def body(i):
            self.bind_target(gen.target, src.get(i), gen.span)
            self.filtered(gen.ifs, lambda: self.comprehension(e, k + 1, add), gen.span)

        self.emit_loop(src.length, self.const(True, span=gen.span), body, gen.span, [])

    def filtered(self, ifs: list, inner, span) -> None:
        if not ifs:
            inner()
            return
        c = self.cond(ifs[0])
        self.emit_if(c, lambda: self.filtered(ifs[1:], inner, span), None, span)

    # -------------------------------------------------------------- calls

    def call_args(self, e) -> list:
        args = e.bound if e.bound is not None else e.args
        return [self.expr(a) for a in args]

    def expr_Call(self, e) -> Value:
        target = e.target
        span = e.span
        if isinstance(target, R.OpDef):
            return self.op_node(target, self.call_args(e), span, e.type)
        if isinstance(target, TG.FunctionTarget):
            args = self.call_args(e)
            return self.emit(G.CALL_FUNCTION, args, [e.type or target.type.returns],
                             {"name": target.qualified_name}, span).output
        if isinstance(target, TG.MethodTarget):
            args = self.call_args(e)
            return self.emit(G.CALL_METHOD, args, [e.type or T.AnyType], {"name": target.method}, span).output
        if isinstance(target, TG.ConstructTarget):
            return self.construct(e, target)
        if isinstance(target, TG.SpecialTarget):
            return self.special_call(e, target)
        if isinstance(target, TG.ConstantTarget):
            return self.const(target.value, e.type, span)
        raise CompileError.at(span, "this call is not supported")

    def construct(self, e, target) -> Value:
        cls = target.cls
        args = self.call_args(e)
        if isinstance(cls, T.TupleType):
            return self.emit(G.TUPLE_CONSTRUCT, args, [cls], None, e.span).output
        obj = self.emit(G.CREATE_OBJECT, [], [cls], {"cls": cls}, e.span).output
        self.emit(G.CALL_METHOD, [obj, *args], [T.NoneType], {"name": "__init__"}, e.span)
        return obj

    def special_call(self, e, target) -> Value:
        kind = target.kind
        span = e.span
        args = e.bound if e.bound is not None else e.args
        if kind == "isinstance":
            if target.value is not None:
                return self.const(bool(target.value), span=span)
            v = self.expr(args[0])
            types = _isinstance_types(args[1])
            return self.emit(G.ISINSTANCE, [v], [T.BoolType], {"types": types}, span).output
        if kind == "is_scripting":
            return self.const(True, span=span)
        if kind == "annotate":
            value_expr = e.args[1] if len(e.args) > 1 else args[-1]
            v = self.expr(value_expr)
            want = e.type
            if want is not None and v.type != want and v.node is not None and v.node.kind in (
                    G.LIST_CONSTRUCT, G.DICT_CONSTRUCT, G.CONSTANT) and not v.uses:
                v.type = want
            return v
        if kind == "unchecked_cast":
            v = self.expr(e.args[0])
            return self.emit(G.UNCHECKED_CAST, [v], [e.type], None, span).output
        if kind == "list":
            if not args:
                return self.emit(G.LIST_CONSTRUCT, [], [e.type], None, span).output
            src = self.iter_source(args[0])
            out = self.emit(G.LIST_CONSTRUCT, [], [e.type], None, span).output
            if src.unrolled is not None:
                for item in src.unrolled:
                    self.call_op("append", [out, item], span)
                return out

            def body(i):
                self.call_op("append", [out, self.pack(src.get(i), span)], span)
            self.emit_loop(src.length, self.const(True, span=span), body, span, [])
            return out
        if kind == "tuple":
            v = self.expr(args[0])
            if isinstance(v.type, T.TupleType):
                return v
            raise CompileError.at(span, "tuple() needs a tuple argument")
        if kind == "dict":
            out = self.emit(G.DICT_CONSTRUCT, [], [e.type], None, span).output
            if not args:
                return out
            src = self.iter_source(args[0])
            source = self.expr(args[0]) if isinstance(getattr(args[0], "type", None), T.DictType) else None

            def body(i):
                item = src.get(i)
                if source is not None:
                    self.call_op(R.SETITEM, [out, item, self.call_op(R.GETITEM, [source, item], span)], span)
                else:
                    pair = self.pack(item, span)
                    k = self.emit(G.TUPLE_INDEX, [pair], [pair.type.elems[0]], {"index": 0}, span).output
                    v = self.emit(G.TUPLE_INDEX, [pair], [pair.type.elems[1]], {"index": 1}, span).output
                    self.call_op(R.SETITEM, [out, k, v], span)
            self.emit_loop(src.length, self.const(True, span=span), body, span, [])
            return out
        if kind == "exception":
            raise CompileError.at(span, "exceptions can only be raised")
        raise CompileError.at(span, f"{kind}(...) is only supported as a loop iterable")


def _identity(i):
    return i


def _static_value(test) -> Optional[bool]:
    """A condition the checker decided at compile time (it types only the branch taken)."""
    if isinstance(test, A.UnaryOp) and test.op == "not":
        inner = _static_value(test.operand)
        return None if inner is None else not inner
    target = getattr(test, "target", None)
    if isinstance(test, A.Compare) and test.targets and len(test.targets) == 1:
        target = test.targets[0][0]
    if isinstance(target, TG.SpecialTarget) and target.kind in ("isinstance", "is", "is_scripting"):
        return target.value
    return None


def _is_zero(v: Value) -> bool:
    node = v.node
    return node is not None and node.kind == G.CONSTANT and node.attrs.get("value") == 0 \
        and type(node.attrs.get("value")) is int


def _literal_number(e):
    """The value of an int/float literal or named numeric constant (``math.inf``), else None."""
    if isinstance(e, A.Constant):
        value = e.value
    elif isinstance(getattr(e, "target", None), TG.ConstantTarget):
        value = e.target.value
    else:
        return None
    return value if type(value) in (int, float) else None


def _static_int(e) -> Optional[int]:
    if isinstance(e, A.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, A.UnaryOp) and e.op == "-":
        inner = _static_int(e.operand)
        return -inner if inner is not None else None
    return None


def _callee_name(func) -> Optional[str]:
    if isinstance(func, A.Name):
        return func.id
    if isinstance(func, A.Attribute):
        return func.attr
    return None


def _is_tensor_index(e) -> bool:
    t = getattr(e, "target", None)
    if isinstance(t, TG.SpecialTarget) and t.kind in ("tensor_index", "tensor_index_assign"):
        return True
    return getattr(e.value, "type", None) == T.TensorType


def _isinstance_types(e) -> tuple:
    if isinstance(e, A.Tuple):
        return tuple(t for x in e.elts for t in _isinstance_types(x))
    t = getattr(e, "type", None)
    target = getattr(e, "target", None)
    if isinstance(target, TG.ConstantTarget) and isinstance(target.value, T.Type):
        return (target.value,)
    return (t,) if t is not None else ()


__all__ = ["LoweredModule", "lower_module", "lower_function"]
