"""Scalar code generation: a region of ints, floats and bools as one Numba function.

``translate(params, nodes, returns, name)`` turns a region of the IR (its parameters, its nodes
in order, nested ``If``/``Loop`` blocks included, and the values it returns) into the Python
source of a module holding one ``@njit`` function (two for sin and cos, see ``translate``);
``load(kernel)`` puts that module into the shared on-disk kernel cache (``kernels/cache.py``)
and compiles it (``cache=True``, so a second process loads the machine code instead of
compiling again). The IR is read by shape only (node kinds are the IR's ``prim::`` names, ops
are looked up by their registry qualified name), so this module imports
nothing above ``kernels``.

Semantics are TorchScript's, as the registry's reference impls compute them (``jit/ops/scalars.py``,
``mathlib.py``):

- ints are int64 and wrap on overflow (Numba's arithmetic, and TorchScript's); the interpreter's
  Python ints grow instead, so the two agree whenever results fit in 64 bits. Where a result
  cannot fit and the wrap is not what TorchScript does either (``int(1e30)``, ``factorial(25)``)
  the region falls back to the interpreter;
- ``//`` and ``%`` on ints round toward negative infinity (Numba's operators do, checked by the
  tests) and a zero divisor raises ZeroDivisionError: the test is emitted before the operation,
  and ``x // -1`` is emitted as a negation, because LLVM's division traps on ``INT64_MIN // -1``;
- float arithmetic never raises (``error_model='numpy'``: division by zero gives inf or nan), and
  float ``//``/``%`` are ``floor(a / b)`` and ``fmod(b + fmod(a, b), b)`` as in TorchScript;
- math functions are the C library's (nan or inf outside their domain), as the reference impls,
  but for sin and cos in counted loops: ``fastmath64``'s inlined polynomials, within an ulp of
  libm, which a loop can vectorize (libm's own results where an argument is beyond 1.6e6,
  inf or nan);
- float sums round each ``+=`` in order, as interpreted: loops are vectorized only with the
  additions kept in order (``_ordered_reductions``), never reassociated.

A failure inside the function (a zero divisor, a ``raise``, an ``assert``) returns early with an
error code: the function returns ``(code, *outputs)``, ``code`` 0 on success, ``k > 0`` for the
k-th entry of ``Kernel.errors`` (the failing node and the exception the interpreter would raise
there), ``FALLBACK`` when the region must be run by the interpreter instead.
"""
from __future__ import annotations

import hashlib
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from . import fastmath64

_FASTMATH64_DIGEST = hashlib.sha256(Path(fastmath64.__file__).read_bytes()).hexdigest()[:24]

# The IR's built-in node kinds this translator knows.
CONSTANT = "prim::Constant"
UNINITIALIZED = "prim::Uninitialized"
IF = "prim::If"
LOOP = "prim::Loop"
RAISE = "prim::RaiseException"
RANGE_LENGTH = "prim::RangeLength"
UNCHECKED_CAST = "prim::unchecked_cast"
OP = "op"

INT, FLOAT, BOOL = "int", "float", "bool"
SCALAR_KINDS = frozenset({INT, FLOAT, BOOL})
_NUMBA_TYPES = {INT: "int64", FLOAT: "float64", BOOL: "boolean"}
_ZERO = {INT: "0", FLOAT: "0.0", BOOL: "False"}
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
FALLBACK = -1
# A trip count at least this large is a ``while`` loop's "forever": no counter is needed.
_FOREVER = 2 ** 62


class Unsupported(Exception):
    """The region holds something this translator cannot express."""


# ------------------------------------------------------------------ the translation table

@dataclass(frozen=True)
class Check:
    """A failure tested before an op runs: ``cond`` over the operands (``{0}``, ``{1}``, ...).
    ``probe`` are arguments on which the op's reference impl raises the exception to report;
    without a probe the interpreter re-runs the region (a result that does not fit int64)."""

    cond: str
    probe: Optional[tuple] = None


