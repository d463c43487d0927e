"""Code generation for fused pointwise kernels (optionally with last-dim row reductions).

A kernel is described by a :class:`KernelSpec`: the dtype and inner-dim layout of each input,
the runtime scalar arguments, the steps (pointwise scalar expressions and last-dim
reductions, in topological order) and the outputs. :func:`generate_source` turns it into the
Python source of a module defining one Numba kernel::

    kernel(P, in0, ..., out0, ..., s0, ...)

- ``P`` (int64): ``R, C, CH, NCH``, the ``m`` outer sizes, then for each input its ``m``
  outer strides and its inner stride (elements; 0 where it broadcasts).
- ``in_k``: 1-D views starting at each input's first element; ``out_k``: 1-D C-contiguous
  buffers, ``R * C`` elements for full outputs, ``R`` for row outputs (reductions).

The domain is ``R`` rows of ``C`` elements. Without reductions a task is a chunk of ``CH``
elements of one row (``NCH`` chunks per row), and its loop runs over slices so that the
vectorizer sees unit-stride, non-negative indices. With reductions a task is ``CH`` whole rows
(``NCH`` tasks), walked as :class:`_RowPlan` describes: passes over the row, one per level of
dependent reductions, then one loop writing the full outputs. Values that do not vary along
the row (inputs with inner stride 0, scalars, reductions and what is computed from them alone)
are computed once per row.

A float sum is taken per ``BLOCK`` of elements by a function whose ``reassoc`` flag lets LLVM
spread it over vector lanes (the kernel itself must not have it: it would license rewriting
the compensation steps of fastmath), and the block sums are added in float64. Max and min
compare integer keys of the float bits, which vectorize without flags.
"""
from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass

from . import fastmath

INNER_BCAST, INNER_CONTIG, INNER_STRIDED = "bcast", "contig", "strided"
REDUCE_KINDS = ("sum", "mean", "max", "min")

NUMPY_TYPES = {"float32": "np.float32", "float64": "np.float64", "int64": "np.int64",
               "int32": "np.int32", "int16": "np.int16", "int8": "np.int8", "uint8": "np.uint8",
               "bool": "np.bool_"}
SCALAR_TYPES = {"float": "float64", "int": "int64", "bool": "bool"}  # Python scalars in Numba
BLOCK = 512  # elements per block of a float reduction: its sums are added in float64
FASTMATH_FLAGS = {"contract", "nsz", "arcp"}  # no nnan/ninf: NaN and inf must propagate


class Unsupported(Exception):
    """The spec asks for something the generator does not emit; the caller runs op by op."""


@dataclass(frozen=True)
class Operand:
    kind: str  # "in" (tensor input), "arg" (runtime scalar), "val" (step result), "const"
    ref: object  # input/arg/step index, or the constant's value
    dtype: str  # the operand's dtype name ("float32", ...; "float"/"int"/"bool" for scalars)


@dataclass(frozen=True)
class Step:
    expr: str  # a registry scalar_expr, or a REDUCE_KINDS name for a reduction
    names: tuple  # the expression's names, bound to ``operands``
    operands: tuple
    dtype: str  # result dtype
    compute: str  # dtype the operands are converted to before the expression runs
    reduce: bool = False


