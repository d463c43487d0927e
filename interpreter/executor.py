"""The graph executor: prepare a Graph once, run it many times.

Preparing gives every value of the graph (its inputs, every node output and block parameter,
nested blocks included) a slot in a flat frame, and turns each node into a *step*: a small
closure ``step(frame)`` that reads its input slots, computes, and writes its output slots.
Everything that can be decided per node is decided then: the op's kernel (or the runtime
handler through ``registry.bind``), constants (stored once in the frame template, so they
cost nothing at run time), the callee of a call (looked up in the program on first use),
sub-blocks (prepared recursively into their own step lists). Running a graph is copying the
template, storing the arguments, and ``for step in steps: step(frame)``.

Tensor values are dropped from the frame after their last use in the block that defines
them, so intermediates are freed as early as in eager code.

Failures: any exception a step raises becomes a ``ScriptError`` naming the original
exception type and message, with the script traceback (the failing node's line, and the line
of every call site on the way, outermost first). The block loop catches it, knowing the
failing step from the loop variable, so the fast path pays nothing for this.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..jit.ir import graph as G
from ..jit.ir import types as T
from ..jit.ops import registry
from . import autograd
from .errors import ScriptError
from .values import ScriptObject, matches

_handlers = registry._handlers  # the registry's handler stack (its base is the runtime's)

Step = Callable[[list], None]


class _Raised(Exception):
    """``raise ValueError("...")`` in a script: carries the exception's name and message."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _frame_of(node: Optional[G.Node], fallback: str) -> tuple:
    """``(location, source line)`` for a node's span (or its enclosing node's, if it has none)."""
    while node is not None and node.span is None:
        owner = node.owner.owner if node.owner is not None else None
        node = owner
    if node is None or node.span is None:
        return (fallback, "")
    span = node.span
    return (span.location, span.source.line(span.line))


def _script_error(exc: BaseException, node: Optional[G.Node], fallback: str) -> ScriptError:
    if isinstance(exc, _Raised):
        error_type, message = exc.error_type, exc.message
    else:
        error_type = type(exc).__name__
        if isinstance(exc, KeyError) and len(exc.args) == 1:
            message = str(exc.args[0])
        else:
            message = str(exc)
    err = ScriptError(message, error_type=error_type, original=exc,
                      frames=[_frame_of(node, fallback)])
    return err


def add_call_frame(err: ScriptError, frame: tuple) -> None:
    """Record a call site on the way out (outermost first)."""
    err.frames.insert(0, frame)
    err.args = (err.render(),)


# ------------------------------------------------------------------ running a block

class PreparedBlock:
    __slots__ = ("steps", "nodes", "graph_name", "param_slots", "return_slots")

    def __init__(self, graph_name: str):
        self.steps: list[Step] = []
        self.nodes: dict[int, G.Node] = {}  # id(step) -> node, for error locations
        self.graph_name = graph_name
        self.param_slots: list[int] = []
        self.return_slots: list[int] = []

    def add(self, step: Step, node: Optional[G.Node]) -> None:
        self.steps.append(step)
        self.nodes[id(step)] = node

    def run(self, frame: list) -> None:
        step = None
        try:
            for step in self.steps:
                step(frame)
        except ScriptError:
            raise
        except Exception as exc:  # any failure of a node is the script's failure
            node = self.nodes.get(id(step))
            raise _script_error(exc, node, self.graph_name) from None