@dataclass(frozen=True)
class Rule:
    """``expr`` over the operands converted to ``params`` kinds, giving a value of ``result``."""

    expr: str
    params: tuple
    result: str
    checks: tuple = ()
    helpers: tuple = ()
    # without a slow path: exact where ``_fm64.within_bound`` holds for the operand
    bounded_expr: str = ""


_NAN, _INF = math.nan, math.inf
_TO_INT_CHECKS = (
    Check("{0} != {0}", (_NAN,)),
    Check("{0} == math.inf or {0} == -math.inf", (_INF,)),
    Check("not (-9.223372036854775808e18 <= {0} < 9.223372036854775808e18)"),
)
_ZERO_DIVISOR = (Check("{1} == 0", (1, 0)),)

TRANSLATIONS: dict[str, Rule] = {}


def _rule(name: str, expr: str, params: tuple, result: str, checks: tuple = (),
          helpers: tuple = (), bounded_expr: str = "") -> None:
    TRANSLATIONS[name] = Rule(expr, params, result, checks, helpers, bounded_expr)


_MIXED = (("float", (FLOAT, FLOAT)), ("int_float", (FLOAT, FLOAT)), ("float_int", (FLOAT, FLOAT)))

for _name, _sym in (("add", "+"), ("sub", "-"), ("mul", "*")):
    _rule(f"{_name}.int", f"({{0}} {_sym} {{1}})", (INT, INT), INT)
    for _suffix, _params in _MIXED:
        _rule(f"{_name}.{_suffix}", f"({{0}} {_sym} {{1}})", _params, FLOAT)
for _suffix, _params in (("int", (FLOAT, FLOAT)),) + _MIXED:
    _rule(f"div.{_suffix}", "({0} / {1})", _params, FLOAT)
    _rule(f"pow.{_suffix}", "_fpow({0}, {1})", _params, FLOAT, helpers=("_fpow",))
    if _suffix != "int":
        _rule(f"floor_divide.{_suffix}", "_ffloordiv({0}, {1})", _params, FLOAT,
              helpers=("_ffloordiv",))
        _rule(f"remainder.{_suffix}", "_fremainder({0}, {1})", _params, FLOAT,
              helpers=("_fremainder",))
_rule("floor_divide.int", "_ifloordiv({0}, {1})", (INT, INT), INT, _ZERO_DIVISOR, ("_ifloordiv",))
_rule("remainder.int", "_iremainder({0}, {1})", (INT, INT), INT, _ZERO_DIVISOR, ("_iremainder",))

for _name, _sym in (("bitwise_and", "&"), ("bitwise_or", "|"), ("bitwise_xor", "^")):
    _rule(f"{_name}.int", f"({{0}} {_sym} {{1}})", (INT, INT), INT)
    _rule(f"{_name}.bool", f"({{0}} {_sym} {{1}})", (BOOL, BOOL), BOOL)
# Python's ``<<`` grows where int64 would lose bits: such a shift runs in the interpreter
_rule("bitwise_left_shift.int", "_lshift({0}, {1})", (INT, INT), INT,
      (Check("{1} < 0", (1, -1)),
       Check("({1} >= 64 and {0} != 0) or ({1} < 64 and (({0} << {1}) >> {1}) != {0})")),
      ("_lshift",))
_rule("bitwise_right_shift.int", "_rshift({0}, {1})", (INT, INT), INT,
      (Check("{1} < 0", (1, -1)),), ("_rshift",))

for _name, _sym in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")):
    _rule(f"{_name}.int", f"({{0}} {_sym} {{1}})", (INT, INT), BOOL)
    _rule(f"{_name}.float", f"({{0}} {_sym} {{1}})", (FLOAT, FLOAT), BOOL)
    _rule(f"{_name}.int_float", f"({{0}} {_sym} {{1}})", (INT, FLOAT), BOOL)
    _rule(f"{_name}.float_int", f"({{0}} {_sym} {{1}})", (FLOAT, INT), BOOL)
    _rule(f"{_name}.bool", f"({{0}} {_sym} {{1}})", (BOOL, BOOL), BOOL)