@dataclass(frozen=True)
class KernelSpec:
    inputs: tuple  # per tensor input: (dtype, inner layout)
    scalars: tuple  # runtime scalar kinds: "float", "int", "bool"
    steps: tuple
    outputs: tuple  # per output: (step index, dtype, row output?)
    outer_rank: int
    parallel: bool

    @property
    def reduces(self) -> bool:
        return any(s.reduce for s in self.steps)

    def digest(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()


# ------------------------------------------------------------------ scalar expressions

_FLOATS = ("float32", "float64")


def _is_float(dt: str) -> bool:
    return dt in _FLOATS or dt == "float"


def _is_int(dt: str) -> bool:
    return dt in ("int64", "int32", "int16", "int8", "uint8", "int")


def convert(code: str, src: str, dst: str) -> str:
    src = SCALAR_TYPES.get(src, src)
    if src == dst:
        return code
    if dst == "bool":
        return f"({code} != 0)"
    return f"{NUMPY_TYPES[dst]}({code})"


class _Constants:
    """Module-level constants: Numba freezes globals, and typed ones keep float32 math float32."""

    def __init__(self):
        self.lines: list = []
        self.names: dict = {}

    def get(self, value, dtype: str) -> str:
        if dtype == "bool":
            return "True" if value else "False"
        if isinstance(value, float) and value != value:
            text = "np.nan"
        elif isinstance(value, float) and value in (float("inf"), float("-inf")):
            text = "np.inf" if value > 0 else "-np.inf"
        else:
            text = repr(float(value) if _is_float(dtype) else int(value))
        key = (text, dtype)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"_k{len(self.names)}"
            self.lines.append(f"{name} = {NUMPY_TYPES[dtype]}({text})")
        return name


_FAST_UNARY = {name: fns for name, fns in fastmath.FUNCTIONS.items()}
_NP_UNARY = {"sqrt": "np.sqrt", "sin": "np.sin", "cos": "np.cos", "tan": "np.tan",
             "asin": "np.arcsin", "acos": "np.arccos", "atan": "np.arctan", "sinh": "np.sinh",
             "cosh": "np.cosh", "exp2": "np.exp2", "log2": "np.log2", "log10": "np.log10",
             "isinf": "np.isinf", "isfinite": "np.isfinite"}
_BINARY_HELPERS = {"maximum": "fm.maximum", "minimum": "fm.minimum", "fmax": "fm.fmax",
                   "fmin": "fm.fmin"}


class _ExprEmitter:
    def __init__(self, env: dict, dtype: str, consts: _Constants):
        self.env = env  # name -> code (already in ``dtype``)
        self.dtype = dtype
        self.consts = consts

    def emit(self, text: str) -> str:
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise Unsupported(f"cannot parse {text!r}") from exc
        return self.visit(tree)

    def visit(self, n) -> str:
        dt = self.dtype
        if isinstance(n, ast.Name):
            if n.id not in self.env:
                raise Unsupported(f"unbound name {n.id}")
            return self.env[n.id]
        if isinstance(n, ast.Constant):
            if not isinstance(n.value, (int, float, bool)):
                raise Unsupported(f"constant {n.value!r}")
            if _is_int(dt) and isinstance(n.value, float) and not float(n.value).is_integer():
                raise Unsupported("fractional constant in integer arithmetic")
            return self.consts.get(n.value, dt)
        if isinstance(n, ast.UnaryOp):
            a = self.visit(n.operand)
            if isinstance(n.op, ast.USub):
                if dt == "bool":
                    raise Unsupported("negation of bool")
                return f"(-{a})"
            if isinstance(n.op, ast.UAdd):
                return a
            if isinstance(n.op, (ast.Not, ast.Invert)) and dt == "bool" or isinstance(n.op, ast.Not):
                return f"({a} == 0)"
            if isinstance(n.op, ast.Invert) and _is_int(dt):
                return f"(~{a})"
            raise Unsupported(ast.dump(n.op))
        if isinstance(n, ast.BinOp):
            return self.binop(n)
        if isinstance(n, ast.Compare):
            if len(n.ops) != 1:
                raise Unsupported("chained comparison")
            sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
                   ast.GtE: ">="}.get(type(n.ops[0]))
            if sym is None:
                raise Unsupported(ast.dump(n.ops[0]))
            return f"({self.visit(n.left)} {sym} {self.visit(n.comparators[0])})"
        if isinstance(n, ast.BoolOp):
            parts = [self.visit(v) for v in n.values]
            if dt != "bool":
                parts = [f"({p} != 0)" for p in parts]
            sym = " & " if isinstance(n.op, ast.And) else " | "
            return "(" + sym.join(parts) + ")"
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            return self.call(n.func.id, n.args)
        raise Unsupported(ast.dump(n))

    def binop(self, n: ast.BinOp) -> str:
        dt = self.dtype
        op = type(n.op)
        if op is ast.Pow:
            return self.power(n)
        a, b = self.visit(n.left), self.visit(n.right)
        if op in (ast.Add, ast.Sub, ast.Mult):
            if dt == "bool":
                raise Unsupported("arithmetic on bool")
            sym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}[op]
            return f"({a} {sym} {b})"
        if op is ast.Div:
            if not _is_float(dt):
                raise Unsupported("integer division")  # PyTorch raises on zero; Numba would not
            return f"({a} / {b})"
        if op in (ast.BitAnd, ast.BitOr, ast.BitXor):
            if _is_float(dt):
                raise Unsupported("bitwise op on floats")
            sym = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}[op]
            return f"({a} {sym} {b})"
        raise Unsupported(ast.dump(n.op))  # %, //, shifts: PyTorch's edge cases differ

    def power(self, n: ast.BinOp) -> str:
        if not _is_float(self.dtype):
            raise Unsupported("integer power")
        a = self.visit(n.left)
        e = n.right
        if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)):
            v = e.value
            if v == 1:
                return a
            if v == 2:
                return f"({a} * {a})"
            if v == 3:
                return f"({a} * {a} * {a})"
            if v == 0.5:
                return f"np.sqrt({a})"
            if v == -1:
                return f"({self.consts.get(1.0, self.dtype)} / {a})"
        return f"({a} ** {self.visit(e)})"

    def call(self, fn: str, args) -> str:
        dt = self.dtype
        if fn in ("floor", "ceil", "trunc"):
            if any(isinstance(x, ast.BinOp) and isinstance(x.op, ast.Div) for x in ast.walk(args[0])):
                # floor division: PyTorch corrects floor(a / b) with fmod; not reproduced here
                raise Unsupported("floor division")
            a = self.visit(args[0])
            return a if not _is_float(dt) else f"np.{fn}({a})"
        codes = [self.visit(x) for x in args]
        if fn in _FAST_UNARY and len(codes) == 1:
            if not _is_float(dt):
                raise Unsupported(f"{fn} on {dt}")
            name = _FAST_UNARY[fn][0 if dt == "float32" else 1]
            return f"fm.{name}({codes[0]})"
        if fn in _NP_UNARY and len(codes) == 1:
            if not _is_float(dt) and fn not in ("isinf", "isfinite"):
                raise Unsupported(f"{fn} on {dt}")
            if not _is_float(dt):
                return self.consts.get(fn == "isfinite", "bool")
            return f"{_NP_UNARY[fn]}({codes[0]})"
        if fn == "abs" and len(codes) == 1:
            if dt == "bool":
                return codes[0]
            return f"abs({codes[0]})"
        if fn == "sign" and len(codes) == 1:
            if dt == "bool":
                return codes[0]
            one, zero = self.consts.get(1, dt), self.consts.get(0, dt)
            x = codes[0]
            return f"({one} if {x} > {zero} else ((-{one}) if {x} < {zero} else {x}))"
        if fn in _BINARY_HELPERS and len(codes) == 2:
            if dt == "bool":
                raise Unsupported(f"{fn} on bool")
            return f"{_BINARY_HELPERS[fn]}({codes[0]}, {codes[1]})"
        if fn == "where" and len(codes) == 3:
            return f"({codes[1]} if {codes[0]} else {codes[2]})"
        if fn == "atan2" and len(codes) == 2 and _is_float(dt):
            return f"np.arctan2({codes[0]}, {codes[1]})"
        if fn == "fmod" and len(codes) == 2 and _is_float(dt):
            return f"np.fmod({codes[0]}, {codes[1]})"
        raise Unsupported(f"function {fn}")