class PreparedGraph:
    """One graph, ready to run: ``pg(*args)`` returns its output (a tuple for several)."""

    def __init__(self, graph: G.Graph, program: "Program", direct: bool = True):
        self.graph = graph
        self.name = graph.name
        self.program = program
        # ``direct``: ops on Python values call their kernel without ``bind``. Valid while only
        # the base handler is active; a run under a tracer uses the twin prepared without it.
        self.direct = direct
        self._twin: Optional[PreparedGraph] = None
        self._slots: dict[G.Value, int] = {}
        self._template: list = []
        self._mutable_constants: list = []
        for v in graph.inputs:
            self._slot(v)
        self.n_inputs = len(graph.inputs)
        self.block = self._prepare_block(graph.block)
        self.output_slots = [self._slots[v] for v in graph.outputs]
        self._tail = self._template[self.n_inputs:]
        self._single = len(self.output_slots) == 1
        self._out0 = self.output_slots[0] if self._single else -1

    # -------------------------------------------------------------- slots

    def _slot(self, v: G.Value) -> int:
        s = self._slots.get(v)
        if s is None:
            s = len(self._template)
            self._slots[v] = s
            self._template.append(None)
        return s

    def slot_of(self, v: G.Value) -> int:
        try:
            return self._slots[v]
        except KeyError:
            raise RuntimeError(f"graph {self.name}: {v!r} is used before it is defined") from None

    # -------------------------------------------------------------- running

    def __call__(self, *args: Any) -> Any:
        return self.run_list(list(args))

    def run_list(self, frame: list) -> Any:
        """Run on the arguments in ``frame``, a list the graph takes over as its frame."""
        if len(frame) != self.n_inputs:
            raise TypeError(f"{self.name}() takes {self.n_inputs} arguments but {len(frame)} were given")
        if self.direct and len(_handlers) != 1:
            return self.through_bind().run_list(frame)
        frame += self._tail
        if self._mutable_constants:
            for slot, value in self._mutable_constants:
                frame[slot] = _fresh(value)
        self.block.run(frame)
        if self._single:
            return frame[self._out0]
        outs = self.output_slots
        if not outs:
            return None
        return tuple([frame[s] for s in outs])

    def through_bind(self) -> "PreparedGraph":
        twin = self._twin
        if twin is None:
            twin = self._twin = PreparedGraph(self.graph, self.program, direct=False)
        return twin

    # -------------------------------------------------------------- preparing

    def _prepare_block(self, block: G.Block) -> PreparedBlock:
        pb = PreparedBlock(self.name)
        pb.param_slots = [self._slot(p) for p in block.params]
        frees = _last_uses(block)
        for node in block.nodes:
            for o in node.outputs:
                self._slot(o)
            step = self._prepare_node(node)
            if step is not None:
                pb.add(step, node)
            dead = frees.get(node)
            if dead:
                pb.add(_make_free([self._slots[v] for v in dead]), node)
        pb.return_slots = [self.slot_of(v) for v in block.returns]
        return pb

    def _prepare_node(self, node: G.Node) -> Optional[Step]:
        kind = node.kind
        prepare = _PREPARERS.get(kind)
        if prepare is None:
            raise NotImplementedError(f"the executor cannot run {kind} nodes")
        return prepare(self, node)

    def ins(self, node: G.Node) -> list[int]:
        return [self.slot_of(v) for v in node.inputs]

    def outs(self, node: G.Node) -> list[int]:
        return [self._slots[v] for v in node.outputs]

    def set_constant(self, slot: int, value: Any) -> None:
        if isinstance(value, (list, dict)):
            # A mutable constant gets a fresh copy per call, so one run cannot change the next.
            self._mutable_constants.append((slot, value))
        self._template[slot] = value


def _fresh(value):
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


def _values_read(node: G.Node, out: set) -> set:
    """Every value ``node`` reads: its inputs, and those of its sub-blocks (returns included)."""
    out.update(node.inputs)
    for b in node.blocks:
        out.update(b.returns)
        for inner in b.nodes:
            _values_read(inner, out)
    return out


def _last_uses(block: G.Block) -> dict:
    """node -> the Tensor values defined in ``block`` that are dead once that node has run."""
    last: dict = {}
    for node in block.nodes:
        for v in _values_read(node, set()):
            last[v] = node
    returned = set(block.returns)
    frees: dict = {}
    for node in block.nodes:
        for o in node.outputs:
            if o.type == T.TensorType and o not in returned:
                frees.setdefault(last.get(o, node), []).append(o)
    return frees


