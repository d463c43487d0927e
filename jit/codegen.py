"""Graph -> TensorScript source, for ``.code``: readable, and it parses, type-checks and lowers
back into an equivalent graph.

Every node output gets its own assignment (so evaluation order is kept exactly); constants are
written inline as literals. ``prim::If`` becomes ``if``/``else`` assigning its outputs in each
branch; ``prim::Loop`` becomes ``for i in range(n):`` when it is a counted loop with a constant
true condition, ``while c:`` when it has no trip count, and a ``while`` with an explicit counter
otherwise. Ops are spelled as the public API: operators for operator ops, ``torch.f(...)`` (or
``F.``, ``math.``, builtins) where the op is exposed as a function, else the method form.
"""
from __future__ import annotations

import keyword
import math
import re
import textwrap
from typing import Optional

from .ir import dtypes
from .ir import graph as G
from .ir import types as T
from .ir.graph import Block, Graph, Node, Value
from .lower import LOOP_FOREVER
from .lower_support import default_for
from .ops import registry as R

_BINARY = {}
for _sym, (_fwd, _refl) in R.BINARY_OPERATORS.items():
    _BINARY.setdefault(_fwd, (_sym, False))
    if _refl and _refl != _fwd:
        _BINARY.setdefault(_refl, (_sym, True))
# The number conversions the checker inserts, spelled as the source would write them.
_IMPLICIT_CONVERSIONS = {"IntImplicit": "int({})", "FloatImplicit": "float({})",
                         "ScalarImplicit": "{}.item()"}
_COMPARE = {fwd: sym for sym, (fwd, _) in R.COMPARISON_OPERATORS.items()}
_UNARY = {"neg": "-", "pos": "+", "bitwise_not": "~", "__not__": "not "}
_NAMESPACE_PREFIX = [
    (R.Namespace.TORCH, "torch."), (R.Namespace.FUNCTIONAL, "torch.nn.functional."),
    (R.Namespace.LINALG, "torch.linalg."), (R.Namespace.MATH, "math."), (R.Namespace.BUILTINS, ""),
    ("torch.autograd", "torch.autograd."), ("time", "time."),
]
_RESERVED = {"torch", "math", "List", "Dict", "Tuple", "Optional", "Union", "Any", "F", "ts",
             "tensorscript", "typing", "range", "len", "print", "int", "float", "bool", "str",
             "list", "dict", "tuple", "min", "max", "abs", "isinstance", "enumerate", "zip",
             "sum", "round", "sorted", "self", "None", "True", "False", "divmod", "chr", "ord",
             "hash", "any", "all", "pow", "format", "Exception", "ValueError", "RuntimeError",
             "AssertionError", "IndexError", "KeyError", "TypeError", "NotImplementedError"}


def type_source(t: T.Type) -> str:
    """A static type as an annotation TorchScript accepts."""
    if t == T.TensorType:
        return "torch.Tensor"
    if t == T.NoneType:
        return "None"
    if t == T.DTypeType:
        return "torch.dtype"
    if t == T.DeviceType:
        return "torch.device"
    if t == T.NumberType:
        return "float"
    if isinstance(t, T.ListType):
        return f"List[{type_source(t.elem)}]"
    if isinstance(t, T.TupleType):
        if t.class_name:
            return t.class_name
        return "Tuple[" + ", ".join(type_source(e) for e in t.elems) + "]" if t.elems else "Tuple[()]"
    if isinstance(t, T.DictType):
        return f"Dict[{type_source(t.key)}, {type_source(t.value)}]"
    if isinstance(t, T.OptionalType):
        return f"Optional[{type_source(t.elem)}]"
    if isinstance(t, T.UnionType):
        return "Union[" + ", ".join(type_source(m) for m in t.members) + "]"
    if isinstance(t, T.ClassType):
        return t.class_name
    return str(t)