_rule("neg.int", "(-{0})", (INT,), INT)
_rule("neg.float", "(-{0})", (FLOAT,), FLOAT)
_rule("pos.int", "{0}", (INT,), INT)
_rule("pos.float", "{0}", (FLOAT,), FLOAT)
_rule("bitwise_not.int", "(~{0})", (INT,), INT)
_rule("__not__.bool", "(not {0})", (BOOL,), BOOL)
_rule("__not__.int", "({0} == 0)", (INT,), BOOL)
_rule("__not__.float", "({0} == 0.0)", (FLOAT,), BOOL)

_rule("int.int", "{0}", (INT,), INT)
_rule("int.bool", "{0}", (INT,), INT)
_rule("int.float", "int({0})", (FLOAT,), INT, _TO_INT_CHECKS)
_rule("float.float", "{0}", (FLOAT,), FLOAT)
_rule("float.int", "{0}", (FLOAT,), FLOAT)
_rule("float.bool", "{0}", (FLOAT,), FLOAT)
_rule("bool.bool", "{0}", (BOOL,), BOOL)
_rule("bool.int", "({0} != 0)", (INT,), BOOL)
_rule("bool.float", "({0} != 0.0)", (FLOAT,), BOOL)

_rule("abs.int", "abs({0})", (INT,), INT)
_rule("abs.float", "abs({0})", (FLOAT,), FLOAT)
for _name, _cmp in (("min", "<"), ("max", ">")):
    # TorchScript's ``a < b ? a : b``, which differs from Python's min when ``b`` is nan
    _rule(f"{_name}.int", f"({{0}} if {{0}} {_cmp} {{1}} else {{1}})", (INT, INT), INT)
    for _suffix, _params in _MIXED:
        _rule(f"{_name}.{_suffix}", f"({{0}} if {{0}} {_cmp} {{1}} else {{1}})", _params, FLOAT)
_rule("round.int", "{0}", (FLOAT,), FLOAT)
# np.rint rounds halves to even like Python's round; ``+ 0.0`` turns its -0.0 into Python's 0.0
_rule("round.float", "(np.rint({0}) + 0.0)", (FLOAT,), FLOAT)

for _name in ("sqrt", "exp", "log", "log2", "log10", "log1p", "expm1", "sin", "cos", "tan", "asin",
              "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "fabs", "erf",
              "erfc", "gamma", "lgamma", "degrees", "radians"):
    _rule(f"{_name}.int", f"math.{_name}({{0}})", (FLOAT,), FLOAT)
    _rule(f"{_name}.float", f"math.{_name}({{0}})", (FLOAT,), FLOAT)
# libm's sin and cos are calls no loop around them can vectorize; fastmath64's branch-free
# forms are inlined polynomials, within an ulp of libm below its bound
for _name, _bounded in fastmath64.FUNCTIONS.items():
    for _suffix in ("int", "float"):
        _rule(f"{_name}.{_suffix}", f"math.{_name}({{0}})", (FLOAT,), FLOAT,
              bounded_expr=f"_fm64.{_bounded}({{0}})")
_rule("log.int_int", "(math.log({0}) / math.log({1}))", (FLOAT, FLOAT), FLOAT)
_rule("log.float_float", "(math.log({0}) / math.log({1}))", (FLOAT, FLOAT), FLOAT)
for _name, _expr in (("floor", "int(np.floor({0}))"), ("ceil", "int(np.ceil({0}))"),
                     ("trunc", "int({0})")):
    _rule(f"{_name}.int", "{0}", (INT,), INT)
    _rule(f"{_name}.float", _expr, (FLOAT,), INT, _TO_INT_CHECKS)
for _name in ("isnan", "isinf", "isfinite"):
    _rule(f"{_name}.int", f"math.{_name}({{0}})", (FLOAT,), BOOL)
    _rule(f"{_name}.float", f"math.{_name}({{0}})", (FLOAT,), BOOL)