def _make_free(slots: list[int]) -> Step:
    if len(slots) == 1:
        (s,) = slots

        def free(f):
            f[s] = None
        return free

    def free_many(f):
        for s in slots:
            f[s] = None
    return free_many


# ------------------------------------------------------------------ op nodes

def _runs_without_handler(op: registry.OpDef) -> bool:
    """Ops on Python values only (no Tensor in or out) may call the kernel directly: the
    runtime handler would only pass them through, and tracers record tensor ops only."""
    schema = op.schema

    def tensorish(st) -> bool:
        if st.kind in ("Tensor", "Any"):
            return True
        return any(tensorish(a) for a in st.args)

    if any(tensorish(p.type) for p in schema.params) or any(tensorish(r) for r in schema.returns):
        return False
    return not (op.has(registry.RANDOM) or op.has(registry.SIDE_EFFECT) or op.extra.get("needs_handler"))


def _widened_ints(node: G.Node) -> list[int]:
    """For each input, the size of the ``int[N]`` list a single int must be repeated into
    (TorchScript's ``int[2] stride = 1``), or 0 when the input is passed as it is."""
    params = node.op.schema.params
    sizes = []
    for i, v in enumerate(node.inputs):
        p = params[i] if i < len(params) else None
        st = p.type if p is not None else None
        if st is not None and st.kind == "optional":
            st = st.args[0]
        if st is not None and st.kind == "list" and st.size and v.type == T.IntType:
            sizes.append(st.size)
        else:
            sizes.append(0)
    return sizes


def _prepare_op(pg: PreparedGraph, node: G.Node) -> Step:
    """Op nodes take every argument as an input, in schema order (defaults included)."""
    op = node.op
    ins = pg.ins(node)
    outs = pg.outs(node)
    widen = _widened_ints(node)
    direct = pg.direct and _runs_without_handler(op)
    if not any(widen) and len(outs) == 1 and len(op.schema.returns) == 1 and len(ins) in (1, 2):
        if direct:
            return _fast_scalar_op(op, ins, outs[0], [_constant_input(v) for v in node.inputs])
        return _fast_bound_op(op, ins, outs[0])
    return _make_general_op(op, list(zip(ins, widen)), outs, direct)


_NOT_CONSTANT = object()


def _constant_input(v: G.Value) -> Any:
    """The value of an immutable constant input (baked into the step), else _NOT_CONSTANT."""
    node = v.node
    if node is not None and node.kind == G.CONSTANT:
        value = node.attrs.get("value")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
    return _NOT_CONSTANT


def _fast_scalar_op(op: registry.OpDef, ins: list[int], o: int, consts: list) -> Step:
    """Unary and binary ops on Python values: the interpreter's hot path. A constant operand
    is held by the step itself rather than read from the frame."""
    fn = op.impl
    if len(ins) == 1:
        (a,) = ins

        def op1(f):
            f[o] = fn(f[a])
        return op1
    a, b = ins
    ca, cb = consts
    if ca is _NOT_CONSTANT and cb is not _NOT_CONSTANT:
        def op2_const_right(f):
            f[o] = fn(f[a], cb)
        return op2_const_right
    if cb is _NOT_CONSTANT and ca is not _NOT_CONSTANT:
        def op2_const_left(f):
            f[o] = fn(ca, f[b])
        return op2_const_left

    def op2(f):
        f[o] = fn(f[a], f[b])
    return op2


def _fast_bound_op(op: registry.OpDef, ins: list[int], o: int) -> Step:
    """Unary and binary ops through the active handler (tensor ops, or under a tracer)."""
    handlers = _handlers
    if len(ins) == 1:
        (a,) = ins

        def op1(f):
            f[o] = handlers[-1].process(op, (f[a],))
        return op1
    a, b = ins

    def op2(f):
        f[o] = handlers[-1].process(op, (f[a], f[b]))
    return op2