def literal(value, t: Optional[T.Type] = None) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return f"({value})" if value < 0 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "math.nan"
        if math.isinf(value):
            return "math.inf" if value > 0 else "(-math.inf)"
        text = repr(value)
        return f"({text})" if value < 0 or text.startswith("-") else text
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dtypes.DType):
        return f"torch.{value.name}"
    if isinstance(value, list):
        if not value:
            elem = type_source(t) if isinstance(t, T.ListType) else "List[int]"
            return f"torch.jit.annotate({elem}, [])"
        elem_t = t.elem if isinstance(t, T.ListType) else None
        return "[" + ", ".join(literal(v, elem_t) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if getattr(type(value), "_ts_tensor", False):  # a folded tensor constant
        data = value.detach().numpy()
        return f"torch.tensor({_nested_literal(data.tolist())}, dtype=torch.{value.dtype.name})"
    return repr(value)


def _nested_literal(data) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested_literal(x) for x in data) + "]"
    return literal(data)


def placeholder(t: T.Type) -> str:
    """A value of type ``t`` for a path where the IR has ``prim::Uninitialized`` (never read)."""
    if t == T.IntType or t == T.NumberType:
        return "0"
    if t == T.FloatType:
        return "0.0"
    if t == T.BoolType:
        return "False"
    if t == T.StrType:
        return '""'
    if t == T.NoneType or isinstance(t, T.OptionalType):
        return "None"
    if t == T.DTypeType:
        return "torch.float32"
    if t == T.TensorType:
        return "torch.zeros([0])"
    if isinstance(t, (T.ListType, T.DictType)):
        empty = "[]" if isinstance(t, T.ListType) else "{}"
        return f"torch.jit.annotate({type_source(t)}, {empty})"
    if isinstance(t, T.TupleType):
        items = [placeholder(e) for e in t.elems]
        if t.class_name:
            return f"{t.class_name}({', '.join(items)})"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    raise NotImplementedError(f"no placeholder for an uninitialized {t}")


