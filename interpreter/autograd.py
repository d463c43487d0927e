"""Eager reverse-mode autograd: graph nodes recorded by the runtime, and the engine that walks them.

Every op application that sees an input requiring grad (with grad mode on) becomes a ``Node``
holding the op's registry entry, a ``ctx`` (``ctx.args`` the arguments in schema order, with
Tensors for tensor parameters, ``ctx.out`` the output) and one edge per differentiable input.
Leaves that require grad end in an ``AccumulateGrad`` node, shared per leaf. The engine runs
nodes in dependency order, calling each op's ``grad(ctx, *grad_outputs)`` rule; the rules use
public ops, so with ``create_graph`` the backward pass is itself recorded.

Tensors saved in a ctx are aliases carrying the version they had when saved: the runtime checks
that version when such an alias feeds an op, so only values a rule actually reads must be left
unmodified (PyTorch's rule for saved tensors).
"""
from __future__ import annotations

import functools
import sys
from typing import Optional, Sequence

import numpy as np

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


def _set_enabled(mode: bool) -> None:
    global _grad_enabled
    _grad_enabled = bool(mode)


class _GradMode:
    """Base of the grad-mode context managers, usable as decorators too (with or without ())."""

    mode = True

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func) and cls is not set_grad_enabled:
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self._prev = _grad_enabled
        _set_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)() if type(self) is not set_grad_enabled else set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    mode = False


class enable_grad(_GradMode):
    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches grad mode at once, and restores it as a context."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = _grad_enabled
        _set_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False


# ------------------------------------------------------------------ graph nodes

def _wants_grad(arg) -> bool:
    flag = getattr(arg, "_requires_grad", None)
    if flag is not None:
        return flag
    if isinstance(arg, (list, tuple)):
        return any(getattr(a, "_requires_grad", False) for a in arg)
    return False


class Ctx:
    """What a gradient rule sees: ``args`` in schema order, ``out`` the output(s)."""

    __slots__ = ("args", "out", "op")

    def __init__(self, op, args, out):
        self.op = op
        self.args = args
        self.out = out

    @property
    def needs_input_grad(self) -> tuple:
        """Per schema parameter, whether a gradient for it flows anywhere (PyTorch's
        ``ctx.needs_input_grad``): a rule may skip the others and return None for them. The
        saved arguments require grad exactly where the node has an edge."""
        return tuple([_wants_grad(a) for a in self.args])

    def __repr__(self) -> str:
        return f"<ctx of {self.op.qualified_name}>"


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.strip("_").split("_"))


class Node:
    """One recorded op application.

    ``edges[i]`` is None (no gradient flows to parameter i), an ``(node, output_nr)`` pair, or
    for a ``Tensor[]`` parameter a list of such pairs. ``input_meta[i]`` is the shape and dtype
    the gradient for parameter i must take.

    The ``ctx`` is either given, or built on first use from ``saved`` by ``ctx_from_saved``
    (installed by the runtime, which owns Tensor creation): recording then stores the arrays and
    versions it needs and makes no Tensor objects, which is most of the cost of recording an op
    on small tensors.
    """

    __slots__ = ("op", "_ctx", "saved", "edges", "input_meta", "out_meta", "retained",
                 "released", "__weakref__")
    ctx_from_saved = None

    def __init__(self, op, ctx, edges, input_meta, out_meta, saved=None):
        self.op = op
        self._ctx = ctx
        self.saved = saved
        self.edges = edges
        self.input_meta = input_meta
        self.out_meta = out_meta  # per output: (shape, dtype np)
        self.retained = None  # output_nr -> tensor with retain_grad()
        self.released = False

    @property
    def ctx(self):
        ctx = self._ctx
        if ctx is None and self.saved is not None:
            ctx = self._ctx = self.ctx_from_saved()
            self.saved = None
        return ctx

    @ctx.setter
    def ctx(self, ctx) -> None:
        self._ctx = ctx
        self.saved = None

    def name(self) -> str:
        return _camel(self.op.name) + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        flat = []
        for e in self.edges:
            if isinstance(e, list):
                flat.extend(e)
            else:
                flat.append(e if e is not None else (None, 0))
        return tuple(flat)

    def apply(self, grads: list) -> list:
        """Gradients for each schema parameter (a list for Tensor[] parameters)."""
        if self.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")
        rule = self.op.grad
        if rule is None:
            raise RuntimeError(f"the derivative for '{self.op.qualified_name}' is not implemented.")
        out = rule(self.ctx, *grads)
        if not isinstance(out, (tuple, list)):
            out = (out,)
        return list(out)

    def release(self) -> None:
        self._ctx = None
        self.saved = None
        self.released = True


class AccumulateGrad:
    """The sink of a leaf tensor's gradient."""

    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return ()