def _make_general_op(op, layout, outs, direct=False) -> Step:
    bind = registry.bind
    fn = op.impl
    slots = [s for s, _ in layout]
    n_ret = len(op.schema.returns)
    n_out = len(outs)

    if any(n for _, n in layout):
        def gather(f):
            return [[f[s]] * n if n else f[s] for s, n in layout]
    else:
        def gather(f):
            return [f[s] for s in slots]

    if direct:
        def apply(args):
            return fn(*args)
    else:
        def apply(args):
            return bind(op, *args)

    if n_out == 0:
        def op_none(f):
            apply(gather(f))
        return op_none
    if n_out == 1:
        (o,) = outs
        if n_ret > 1:
            def op_tuple(f):
                r = apply(gather(f))
                f[o] = r if type(r) is tuple else tuple(r)
            return op_tuple

        def op_one(f):
            f[o] = apply(gather(f))
        return op_one

    def op_many(f):
        r = apply(gather(f))
        for s, v in zip(outs, r):
            f[s] = v
    return op_many


# ------------------------------------------------------------------ built-in kinds

def _prepare_constant(pg: PreparedGraph, node: G.Node) -> None:
    value = node.attrs.get("value")
    for o in pg.outs(node):
        pg.set_constant(o, value)
    return None


def _prepare_list(pg: PreparedGraph, node: G.Node) -> Step:
    ins, (o,) = pg.ins(node), pg.outs(node)

    def list_construct(f):
        f[o] = [f[s] for s in ins]
    return list_construct


def _prepare_tuple(pg: PreparedGraph, node: G.Node) -> Step:
    ins, (o,) = pg.ins(node), pg.outs(node)

    def tuple_construct(f):
        f[o] = tuple([f[s] for s in ins])
    return tuple_construct


def _prepare_dict(pg: PreparedGraph, node: G.Node) -> Step:
    ins, (o,) = pg.ins(node), pg.outs(node)
    pairs = list(zip(ins[0::2], ins[1::2]))

    def dict_construct(f):
        f[o] = {f[k]: f[v] for k, v in pairs}
    return dict_construct


def _prepare_tuple_index(pg: PreparedGraph, node: G.Node) -> Step:
    ins, (o,) = pg.ins(node), pg.outs(node)
    t = ins[0]
    if len(ins) > 1:  # the index as a value
        i_slot = ins[1]

        def tuple_index_dynamic(f):
            f[o] = f[t][f[i_slot]]
        return tuple_index_dynamic
    i = node.attrs["index"]

    def tuple_index(f):
        f[o] = f[t][i]
    return tuple_index


def _prepare_unpack(pg: PreparedGraph, node: G.Node) -> Step:
    (src,), outs = pg.ins(node), pg.outs(node)
    n = len(outs)
    is_list = node.kind == G.LIST_UNPACK

    def unpack(f):
        value = f[src]
        if len(value) != n:
            if is_list:
                raise ValueError(f"Expected {n} elements in a list but found {len(value)}")
            raise ValueError(f"too many values to unpack (expected {n})")
        for s, v in zip(outs, value):
            f[s] = v
    return unpack


# Control flow runs its blocks' steps inline (no call per block per iteration); a failing step
# is named by the loop variable, exactly as in PreparedBlock.run.

def _prepare_if(pg: PreparedGraph, node: G.Node) -> Step:
    (cond,) = pg.ins(node)[:1]
    outs = pg.outs(node)
    then_b = pg._prepare_block(node.blocks[0])
    else_b = pg._prepare_block(node.blocks[1]) if len(node.blocks) > 1 else PreparedBlock(pg.name)
    then_steps, else_steps = then_b.steps, else_b.steps
    then_ret, else_ret = then_b.return_slots, else_b.return_slots
    nodes = {**then_b.nodes, **else_b.nodes}
    name = pg.name

    if not outs:
        def if_stmt(f):
            step = None
            try:
                for step in (then_steps if f[cond] else else_steps):
                    step(f)
            except ScriptError:
                raise
            except Exception as exc:
                raise _script_error(exc, nodes.get(id(step)), name) from None
        return if_stmt

    if len(outs) == 1:
        (o,) = outs
        (tr,), (er,) = then_ret, else_ret

        def if_one(f):
            step = None
            try:
                if f[cond]:
                    for step in then_steps:
                        step(f)
                    f[o] = f[tr]
                else:
                    for step in else_steps:
                        step(f)
                    f[o] = f[er]
            except ScriptError:
                raise
            except Exception as exc:
                raise _script_error(exc, nodes.get(id(step)), name) from None
        return if_one

    def if_many(f):
        step = None
        try:
            if f[cond]:
                for step in then_steps:
                    step(f)
                rets = then_ret
            else:
                for step in else_steps:
                    step(f)
                rets = else_ret
        except ScriptError:
            raise
        except Exception as exc:
            raise _script_error(exc, nodes.get(id(step)), name) from None
        values = [f[r] for r in rets]
        for s, v in zip(outs, values):
            f[s] = v
    return if_many