# ------------------------------------------------------------------ kernel source

_HEADER = '''import numpy as np
from numba import njit, prange
from tensorscript.kernels import fastmath as fm
from tensorscript.kernels.vector_width import wide_vectors
'''

_OPTIONS = "error_model='numpy', cache=True, boundscheck=False, nogil=True"

# A block's sum in a function of its own: ``reassoc`` lets LLVM split it over vector lanes,
# and it must not reach the kernel, whose inlined fastmath code depends on evaluation order.
# Unsigned indices spare the loop Numba's negative-index wraparound, which stops vectorizing.
_BLOCK_SUM = f'''
@njit({_OPTIONS}, fastmath={{'reassoc', 'contract', 'nsz'}})
def _block_sum(values, base, count, zero):
    wide_vectors()
    total = zero
    for j in range(count):
        total += values[base + j]
    return total
'''

# Floats compare like these integer keys (the sign-magnitude bits with the magnitude of
# negatives flipped), and integer max/min reductions vectorize where float selects do not
# (LLVM vectorizes those only when told that there are no NaNs). NaNs get keys above +inf's or
# below -inf's, so the largest and smallest key of a row also tell whether it holds a NaN.
_KEY_TYPES = {"float32": ("int32", 31, 0x7F800000), "float64": ("int64", 63, 0x7FF0000000000000)}


def _key_constants(dt: str) -> list:
    """Typed module constants for the integer keys of ``dt``."""
    it, bits, inf = _KEY_TYPES[dt]
    magnitude = (1 << bits) - 1
    negative_inf = inf - (1 << bits)  # the bits of -inf, read as a signed integer
    values = {"SHIFT": bits, "MAGNITUDE": magnitude, "LOWEST": -(1 << bits),
              "HIGHEST": magnitude, "INF": inf, "NEGINF": negative_inf ^ magnitude}
    return [f"_KEY_{name}_{dt} = np.{it}({value})" for name, value in values.items()]


def _costly(expr: str) -> bool:
    """Whether recomputing ``expr`` costs more than loading a stored value."""
    for n in ast.walk(ast.parse(expr, mode="eval")):
        if isinstance(n, ast.Call):
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Div, ast.Pow)):
            return True
    return False