for _name, _expr in (("atan2", "math.atan2({0}, {1})"), ("copysign", "math.copysign({0}, {1})"),
                     ("hypot", "math.hypot({0}, {1})"), ("fmod", "np.fmod({0}, {1})")):
    _rule(f"{_name}.int", _expr, (FLOAT, FLOAT), FLOAT)
    _rule(f"{_name}.float", _expr, (FLOAT, FLOAT), FLOAT)
_rule("gcd.int", "math.gcd({0}, {1})", (INT, INT), INT)
_rule("factorial.int", "_factorial({0})", (INT,), INT,
      (Check("{0} < 0", (-1,)), Check("{0} > 20")), ("_factorial",))
# C's ldexp takes a C int: clamping keeps the result (any finite double overflows or underflows)
_rule("ldexp.float", "math.ldexp({0}, max(-4000, min(4000, {1})))", (FLOAT, INT), FLOAT)
_rule("isclose.float", "_isclose({0}, {1}, {2}, {3})", (FLOAT, FLOAT, FLOAT, FLOAT), BOOL,
      (Check("{2} < 0.0 or {3} < 0.0", (1.0, 1.0, -1.0, 0.0)),), ("_isclose",))


def _range_length_reference(start: int, stop: int, step: int) -> int:
    return len(range(start, stop, step))


_RANGE_LENGTH_RULE = Rule("_range_length({0}, {1}, {2})", (INT, INT, INT), INT,
                          (Check("{2} == 0", (0, 1, 0)),), ("_range_length",))

# Helpers the expressions call; each module gets the ones it uses (so its source, which keys
# the on-disk cache, covers everything the compiled code depends on).
_HELPERS = {
    "_ifloordiv": '''
@njit(inline="always", error_model="numpy")
def _ifloordiv(a, b):
    if b == -1:
        return -a
    return a // b
''',
    "_iremainder": '''
@njit(inline="always", error_model="numpy")
def _iremainder(a, b):
    if b == -1:
        return 0
    return a % b
''',
    "_ffloordiv": '''
@njit(inline="always", error_model="numpy")
def _ffloordiv(a, b):
    q = a / b
    if not math.isfinite(q):
        return q
    r = np.floor(q)
    if r == 0.0:
        return math.copysign(r, q)
    return r
''',
    "_fremainder": '''
@njit(inline="always", error_model="numpy")
def _fremainder(a, b):
    return np.fmod(b + np.fmod(a, b), b)
''',
    "_fpow": '''
@njit(inline="always", error_model="numpy")
def _fpow(a, b):
    return math.pow(a, b)
''',
    "_lshift": '''
@njit(inline="always", error_model="numpy")
def _lshift(a, b):
    if b >= 64:
        return 0
    return a << b
''',
    "_rshift": '''
@njit(inline="always", error_model="numpy")
def _rshift(a, b):
    if b >= 64:
        return -1 if a < 0 else 0
    return a >> b
''',
    "_factorial": '''
@njit(inline="always", error_model="numpy")
def _factorial(a):
    r = 1
    for k in range(2, a + 1):
        r *= k
    return r
''',
    "_isclose": '''
@njit(inline="always", error_model="numpy")
def _isclose(a, b, rel_tol, abs_tol):
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b):
        return False
    diff = abs(b - a)
    return diff <= abs(rel_tol * b) or diff <= abs(rel_tol * a) or diff <= abs_tol
''',
    # the digest puts fastmath64's source into the module's cache key
    "_fm64": f"""
from tensorscript.kernels import fastmath64 as _fm64  # sha256 {_FASTMATH64_DIGEST}
""",
    "_range_length": '''
@njit(inline="always", error_model="numpy")
def _range_length(start, stop, step):
    if step > 0:
        if stop <= start:
            return 0
        return (stop - start - 1) // step + 1
    if stop >= start:
        return 0
    return (start - stop - 1) // (-step) + 1
''',
}


# ------------------------------------------------------------------ what the pass asks

def kind_of(value) -> Optional[str]:
    """The scalar kind of a value's static type (``int``, ``float``, ``bool``), else None."""
    k = str(value.type)
    return k if k in SCALAR_KINDS else None