def _prepare_loop(pg: PreparedGraph, node: G.Node) -> Step:
    ins = pg.ins(node)
    trip, cond, carried_in = ins[0], ins[1], ins[2:]
    outs = pg.outs(node)
    body = pg._prepare_block(node.blocks[0])
    i_slot, carried_params = body.param_slots[0], body.param_slots[1:]
    cond_ret, carried_rets = body.return_slots[0], body.return_slots[1:]
    steps = body.steps
    nodes = body.nodes
    name = pg.name
    n = len(carried_in)

    def fail(exc, step):
        if isinstance(exc, ScriptError):
            return exc
        return _script_error(exc, nodes.get(id(step)), name)

    if n == 0:
        def loop0(f):
            trip_count = f[trip]
            i = 0
            ok = f[cond]
            step = None
            try:
                while ok and i < trip_count:
                    f[i_slot] = i
                    for step in steps:
                        step(f)
                    ok = f[cond_ret]
                    i += 1
            except Exception as exc:
                raise fail(exc, step) from None
        return loop0

    if n == 1:
        (ci,), (cp,), (cr,) = carried_in, carried_params, carried_rets
        (o,) = outs

        def loop1(f):
            trip_count = f[trip]
            i = 0
            ok = f[cond]
            value = f[ci]
            step = None
            try:
                while ok and i < trip_count:
                    f[i_slot] = i
                    f[cp] = value
                    for step in steps:
                        step(f)
                    ok = f[cond_ret]
                    value = f[cr]
                    i += 1
            except Exception as exc:
                raise fail(exc, step) from None
            f[o] = value
        return loop1

    if n == 2:
        (c0, c1), (p0, p1), (r0, r1) = carried_in, carried_params, carried_rets
        o0, o1 = outs

        def loop2(f):
            trip_count = f[trip]
            i = 0
            ok = f[cond]
            a, b = f[c0], f[c1]
            step = None
            try:
                while ok and i < trip_count:
                    f[i_slot] = i
                    f[p0] = a
                    f[p1] = b
                    for step in steps:
                        step(f)
                    ok = f[cond_ret]
                    a, b = f[r0], f[r1]
                    i += 1
            except Exception as exc:
                raise fail(exc, step) from None
            f[o0] = a
            f[o1] = b
        return loop2

    pairs_params = carried_params

    def loop(f):
        trip_count = f[trip]
        i = 0
        ok = f[cond]
        values = [f[s] for s in carried_in]
        step = None
        try:
            while ok and i < trip_count:
                f[i_slot] = i
                for p, v in zip(pairs_params, values):
                    f[p] = v
                for step in steps:
                    step(f)
                ok = f[cond_ret]
                values = [f[r] for r in carried_rets]
                i += 1
        except Exception as exc:
            raise fail(exc, step) from None
        for o, v in zip(outs, values):
            f[o] = v
    return loop


def _call_step(pg: PreparedGraph, node: G.Node, lookup: Callable[[Any], "PreparedGraph"]) -> Step:
    ins, outs = pg.ins(node), pg.outs(node)
    site = _frame_of(node, pg.name)
    o = outs[0] if len(outs) == 1 else None

    def call(f):
        args = [f[s] for s in ins]
        callee = lookup(args)
        try:
            r = callee(*args)
        except ScriptError as err:
            add_call_frame(err, site)
            raise
        if o is not None:
            f[o] = r
        elif outs:
            for s, v in zip(outs, r):
                f[s] = v
    return call


