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
elements of one row (``NCH`` chunks per row); with reductions a task is ``CH`` whole rows
(``NCH`` tasks). Inner loops run over slices so that the vectorizer sees unit-stride,
non-negative indices. Values that do not vary along the row (inputs with inner stride 0,
scalars, reductions and what is computed from them alone) are computed once per row.

A float reduction computes its operand chain for a block of ``SCRATCH`` elements into a small
per-task scratch buffer (one vectorized loop), then reduces the block with ``LANES``
independent accumulators (unrolled): without ``reassoc`` (which would also license rewriting
the compensation steps of fastmath) LLVM cannot vectorize a serial reduction, and unrolling
the whole chain per lane made compile times explode. Later phases recompute the chain rather
than storing it: the row stays in L1/L2.

"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass

from . import fastmath

INNER_BCAST, INNER_CONTIG, INNER_STRIDED = "bcast", "contig", "strided"
REDUCE_KINDS = ("sum", "mean", "max", "min")

NUMPY_TYPES = {"float32": "np.float32", "float64": "np.float64", "int64": "np.int64",
               "int32": "np.int32", "int16": "np.int16", "int8": "np.int8", "uint8": "np.uint8",
               "bool": "np.bool_"}
SCALAR_TYPES = {"float": "float64", "int": "int64", "bool": "bool"}  # Python scalars in Numba
LANES = {"float32": 16, "float64": 8}
SCRATCH = 512  # elements per block: lane sums are folded into a float64 total every block
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
'''


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

    # operands ---------------------------------------------------------------

    def operand(self, o: Operand, step: Step, lane: str) -> str:
        if o.kind == "in":
            code = f"i{o.ref}{lane}" if self.full_in[o.ref] else f"i{o.ref}"
        elif o.kind == "val":
            code = f"v{o.ref}{lane}" if self.full[o.ref] else f"v{o.ref}"
        elif o.kind == "arg":
            code = f"s{o.ref}"
        else:
            return self.consts.get(o.ref, step.compute) if o.ref is not None else "None"
        return convert(code, o.dtype, step.compute)

    def step_code(self, k: int, lane: str) -> str:
        s = self.spec.steps[k]
        env = {n: self.operand(o, s, lane) for n, o in zip(s.names, s.operands)}
        code = _ExprEmitter(env, s.compute, self.consts).emit(s.expr)
        if s.dtype == "bool":
            return code
        return convert(code, "?", s.dtype) if s.compute != s.dtype else code

    def deps(self, k: int, acc: set) -> set:
        """Full steps ``k`` needs computed per element (``k`` included when full)."""
        if k in acc:
            return acc
        s = self.spec.steps[k]
        if self.full[k] or s.reduce:
            if not s.reduce:
                acc.add(k)
            for o in s.operands:
                if o.kind == "val" and self.full[o.ref]:
                    self.deps(o.ref, acc)
        return acc

    def inputs_of(self, ks) -> list:
        used = set()
        for k in ks:
            for o in self.spec.steps[k].operands:
                if o.kind == "in" and self.full_in[o.ref]:
                    used.add(o.ref)
        return sorted(used)

    def loads(self, ins: list, idx: str, lane: str, ind: str) -> None:
        for i in ins:
            layout = self.spec.inputs[i][1]
            if layout == INNER_CONTIG:
                self.lines.append(f"{ind}i{i}{lane} = x{i}[{idx}]")
            else:
                self.lines.append(f"{ind}i{i}{lane} = in{i}[b{i} + ({idx}) * t{i}]")

    def chain(self, ks: list, lane: str, ind: str) -> None:
        for k in ks:
            self.lines.append(f"{ind}v{k}{lane} = {self.step_code(k, lane)}")

    # structure --------------------------------------------------------------

    def source(self, name: str) -> str:
        spec = self.spec
        m = spec.outer_rank
        n_in, n_out = len(spec.inputs), len(spec.outputs)
        params = ["P"] + [f"in{i}" for i in range(n_in)] + [f"out{i}" for i in range(n_out)] + \
            [f"s{i}" for i in range(len(spec.scalars))]
        L = self.lines
        flags = "{" + ", ".join(repr(f) for f in sorted(FASTMATH_FLAGS)) + "}"
        deco = (f"@njit(parallel={spec.parallel}, error_model='numpy', fastmath={flags}, "
                "cache=True, boundscheck=False, nogil=True)")
        L.append(deco)
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
            # a task is CH consecutive rows sharing one scratch block per reduction dtype
            L.append(f"    for task in {loop}(NCH):")
            for dt in sorted({s.compute for s in spec.steps if s.reduce and _is_float(s.compute)}):
                L.append(f"{ind}sc_{dt} = np.empty({SCRATCH}, {NUMPY_TYPES[dt]})")
            L.append(f"{ind}for r in range(task * CH, min(task * CH + CH, R)):")
            ind += "    "
            L.append(f"{ind}lo = 0")
            L.append(f"{ind}n = C")
        else:
            L.append(f"    for task in {loop}(R * NCH):")
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
            elif layout == INNER_CONTIG:
                L.append(f"{ind}x{i} = in{i}[b{i}:b{i} + n]")
        self.row_body(ind)
        return "\n".join([_HEADER, *self.consts.lines, "", *self.lines, ""])

    def row_body(self, ind: str) -> None:
        spec = self.spec
        steps = spec.steps
        done: set = set()

        def emit_row_steps():
            progress = True
            while progress:
                progress = False
                for k, s in enumerate(steps):
                    if k in done or s.reduce or self.full[k]:
                        continue
                    if all(o.kind != "val" or o.ref in done for o in s.operands):
                        self.lines.append(f"{ind}v{k} = {self.step_code(k, '')}")
                        done.add(k)
                        progress = True

        emit_row_steps()
        for k, s in enumerate(steps):
            if not s.reduce:
                continue
            self.reduction(k, ind)
            done.add(k)
            emit_row_steps()
        full_outs = [(i, k, dt) for i, (k, dt, row) in enumerate(spec.outputs) if not row]
        for i, (k, dt, row) in enumerate(spec.outputs):
            if row:
                self.lines.append(f"{ind}out{i}[r] = {convert(f'v{k}', steps[k].dtype, dt)}")
        if full_outs:
            for i, _, _ in full_outs:
                self.lines.append(f"{ind}o{i} = out{i}[r * C + lo:r * C + lo + n]")
            need: set = set()
            for _, k, _ in full_outs:
                self.deps(k, need)
            ks = sorted(need)
            self.lines.append(f"{ind}for j in range(n):")
            self.loads(self.inputs_of(ks), "j", "", ind + "    ")
            self.chain(ks, "", ind + "    ")
            for i, k, dt in full_outs:
                code = f"v{k}" if self.full[k] else f"v{k}"
                self.lines.append(f"{ind}    o{i}[j] = {convert(code, steps[k].dtype, dt)}")

    def reduction(self, k: int, ind: str) -> None:
        s = self.spec.steps[k]
        (src,) = s.operands
        acc_dt = s.compute
        kind = s.expr
        need: set = set()
        if src.kind == "val":
            self.deps(src.ref, need)
        ks = sorted(need)
        ins = self.inputs_of(ks)
        L = self.lines
        is_float = _is_float(acc_dt)
        if not (src.kind == "val" and self.full[src.ref] or src.kind == "in" and self.full_in[src.ref]):
            # the operand is one number per row: the reduction is that number (times C for sum)
            v = self.operand(src, s, "")
            if kind == "sum":
                L.append(f"{ind}v{k} = {v} * {NUMPY_TYPES[acc_dt]}(C)")
            else:
                L.append(f"{ind}v{k} = {v}")
            return
        if src.kind == "in":
            ins = [src.ref]

        def value(lane: str, idx: str, sub: str) -> str:
            self.loads(ins, idx, lane, sub)
            self.chain(ks, lane, sub)
            return self.operand(src, s, lane)

        if not is_float:
            init = {"sum": "0", "mean": "0", "max": f"np.iinfo({NUMPY_TYPES[acc_dt]}).min",
                    "min": f"np.iinfo({NUMPY_TYPES[acc_dt]}).max"}[kind]
            if acc_dt == "bool":
                raise Unsupported("bool reduction")
            L.append(f"{ind}a{k} = {NUMPY_TYPES[acc_dt]}({init})")
            L.append(f"{ind}for j in range(C):")
            val = value("", "j", ind + "    ")
            if kind in ("sum", "mean"):
                L.append(f"{ind}    a{k} += {val}")
            else:
                cmp = ">" if kind == "max" else "<"
                L.append(f"{ind}    e{k} = {val}")
                L.append(f"{ind}    a{k} = e{k} if e{k} {cmp} a{k} else a{k}")
            if kind == "mean":
                raise Unsupported("integer mean")
            L.append(f"{ind}v{k} = a{k}")
            return
        lanes = LANES[acc_dt]
        T = NUMPY_TYPES[acc_dt]
        lane_ids = [f"_{l}" for l in range(lanes)]
        sc = f"sc_{acc_dt}"
        zero = self.consts.get(0.0, acc_dt)
        is_sum = kind in ("sum", "mean")
        cmp = ">" if kind == "max" else "<"
        init = zero if is_sum else self.consts.get(float("-inf") if kind == "max" else float("inf"), acc_dt)
        if is_sum:
            L.append(f"{ind}tot{k} = 0.0")
        else:
            for l in lane_ids:
                L.append(f"{ind}a{k}{l} = {init}")
            L.append(f"{ind}nan{k} = False")
        L.append(f"{ind}for blk in range(0, C, {SCRATCH}):")
        sub = ind + "    "
        inner = sub + "    "
        L.append(f"{sub}m = min({SCRATCH}, C - blk)")
        # one vectorizable pass computes the operand chain into the scratch block ...
        L.append(f"{sub}for j in range(m):")
        val = value("", "blk + j", inner)
        L.append(f"{inner}{sc}[j] = {val}")
        # ... and a lane-blocked pass reduces it
        L.append(f"{sub}full = m // {lanes} * {lanes}")
        if is_sum:
            for l in lane_ids:
                L.append(f"{sub}a{k}{l} = {zero}")
        else:
            for l in lane_ids:
                L.append(f"{sub}z{k}{l} = {zero}")
        L.append(f"{sub}for j in range(0, full, {lanes}):")
        for li, l in enumerate(lane_ids):
            e = f"{sc}[j + {li}]"
            if is_sum:
                L.append(f"{inner}a{k}{l} += {e}")
            else:
                L.append(f"{inner}e{k}{l} = {e}")
                L.append(f"{inner}a{k}{l} = e{k}{l} if e{k}{l} {cmp} a{k}{l} else a{k}{l}")
                L.append(f"{inner}z{k}{l} += e{k}{l} - e{k}{l}")
        L.append(f"{sub}for j in range(full, m):")
        if is_sum:
            L.append(f"{inner}a{k}_0 += {sc}[j]")
            L.append(f"{sub}tot{k} += {self.tree(k, lane_ids, '+')}")
        else:
            L.append(f"{inner}e{k}_0 = {sc}[j]")
            L.append(f"{inner}a{k}_0 = e{k}_0 if e{k}_0 {cmp} a{k}_0 else a{k}_0")
            L.append(f"{inner}z{k}_0 += e{k}_0 - e{k}_0")
            # a NaN (or an inf, cheaply flagged too) in this block: look for a NaN exactly
            L.append(f"{sub}zb = {' + '.join(f'z{k}{l}' for l in lane_ids)}")
            L.append(f"{sub}if zb != zb:")
            L.append(f"{inner}for j in range(m):")
            L.append(f"{inner}    if {sc}[j] != {sc}[j]:")
            L.append(f"{inner}        nan{k} = True")
        if kind == "mean":
            L.append(f"{ind}v{k} = {T}(tot{k} / C)")
        elif is_sum:
            L.append(f"{ind}v{k} = {T}(tot{k})")
        else:
            L.append(f"{ind}v{k} = a{k}_0")
            for l in lane_ids[1:]:
                L.append(f"{ind}v{k} = a{k}{l} if a{k}{l} {cmp} v{k} else v{k}")
            L.append(f"{ind}if nan{k}:")
            L.append(f"{ind}    v{k} = {self.consts.get(float('nan'), acc_dt)}")

    def tree(self, k: int, lanes: list, sym: str) -> str:
        terms = [f"a{k}{l}" for l in lanes]
        while len(terms) > 1:
            terms = [f"({terms[i]} {sym} {terms[i + 1]})" if i + 1 < len(terms) else terms[i]
                     for i in range(0, len(terms), 2)]
        return terms[0]


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