class FunctionNode:
    """A node whose backward is a Python function of the incoming gradients (no op entry)."""

    __slots__ = ("label", "backward_fn", "edges", "input_meta", "out_meta", "retained",
                 "released", "__weakref__")

    def __init__(self, label, backward_fn, edges, input_meta, out_meta):
        self.label = label
        self.backward_fn = backward_fn
        self.edges = edges
        self.input_meta = input_meta
        self.out_meta = out_meta
        self.retained = None
        self.released = False

    def name(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"<{self.label} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return tuple(e if e is not None else (None, 0) for e in self.edges)

    def apply(self, grads: list) -> list:
        return list(self.backward_fn(*grads))

    def release(self) -> None:
        self.released = True


def grad_accumulator(t) -> AccumulateGrad:
    acc = t._grad_acc
    if acc is None:
        acc = AccumulateGrad(t)
        t._grad_acc = acc
    return acc


def edge_of(t) -> Optional[tuple]:
    """Where gradient for tensor ``t`` goes, or None when it does not require grad."""
    if not t._requires_grad:
        return None
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (grad_accumulator(t), 0)


# ------------------------------------------------------------------ the engine

_runtime_module = None


def _runtime():
    global _runtime_module
    if _runtime_module is None:
        from . import runtime  # the runtime imports this module; resolved lazily to stay acyclic
        _runtime_module = runtime
    return _runtime_module


def _reduce_to(grad, shape: tuple, np_dtype):
    """Sum a gradient computed in a broadcast shape back to the input's shape and dtype."""
    if grad._data.shape != shape:
        grad = grad.sum_to_size(list(shape))
    if grad._data.dtype != np_dtype:
        grad = grad.to(_runtime().dtype_of(np_dtype))
    return grad


def _collect_dependencies(roots):
    deps: dict = {}
    seen = set()
    stack = [n for n in roots if n is not None]
    for n in stack:
        seen.add(id(n))
    while stack:
        node = stack.pop()
        if type(node) is AccumulateGrad:
            continue
        for edge in node.edges:
            if edge is None:
                continue
            for e in (edge if type(edge) is list else (edge,)):
                if e is None:
                    continue
                nxt = e[0]
                key = id(nxt)
                if key in deps:
                    deps[key] += 1
                else:
                    deps[key] = 1
                    if key not in seen:
                        seen.add(key)
                        stack.append(nxt)
    return deps


def _send(g, edge, meta, buffers: dict, deps: dict, ready: list) -> None:
    """Hand gradient ``g`` (or None) along ``edge``; the node there is ready once every edge
    into it has been handled."""
    nxt, nr = edge
    if g is not None:
        if not getattr(g, "_ts_tensor", False):
            g = _runtime().scalar_tensor(g, meta[1])
        data = g._data
        if data.shape != meta[0] or data.dtype != meta[1]:
            g = _reduce_to(g, meta[0], meta[1])
        key = id(nxt)
        buf = buffers.get(key)
        if buf is None:
            buffers[key] = {nr: g}
        elif nr in buf:
            buf[nr] = buf[nr] + g
        else:
            buf[nr] = g
    key = id(nxt)
    left = deps[key] - 1
    deps[key] = left
    if left == 0:
        ready.append(nxt)


def _run_node(node, buf: dict, buffers: dict, deps: dict, ready: list, retain_graph: bool,
              create_graph: bool) -> None:
    """Apply ``node``'s backward to the gradients gathered in ``buf`` and send the results on.

    A function of its own so that, when it returns, no local still refers to the gradients it
    sent: the refcount test in :func:`_stealable` counts on that."""
    if node.retained:
        for nr, t in node.retained.items():
            if nr in buf:
                g = buf[nr]
                t.grad = g if create_graph else g.detach()
    out_meta = node.out_meta
    if len(out_meta) == 1:
        grads = [buf[0]]
    else:
        grads = [buf[nr] if nr in buf else _runtime().zeros_tensor(shape, np_dtype)
                 for nr, (shape, np_dtype) in enumerate(out_meta)]
    results = node.apply(grads)
    if not retain_graph:
        node.release()
    n_results = len(results)
    input_meta = node.input_meta
    for i, edge in enumerate(node.edges):
        if edge is None:
            continue
        g = results[i] if i < n_results else None
        if type(edge) is list:
            metas = input_meta[i]
            for k, e in enumerate(edge):
                if e is not None:
                    _send(g[k] if g is not None else None, e, metas[k], buffers, deps, ready)
        else:
            _send(g, edge, input_meta[i], buffers, deps, ready)


def _release_edges(node, deps: dict, ready: list) -> None:
    """No gradient reached ``node``: nothing flows on from it, but its successors stop waiting."""
    for edge in node.edges:
        if edge is None:
            continue
        for e in (edge if type(edge) is list else (edge,)):
            if e is not None:
                key = id(e[0])
                deps[key] -= 1
                if deps[key] == 0:
                    ready.append(e[0])


def run_backward(tensors: Sequence, grad_tensors: Sequence, retain_graph: bool,
                 create_graph: bool, inputs: Optional[Sequence] = None,
                 allow_unused: bool = False, accumulate: bool = True):
    """The engine behind ``Tensor.backward`` and ``autograd.grad``.

    With ``inputs`` it returns the gradient reaching each input (None where none does) and,
    when ``accumulate`` is False, leaves every ``.grad`` untouched.
    """
    roots = []
    buffers: dict = {}  # id(node) -> {output_nr: grad}
    for t, g in zip(tensors, grad_tensors):
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        node, nr = edge_of(t)
        buf = buffers.setdefault(id(node), {})
        buf[nr] = g if nr not in buf else buf[nr] + g
        roots.append(node)

    captured: dict = {}  # (id(node), nr) -> grad, for ``inputs``
    capture_nrs: dict = {}  # id(node) -> output numbers to capture
    if inputs is not None:
        for t in inputs:
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = edge_of(t)
            capture_nrs.setdefault(id(node), set()).add(nr)

    deps = _collect_dependencies(roots)
    ready = [n for n in dict.fromkeys(roots) if deps.get(id(n), 0) == 0]
    prev = is_grad_enabled()
    _set_enabled(create_graph)
    try:
        while ready:
            node = ready.pop()
            key = id(node)
            buf = buffers.pop(key, None)
            if buf and key in capture_nrs:
                for nr in capture_nrs[key]:
                    if nr in buf:
                        captured[(key, nr)] = buf[nr]
            if type(node) is AccumulateGrad:
                if accumulate and buf and 0 in buf:
                    grad = buf.pop(0)
                    _accumulate(node.variable, grad, create_graph, fresh=True)
                continue
            if not buf:
                _release_edges(node, deps, ready)
                continue
            _run_node(node, buf, buffers, deps, ready, retain_graph, create_graph)
    finally:
        _set_enabled(prev)

    if inputs is None:
        return None
    result = []
    for t in inputs:
        node, nr = edge_of(t)
        g = captured.get((id(node), nr))
        if g is None and not allow_unused:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                               "the graph. Set allow_unused=True if this is the desired behavior.")
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