def _prepare_call_function(pg: PreparedGraph, node: G.Node) -> Step:
    name = node.attrs["name"]
    program = pg.program
    cell: list = []

    direct = pg.direct

    def lookup(args):
        if not cell:
            cell.append(program.prepared(name, direct))
        return cell[0]
    return _call_step(pg, node, lookup)


def _prepare_call_method(pg: PreparedGraph, node: G.Node) -> Step:
    name = node.attrs["name"]
    program = pg.program
    cache: dict = {}
    direct = pg.direct

    def lookup(args):
        cls = args[0]._ts_type
        callee = cache.get(cls)
        if callee is None:
            callee = cache[cls] = program.prepared(program.method_name(cls, name), direct)
        return callee
    return _call_step(pg, node, lookup)


def _prepare_create_object(pg: PreparedGraph, node: G.Node) -> Step:
    cls = node.attrs["cls"]
    (o,) = pg.outs(node)
    program = pg.program

    def create_object(f):
        f[o] = ScriptObject(cls, program)
    return create_object


def _prepare_get_attr(pg: PreparedGraph, node: G.Node) -> Step:
    (obj,), (o,) = pg.ins(node), pg.outs(node)
    name = node.attrs["name"]

    def get_attr(f):
        f[o] = getattr(f[obj], name)
    return get_attr


def _prepare_set_attr(pg: PreparedGraph, node: G.Node) -> Step:
    obj, value = pg.ins(node)
    name = node.attrs["name"]

    def set_attr(f):
        setattr(f[obj], name, f[value])
    return set_attr


def _prepare_raise(pg: PreparedGraph, node: G.Node) -> Step:
    ins = pg.ins(node)
    error_type = node.attrs.get("exception", "Exception")
    m = ins[0] if ins else None

    def raise_exception(f):
        message = f[m] if m is not None else ""
        raise _Raised(error_type, "" if message is None else str(message))
    return raise_exception


def _prepare_uninitialized(pg: PreparedGraph, node: G.Node) -> None:
    for o in pg.outs(node):
        pg.set_constant(o, None)
    return None


def _prepare_unchecked_cast(pg: PreparedGraph, node: G.Node) -> Step:
    (src,), (o,) = pg.ins(node), pg.outs(node)

    def unchecked_cast(f):
        f[o] = f[src]
    return unchecked_cast


def _prepare_isinstance(pg: PreparedGraph, node: G.Node) -> Step:
    (src,), (o,) = pg.ins(node), pg.outs(node)
    types = node.attrs["types"]
    if isinstance(types, T.Type):
        types = (types,)
    types = tuple(types)

    def isinstance_(f):
        v = f[src]
        f[o] = any(matches(v, t) for t in types)
    return isinstance_


def _prepare_grad_mode(pg: PreparedGraph, node: G.Node) -> Step:
    (mode,) = pg.ins(node)
    outs = pg.outs(node)
    o = outs[0] if outs else None
    is_enabled, set_enabled = autograd.is_grad_enabled, autograd._set_enabled

    def set_grad_enabled(f):
        previous = is_enabled()
        set_enabled(f[mode])
        if o is not None:
            f[o] = previous
    return set_grad_enabled


def _prepare_fusion_group(pg: PreparedGraph, node: G.Node) -> Step:
    ins, outs = pg.ins(node), pg.outs(node)
    kernel = node.attrs.get("kernel")
    if kernel is None:
        sub = PreparedGraph(node.attrs["subgraph"], pg.program, pg.direct)
        kernel = sub
    n_out = len(outs)

    def fusion_group(f):
        r = kernel(*[f[s] for s in ins])
        if n_out == 1:
            f[outs[0]] = r
        else:
            for s, v in zip(outs, r):
                f[s] = v
    return fusion_group