class _Gen:
    def __init__(self, spec: KernelSpec):
        self.spec = spec
        self.consts = _Constants()
        steps = spec.steps
        # which values vary along the row (full) and which are one number per row
        full_in = [layout != INNER_BCAST for _, layout in spec.inputs]
        self.full: list = []
        for s in steps:
            if s.reduce:
                self.full.append(False)
                continue
            f = False
            for o in s.operands:
                if o.kind == "in" and full_in[o.ref] or o.kind == "val" and self.full[o.ref]:
                    f = True
            self.full.append(f)
        self.full_in = full_in
        self.lines: list = []
        self.helpers: list = []

    # operands ---------------------------------------------------------------

    def operand(self, o: Operand, step: Step) -> str:
        if o.kind == "in":
            code = f"i{o.ref}"
        elif o.kind == "val":
            code = f"v{o.ref}"
        elif o.kind == "arg":
            code = f"s{o.ref}"
        else:
            return self.consts.get(o.ref, step.compute) if o.ref is not None else "None"
        return convert(code, o.dtype, step.compute)

    def step_code(self, k: int) -> str:
        s = self.spec.steps[k]
        env = {n: self.operand(o, s) for n, o in zip(s.names, s.operands)}
        code = _ExprEmitter(env, s.compute, self.consts).emit(s.expr)
        if s.dtype == "bool":
            return code
        return convert(code, "?", s.dtype) if s.compute != s.dtype else code

    def deps(self, k: int, acc: set, leaves=frozenset()) -> set:
        """Full steps ``k`` needs computed per element (``k`` included when full); the
        ``leaves`` are loaded, not computed, so what they depend on is not needed."""
        if k in acc:
            return acc
        s = self.spec.steps[k]
        if self.full[k] or s.reduce:
            if not s.reduce:
                acc.add(k)
                if k in leaves:
                    return acc
            for o in s.operands:
                if o.kind == "val" and self.full[o.ref]:
                    self.deps(o.ref, acc, leaves)
        return acc

    def varies(self, o: Operand) -> bool:
        """Whether operand ``o`` takes a value per element of the row."""
        return o.kind == "val" and self.full[o.ref] or o.kind == "in" and self.full_in[o.ref]

    def inputs_of(self, ks, leaves=frozenset()) -> list:
        used = set()
        for k in ks:
            if k in leaves:
                continue
            for o in self.spec.steps[k].operands:
                if o.kind == "in" and self.full_in[o.ref]:
                    used.add(o.ref)
        return sorted(used)

    def chain(self, ks, ind: str, leaves=frozenset()) -> None:
        for k in sorted(ks):
            if k not in leaves:
                self.lines.append(f"{ind}v{k} = {self.step_code(k)}")

    # structure --------------------------------------------------------------

    def source(self, name: str) -> str:
        spec = self.spec
        m = spec.outer_rank
        n_in, n_out = len(spec.inputs), len(spec.outputs)
        params = ["P"] + [f"in{i}" for i in range(n_in)] + [f"out{i}" for i in range(n_out)] + \
            [f"s{i}" for i in range(len(spec.scalars))]
        L = self.lines
        flags = "{" + ", ".join(repr(f) for f in sorted(FASTMATH_FLAGS)) + "}"
        L.append(f"@njit(parallel={spec.parallel}, fastmath={flags}, {_OPTIONS})")
        L.append(f"def {name}({', '.join(params)}):")
        L.append("    R = P[0]; C = P[1]; CH = P[2]; NCH = P[3]")
        pos = 4
        for d in range(m):
            L.append(f"    D{d} = P[{pos}]")
            pos += 1
        for i in range(n_in):
            for d in range(m):
                L.append(f"    S{i}_{d} = P[{pos}]")
                pos += 1
            L.append(f"    t{i} = P[{pos}]")
            pos += 1
        loop = "prange" if spec.parallel else "range"
        ind = "        "
        if spec.reduces:
            plan = _RowPlan(self)
            plan.allocate_shared("    ")
            # a task is CH consecutive rows sharing its scratch buffers
            L.append(f"    for task in {loop}(NCH):")
            # inside the task loop: with prange it is a function of its own
            L.append(f"{ind}wide_vectors()")
            plan.allocate_per_task(ind)
            L.append(f"{ind}for r in range(task * CH, min(task * CH + CH, R)):")
            ind += "    "
            L.append(f"{ind}lo = 0")
        else:
            plan = None
            L.append(f"    for task in {loop}(R * NCH):")
            L.append(f"{ind}wide_vectors()")
            L.append(f"{ind}r = task // NCH")
            L.append(f"{ind}lo = (task - r * NCH) * CH")
            L.append(f"{ind}n = min(CH, C - lo)")
        # row index -> per-input base offsets
        if m:
            L.append(f"{ind}rem = r")
            for d in reversed(range(m)):
                if d:
                    L.append(f"{ind}q{d} = rem % D{d}")
                    L.append(f"{ind}rem = rem // D{d}")
                else:
                    L.append(f"{ind}q0 = rem")
        for i in range(n_in):
            terms = [f"q{d} * S{i}_{d}" for d in range(m)] + [f"lo * t{i}"]
            L.append(f"{ind}b{i} = {' + '.join(terms)}")
            layout = spec.inputs[i][1]
            if layout == INNER_BCAST:
                L.append(f"{ind}i{i} = in{i}[b{i}]")
            elif layout == INNER_CONTIG and plan is None:
                L.append(f"{ind}x{i} = in{i}[b{i}:b{i} + n]")
            elif layout == INNER_CONTIG:
                L.append(f"{ind}u{i} = np.uint64(b{i})")
        if plan is None:
            self.pointwise_loop(ind)
        else:
            plan.emit(ind)
        return "\n".join([_HEADER, *self.consts.lines, *self.helpers, "", *self.lines, ""])

    def row_steps(self, ind: str, done: set) -> None:
        """Steps computed once per row whose operands are ready (``done``, updated)."""
        progress = True
        while progress:
            progress = False
            for k, s in enumerate(self.spec.steps):
                if k in done or s.reduce or self.full[k]:
                    continue
                if all(o.kind != "val" or o.ref in done for o in s.operands):
                    self.lines.append(f"{ind}v{k} = {self.step_code(k)}")
                    done.add(k)
                    progress = True

    def pointwise_loop(self, ind: str) -> None:
        """A task's chunk of a kernel without reductions, through slices of the chunk."""
        steps = self.spec.steps
        L = self.lines
        self.row_steps(ind, set())
        need: set = set()
        for k, _, _ in self.spec.outputs:
            self.deps(k, need)
        for i in range(len(self.spec.outputs)):
            L.append(f"{ind}o{i} = out{i}[r * C + lo:r * C + lo + n]")
        L.append(f"{ind}for j in range(n):")
        for i in self.inputs_of(need):
            if self.spec.inputs[i][1] == INNER_CONTIG:
                L.append(f"{ind}    i{i} = x{i}[j]")
            else:
                L.append(f"{ind}    i{i} = in{i}[b{i} + j * t{i}]")
        self.chain(need, ind + "    ")
        for i, (k, dt, _) in enumerate(self.spec.outputs):
            L.append(f"{ind}    o{i}[j] = {convert(f'v{k}', steps[k].dtype, dt)}")