def _constant_ok(node) -> bool:
    value = node.attrs.get("value")
    if isinstance(value, bool) or isinstance(value, float):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, str):  # a message: only a raise may read it
        return all(user.kind == RAISE for user, _ in node.outputs[0].uses)
    return False


def rule_for(node) -> Optional[Rule]:
    if node.kind == RANGE_LENGTH:
        return _RANGE_LENGTH_RULE
    if node.kind == OP and node.op is not None:
        return TRANSLATIONS.get(node.op.qualified_name)
    return None


def can_translate(node) -> bool:
    """Whether ``node`` (with everything in its blocks) has a translation here."""
    kind = node.kind
    if kind == CONSTANT:
        return _constant_ok(node)
    if kind == UNINITIALIZED:
        return all(kind_of(o) for o in node.outputs)
    if kind == RAISE:
        msg = node.inputs[0].node if node.inputs else None
        return msg is not None and msg.kind == CONSTANT and isinstance(msg.attrs.get("value"), str)
    if kind in (OP, RANGE_LENGTH):
        rule = rule_for(node)
        if rule is None or len(node.inputs) != len(rule.params) or len(node.outputs) != 1:
            return False
        return all(kind_of(v) for v in node.inputs) and kind_of(node.outputs[0]) is not None
    if kind == UNCHECKED_CAST:
        return kind_of(node.inputs[0]) is not None and kind_of(node.outputs[0]) is not None
    if kind in (IF, LOOP):
        if not all(kind_of(v) for v in node.inputs) or not all(kind_of(o) for o in node.outputs):
            return False
        for b in node.blocks:
            if not all(kind_of(p) for p in b.params) or not all(kind_of(r) for r in b.returns):
                return False
            if not all(can_translate(n) for n in b.nodes):
                return False
        return True
    return False


# ------------------------------------------------------------------ translation

@dataclass
class ErrorSite:
    """Where the compiled code stopped: the node, and the exception to raise there
    (``error_type``/``message`` of a script's own ``raise``, or ``exception`` for a failing op)."""

    node: Any
    exception: Optional[BaseException] = None
    error_type: str = ""
    message: str = ""


@dataclass
class KernelSource:
    name: str
    source: str
    key: str
    param_kinds: list
    return_kinds: list
    errors: list = field(default_factory=list)