def _prepare_range_length(pg: PreparedGraph, node: G.Node) -> Step:
    (start, stop, step), (o,) = pg.ins(node), pg.outs(node)

    def range_length(f):
        f[o] = len(range(f[start], f[stop], f[step]))
    return range_length


def _prepare_is_none(pg: PreparedGraph, node: G.Node) -> Step:
    (src,), (o,) = pg.ins(node), pg.outs(node)
    if node.kind == G.IS_NONE:
        def is_none(f):
            f[o] = f[src] is None
        return is_none

    def is_not_none(f):
        f[o] = f[src] is not None
    return is_not_none


_PREPARERS: dict[str, Callable] = {
    G.RANGE_LENGTH: _prepare_range_length,
    G.IS_NONE: _prepare_is_none,
    G.IS_NOT_NONE: _prepare_is_none,
    G.OP: _prepare_op,
    G.CONSTANT: _prepare_constant,
    G.LIST_CONSTRUCT: _prepare_list,
    G.TUPLE_CONSTRUCT: _prepare_tuple,
    G.DICT_CONSTRUCT: _prepare_dict,
    G.TUPLE_INDEX: _prepare_tuple_index,
    G.TUPLE_UNPACK: _prepare_unpack,
    G.LIST_UNPACK: _prepare_unpack,
    G.IF: _prepare_if,
    G.LOOP: _prepare_loop,
    G.CALL_FUNCTION: _prepare_call_function,
    G.CALL_METHOD: _prepare_call_method,
    G.CREATE_OBJECT: _prepare_create_object,
    G.GET_ATTR: _prepare_get_attr,
    G.SET_ATTR: _prepare_set_attr,
    G.RAISE: _prepare_raise,
    G.UNINITIALIZED: _prepare_uninitialized,
    G.UNCHECKED_CAST: _prepare_unchecked_cast,
    G.ISINSTANCE: _prepare_isinstance,
    G.GRAD_MODE: _prepare_grad_mode,
    G.FUSION_GROUP: _prepare_fusion_group,
}


def register_kind(kind: str, prepare: Callable) -> None:
    """Teach the executor a node kind: ``prepare(prepared_graph, node) -> step or None``."""
    _PREPARERS[kind] = prepare


# ------------------------------------------------------------------ programs

class Program:
    """The executable form of a compilation unit: its graphs by qualified name, each prepared
    on first use. Methods of script classes are the graphs named ``Class.method``."""

    def __init__(self, graphs: Optional[dict] = None):
        self.graphs: dict[str, G.Graph] = dict(graphs or {})
        self._prepared: dict[str, PreparedGraph] = {}

    def add(self, name: str, graph: G.Graph) -> None:
        self.graphs[name] = graph
        self._prepared.pop(name, None)

    def prepared(self, name: str, direct: bool = True) -> PreparedGraph:
        pg = self._prepared.get(name)
        if pg is None:
            graph = self.graphs.get(name)
            if graph is None:
                raise RuntimeError(f"no compiled function named {name!r}")
            pg = self._prepared[name] = PreparedGraph(graph, self)
        return pg if direct else pg.through_bind()

    @staticmethod
    def method_name(cls: T.ClassType, method: str) -> str:
        return f"{cls.class_name}.{method}"

    def run(self, name: str, *args: Any) -> Any:
        return run_prepared(self.prepared(name), args)


def run_prepared(pg: PreparedGraph, args) -> Any:
    """Run a top-level call: grad mode is restored however the script ends."""
    mode = autograd._grad_enabled
    try:
        return pg(*args)
    finally:
        if autograd._grad_enabled != mode:
            autograd._set_enabled(mode)


def run_graph(graph: G.Graph, *args: Any) -> Any:
    """Run a standalone graph (no calls to other functions)."""
    return run_prepared(PreparedGraph(graph, Program()), args)

__all__ = ["Program", "PreparedGraph", "ScriptObject", "run_graph", "run_prepared",
           "register_kind", "add_call_frame"]
