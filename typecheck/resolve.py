"""Matching a call's arguments against a signature: op schemas and the unit's functions.

One binder serves both: parameters are taken positionally, then by keyword, then from their
defaults; ``int[]`` parameters take trailing ints as varargs (``x.view(2, -1)``) and ``int[N]``
a single int; type variables bind to the first argument's type and later ones must unify with
it (TorchScript's ``matchTypeVariables``). Overloads are tried in registration order, first
with no implicit conversion, then allowing the conversions in ``CONVERSIONS`` (int to float,
a one-element tensor to float or int) and a tuple where a list is expected, as TorchScript's
``matchSchemas`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..jit.ir import types as T
from ..jit.ops import registry
from ..jit.ops.schema import NO_DEFAULT, SType
from ..parser import ast
from . import messages as M

# An expression whose type is unknown because of an earlier error: accepted everywhere, so
# one mistake is reported once.
UNKNOWN = T._Simple("<unknown>")

BASE_KINDS = {
    "Tensor": T.TensorType,
    "Scalar": T.NumberType,
    "int": T.IntType,
    "float": T.FloatType,
    "bool": T.BoolType,
    "str": T.StrType,
    "ScalarType": T.DTypeType,
    "Device": T.DeviceType,
    "Any": T.AnyType,
    "number": T.NumberType,
    "None": T.NoneType,
    "NoneType": T.NoneType,
    "Layout": T.AnyType,
    "MemoryFormat": T.AnyType,
    "Generator": T.AnyType,
}


def is_typevar(s: SType) -> bool:
    return s.kind not in BASE_KINDS and s.kind not in ("list", "optional", "dict", "tuple")


def has_typevar(s: SType) -> bool:
    return is_typevar(s) or any(has_typevar(a) for a in s.args)


def stype_to_type(s: SType, env: dict) -> T.Type:
    kind = s.kind
    if kind in BASE_KINDS:
        return BASE_KINDS[kind]
    if kind == "list":
        return T.ListType(stype_to_type(s.args[0], env))
    if kind == "optional":
        return T.optional(stype_to_type(s.args[0], env))
    if kind == "dict":
        return T.DictType(stype_to_type(s.args[0], env), stype_to_type(s.args[1], env))
    if kind == "tuple":
        return T.TupleType(tuple(stype_to_type(a, env) for a in s.args))
    return env.get(kind, T.AnyType)


def returns_type(returns: tuple, env: dict, names: tuple = ()) -> T.Type:
    """The result type; several named results (``(Tensor values, Tensor indices)``) make a
    tuple whose fields can be read by name (``x.max(dim=1).values``)."""
    if len(returns) == 0:
        return T.NoneType
    if len(returns) == 1:
        return stype_to_type(returns[0], env)
    elems = tuple(stype_to_type(r, env) for r in returns)
    if len(names) == len(elems) and len(set(names)) == len(names):
        return T.TupleType(elems, tuple(names))
    return T.TupleType(elems)


def contains_unknown(t: T.Type) -> bool:
    if t == UNKNOWN:
        return True
    if isinstance(t, (T.ListType, T.OptionalType)):
        return contains_unknown(t.elem)
    if isinstance(t, T.DictType):
        return contains_unknown(t.key) or contains_unknown(t.value)
    if isinstance(t, (T.TupleType,)):
        return any(contains_unknown(e) for e in t.elems)
    if isinstance(t, T.UnionType):
        return any(contains_unknown(e) for e in t.members)
    return False


def describe(t: T.Type) -> str:
    if t == T.NumberType:
        return "Scalar"
    return str(t)


# ------------------------------------------------------------------ arguments and parameters


@dataclass
class Arg:
    node: ast.Expr
    type: T.Type
    flexible: bool = False  # an empty [] / {} literal that takes the parameter's container type


@dataclass
class PSpec:
    """One parameter: a schema type (ops) or a concrete Type (the unit's functions)."""

    name: str
    stype: Optional[SType] = None
    type: Optional[T.Type] = None
    default: Any = NO_DEFAULT  # a Python value
    kwarg_only: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass
class Signature:
    name: str  # as the user spelled the callee: "torch.sum", "Tensor.view", "area"
    params: list
    returns: Any  # (env) -> Type
    varargs: bool = False
    target: Any = None
    text: str = ""  # the schema, for candidate lists

    @property
    def positional(self) -> list:
        cached = self.__dict__.get("_positional")
        if cached is None:
            cached = self.__dict__["_positional"] = [p for p in self.params if not p.kwarg_only]
        return cached


@dataclass
class Match:
    bound: list
    type: T.Type
    target: Any
    retype: list = field(default_factory=list)  # (node, Type) for flexible literals


@dataclass
class Failure:
    kind: str  # missing | keyword | too_many | duplicate | type | typevar
    message: str
    keyword: str = ""


_SIGNATURES: dict = {}


def op_signature(op: registry.OpDef, name: str) -> Signature:
    key = (id(op), name)
    sig = _SIGNATURES.get(key)
    if sig is None or sig.target is not op:
        sig = _SIGNATURES[key] = _op_signature(op, name)
    return sig


def _op_signature(op: registry.OpDef, name: str) -> Signature:
    schema = op.schema
    params = [
        PSpec(p.name, stype=p.type, default=p.default, kwarg_only=p.kwarg_only)
        for p in schema.params
    ]
    return Signature(
        name,
        params,
        lambda env, r=schema.returns, n=schema.return_names: returns_type(r, env, n),
        schema.varargs,
        op,
        schema.text,
    )


def function_signature(
    fn_type: T.FunctionType, name: str, defaults: dict, target: Any, skip_self: bool = False,
    kwonly: frozenset = frozenset(),
) -> Signature:
    params = []
    for i, (pname, ptype, has_default) in enumerate(fn_type.params):
        if skip_self and i == 0:
            continue
        params.append(
            PSpec(
                pname,
                type=ptype,
                default=defaults.get(pname, NO_DEFAULT) if has_default else NO_DEFAULT,
                kwarg_only=pname in kwonly,
            )
        )
    ps = ", ".join(f"{n}: {t}" for n, t, _ in fn_type.params[(1 if skip_self else 0) :])
    return Signature(
        name,
        params,
        lambda env, r=fn_type.returns: r,
        False,
        target,
        f"{name}({ps}) -> {fn_type.returns}",
    )


# ------------------------------------------------------------------ conversions

# Implicit conversions TorchScript makes when an argument's type differs from the
# parameter's (and, for Tensors and numbers, when a returned value differs from the declared
# type): (from, to) -> the op that performs it (``float(int)``, ``float(x.item())``, and
# ``IntImplicit`` / ``FloatImplicit`` / ``ScalarImplicit`` for a 0-dim Tensor).
CONVERSIONS = {
    (T.IntType, T.FloatType): ("float", "int"),
    (T.TensorType, T.FloatType): ("FloatImplicit", "Tensor"),
    (T.TensorType, T.IntType): ("IntImplicit", "Tensor"),
    (T.TensorType, T.NumberType): ("ScalarImplicit", "Tensor"),
    (T.NumberType, T.FloatType): ("float", "Scalar"),
    (T.NumberType, T.IntType): ("int", "Scalar"),
}
_RESULT_KIND = {"FloatImplicit": "float", "IntImplicit": "int", "ScalarImplicit": "Scalar"}
_CONVERSION_OPS: dict = {}


def conversion_op(source: T.Type, dest: T.Type) -> Optional[registry.OpDef]:
    """The builtin overload converting a ``source`` value to ``dest``, or None."""
    key = (source, dest)
    if key not in CONVERSIONS:
        return None
    if _CONVERSION_OPS.get(key) is None:
        name, kind = CONVERSIONS[key]
        found = None
        for op in registry.overloads(name):
            required = [p for p in op.schema.params if not p.has_default]
            if (len(required) == 1 and required[0].type.kind == kind
                    and len(op.schema.returns) == 1
                    and op.schema.returns[0].kind == _RESULT_KIND.get(name, name)):
                found = op
                break
        _CONVERSION_OPS[key] = found
    return _CONVERSION_OPS[key]


def float_from_int_op() -> Optional[registry.OpDef]:
    """The builtin ``float(int)`` overload that makes an implicit int to float explicit."""
    return conversion_op(T.IntType, T.FloatType)


def conversion_call(node: ast.Expr, source: T.Type, dest: T.Type) -> ast.Expr:
    """``float(node)`` / ``int(node)`` as a typed Call: an implicit conversion made explicit."""
    op = conversion_op(source, dest)
    func = ast.Name(CONVERSIONS[(source, dest)][0], span=node.span)
    func.type = T.AnyType
    func.target = op
    call = ast.Call(func, [node], [], span=node.span)
    call.type = dest
    call.target = op
    call.bound = [node]
    return call


def float_conversion(node: ast.Expr) -> ast.Expr:
    """``float(node)`` for an int ``node``."""
    return conversion_call(node, T.IntType, T.FloatType)


def list_from_tuple(node: ast.Expr, list_type: T.Type) -> ast.Expr:
    """``list(node)`` for a tuple passed where a list is expected: ``x.permute((1, 0))``."""
    from .targets import SpecialTarget

    func = ast.Name("list", span=node.span)
    func.type = T.AnyType
    func.target = SpecialTarget("list")
    call = ast.Call(func, [node], [], span=node.span)
    call.type = list_type
    call.target = SpecialTarget("list")
    call.bound = [node]
    return call


def constant_node(value: Any, span, typ: Optional[T.Type] = None) -> ast.Expr:
    """A default value as a typed node (lists become List nodes of constants)."""
    if isinstance(value, (list, tuple)):
        elts = [constant_node(v, span) for v in value]
        node = ast.List(elts, span=span)
        if typ is not None and isinstance(typ, T.ListType):
            node.type = typ
        else:
            elem = elts[0].type if elts else T.IntType
            node.type = T.ListType(elem)
        return node
    node = ast.Constant(value, span=span)
    node.type = constant_type(value)
    from ..jit.ir import dtypes

    if isinstance(value, dtypes.DType):
        node.type = T.DTypeType
    elif (
        isinstance(value, str)
        and typ is not None
        and typ not in (T.StrType,)
        and not isinstance(typ, T.OptionalType)
    ):
        node.type = typ  # an enum-like schema default such as contiguous_format
    return node


def constant_type(value: Any) -> T.Type:
    if value is None:
        return T.NoneType
    if isinstance(value, bool):
        return T.BoolType
    if isinstance(value, int):
        return T.IntType
    if isinstance(value, float):
        return T.FloatType
    if isinstance(value, str):
        return T.StrType
    from ..jit.ir import dtypes

    if isinstance(value, dtypes.DType):
        return T.DTypeType
    if isinstance(value, tuple):
        return T.TupleType(tuple(constant_type(v) for v in value))
    return T.AnyType


# ------------------------------------------------------------------ matching


def _bind_typevars(s: SType, a: T.Type, env: dict) -> Optional[tuple]:
    """None, or the (expected, got) types of a type variable matched two ways."""
    if a == UNKNOWN:
        return None
    if is_typevar(s):
        bound = env.get(s.kind)
        if bound is None:
            env[s.kind] = a
        elif T.unify(bound, a) is None and not T.is_subtype(a, bound):
            return bound, a
        return None
    if s.kind == "list" and isinstance(a, T.ListType):
        return _bind_typevars(s.args[0], a.elem, env)
    if s.kind == "optional":
        if a == T.NoneType:
            return None
        return _bind_typevars(s.args[0], a.elem if isinstance(a, T.OptionalType) else a, env)
    if s.kind == "dict" and isinstance(a, T.DictType):
        return _bind_typevars(s.args[0], a.key, env) or _bind_typevars(s.args[1], a.value, env)
    if s.kind == "tuple" and isinstance(a, T.TupleType) and len(a.elems) == len(s.args):
        for sub, elem in zip(s.args, a.elems):
            err = _bind_typevars(sub, elem, env)
            if err:
                return err
    return None


def _compatible(expected: T.Type, arg: Arg, stype: Optional[SType], allow_conv: bool):
    """(ok, conversion) where conversion is None, "convert" (see CONVERSIONS) or "list"."""
    a = arg.type
    if contains_unknown(a) or contains_unknown(expected):
        return True, None
    if T.is_subtype(a, expected):
        return True, None
    inner = expected.elem if isinstance(expected, T.OptionalType) else expected
    if arg.flexible and (
        (isinstance(inner, T.ListType) and isinstance(a, T.ListType))
        or (isinstance(inner, T.DictType) and isinstance(a, T.DictType))
    ):
        return True, None
    s_inner = stype.args[0] if stype is not None and stype.kind == "optional" else stype
    if (
        s_inner is not None
        and s_inner.kind == "list"
        and s_inner.size is not None
        and isinstance(inner, T.ListType)
        and inner.elem == T.IntType
        and a == T.IntType
    ):
        return True, None
    if allow_conv:
        if conversion_op(a, inner) is not None:
            return True, "convert"
        if (
            isinstance(inner, T.ListType)
            and isinstance(a, T.TupleType)
            and a.elems
            and (stype is None or not has_typevar(stype))
            and all(T.is_subtype(e, inner.elem) for e in a.elems)
        ):
            return True, "list"
    return False, None


# Types a schema's base kind can never take, whatever the conversions: a cheap first filter.
_SIMPLE = (T.TensorType, T.IntType, T.FloatType, T.BoolType, T.StrType)
_ACCEPTS = {
    "Tensor": {T.TensorType},
    "int": {T.IntType, T.TensorType},
    "float": {T.FloatType, T.IntType, T.TensorType},
    "bool": {T.BoolType},
    "str": {T.StrType},
    "Scalar": {T.IntType, T.FloatType, T.BoolType, T.TensorType},
}


def _quick_reject(sig: Signature, args: list) -> bool:
    params = sig.positional
    for i, a in enumerate(args):
        if i >= len(params):
            return False  # the full match says how many it takes
        p = params[i]
        if p.stype is None or a.type not in _SIMPLE:
            continue
        if p.stype.kind == "list" and i == len(params) - 1:
            continue  # may take trailing ints as varargs
        accepts = _ACCEPTS.get(p.stype.kind)
        if accepts is not None and a.type not in accepts:
            return True
    return False


def match(sig: Signature, args: list, kwargs: dict, allow_conv: bool, span) -> Match | Failure:
    if _quick_reject(sig, args):
        return _REJECTED
    return _full_match(sig, args, kwargs, allow_conv, span)


def _full_match(
    sig: Signature, args: list, kwargs: dict, allow_conv: bool, span
) -> Match | Failure:
    params = sig.params
    positional = [p for p in params if not p.kwarg_only]
    args = list(args)
    # int[] parameters take trailing ints as varargs, and one int as a one-element list.
    if positional and not sig.varargs:
        last = len(positional) - 1
        p = positional[last]
        ptype = _param_list_elem(p)
        if ptype is not None and len(args) > last:
            tail = args[last:]
            first = tail[0].type
            if (
                not isinstance(first, (T.ListType, T.TupleType))
                and first != UNKNOWN
                and (len(tail) > 1 or (first == ptype and _list_size(p) is None))
                and all(T.is_subtype(t.type, ptype) or t.type == UNKNOWN for t in tail)
            ):
                packed = ast.List(
                    [t.node for t in tail], span=_join(tail[0].node.span, tail[-1].node.span)
                )
                packed.type = T.ListType(ptype)
                args = args[:last] + [Arg(packed, packed.type)]
    if len(args) > len(positional) and not sig.varargs:
        return Failure(
            "too_many",
            M.TOO_MANY_ARGS.format(callee=sig.name, limit=len(positional), given=len(args)),
        )
    names = {p.name for p in params}
    for k in kwargs:
        if k not in names:
            return Failure(
                "keyword",
                M.UNKNOWN_KEYWORD.format(callee=sig.name, keyword=k, hint=M.suggest(k, names)),
                keyword=k,
            )
    chosen: list = []
    for i, p in enumerate(params):
        if not p.kwarg_only and i < len(args):
            if p.name in kwargs:
                return Failure("duplicate", M.DUPLICATE_ARG.format(callee=sig.name, arg=p.name))
            chosen.append((p, args[i]))
        elif p.name in kwargs:
            chosen.append((p, kwargs[p.name]))
        elif p.has_default:
            chosen.append((p, None))
        else:
            return Failure("missing", M.MISSING_ARG.format(callee=sig.name, arg=p.name))
    env: dict = {}
    # Empty literals bind type variables last: ``d[k] = []`` takes the dict's value type.
    ordered = [c for c in chosen if c[1] is None or not c[1].flexible] + [
        c for c in chosen if c[1] is not None and c[1].flexible
    ]
    for p, arg in ordered:
        if arg is not None and p.stype is not None and has_typevar(p.stype):
            err = _bind_typevars(p.stype, arg.type, env)
            if err and not arg.flexible:
                expected, got = err
                hint = ""
                if expected == T.TensorType and p.stype.kind != "list":
                    hint = (
                        " (an unannotated empty list is List[Tensor]: annotate it, e.g. "
                        "'xs: List[int] = []')"
                    )
                return Failure(
                    "typevar",
                    M.ARG_TYPE.format(
                        expected=describe(expected), arg=p.name, callee=sig.name, got=describe(got)
                    )
                    + hint,
                )
    bound: list = []
    retype: list = []
    for p, arg in chosen:
        expected = p.type if p.type is not None else stype_to_type(p.stype, env)
        if arg is None:
            bound.append(constant_node(p.default, span, expected))
            continue
        ok, conv = _compatible(expected, arg, p.stype, allow_conv)
        if not ok:
            return Failure(
                "type",
                M.ARG_TYPE.format(
                    expected=describe(expected), arg=p.name, callee=sig.name, got=describe(arg.type)
                ),
            )
        node = arg.node
        if arg.flexible and not T.is_subtype(arg.type, expected):
            inner = expected.elem if isinstance(expected, T.OptionalType) else expected
            retype.append((node, inner))
        if conv == "convert":
            inner = expected.elem if isinstance(expected, T.OptionalType) else expected
            node = conversion_call(node, arg.type, inner)
        elif conv == "list":
            node = list_from_tuple(
                node, expected.elem if isinstance(expected, T.OptionalType) else expected
            )
        bound.append(node)
    if sig.varargs:
        bound.extend(a.node for a in args[len(positional) :])
    return Match(bound, sig.returns(env), sig.target, retype)


_REJECTED = Failure("type", "")


def _param_list_elem(p: PSpec) -> Optional[T.Type]:
    """The element type of a list parameter that may take varargs (not a Tensor list)."""
    if p.stype is not None:
        s = p.stype.args[0] if p.stype.kind == "optional" else p.stype
        if s.kind == "list" and s.args[0].kind in ("int", "float", "bool", "Scalar"):
            return BASE_KINDS[s.args[0].kind]
        return None
    return None


def _list_size(p: PSpec) -> Optional[int]:
    s = p.stype.args[0] if p.stype.kind == "optional" else p.stype
    return s.size


def _join(a, b):
    from ..parser.source import Span

    return Span(a.source, a.line, a.col, b.end_line, b.end_col)


# Which signature a call shape resolved to: programs repeat the same operations, and the
# choice depends only on the candidates and the argument types.
_CHOICES: dict = {}


def _shape_key(sigs: list, args: list, kwargs: dict):
    return (
        tuple(id(s) for s in sigs),
        tuple((a.type, a.flexible) for a in args),
        tuple(sorted((k, v.type, v.flexible) for k, v in kwargs.items())),
    )


def resolve(sigs: list, args: list, kwargs: dict, span, callee: str) -> Match | str:
    """The first signature that accepts the arguments (exact pass, then with conversions), or
    the message saying why none does."""
    try:
        key = _shape_key(sigs, args, kwargs)
        choice = _CHOICES.get(key)
    except TypeError:  # an unhashable type: resolve without the cache
        key, choice = None, None
    if choice is not None:
        index, allow_conv = choice
        result = match(sigs[index], args, kwargs, allow_conv, span)
        if isinstance(result, Match):
            return result
    for allow_conv in (False, True):
        for index, sig in enumerate(sigs):
            result = match(sig, args, kwargs, allow_conv, span)
            if isinstance(result, Match):
                if key is not None and len(_CHOICES) < 100_000:
                    _CHOICES[key] = (index, allow_conv)
                return result
    return no_match_message(sigs, args, kwargs, span, callee)


def no_match_message(sigs: list, args: list, kwargs: dict, span, callee: str) -> str:
    failures = [_full_match(sig, args, kwargs, True, span) for sig in sigs]
    if len(sigs) == 1 and isinstance(failures[0], Failure):
        return failures[0].message
    # A keyword no overload knows is the likeliest mistake: name it.
    if kwargs:
        known = set()
        for sig in sigs:
            known.update(p.name for p in sig.params)
        for k in kwargs:
            if k not in known:
                return M.UNKNOWN_KEYWORD.format(callee=callee, keyword=k, hint=M.suggest(k, known))
    got = ", ".join(
        [describe(a.type) for a in args] + [f"{k}={describe(v.type)}" for k, v in kwargs.items()]
    )
    typed = [f for f in failures if isinstance(f, Failure) and f.kind in ("type", "typevar")]
    reason = f" ({typed[0].message})" if len(typed) == 1 else ""
    candidates = "\n".join(f"  {s.text or s.name}" for s in sigs)
    return M.NO_OVERLOAD.format(callee=callee, got=got, reason=reason, candidates=candidates)