# References to a gradient nobody else holds while _stealable tests it: the engine's local,
# the arguments of _accumulate, of _stealable and of getrefcount; and to its array: the
# Tensor's, _stealable's local and getrefcount's argument.
_OWNED_TENSOR_REFS = 4
_OWNED_ARRAY_REFS = 3


def _stealable(g) -> bool:
    """Whether ``g`` can become a ``.grad`` as it is (PyTorch's AccumulateGrad steals a gradient
    nobody else refers to): a plain Tensor with no history whose array owns its memory, is
    writable (later steps accumulate into it in place) and is referred to by nobody else, so no
    other Tensor, view or buffer pool can write to it afterwards."""
    data = g._data
    return (type(data) is np.ndarray and data.base is None and data.flags.writeable
            and sys.getrefcount(g) <= _OWNED_TENSOR_REFS
            and sys.getrefcount(data) <= _OWNED_ARRAY_REFS
            and not g._requires_grad and g._version[0] == 0 and not g.__dict__)


def _accumulate(leaf, g, create_graph: bool, fresh: bool = False) -> None:
    """Add ``g`` into ``leaf.grad``; with ``fresh`` the engine hands over its only reference
    to ``g``, which may then become the ``.grad`` without a copy."""
    current = leaf._grad
    if current is None:
        if create_graph:
            leaf.grad = g
        elif fresh and g._data.shape == leaf._data.shape and _stealable(g):
            leaf._grad = g  # the setter's one check, on the shapes, is made above
        else:
            leaf.grad = rt_detached_copy(g)
    elif create_graph or current._requires_grad:
        leaf.grad = current + g
    else:
        np.add(current._data, g._data, out=current._data, casting="unsafe")


def rt_detached_copy(g):
    return _runtime().wrap(np.array(g._data, copy=True, order="K"))


def _as_tensor_list(x) -> list:
    if getattr(type(x), "_ts_tensor", False):
        return [x]
    return list(x)


def _make_grads(outputs: list, grad_outputs) -> list:
    rt = _runtime()
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_tensor_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs"
                           if not grad_outputs else
                           f"Mismatch in number of tensors: {len(outputs)} outputs and "
                           f"{len(grad_outputs)} gradients")
    result = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {rt.dtype_of(out._data.dtype)}")
            result.append(rt.wrap(np.ones(out._data.shape, dtype=out._data.dtype)))
            continue
        if not getattr(type(g), "_ts_tensor", False):
            g = rt.wrap(np.asarray(g, dtype=out._data.dtype))
        if g._data.shape != out._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} "
                               f"and output[0] has a shape of {tuple(out.shape)}.")
        result.append(g)
    return result


def backward(tensors, grad_tensors=None, retain_graph: Optional[bool] = None,
             create_graph: bool = False, inputs=None) -> None:
    """``torch.autograd.backward``: accumulate gradients of ``tensors`` into leaves' ``.grad``."""
    tensors = _as_tensor_list(tensors)
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tensor_list(inputs)
        captured = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                                allow_unused=True, accumulate=False)
        for t, g in zip(inputs, captured):
            if g is not None:
                _accumulate(t, g, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """``torch.autograd.grad``: the gradients of ``outputs`` with respect to ``inputs``."""
    outputs = _as_tensor_list(outputs)
    inputs = _as_tensor_list(inputs)
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused, accumulate=False)