class _RowPlan:
    """How a kernel with row reductions walks each row.

    Reductions run in passes over the row: a pass holds the reductions whose operands depend
    only on reductions of earlier passes, and one loop computes all their operands. A last
    loop writes the full outputs. A value that a later loop needs again is stored during the
    pass that first computes it, when computing it again would cost more than loading it
    (a transcendental function or a division on the way): in a full output that the last loop
    writes anyway (it reads the value at ``j`` before writing ``j``), else in a row buffer of
    the task. A float reduction reduces its operands block by block, straight from the input
    row or the stored values where it can, else from a block buffer the pass loop fills.

    Rows are addressed through unsigned offsets into the flat arguments rather than through
    slices: a slice takes a reference on the array, an atomic operation that threads working
    on the same array contend for, row after row.
    """

    def __init__(self, gen: _Gen):
        self.gen = gen
        steps = gen.spec.steps
        reductions = [k for k, s in enumerate(steps) if s.reduce]
        level: dict = {}
        for k in reductions:
            level[k] = 1 + max((level[d] for d in self.reductions_below(k)), default=-1)
        self.passes = [[k for k in reductions if level[k] == p]
                       for p in range(1 + max(level.values()))]
        self.full_outputs = [k for k, _, row in gen.spec.outputs if not row]
        # which full values each loop computes, and which of them are stored for later loops
        self.stored_in: dict = {}  # step -> index of the pass storing it
        computed_in: dict = {}
        self.computes = []
        for p in range(len(self.passes) + 1):
            targets = self.operand_steps(p)
            while True:
                leaves = frozenset(self.stored_in)
                need = set()
                for k in targets:
                    gen.deps(k, need, leaves)
                later = [k for k in need - leaves
                         if computed_in.get(k, p) < p and self.costly(k, leaves)]
                if not later:
                    break
                self.stored_in[max(later)] = computed_in[max(later)]
            self.computes.append((need, leaves))
            for k in need - leaves:
                computed_in.setdefault(k, p)
        self.hosts = self.choose_hosts()

    def costly(self, k: int, leaves: frozenset) -> bool:
        """Whether computing ``k`` again, from loaded ``leaves``, costs more than loading it."""
        steps = self.gen.spec.steps
        chain = self.gen.deps(k, set(), leaves - {k}) - (leaves - {k})
        return any(_costly(steps[d].expr) for d in chain)

    def reductions_below(self, k: int) -> set:
        steps = self.gen.spec.steps
        found: set = set()
        todo = [o.ref for o in steps[k].operands if o.kind == "val"]
        while todo:
            d = todo.pop()
            if d in found:
                continue
            found.add(d)
            todo.extend(o.ref for o in steps[d].operands if o.kind == "val")
        return {d for d in found if steps[d].reduce}

    def operand_steps(self, p: int) -> list:
        """Full steps the loop of pass ``p`` (or the output loop after the last) must produce."""
        if p == len(self.passes):
            return self.full_outputs
        steps = self.gen.spec.steps
        # an integer reduction computes its operands in a loop of its own
        return [steps[k].operands[0].ref for k in self.passes[p]
                if steps[k].operands[0].kind == "val" and self.float_reduction(k)]

    def choose_hosts(self) -> dict:
        """Stored step -> (array, offset of the row in it)."""
        gen = self.gen
        steps = gen.spec.steps
        hosts: dict = {}
        free = {}
        for i, (k, dt, row) in enumerate(gen.spec.outputs):
            if row:
                continue
            if k in self.stored_in and k not in hosts:
                hosts[k] = (f"out{i}", "uo")  # a stored value that is also an output stays there
            elif k not in self.stored_in:
                free.setdefault(dt, []).append((f"out{i}", "uo"))
        for k in sorted(self.stored_in):
            if k not in hosts:
                spare = free.get(steps[k].dtype)
                hosts[k] = spare.pop(0) if spare else (f"st{k}", "")
        return hosts

    @staticmethod
    def at(array: str, offset: str, idx: str) -> str:
        return f"{array}[{offset} + {idx}]" if offset else f"{array}[{idx}]"

    def float_reduction(self, k: int) -> bool:
        gen = self.gen
        s = gen.spec.steps[k]
        (src,) = s.operands
        return gen.varies(src) and _is_float(s.compute)

    def reduced_row(self, k: int, p: int) -> tuple:
        """(array, offset of the row in it) that float reduction ``k`` reads block by block;
        the offset is None for the block buffer that the pass loop fills."""
        gen = self.gen
        s = gen.spec.steps[k]
        (src,) = s.operands
        if src.dtype == s.compute:
            if src.kind == "in" and gen.spec.inputs[src.ref][1] == INNER_CONTIG:
                return f"in{src.ref}", f"u{src.ref}"
            if src.kind == "val" and self.stored_in.get(src.ref, p + 1) <= p:
                return self.hosts[src.ref]
        return f"sc{k}", None

    def summed_in_function(self, k: int, p: int) -> bool:
        """Whether sum ``k`` runs its operand chain inside a function of its own, whose
        ``reassoc`` flag vectorizes the sum with no block buffer in between: when the chain
        reads contiguous inputs and row values only, calls no fastmath function (``reassoc``
        could undo its compensation steps) and computes nothing that the pass stores."""
        gen = self.gen
        s = gen.spec.steps[k]
        src = s.operands[0]
        if s.expr not in ("sum", "mean") or src.kind != "val":
            return False
        if self.reduced_row(k, p)[1] is not None:
            return False
        leaves = self.computes[p][1]
        chain = gen.deps(src.ref, set(), leaves)
        if chain & leaves or any(self.stored_in.get(d) == p for d in chain):
            return False
        if any(gen.spec.inputs[i][1] != INNER_CONTIG for i in gen.inputs_of(chain)):
            return False
        return not any("fm." in gen.step_code(d) for d in chain)

    def chain_sum_function(self, k: int) -> str:
        """Defines ``_chain_sum{k}`` and returns the arguments it takes after the count."""
        gen = self.gen
        s = gen.spec.steps[k]
        chain = sorted(gen.deps(s.operands[0].ref, set()))
        ins = gen.inputs_of(chain)
        body = [f"        i{i} = in{i}[u{i} + j]" for i in ins]
        body += [f"        v{d} = {gen.step_code(d)}" for d in chain]
        body.append(f"        total += {gen.operand(s.operands[0], s)}")
        defined = {f"v{d}" for d in chain} | {f"i{i}" for i in ins}
        row_values = sorted({name for line in body for name in re.findall(r"\b[vis]\d+\b", line)}
                            - defined)
        params = [p for i in ins for p in (f"in{i}", f"u{i}")] + row_values
        flags = "{" + ", ".join(repr(f) for f in sorted(FASTMATH_FLAGS | {"reassoc"})) + "}"
        gen.helpers += ["", f"@njit({_OPTIONS}, fastmath={flags})",
                        f"def _chain_sum{k}(count, {', '.join(params)}):", "    wide_vectors()",
                        f"    total = {gen.consts.get(0.0, s.compute)}",
                        "    for j in range(count):", *body, "    return total"]
        return ", ".join(f"{p} + ub" if p.startswith("u") else p for p in params)

    def key_arrays(self) -> dict:
        """Arrays that max/min reductions read as integer keys -> their float dtype."""
        steps = self.gen.spec.steps
        return {self.reduced_row(k, p)[0]: steps[k].compute for p, ks in enumerate(self.passes)
                for k in ks if self.float_reduction(k) and steps[k].expr in ("max", "min")}

    # emission ---------------------------------------------------------------

    def bit_views(self, ind: str, shared: bool) -> None:
        for array, dt in sorted(self.key_arrays().items()):
            if array.startswith(("in", "out")) == shared:
                self.gen.lines.append(f"{ind}{array}_bits = {array}.view(np.{_KEY_TYPES[dt][0]})")

    def allocate_shared(self, ind: str) -> None:
        gen = self.gen
        steps = gen.spec.steps
        self.bit_views(ind, True)
        if any(steps[k].expr in ("sum", "mean") and self.float_reduction(k)
               and not self.summed_in_function(k, p)
               for p, ks in enumerate(self.passes) for k in ks):
            gen.helpers.append(_BLOCK_SUM)
        for dt in sorted({steps[k].compute for ks in self.passes for k in ks
                          if self.float_reduction(k) and steps[k].expr in ("max", "min")}):
            gen.helpers.extend(_key_constants(dt))

    def allocate_per_task(self, ind: str) -> None:
        gen = self.gen
        steps = gen.spec.steps
        L = gen.lines
        for k, (array, _) in sorted(self.hosts.items()):
            if array == f"st{k}":
                L.append(f"{ind}st{k} = np.empty(C, {NUMPY_TYPES[steps[k].dtype]})")
        cells = set()
        for p, ks in enumerate(self.passes):
            for k in ks:
                if not self.float_reduction(k):
                    continue
                dt = steps[k].compute
                if self.reduced_row(k, p)[1] is None and not self.summed_in_function(k, p):
                    L.append(f"{ind}sc{k} = np.empty({BLOCK}, {NUMPY_TYPES[dt]})")
                if steps[k].expr in ("max", "min"):
                    cells.add(dt)
        self.bit_views(ind, False)
        for dt in sorted(cells):
            L.append(f"{ind}keycell_{dt} = np.empty(1, np.{_KEY_TYPES[dt][0]})")
            L.append(f"{ind}valcell_{dt} = keycell_{dt}.view({NUMPY_TYPES[dt]})")

    def loads(self, ins: list, ind: str, block: bool) -> None:
        """Loads of element ``j`` of the block at ``blk`` (or of the row)."""
        for i in ins:
            if self.gen.spec.inputs[i][1] == INNER_CONTIG:
                idx = "ub + j" if block else "j"
                self.gen.lines.append(f"{ind}i{i} = in{i}[u{i} + {idx}]")
            else:
                idx = "blk + np.int64(j)" if block else "np.int64(j)"
                self.gen.lines.append(f"{ind}i{i} = in{i}[b{i} + ({idx}) * t{i}]")

    def emit(self, ind: str) -> None:
        gen = self.gen
        steps = gen.spec.steps
        L = gen.lines
        done: set = set()
        L.append(f"{ind}uo = np.uint64(r * C)")
        gen.row_steps(ind, done)
        for p, ks in enumerate(self.passes):
            self.reduction_pass(p, ks, ind)
            done.update(ks)
            gen.row_steps(ind, done)
        for i, (k, dt, row) in enumerate(gen.spec.outputs):
            if row:
                L.append(f"{ind}out{i}[r] = {convert(f'v{k}', steps[k].dtype, dt)}")
        self.output_loop(ind)

    def output_loop(self, ind: str) -> None:
        gen = self.gen
        steps = gen.spec.steps
        L = gen.lines
        leaves = frozenset(self.stored_in)
        outs = [(i, k, dt) for i, (k, dt, row) in enumerate(gen.spec.outputs)
                if not row and self.hosts.get(k) != (f"out{i}", "uo")]
        if not outs:
            return
        need: set = set()
        for _, k, _ in outs:
            gen.deps(k, need, leaves)
        L.append(f"{ind}for j in range(np.uint64(C)):")
        self.loads(gen.inputs_of(need, leaves), ind + "    ", block=False)
        for k in sorted(need & leaves):
            L.append(f"{ind}    v{k} = {self.at(*self.hosts[k], 'j')}")
        gen.chain(need, ind + "    ", leaves)
        for i, k, dt in outs:
            L.append(f"{ind}    out{i}[uo + j] = {convert(f'v{k}', steps[k].dtype, dt)}")

    def reduction_pass(self, p: int, ks: list, ind: str) -> None:
        gen = self.gen
        steps = gen.spec.steps
        L = gen.lines
        blocked = []
        for k in ks:
            if not self.float_reduction(k):
                self.whole_row_reduction(k, ind)
            else:
                blocked.append(k)
        if not blocked:
            return
        leaves = self.computes[p][1]
        stores = sorted(k for k, q in self.stored_in.items() if q == p)
        in_functions = {k: self.chain_sum_function(k) for k in blocked
                        if self.summed_in_function(k, p)}
        scratch = [k for k in blocked
                   if self.reduced_row(k, p)[1] is None and k not in in_functions]
        need: set = set()
        for k in stores:
            gen.deps(k, need, leaves)
        for k in scratch:
            if steps[k].operands[0].kind == "val":
                gen.deps(steps[k].operands[0].ref, need, leaves)
        for k in blocked:
            if steps[k].expr in ("sum", "mean"):
                L.append(f"{ind}tot{k} = 0.0")
            else:
                L.append(f"{ind}khi{k} = _KEY_LOWEST_{steps[k].compute}")
                L.append(f"{ind}klo{k} = _KEY_HIGHEST_{steps[k].compute}")
        L.append(f"{ind}for blk in range(0, C, {BLOCK}):")
        sub = ind + "    "
        inner = sub + "    "
        L.append(f"{sub}ub = np.uint64(blk)")
        L.append(f"{sub}um = np.uint64(min({BLOCK}, C - blk))")
        if scratch or stores:
            ins = set(gen.inputs_of(need, leaves))
            ins.update(steps[k].operands[0].ref for k in scratch
                       if steps[k].operands[0].kind == "in")
            L.append(f"{sub}for j in range(um):")
            self.loads(sorted(ins), inner, block=True)
            for k in sorted(need & leaves):
                L.append(f"{inner}v{k} = {self.at(*self.hosts[k], 'ub + j')}")
            gen.chain(need, inner, leaves)
            for k in stores:
                L.append(f"{inner}{self.at(*self.hosts[k], 'ub + j')} = v{k}")
            for k in scratch:
                L.append(f"{inner}sc{k}[j] = {gen.operand(steps[k].operands[0], steps[k])}")
        for k in blocked:
            s = steps[k]
            dt = s.compute
            array, offset = self.reduced_row(k, p)
            start = "ub" if offset == "" else "np.uint64(0)" if offset is None else f"{offset} + ub"
            if k in in_functions:
                L.append(f"{sub}tot{k} += _chain_sum{k}(um, {in_functions[k]})")
            elif s.expr in ("sum", "mean"):
                zero = gen.consts.get(0.0, dt)
                L.append(f"{sub}tot{k} += _block_sum({array}, {start}, um, {zero})")
            else:
                L.append(f"{sub}for j in range(um):")
                L.append(f"{inner}bits = {array}_bits[{start} + j]")
                # Numba widens integer arithmetic to int64 (half the lanes) unless narrowed back
                L.append(f"{inner}key = np.{_KEY_TYPES[dt][0]}(bits ^ ((bits >> _KEY_SHIFT_{dt}) & "
                         f"_KEY_MAGNITUDE_{dt}))")
                L.append(f"{inner}khi{k} = max(khi{k}, key)")
                L.append(f"{inner}klo{k} = min(klo{k}, key)")
        for k in blocked:
            s = steps[k]
            dt = s.compute
            T = NUMPY_TYPES[dt]
            if s.expr == "mean":
                L.append(f"{ind}v{k} = {T}(tot{k} / C)")
            elif s.expr == "sum":
                L.append(f"{ind}v{k} = {T}(tot{k})")
            else:
                key = f"khi{k}" if s.expr == "max" else f"klo{k}"
                L.append(f"{ind}if khi{k} > _KEY_INF_{dt} or klo{k} < _KEY_NEGINF_{dt}:")
                L.append(f"{ind}    v{k} = {gen.consts.get(float('nan'), dt)}")
                L.append(f"{ind}else:")
                # keys of non-negative floats are their bits; negative keys map back by the
                # same flip of the magnitude
                L.append(f"{ind}    keycell_{dt}[0] = "
                         f"{key} if {key} >= 0 else {key} ^ _KEY_MAGNITUDE_{dt}")
                L.append(f"{ind}    v{k} = valcell_{dt}[0]")

    def whole_row_reduction(self, k: int, ind: str) -> None:
        """Reductions of one value per row, and integer reductions (one scalar loop)."""
        gen = self.gen
        s = gen.spec.steps[k]
        (src,) = s.operands
        acc_dt = s.compute
        kind = s.expr
        L = gen.lines
        if not gen.varies(src):
            # the operand is one number per row: the reduction is that number (times C for sum)
            v = gen.operand(src, s)
            if kind == "sum":
                L.append(f"{ind}v{k} = {v} * {NUMPY_TYPES[acc_dt]}(C)")
            elif kind == "mean" and not _is_float(acc_dt):
                raise Unsupported("integer mean")
            else:
                L.append(f"{ind}v{k} = {v}")
            return
        if acc_dt == "bool":
            raise Unsupported("bool reduction")
        if kind == "mean":
            raise Unsupported("integer mean")
        need: set = set()
        if src.kind == "val":
            gen.deps(src.ref, need)
        ins = [src.ref] if src.kind == "in" else gen.inputs_of(need)
        init = {"sum": "0", "max": f"np.iinfo({NUMPY_TYPES[acc_dt]}).min",
                "min": f"np.iinfo({NUMPY_TYPES[acc_dt]}).max"}[kind]
        L.append(f"{ind}a{k} = {NUMPY_TYPES[acc_dt]}({init})")
        L.append(f"{ind}for j in range(np.uint64(C)):")
        self.loads(ins, ind + "    ", block=False)
        gen.chain(need, ind + "    ")
        val = gen.operand(src, s)
        if kind == "sum":
            L.append(f"{ind}    a{k} += {val}")
        else:
            cmp = ">" if kind == "max" else "<"
            L.append(f"{ind}    e{k} = {val}")
            L.append(f"{ind}    a{k} = e{k} if e{k} {cmp} a{k} else a{k}")
        L.append(f"{ind}v{k} = a{k}")


def generate_source(spec: KernelSpec, name: str = "kernel") -> str:
    """The module source defining ``name`` for ``spec`` (raises :class:`Unsupported`)."""
    for dt, layout in spec.inputs:
        if dt not in NUMPY_TYPES:
            raise Unsupported(f"dtype {dt}")
    for s in spec.steps:
        if s.dtype not in NUMPY_TYPES or s.compute not in NUMPY_TYPES:
            raise Unsupported(f"dtype {s.dtype}")
        if s.reduce and s.expr not in REDUCE_KINDS:
            raise Unsupported(f"reduction {s.expr}")
    return _Gen(spec).source(name)


__all__ = ["KernelSpec", "Step", "Operand", "Unsupported", "generate_source", "INNER_BCAST",
           "INNER_CONTIG", "INNER_STRIDED", "REDUCE_KINDS"]