class _Printer:
    def __init__(self):
        self.lines: list = []
        self.names: dict = {}
        self.used: set = set(_RESERVED)
        self.depth = 1
        self.returned: set = set()

    def collect_returns(self, graph: Graph) -> None:
        """Values some block returns (returns are not uses, but such values need a name)."""
        self.returned = set(graph.outputs)
        for n in graph.nodes():
            for b in n.blocks:
                self.returned.update(b.returns)

    # -------------------------------------------------------------- names and references

    def fresh(self, base: str) -> str:
        base = re.sub(r"\W", "_", base or "") or "v"
        if base[0].isdigit():
            base = "v" + base
        if keyword.iskeyword(base):
            base += "_"
        name = base
        k = 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def name(self, v: Value, base: Optional[str] = None) -> str:
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = self.fresh(base or v.name or "v")
        return n

    def ref(self, v: Value) -> str:
        node = v.node
        if node is not None and node.kind == G.CONSTANT:
            return literal(node.attrs.get("value"), v.type)
        if node is not None and node.kind == G.UNINITIALIZED:
            return placeholder(v.type)
        n = self.names.get(v)
        if n is None:
            raise ValueError(f"%{v.debug_name} is printed before it is defined")
        return n

    def emit(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def assign(self, v: Value, expr: str, annotate: bool = False) -> None:
        target = self.name(v)
        if annotate:
            self.emit(f"{target}: {type_source(v.type)} = {expr}")
        else:
            self.emit(f"{target} = {expr}")

    # -------------------------------------------------------------- functions

    def function(self, graph: Graph, name: Optional[str] = None, method: bool = False) -> str:
        fname = re.sub(r"\W", "_", name or graph.name)
        self.collect_returns(graph)
        params = []
        for k, v in enumerate(graph.inputs):
            if method and k == 0:
                self.names[v] = "self"
                params.append("self")
                continue
            params.append(f"{self.name(v, v.name or 'arg')}: {type_source(v.type)}")
        ret = graph.outputs[0].type if len(graph.outputs) == 1 else T.TupleType(tuple(v.type for v in graph.outputs))
        signature = getattr(graph, "signature", None)
        if signature is not None and len(graph.outputs) == 1 and T.is_subtype(ret, signature.returns):
            ret = signature.returns
        header = f"def {fname}({', '.join(params)}) -> {type_source(ret)}:"
        self.block(graph.block)
        outs = graph.outputs
        if len(outs) == 1 and outs[0].type == T.NoneType:
            if not self.lines:
                self.emit("pass")
        elif len(outs) == 1:
            self.emit(f"return {self.ref(outs[0])}")
        else:
            self.emit("return " + ", ".join(self.ref(v) for v in outs))
        return header + "\n" + "\n".join(self.lines) + "\n"

    def block(self, block: Block) -> None:
        nodes = list(block.nodes)
        k = 0
        while k < len(nodes):
            node = nodes[k]
            if node.kind == G.GRAD_MODE and _is_const(node.inputs[0], False) and node.outputs:
                end = _matching_restore(nodes, k)
                if end is not None:
                    self.emit("with torch.no_grad():")
                    self.depth += 1
                    inner = nodes[k + 1:end]
                    for n in inner:
                        self.node(n, nodes)
                    if not any(n.kind != G.CONSTANT for n in inner):
                        self.emit("pass")
                    self.depth -= 1
                    k = end + 1
                    continue
            self.node(node, nodes)
            k += 1

    def body(self, block: Block, tail=None) -> None:
        start = len(self.lines)
        self.depth += 1
        self.block(block)
        if tail is not None:
            tail()
        if len(self.lines) == start:
            self.emit("pass")
        self.depth -= 1

    # -------------------------------------------------------------- nodes

    def node(self, node: Node, siblings: list) -> None:
        kind = node.kind
        if kind in (G.CONSTANT, G.UNINITIALIZED):
            return
        method = getattr(self, "node_" + kind.split("::")[-1], None)
        if method is None and isinstance(node.attrs.get("subgraph"), Graph):
            method = self.node_FusionGroup  # any node running a subgraph prints as its body
        if method is None:
            raise NotImplementedError(f"cannot print {kind} nodes as source")
        method(node, siblings)

    def node_op(self, node: Node, siblings) -> None:
        op = node.op
        ins = node.inputs
        base = op.name
        if base == R.SETITEM:
            self.emit(f"{self.ref(ins[0])}[{self.ref(ins[1])}] = {self.ref(ins[2])}")
            return
        if base == R.DELITEM:
            self.emit(f"del {self.ref(ins[0])}[{self.ref(ins[1])}]")
            return
        expr = self.op_expr(node)
        if node.outputs and (node.output.uses or node.output in self.returned):
            self.assign(node.output, expr)
        else:
            self.emit(expr)
            for o in node.outputs:
                self.names[o] = self.fresh("unused")

    def op_expr(self, node: Node) -> str:
        op = node.op
        ins = node.inputs
        schema = op.schema
        params = schema.params
        base = op.name
        explicit = _explicit_count(node)
        r = self.ref
        if base == R.GETITEM and len(ins) == 2:
            return f"{r(ins[0])}[{r(ins[1])}]"
        if base == R.CONTAINS and len(ins) == 2:
            return f"{r(ins[1])} in {r(ins[0])}"
        if base == "remainder" and params and params[0].type.kind == "str" and len(ins) >= 2:
            if len(ins) == 2:
                return f"{r(ins[0])} % {r(ins[1])}"
            return f"{r(ins[0])} % ({', '.join(r(v) for v in ins[1:])})"
        if base in ("__is__", "__isnot__") and len(ins) == 2:
            word = "is" if base == "__is__" else "is not"
            return f"{r(ins[0])} {word} {r(ins[1])}"
        if base in _IMPLICIT_CONVERSIONS and len(ins) == 1:
            return _IMPLICIT_CONVERSIONS[base].format(r(ins[0]))
        if base == "slice" and params and params[0].type.kind != "Tensor" and len(ins) == 4:
            lo = "" if _is_const(ins[1], None) else r(ins[1])
            hi = "" if _is_const(ins[2], None) else r(ins[2])
            step = "" if _is_const(ins[3], 1) else ":" + r(ins[3])
            return f"{r(ins[0])}[{lo}:{hi}{step}]"
        if explicit <= 2 and len(params) >= 2 and base in _BINARY:
            sym, reflected = _BINARY[base]
            a, b = (ins[1], ins[0]) if reflected else (ins[0], ins[1])
            if _operator_ok(op):
                return f"{r(a)} {sym} {r(b)}"
        if explicit <= 2 and len(params) >= 2 and base in _COMPARE and _operator_ok(op):
            return f"{r(ins[0])} {_COMPARE[base]} {r(ins[1])}"
        if explicit <= 1 and len(params) >= 1 and base in _UNARY and _operator_ok(op):
            return f"{_UNARY[base]}{r(ins[0])}"
        args = self.call_args(node, explicit)
        if op.extra.get("property") and len(ins) == 1:
            return f"{r(ins[0])}.{base}"
        for ns, prefix in _NAMESPACE_PREFIX:
            if ns in op.namespaces:
                return f"{prefix}{base}({', '.join(args)})"
        if op.method and ins:
            return f"{r(ins[0])}.{base}({', '.join(args[1:])})"
        return f"torch.{base}({', '.join(args)})"

    def call_args(self, node: Node, explicit: int) -> list:
        params = node.op.schema.params
        out = []
        for k, v in enumerate(node.inputs[:explicit]):
            if k < len(params) and params[k].kwarg_only:
                if _is_default(v, params[k]):
                    continue
                out.append(f"{params[k].name}={self.ref(v)}")
            else:
                out.append(self.ref(v))
        return out

    def node_Constant(self, node, siblings) -> None:
        pass

    def node_ListConstruct(self, node: Node, siblings) -> None:
        v = node.output
        if not node.inputs:
            self.assign(v, "[]", annotate=True)
            return
        elem = v.type.elem if isinstance(v.type, T.ListType) else None
        annotate = elem is not None and any(x.type != elem for x in node.inputs)
        self.assign(v, "[" + ", ".join(self.ref(x) for x in node.inputs) + "]", annotate=annotate)

    def node_DictConstruct(self, node: Node, siblings) -> None:
        v = node.output
        if not node.inputs:
            self.assign(v, "{}", annotate=True)
            return
        ins = node.inputs
        pairs = [f"{self.ref(k)}: {self.ref(x)}" for k, x in zip(ins[0::2], ins[1::2])]
        self.assign(v, "{" + ", ".join(pairs) + "}")

    def node_TupleConstruct(self, node: Node, siblings) -> None:
        v = node.output
        items = [self.ref(x) for x in node.inputs]
        if isinstance(v.type, T.TupleType) and v.type.class_name:
            self.assign(v, f"{v.type.class_name}({', '.join(items)})")
            return
        text = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        self.assign(v, text)

    def node_TupleIndex(self, node: Node, siblings) -> None:
        index = node.attrs.get("index")
        idx = str(index) if index is not None else self.ref(node.inputs[1])
        self.assign(node.output, f"{self.ref(node.inputs[0])}[{idx}]")

    def node_TupleUnpack(self, node: Node, siblings) -> None:
        names = [self.name(o) for o in node.outputs]
        target = ", ".join(names) + ("," if len(names) == 1 else "")
        self.emit(f"{target} = {self.ref(node.inputs[0])}")

    node_ListUnpack = node_TupleUnpack

    def node_unchecked_cast(self, node: Node, siblings) -> None:
        if node.output.type == T.NoneType:  # the None side of a refinement
            self.assign(node.output, "None")
            return
        self.assign(node.output, f"torch.jit._unwrap_optional({self.ref(node.inputs[0])})")

    def node_is_none(self, node: Node, siblings) -> None:
        self.assign(node.output, f"{self.ref(node.inputs[0])} is None")

    def node_is_not_none(self, node: Node, siblings) -> None:
        self.assign(node.output, f"{self.ref(node.inputs[0])} is not None")

    def node_isinstance(self, node: Node, siblings) -> None:
        types = node.attrs.get("types")
        if isinstance(types, T.Type):
            types = (types,)
        spelled = [type_source(t) for t in types]
        spec = spelled[0] if len(spelled) == 1 else "(" + ", ".join(spelled) + ")"
        self.assign(node.output, f"isinstance({self.ref(node.inputs[0])}, {spec})")

    def node_RaiseException(self, node: Node, siblings) -> None:
        exc = node.attrs.get("exception", "Exception")
        msg = node.inputs[0] if node.inputs else None
        if msg is None or _is_const(msg, ""):
            self.emit(f"raise {exc}()")
        else:
            self.emit(f"raise {exc}({self.ref(msg)})")

    def node_GetAttr(self, node: Node, siblings) -> None:
        self.assign(node.output, f"{self.ref(node.inputs[0])}.{node.attrs['name']}")

    def node_SetAttr(self, node: Node, siblings) -> None:
        self.emit(f"{self.ref(node.inputs[0])}.{node.attrs['name']} = {self.ref(node.inputs[1])}")

    def node_CallFunction(self, node: Node, siblings) -> None:
        args = ", ".join(self.ref(v) for v in node.inputs)
        self._call_result(node, f"{node.attrs['name']}({args})")

    def node_CallMethod(self, node: Node, siblings) -> None:
        obj, *rest = node.inputs
        if node.attrs["name"] == "__init__" and obj.node is not None and obj.node.kind == G.CREATE_OBJECT:
            cls = obj.node.attrs["cls"]
            args = ", ".join(self.ref(v) for v in rest)
            self.assign(obj, f"{type_source(cls)}({args})")
            return
        args = ", ".join(self.ref(v) for v in rest)
        self._call_result(node, f"{self.ref(obj)}.{node.attrs['name']}({args})")

    def _call_result(self, node: Node, expr: str) -> None:
        if node.outputs and node.outputs[0].type != T.NoneType and (node.output.uses or node.output in self.returned):
            self.assign(node.output, expr)
        else:
            self.emit(expr)
            for o in node.outputs:
                self.names[o] = "None"

    def node_FusionGroup(self, node: Node, siblings) -> None:
        """A fused group (or a compiled region) prints as the nodes it runs."""
        sub = node.attrs["subgraph"]
        for p, v in zip(sub.inputs, node.inputs):
            self.names[p] = self.ref(v)
        self.returned.update(sub.outputs)
        for n in sub.nodes():
            for b in n.blocks:
                self.returned.update(b.returns)
        self.block(sub.block)
        for o, r in zip(node.outputs, sub.outputs):
            self.assign(o, self.ref(r))

    def node_CreateObject(self, node: Node, siblings) -> None:
        pass  # printed with its __init__ call

    def node_SetGradEnabled(self, node: Node, siblings) -> None:
        raise NotImplementedError("a grad mode change outside a `with torch.no_grad():` block")

    def node_RangeLength(self, node: Node, siblings) -> None:
        lo, hi, step = (self.ref(v) for v in node.inputs)
        self.emit(f"if {step} == 0:")
        self.emit("    raise ValueError(\"range() arg 3 must not be zero\")")
        self.assign(node.output, f"max(0, ({hi} - {lo} + {step} - 1) // {step}) if {step} > 0 "
                                 f"else max(0, ({lo} - {hi} - {step} - 1) // (0 - {step}))")

    # -------------------------------------------------------------- control flow

    def node_If(self, node: Node, siblings) -> None:
        outs = node.outputs
        for o in outs:
            self.name(o)
        cond = self.ref(node.inputs[0])

        def assigns(block: Block):
            def tail():
                for o, v in zip(outs, block.returns):
                    self.assign(o, self.ref(v), annotate=_needs_annotation(v, o.type))
            return tail

        then_b, else_b = node.blocks
        self.emit(f"if {cond}:")
        self.body(then_b, assigns(then_b))
        if outs or _has_code(else_b):
            self.emit("else:")
            self.body(else_b, assigns(else_b))

    def node_Loop(self, node: Node, siblings) -> None:
        trip, cond, *init = node.inputs
        body = node.blocks[0]
        index, *params = body.params
        body_cond, *results = body.returns
        for p, v in zip(params, init):
            self.assign(p, self.ref(v), annotate=_needs_annotation(v, p.type))
        for o, p in zip(node.outputs, params):
            self.names[o] = self.names[p]

        def carried_updates():
            pairs = [(p, v) for p, v in zip(params, results) if v is not p]
            if len(pairs) == 1:
                self.assign(pairs[0][0], self.ref(pairs[0][1]))
            elif pairs:
                self.emit(", ".join(self.names[p] for p, _ in pairs) + " = "
                          + ", ".join(self.ref(v) for _, v in pairs))

        forever = _is_const(trip, LOOP_FOREVER)
        if _is_const(cond, True) and _is_const(body_cond, True) and not forever:
            i = self.name(index, index.name or "i")
            self.emit(f"for {i} in range({self.ref(trip)}):")
            self.body(body, carried_updates)
            return
        cond_var = self.fresh("cond")
        self.emit(f"{cond_var} = {self.ref(cond)}")
        counted = not forever or bool(index.uses)
        i = self.name(index, index.name or "i") if counted else None
        if counted:
            self.emit(f"{i} = 0")
        test = cond_var if forever else f"{cond_var} and {i} < {self.ref(trip)}"
        if forever and counted:
            test = cond_var

        def tail():
            carried_updates()
            self.emit(f"{cond_var} = {self.ref(body_cond)}")
            if counted:
                self.emit(f"{i} = {i} + 1")

        self.emit(f"while {test}:")
        self.body(body, tail)


def _needs_annotation(v: Value, t: T.Type) -> bool:
    """Whether ``x = <v>`` would give ``x`` another type than ``t`` in the checker's eyes."""
    if v.type != t:
        return True
    node = v.node
    if node is not None and node.kind == G.UNINITIALIZED:
        return True
    if node is not None and node.kind == G.CONSTANT:
        from .lower_support import constant_type
        value = node.attrs.get("value")
        return constant_type(value) != t or (isinstance(value, list) and not value)
    return False


def _is_const(v: Value, value) -> bool:
    node = v.node
    if node is None or node.kind != G.CONSTANT:
        return False
    got = node.attrs.get("value")
    return got is value or (type(got) is type(value) and got == value)


def _is_default(v: Value, param) -> bool:
    if not param.has_default:
        return False
    value, _ = default_for(param.default, param.type)
    node = v.node
    if node is None or node.kind != G.CONSTANT:
        return False
    got = node.attrs.get("value")
    if got is None or value is None:
        return got is value
    return type(got) is type(value) and got == value


def _explicit_count(node: Node) -> int:
    """How many inputs must be written: trailing defaults are left out."""
    params = node.op.schema.params
    n = len(node.inputs)
    if node.op.schema.varargs:
        return n
    while n > 0 and n <= len(params) and _is_default(node.inputs[n - 1], params[n - 1]):
        n -= 1
    return n


def _operator_ok(op: R.OpDef) -> bool:
    """Whether the op is what the operator resolves to (its leading two params are positional)."""
    params = op.schema.params
    if R.Namespace.MATH in op.namespaces:
        return False  # math.remainder, math.pow, ...: spelled as the call
    return all(not p.kwarg_only for p in params[:2])


def _has_code(block: Block) -> bool:
    return any(n.kind not in (G.CONSTANT, G.UNINITIALIZED) for n in block.nodes) or bool(block.returns)


def _matching_restore(nodes: list, k: int) -> Optional[int]:
    prev = nodes[k].outputs[0]
    for j in range(k + 1, len(nodes)):
        n = nodes[j]
        if n.kind == G.GRAD_MODE and n.inputs and n.inputs[0] is prev:
            return j
    return None


def graph_to_source(obj, name: Optional[str] = None) -> str:
    """TensorScript source for a Graph (a function; a method when its name is ``Class.m``), or
    for a lowered module: its classes, its functions, then its top-level statements."""
    if isinstance(obj, Graph):
        qualified = name or obj.name
        if "." in qualified:
            return _Printer().function(obj, qualified.rsplit(".", 1)[1], method=True)
        return _Printer().function(obj, qualified)
    graphs = getattr(obj, "graphs", obj)
    classes: dict = {}
    functions, main = [], None
    for key, g in graphs.items():
        if key == "__main__":
            main = g
        elif "." in key:
            cls, method = key.rsplit(".", 1)
            classes.setdefault(cls, []).append((method, g))
        else:
            functions.append(_Printer().function(g, key))
    parts = []
    for cls, methods in classes.items():
        # __init__ first: it declares the attributes the other methods use
        methods.sort(key=lambda item: item[0] != "__init__")
        body = [textwrap.indent(_Printer().function(g, m, method=True), "    ") for m, g in methods]
        parts.append(f"class {cls}:\n" + "\n".join(body))
    parts.extend(functions)
    if main is not None:
        printer = _Printer()
        printer.depth = 0
        printer.collect_returns(main)
        printer.block(main.block)
        if printer.lines:
            parts.append("\n".join(printer.lines) + "\n")
    return "\n\n".join(parts)


__all__ = ["graph_to_source", "type_source", "literal"]