def _literal(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return f"({value})" if value < 0 else str(value)
    if isinstance(value, float):
        if value != value:
            return "math.nan"
        if math.isinf(value):
            return "math.inf" if value > 0 else "(-math.inf)"
        text = repr(value)
        return f"({text})" if text.startswith("-") else text
    raise Unsupported(f"constant {value!r}")


def _convert(expr: str, have: str, want: str) -> str:
    """``expr`` (of kind ``have``) as a value of kind ``want``, as Python converts it."""
    if have == want:
        return expr
    if want == FLOAT:
        return f"(1.0 if {expr} else 0.0)" if have == BOOL else f"float({expr})"
    if want == INT:
        if have == BOOL:
            return f"(1 if {expr} else 0)"
        raise Unsupported("a float where an int is expected")
    return f"({expr} != 0)"


def _probe(fn: Callable, args: tuple) -> BaseException:
    try:
        fn(*args)
    except Exception as exc:  # the exception the reference raises is the one to report
        return exc
    return RuntimeError("the compiled code reported a failure the reference does not raise")


# In a bounded translation, whether some operand was beyond fastmath64's bound
_BEYOND = "beyond_bound"


class _Translator:
    """``bounded_fallback``, when given, names the function of the same region translated
    with libm's calls: this translation then uses the rules' ``bounded_expr`` (no branch in the
    loop body, so LLVM can vectorize it), records in ``_BEYOND`` whether an operand was beyond
    the bound, and hands the whole region to the fallback before it enters a loop or returns
    once that happened. Only regions whose loops all have their trip count fixed on entry are
    translated so: a value computed from a wrong result cannot keep a loop from ending."""

    def __init__(self, params: list, returns: list, bounded_fallback: str = ""):
        self.names: dict = {}
        self.lines: list = []
        self.errors: list = []
        self.helpers: set = set()
        self.return_kinds = [self.kind(v) for v in returns]
        self.zeros = [_ZERO[k] for k in self.return_kinds]
        for k, p in enumerate(params):
            self.names[p] = f"a{k}"
        self.counter = 0
        self.args = ", ".join(f"a{k}" for k in range(len(params)))
        self.bounded_fallback = bounded_fallback

    def kind(self, v) -> str:
        k = kind_of(v)
        if k is None:
            raise Unsupported(f"a value of type {v.type}")
        return k

    def fresh(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def name(self, v) -> str:
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = self.fresh()
        return n

    def ref(self, v) -> str:
        node = v.node
        if node is not None and node.kind == CONSTANT:
            return _literal(node.attrs.get("value"))
        if node is not None and node.kind == UNINITIALIZED:
            return _ZERO[self.kind(v)]
        n = self.names.get(v)
        if n is None:
            raise Unsupported(f"%{v.debug_name} is read outside the region")
        return n

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def assign(self, depth: int, target_value, source_value) -> None:
        expr = _convert(self.ref(source_value), self.kind(source_value), self.kind(target_value))
        self.emit(depth, f"{self.name(target_value)} = {expr}")

    def fail(self, depth: int, site: ErrorSite, fallback: bool = False) -> None:
        if fallback:
            code = FALLBACK
        else:
            self.errors.append(site)
            code = len(self.errors)
        self.leave_if_beyond_bound(depth)
        self.emit(depth, "return (" + ", ".join([str(code), *self.zeros]) + ",)")

    def leave_if_beyond_bound(self, depth: int) -> None:
        if self.bounded_fallback:
            self.emit(depth, f"if {_BEYOND}:")
            self.emit(depth + 1, f"return {self.bounded_fallback}({self.args})")

    # -------------------------------------------------------------- nodes

    def block(self, nodes: list, depth: int) -> None:
        start = len(self.lines)
        for node in nodes:
            self.node(node, depth)
        if len(self.lines) == start:
            self.emit(depth, "pass")

    def node(self, node, depth: int) -> None:
        kind = node.kind
        if kind in (CONSTANT, UNINITIALIZED):
            if not can_translate(node):
                raise Unsupported(f"{kind} of {node.attrs.get('value')!r}")
            return
        if kind in (OP, RANGE_LENGTH):
            self.apply(node, rule_for(node), depth)
        elif kind == UNCHECKED_CAST:
            self.assign(depth, node.outputs[0], node.inputs[0])
        elif kind == IF:
            self.if_(node, depth)
        elif kind == LOOP:
            self.loop(node, depth)
        elif kind == RAISE:
            message = node.inputs[0].node.attrs.get("value")
            error_type = node.attrs.get("exception", "Exception")
            self.fail(depth, ErrorSite(node, error_type=error_type, message=str(message)))
        else:
            raise Unsupported(f"{node.kind} nodes")

    def apply(self, node, rule: Optional[Rule], depth: int) -> None:
        if rule is None or not can_translate(node):
            raise Unsupported(f"{getattr(node.op, 'qualified_name', node.kind)}")
        operands = [_convert(self.ref(v), self.kind(v), want)
                    for v, want in zip(node.inputs, rule.params)]
        rule = _specialize(rule, node.inputs)
        for check in rule.checks:
            self.emit(depth, f"if {check.cond.format(*operands)}:")
            if check.probe is None:
                self.fail(depth + 1, ErrorSite(node), fallback=True)
            else:
                reference = node.op.impl if node.kind == OP else _range_length_reference
                self.fail(depth + 1, ErrorSite(node, exception=_probe(reference, check.probe)))
        self.helpers.update(rule.helpers)
        out = node.outputs[0]
        template = rule.expr
        if self.bounded_fallback and rule.bounded_expr:
            template = rule.bounded_expr
            self.helpers.add("_fm64")
            beyond = f"not (abs({operands[0]}) < _fm64.REDUCTION_BOUND)"  # nan is beyond
            self.emit(depth, f"{_BEYOND} = {_BEYOND} | ({beyond})")
        expr = _convert(template.format(*operands), rule.result, self.kind(out))
        self.emit(depth, f"{self.name(out)} = {expr}")

    def if_(self, node, depth: int) -> None:
        self.emit(depth, f"if {self.ref(node.inputs[0])}:")
        for k, block in enumerate(node.blocks):
            if k == 1:
                self.emit(depth, "else:")
            start = len(self.lines)
            self.block(block.nodes, depth + 1)
            if block.returns and self.lines[-1].strip() == "pass" and len(self.lines) == start + 1:
                self.lines.pop()
            for out, r in zip(node.outputs, block.returns):
                self.assign(depth + 1, out, r)

    def loop(self, node, depth: int) -> None:
        trip, cond, *init = node.inputs
        body = node.blocks[0]
        index, *params = body.params
        body_cond, *results = body.returns
        for p, v in zip(params, init):
            self.assign(depth, p, v)
        for o, p in zip(node.outputs, params):
            self.names[o] = self.name(p)
        if _counted(node):
            self.leave_if_beyond_bound(depth)
            self.emit(depth, f"for {self.name(index)} in range({self.ref(trip)}):")
            self.block(body.nodes, depth + 1)
            self.carry(params, results, depth + 1)
            return
        trips = _constant(trip)
        forever = isinstance(trips, int) and trips >= _FOREVER
        c = self.fresh("c")
        self.emit(depth, f"{c} = {self.ref(cond)}")
        use_index = not forever or bool(index.uses)
        i = self.name(index)
        if use_index:
            self.emit(depth, f"{i} = 0")
        test = c if forever else f"{c} and {i} < {self.ref(trip)}"
        self.emit(depth, f"while {test}:")
        self.block(body.nodes, depth + 1)
        self.carry(params, results, depth + 1)
        self.emit(depth + 1, f"{c} = {self.ref(body_cond)}")
        if use_index:
            self.emit(depth + 1, f"{i} += 1")

    def carry(self, params: list, results: list, depth: int) -> None:
        pairs = [(p, r) for p, r in zip(params, results) if r is not p]
        if len(pairs) == 1:
            self.assign(depth, *pairs[0])
            return
        temps = []
        for p, r in pairs:
            t = self.fresh("t")
            expr = _convert(self.ref(r), self.kind(r), self.kind(p))
            self.emit(depth, f"{t} = {expr}")
            temps.append(t)
        for (p, _), t in zip(pairs, temps):
            self.emit(depth, f"{self.name(p)} = {t}")


def _counted(loop) -> bool:
    """Whether a loop node runs a trip count fixed on entry (no condition, not a ``while``)."""
    trip, cond = loop.inputs[0], loop.inputs[1]
    body_cond = loop.blocks[0].returns[0]
    trips = _constant(trip)
    forever = isinstance(trips, int) and trips >= _FOREVER
    return _constant(cond) is True and _constant(body_cond) is True and not forever


def _can_bound(nodes: list) -> bool:
    """Whether a region has a call with a bounded form, and only counted loops."""
    every = [n for top in nodes for n in (top, *(m for b in top.blocks for m in b.walk()))]
    if any(n.kind == LOOP and not _counted(n) for n in every):
        return False
    return any(getattr(rule_for(n), "bounded_expr", "") for n in every)


def _specialize(rule: Rule, inputs: list) -> Rule:
    """Integer ``//`` and ``%`` by a constant other than 0 and -1 need neither the zero test
    nor the helper: Numba's operators already round toward negative infinity."""
    if rule.helpers in (("_ifloordiv",), ("_iremainder",)):
        divisor = _constant(inputs[1])
        if type(divisor) is int and divisor not in (0, -1):
            op = "//" if rule.helpers == ("_ifloordiv",) else "%"
            return Rule(f"({{0}} {op} {{1}})", rule.params, rule.result)
    return rule


def _constant(v):
    node = v.node
    if node is not None and node.kind == CONSTANT:
        return node.attrs.get("value")
    return None


def translate(params: list, nodes: list, returns: list, name: str = "region") -> KernelSource:
    """The module source for a region: ``params`` and ``returns`` are Values, ``nodes`` the
    region's top-level nodes in order. Raises Unsupported for anything without a translation.

    A region that calls sin or cos in counted loops only gets two functions: ``kernel``, with
    fastmath64's branch-free forms, and ``kernel_exact``, with libm's calls, which ``kernel``
    hands its arguments to when one of theirs was beyond the bound (see ``_Translator``).
    Loops that may not end (``while``) keep libm's calls: a wrong value there could keep one
    from ending, and a scalar loop gains little from the polynomials."""
    fname = "kernel"
    translations = [(fname, _Translator(params, returns))]
    if _can_bound(nodes):
        exact_name = f"{fname}_exact"
        translations = [(exact_name, translations[0][1]),
                        (fname, _Translator(params, returns, bounded_fallback=exact_name))]
    tr = translations[0][1]
    param_kinds = [tr.kind(p) for p in params]
    ret_types = ", ".join(["int64"] + [_NUMBA_TYPES[k] for k in tr.return_kinds])
    arg_types = ", ".join(_NUMBA_TYPES[k] for k in param_kinds)
    header = [
        # compiled under ``_ordered_reductions``: the line keeps machine code compiled
        # without it, in older cache entries, from being loaded
        "# float sums: vectorized in order",
        "import math",
        "import numpy as np",
        "from numba import njit",
        "from numba.types import Tuple, boolean, float64, int64",
    ]
    helpers: set = set()
    body = [f"# {name}"]
    for function_name, translation in translations:
        if translation.bounded_fallback:
            translation.emit(1, f"{_BEYOND} = False")
        translation.block(nodes, 1)
        translation.leave_if_beyond_bound(1)
        translation.emit(1, "return (" + ", ".join(
            ["0", *(translation.ref(v) for v in returns)]) + ",)")
        helpers.update(translation.helpers)
        body += [
            f'@njit(Tuple(({ret_types},))({arg_types}), cache=True, error_model="numpy", '
            f'nogil=True)',
            f"def {function_name}({translation.args}):",
            *translation.lines,
            "",
        ]
    # both translations visit the same nodes in the same order: their error codes agree
    assert all(len(t.errors) == len(tr.errors) for _, t in translations)
    source = ("\n".join(header) + "\n" + "".join(_HELPERS[h] for h in sorted(helpers))
              + "\n\n" + "\n".join(body))
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    return KernelSource(fname, source, key, param_kinds, tr.return_kinds, tr.errors)


# ------------------------------------------------------------------ loading

_loaded: dict = {}


def load(kernel: KernelSource) -> Callable:
    """The compiled function for ``kernel``: from this process's table, else from the shared
    on-disk kernel cache (``kernels/cache.py``), which compiles it the first time."""
    fn = _loaded.get(kernel.key)
    if fn is None:
        from . import cache
        with _ordered_reductions():
            module = cache.load_module(kernel.source)
        fn = _loaded[kernel.key] = getattr(module, kernel.name)
    return fn


@contextmanager
def _ordered_reductions():
    """LLVM vectorizes a loop that sums floats only if it may reorder the sum, which the
    region may not (TorchScript rounds each ``+=`` in order) -- unless told to vectorize the
    body and keep the additions in order, which is this option. LLVM's options are global:
    it is set only while the region compiles, under the lock every Numba compilation takes."""
    import llvmlite.binding as llvm
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        llvm.set_option("", "-force-ordered-reductions=true")
        try:
            yield
        finally:
            llvm.set_option("", "-force-ordered-reductions=false")


__all__ = ["TRANSLATIONS", "Rule", "Check", "KernelSource", "ErrorSite", "Unsupported",
           "FALLBACK", "can_translate", "kind_of", "translate", "load"]
