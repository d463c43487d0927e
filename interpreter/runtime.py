"""The runtime's registry handler: op applications on Tensors.

``RuntimeHandler.process`` unwraps Tensors to their ndarrays, runs the entry's ``impl``, wraps
the results (views share storage and version counter; in-place ops bump the version and return
``self``), and, when grad mode is on and an input requires grad, records an autograd node with
the entry's ``grad`` rule. It is installed as the registry's base handler when this module is
imported.

Resolution of run-time calls to an overload is cached per (op name, argument kinds, keyword
names): the eager API's per-op overhead is one dict lookup plus the kernel.
"""
from __future__ import annotations

import collections

import re
from typing import Any, Callable, Optional

import numpy as np

from ..jit.ir import dtypes
from ..jit.ops import autograd_ops, registry
from ..jit.ops.dispatch import bind_arguments, no_match_message, resolve, _convert
from ..jit.ops.registry import INPLACE, NONDIFFERENTIABLE, VIEW, Handler, OpDef
from . import autograd
from .autograd import AccumulateGrad, Ctx, FunctionNode, Node, edge_of, grad_accumulator

_NP_TO_DTYPE = {d.np: d for d in dtypes.ALL}
for _d in dtypes.ALL:
    _NP_TO_DTYPE[_d.np.type] = _d


def dtype_of(np_dtype) -> dtypes.DType:
    d = _NP_TO_DTYPE.get(np_dtype)
    if d is None:
        d = dtypes.from_numpy(np_dtype)
    return d


_TORCH_DTYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                      "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "bool": "Bool"}


def torch_dtype_name(np_dtype) -> str:
    """PyTorch's spelling of a dtype in error messages (``Float``, ``Long``)."""
    return _TORCH_DTYPE_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))


# ------------------------------------------------------------------ wrapping

_Tensor = None  # the Tensor class, set by tensor.py when it is imported
_new = object.__new__


def wrap(arr: np.ndarray):
    """A fresh Tensor owning ``arr`` (its own storage and version counter)."""
    t = _new(_Tensor)
    t._data = arr
    t._version = [0]
    t._requires_grad = False
    t._grad_fn = None
    return t


def _wrap_view(arr: np.ndarray, src, autograd_view: bool = True):
    """A view of ``src``'s storage; ``detach`` shares the version counter but is no autograd view."""
    t = wrap(arr)
    t._version = src._version
    if autograd_view:
        t._base = src._base if src._base is not None else src
    return t


def zeros_tensor(shape, np_dtype):
    return wrap(np.zeros(shape, dtype=np_dtype))


def scalar_tensor(value, np_dtype):
    return wrap(np.asarray(value, dtype=np_dtype))


def _saved(t):
    """An alias of ``t`` that remembers ``t``'s version, for a ctx."""
    a = _new(_Tensor)
    a._data = t._data
    a._version = t._version
    a._requires_grad = rg = t._requires_grad
    a._grad_fn = fn = t._grad_fn
    if t._output_nr:  # the class defaults stand for 0 and None
        a._output_nr = t._output_nr
    if rg and fn is None:
        a._grad_acc = grad_accumulator(t)
    if t._base is not None:
        a._base = t._base
    a._saved_version = t._version[0]
    return a


def check_saved(t) -> None:
    if t._version[0] != t._saved_version:
        name = t._grad_fn.name() if t._grad_fn is not None else "AccumulateGrad"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{torch_dtype_name(t._data.dtype)}Tensor {list(t._data.shape)}], "
            f"which is output 0 of {name}, is at version {t._version[0]}; expected version "
            f"{t._saved_version} instead.")


# ------------------------------------------------------------------ per-op plans

class _Plan:
    __slots__ = ("tensor_idx", "list_idx", "view", "inplace", "nondiff", "returns", "rg_idx",
                 "device_idx", "fast", "tuple_type")

    def __init__(self, op: OpDef):
        params = op.schema.params
        self.tensor_idx = tuple(i for i, p in enumerate(params)
                                if p.type.kind == "Tensor"
                                or (p.type.kind == "optional" and p.type.args[0].kind == "Tensor"))
        self.list_idx = tuple(i for i, p in enumerate(params)
                              if p.type.kind == "list" and p.type.args[0].kind in ("Tensor", "optional")
                              and (p.type.args[0].kind == "Tensor" or p.type.args[0].args[0].kind == "Tensor"))
        self.view = op.has(VIEW)
        self.inplace = op.has(INPLACE)
        self.nondiff = op.has(NONDIFFERENTIABLE) or op.grad is None and not self.tensor_idx
        rets = op.schema.returns
        if len(rets) == 1:
            k = rets[0]
            self.returns = "T" if k.is_tensor else ("L" if k.is_tensor_list else "V")
        elif not rets:
            self.returns = "V"  # "-> ()": print, manual_seed, list.append
        else:
            self.returns = "tuple"
        self.tuple_type = _result_tuple_type(op.schema)
        self.rg_idx = next((i for i, p in enumerate(params) if p.name == "requires_grad"), None)
        self.device_idx = next((i for i, p in enumerate(params)
                                if p.type.kind == "Device"
                                or (p.type.kind == "optional" and p.type.args[0].kind == "Device")), None)
        self.fast = (not self.list_idx and self.device_idx is None and not self.inplace
                     and not self.view and self.returns == "T" and self.rg_idx is None
                     and 0 in self.tensor_idx)
        if op.extra.get("tensor_args"):  # autograd ops: they get and return Tensors as they are
            self.tensor_idx = self.list_idx = ()
            self.nondiff, self.returns, self.fast, self.rg_idx, self.device_idx = True, "V", False, None, None


_plans: dict = {}
_result_types: dict = {}


def _result_tuple_type(schema):
    """``x.max(1).values``: results with named returns are named tuples, as PyTorch's are."""
    names = schema.return_names
    if len(schema.returns) < 2 or len(names) != len(schema.returns):
        return None
    key = (schema.name, names)
    if key not in _result_types:
        _result_types[key] = collections.namedtuple(schema.name, names)
    return _result_types[key]


def _plan(op: OpDef) -> _Plan:
    p = _plans.get(op)
    if p is None:
        p = _plans[op] = _Plan(op)
    return p


# ------------------------------------------------------------------ error translation

_AXIS = re.compile(r"axis (-?\d+) is out of bounds for array of dimension (\d+)")


def _shapes(raw, plan) -> list:
    return [raw[i].shape for i in plan.tensor_idx if isinstance(raw[i], np.ndarray)]


def _broadcast_message(shapes) -> str:
    if len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        for k in range(1, max(len(a), len(b)) + 1):
            x = a[-k] if k <= len(a) else 1
            y = b[-k] if k <= len(b) else 1
            if x != y and x != 1 and y != 1:
                dim = max(len(a), len(b)) - k
                return (f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                        f"non-singleton dimension {dim}")
    return "shapes " + ", ".join(str(list(s)) for s in shapes) + " cannot be broadcast together"


def translate_error(e: Exception, op: OpDef, raw, plan) -> Exception:
    """PyTorch's exception type and message for a failure inside a kernel."""
    msg = str(e)
    mod = type(e).__module__ or ""
    if isinstance(e, ZeroDivisionError):
        return RuntimeError("ZeroDivisionError")
    m = _AXIS.search(msg)
    if m:
        n = int(m.group(2))
        return IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, "
                          f"{max(n, 1) - 1}], but got {m.group(1)})")
    if "could not be broadcast" in msg or "broadcast" in msg and isinstance(e, ValueError):
        return RuntimeError(_broadcast_message(_shapes(raw, plan)))
    if "did not contain a loop" in msg or "not supported for the input types" in msg:
        dts = [raw[i].dtype for i in plan.tensor_idx if isinstance(raw[i], np.ndarray)]
        return RuntimeError(f'"{op.name}" not implemented for '
                            f"'{torch_dtype_name(dts[0]) if dts else '?'}'")
    if mod.startswith("numba") or mod.startswith("numpy"):
        return RuntimeError(f"{op.name}: {msg.splitlines()[0] if msg else type(e).__name__}")
    return e


# ------------------------------------------------------------------ the handler

class RuntimeHandler(Handler):
    def process(self, op: OpDef, args: tuple) -> Any:
        plan = _plans.get(op) or _plan(op)
        raw = list(args)
        if plan.fast:  # tensors by value, one fresh Tensor out: the common pointwise case
            needs_grad = False
            for i in plan.tensor_idx:
                a = raw[i]
                if a is not None:
                    if a._saved_version is not None:
                        check_saved(a)
                    raw[i] = a._data
                    if a._requires_grad:
                        needs_grad = True
            try:
                out = op.impl(*raw)
            except Exception as e:  # kernels' failures come out as PyTorch's exception types
                err = translate_error(e, op, raw, plan)
                if err is e:
                    raise
                raise err from None
            if out is raw[0]:
                return args[0]  # the op returned its input unchanged (contiguous, to same dtype)
            if type(out) is not np.ndarray:
                out = np.asarray(out)
            result = _new(_Tensor)
            result._data = out
            result._version = [0]
            result._requires_grad = False
            result._grad_fn = None
            if needs_grad and autograd._grad_enabled and not plan.nondiff:
                _record_by_value(op, plan, args, result)
            return result
        needs_grad = False
        for i in plan.tensor_idx:
            a = raw[i]
            if a is not None:
                if a._saved_version is not None:
                    check_saved(a)
                raw[i] = a._data
                if a._requires_grad:
                    needs_grad = True
        for i in plan.list_idx:
            items = raw[i]
            unwrapped = []
            for a in items:
                if a is None:
                    unwrapped.append(None)
                    continue
                if a._saved_version is not None:
                    check_saved(a)
                if a._requires_grad:
                    needs_grad = True
                unwrapped.append(a._data)
            raw[i] = unwrapped
        if plan.device_idx is not None:
            _check_device(raw[plan.device_idx])
        record = needs_grad and autograd._grad_enabled and not plan.nondiff
        if plan.inplace:
            return _run_inplace(op, plan, args, raw, record)
        try:
            out = op.impl(*raw)
        except Exception as e:  # kernels' failures come out as PyTorch's exception types
            err = translate_error(e, op, raw, plan)
            if err is e:
                raise
            raise err from None
        ret = plan.returns
        if ret == "T":
            if args and out is getattr(args[0], "_data", None):
                return args[0]  # the op returned its input unchanged (contiguous, to same dtype)
            if type(out) is not np.ndarray:
                out = np.asarray(out)
            # reshape/flatten are views only when the strides allow; their copies own storage
            if plan.view and np.may_share_memory(out, raw[plan.tensor_idx[0]]):
                result = _wrap_view(out, args[plan.tensor_idx[0]], not plan.nondiff)
            else:
                result = wrap(out)
            if plan.rg_idx is not None and raw[plan.rg_idx]:
                _set_requires_grad(result, True)
            if record:
                _record(op, args, (result,), result)
            return result
        if ret == "V":
            return out
        outs = [o if type(o) is np.ndarray else np.asarray(o) for o in out]
        if plan.view:
            src = args[plan.tensor_idx[0]] if plan.tensor_idx else args[plan.list_idx[0]][0]
            results = [_wrap_view(o, src, not plan.nondiff) for o in outs]
        else:
            results = [wrap(o) for o in outs]
        if ret != "tuple":
            packed = list(results)
        elif plan.tuple_type is None:
            packed = tuple(results)
        else:
            packed = plan.tuple_type(*results)
        if record:
            _record(op, args, results, packed)
        return packed


def _check_device(device) -> None:
    if device is None:
        return
    name = device if isinstance(device, str) else getattr(device, "type", str(device))
    if not str(name).startswith("cpu"):
        raise RuntimeError(f"device '{name}' is not available: tensorscript's eager tensors live "
                           "on the CPU (compiled CUDA kernels run through scripts)")


def _set_requires_grad(t, flag: bool) -> None:
    if flag and t._data.dtype.kind not in "fc":
        raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
    t._requires_grad = flag


def _meta(t) -> tuple:
    return (t._data.shape, t._data.dtype)


def _record(op: OpDef, args: tuple, results, packed) -> None:
    """Make ``results`` the outputs of a new node for ``op`` applied to ``args``."""
    if len(results) == 1:
        if results[0]._data.dtype.kind != "f":
            return
        float_out = (True,)
    else:
        float_out = [r._data.dtype.kind == "f" for r in results]
        if not any(float_out):
            return
    plan = _plans[op]
    edges: list = [None] * len(args)
    metas: list = [None] * len(args)
    saved_args = list(args)
    for i in plan.tensor_idx:
        a = args[i]
        if a is not None:
            edges[i] = edge_of(a)
            d = a._data
            metas[i] = (d.shape, d.dtype)
            saved_args[i] = _saved(a)
    for i in plan.list_idx:
        items = args[i]
        edges[i] = [edge_of(a) if a is not None else None for a in items]
        metas[i] = [_meta(a) if a is not None else None for a in items]
        saved_args[i] = [_saved(a) if a is not None else None for a in items]
    node = Node(op, None, edges, metas, [_meta(r) for r in results])
    for nr, (r, isf) in enumerate(zip(results, float_out)):
        if isf:
            r._requires_grad = True
            r._grad_fn = node
            r._output_nr = nr
    if isinstance(packed, (tuple, list)):
        out = (list if isinstance(packed, list) else tuple)(_saved(r) for r in results)
    else:
        out = _saved(packed)
    node.ctx = Ctx(op, tuple(saved_args), out)


def _record_by_value(op: OpDef, plan: _Plan, args: tuple, result) -> None:
    """:func:`_record` for an op that takes its tensors by value and makes one fresh tensor
    (``plan.fast``). The ctx's aliases are made only if backward runs: the node keeps each
    tensor argument's array and version counter, as read now (:func:`_ctx_from_saved`)."""
    data = result._data
    if data.dtype.kind != "f":
        return
    edges = [None] * len(args)
    metas = [None] * len(args)
    saved = []
    for i in plan.tensor_idx:
        a = args[i]
        if a is not None:
            d = a._data
            if a._requires_grad:
                fn = a._grad_fn
                edges[i] = (fn, a._output_nr) if fn is not None else (grad_accumulator(a), 0)
                metas[i] = (d.shape, d.dtype)
            v = a._version
            saved.append((i, d, v, v[0]))
    result._grad_fn = Node(op, None, edges, metas, [(data.shape, data.dtype)],
                           (args, saved, data, result._version))
    result._requires_grad = True


def _alias_of_saved(data, version: list, saved_version: int, edge, base):
    """What :func:`_saved` would have made of a tensor with this array, version and edge."""
    a = _new(_Tensor)
    a._data = data
    a._version = version
    a._saved_version = saved_version
    if edge is None:
        a._requires_grad = False
        a._grad_fn = None
    else:
        a._requires_grad = True
        node, nr = edge
        if type(node) is AccumulateGrad:
            a._grad_fn = None
            a._grad_acc = node
        else:
            a._grad_fn = node
            if nr:
                a._output_nr = nr
    if base is not None:
        a._base = base
    return a


def _ctx_from_saved(node):
    args, saved, out_data, out_version = node.saved
    ctx_args = list(args)
    for i, data, version, saved_version in saved:
        ctx_args[i] = _alias_of_saved(data, version, saved_version, node.edges[i], args[i]._base)
    out = _alias_of_saved(out_data, out_version, 0, (node, 0), None)
    return Ctx(node.op, tuple(ctx_args), out)


Node.ctx_from_saved = _ctx_from_saved


def _snapshot(t):
    """A copy of ``t``'s current value that keeps ``t``'s autograd history."""
    s = wrap(np.array(t._data, copy=True))
    s._requires_grad = t._requires_grad
    s._grad_fn = t._grad_fn
    s._output_nr = t._output_nr
    if t._requires_grad and t._grad_fn is None:
        s._grad_acc = grad_accumulator(t)
    return s


def _run_inplace(op: OpDef, plan: _Plan, args: tuple, raw: list, record: bool):
    self_t = args[0]
    if autograd._grad_enabled and (self_t._requires_grad or record):
        if self_t._requires_grad and self_t._grad_fn is None and self_t._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self_t._base
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        record = record or self_t._requires_grad
    old = _snapshot(self_t) if record else None
    old_base_edge = None
    base = self_t._base
    if record and base is not None:
        old_base_edge = edge_of(base)
    try:
        op.impl(*raw)
    except Exception as e:
        err = translate_error(e, op, raw, plan)
        if err is e:
            raise
        raise err from None
    self_t._version[0] += 1
    if record:
        call_args = (old,) + tuple(args[1:])
        _record(op, call_args, (self_t,), self_t)
        node = self_t._grad_fn
        if node is not None and node.ctx is not None:
            for a in node.ctx.args[1:]:
                if getattr(a, "_version", None) is self_t._version:
                    a._saved_version -= 1  # an argument aliasing self is saved as it was read
        if self_t._grad_fn is not None and base is not None:
            _copy_slices(base, self_t, old_base_edge)
    return self_t


def _view_positions(base_arr: np.ndarray, view_arr: np.ndarray) -> np.ndarray:
    """For each element of ``view_arr`` (C order), its flat C-order index in ``base_arr``."""
    def offsets(arr):
        off = np.zeros(arr.shape, dtype=np.int64)
        for d, (n, s) in enumerate(zip(arr.shape, arr.strides)):
            shape = [1] * arr.ndim
            shape[d] = n
            off = off + (np.arange(n, dtype=np.int64) * s).reshape(shape)
        return off.ravel()
    start = view_arr.__array_interface__["data"][0] - base_arr.__array_interface__["data"][0]
    boff = offsets(base_arr)
    voff = offsets(view_arr) + start
    order = np.argsort(boff, kind="stable")
    return order[np.searchsorted(boff[order], voff)]


def _copy_slices(base, view, old_base_edge) -> None:
    """After an in-place op recorded on ``view``, give ``base`` a history through it."""
    positions = _view_positions(base._data, view._data)
    vshape = view._data.shape

    def backward(g):
        flat = np.array(g._data, copy=True).reshape(-1)
        to_view = wrap(flat[positions].reshape(vshape))
        flat[positions] = 0
        return (wrap(flat.reshape(g._data.shape)), to_view)

    node = FunctionNode("CopySlices", backward, [old_base_edge, (view._grad_fn, view._output_nr)],
                        [_meta(base), _meta(view)], [_meta(base)])
    base._grad_fn = node
    base._output_nr = 0
    base._requires_grad = True


HANDLER = RuntimeHandler()
registry.install_base_handler(HANDLER)
autograd_ops.install(autograd.backward, autograd.grad)


# ------------------------------------------------------------------ cached resolution

_SIMPLE = (int, float, bool, str, type(None), dtypes.DType)
_cache: dict = {}


def clear_cache() -> None:
    _cache.clear()


def _cacheable(types) -> bool:
    """Resolution depends only on these argument types (no lists, no arbitrary objects)."""
    return all(t in _SIMPLE or getattr(t, "_ts_tensor", False) for t in types)


def _needs_convert(stype) -> bool:
    k = stype.kind
    if k == "optional":
        return _needs_convert(stype.args[0])
    return k in ("float", "int", "list")


def _make_binder(op: OpDef, nargs: int, kwnames: tuple) -> Optional[Callable]:
    params = op.schema.params
    if op.schema.varargs or nargs > len(params) or any(p.kwarg_only for p in params[:nargs]):
        return None
    convs = tuple((i, params[i].type) for i in range(nargs) if _needs_convert(params[i].type))
    tail = params[nargs:]
    if any(isinstance(p.default, list) for p in tail):
        return None
    kwset = set(kwnames)
    if not convs and not kwset:
        defaults = tuple(p.default for p in tail)

        def binder(args, kwargs):
            return args + defaults
        return binder
    tail_spec = tuple((p.name, p.default, p.type if _needs_convert(p.type) else None) for p in tail)

    def binder(args, kwargs):
        out = list(args)
        for i, st in convs:
            out[i] = _convert(st, out[i])
        for name, default, st in tail_spec:
            if name in kwargs:
                v = kwargs[name]
                out.append(_convert(st, v) if st is not None else v)
            else:
                out.append(default)
        return out
    return binder


def resolve_unary(cache: dict, key_name: str, candidates: Callable[[], list], self):
    """``self.name()`` with no other arguments: the overload cached per ``type(self)``."""
    entry = cache.get(type(self))
    if entry is None:
        op, bound = resolve(candidates(), (self,), {}, key_name)
        if not _cacheable((type(self),)) or _make_binder(op, 1, ()) is None:
            return op, tuple(bound)
        entry = cache[type(self)] = (op, tuple(bound[1:]))
    return entry[0], (self,) + entry[1]


def call_cached(key_name: str, candidates: Callable[[], list], args: tuple, kwargs: dict, what: str):
    """Resolve an overload among ``candidates()`` for these values, caching per argument types."""
    types = tuple(map(type, args))
    if kwargs:
        key = (key_name, types, tuple(kwargs), tuple(map(type, kwargs.values())))
    else:
        key = (key_name, types)
    entry = _cache.get(key)
    if entry is not None:
        fast = entry[2]
        if fast is not None and _handlers[-1] is HANDLER:
            out = _run_fast(fast, args)
            if out is not None:
                return out
        return _handlers[-1].process(entry[0], entry[1](args, kwargs))
    op, bound = resolve(candidates(), args, kwargs, what)
    if _cacheable(types) and (not kwargs or _cacheable(key[3])):
        binder = _make_binder(op, len(args), tuple(kwargs))
        if binder is not None:
            fast = None
            if not kwargs:
                fe = _fast_entry(op, types, inplace_ok=True)
                if fe is not None:
                    fast = (fe[0], fe[1], op, _plans[op])
            _cache[key] = (op, binder, fast)
    return _handlers[-1].process(op, tuple(bound))


def _run_fast(fast: tuple, args: tuple):
    """A cached all-positional call on tensors passed by value (recording its autograd node
    directly), or None to take the handler's path."""
    impl, tail, op, plan = fast
    raw = list(args)
    needs_grad = False
    for i in plan.tensor_idx:
        a = raw[i]
        if a is not None:
            if a._saved_version is not None:
                return None
            if a._requires_grad:
                needs_grad = True
            raw[i] = a._data
    if needs_grad and plan.inplace:  # in-place recording checks leaves and views
        return None
    try:
        out = impl(*raw, *tail)
    except Exception:
        # the handler's path runs it again and translates the failure (in-place kernels check
        # shapes and dtypes before they write)
        return None
    if plan.inplace:
        self_t = args[0]
        self_t._version[0] += 1
        return self_t
    first = args[plan.tensor_idx[0]] if plan.tensor_idx else None
    if first is not None and out is first._data:
        return first
    t = wrap(out if type(out) is np.ndarray else np.asarray(out))
    if needs_grad and autograd._grad_enabled and not plan.nondiff:
        _record_by_value(op, plan, args + tail, t)
    return t


# ------------------------------------------------------------------ operator fast paths
#
# Python operators and argument-less methods on plain tensors (no input requiring grad, no
# saved alias, only the runtime handler active) skip the handler: the overload and its
# defaults are resolved once per operand type, and the kernel's array is wrapped directly.
# Anything else, and any kernel failure (re-raised with PyTorch's type), takes the general path.

_handlers = registry._handlers


_IDENTITY = {"int": (int, type(None)), "float": (float, type(None))}


def _converts(stype, value_type) -> bool:
    """Whether ``dispatch._convert`` may change a value of this type for this parameter."""
    if not _needs_convert(stype):
        return False
    if stype.kind == "optional":
        stype = stype.args[0]
    return value_type not in _IDENTITY.get(stype.kind, ())


def _fast_entry(op: OpDef, types: tuple, inplace_ok: bool = False):
    """``(impl, defaults)`` when positional values of these types bind to ``op`` unchanged and
    the op makes one fresh Tensor from tensors passed by value (or, with ``inplace_ok``,
    writes into its first one); else None."""
    plan = _plans.get(op) or _plan(op)
    params = op.schema.params
    nargs = len(types)
    ok = plan.fast or (inplace_ok and plan.inplace and not plan.view and not plan.list_idx
                       and plan.device_idx is None and plan.returns == "T"
                       and plan.rg_idx is None and 0 in plan.tensor_idx)
    if (not ok or op.schema.varargs or nargs > len(params)
            or any(i >= nargs for i in plan.tensor_idx)
            or any(p.kwarg_only or _converts(p.type, t) for p, t in zip(params, types))
            or any(isinstance(p.default, (list, dict)) for p in params[nargs:])):
        return None
    return op.impl, tuple(p.default for p in params[nargs:])


def _learn_binary(fast: dict, candidates: Callable[[], list], a, b) -> None:
    args = (a, b)
    entry = False
    if _cacheable((type(a), type(b))):
        for op in candidates():
            if bind_arguments(op, args, {}) is not None:
                fe = _fast_entry(op, (type(a), type(b)))
                if fe is not None:
                    plan = _plans[op]
                    entry = (fe[0], fe[1], 1 in plan.tensor_idx, op, plan, plan.nondiff)
                break
    fast[type(b)] = entry


def binary_operator(key_name: str, candidates: Callable[[], list]):
    """``self <op> other`` for a Tensor ``self``: NotImplemented when no overload matches."""
    # type(other) -> (impl, defaults, other is a tensor, op, plan, op is nondifferentiable),
    # or False
    fast: dict = {}

    def op(self, other):
        e = fast.get(type(other))
        if e and _handlers[-1] is HANDLER and self._saved_version is None:
            impl, tail, tensor_other, opdef, plan, nondiff = e
            if tensor_other:
                if other._saved_version is not None:
                    return try_call_cached(key_name, candidates, self, other)
                y = other._data
                needs_grad = self._requires_grad or other._requires_grad
            else:
                y = other
                needs_grad = self._requires_grad
            x = self._data
            try:
                out = impl(x, y, *tail)
            except Exception:
                return try_call_cached(key_name, candidates, self, other)
            if out is x:
                return self
            t = wrap(out if type(out) is np.ndarray else np.asarray(out))
            if needs_grad and autograd._grad_enabled and not nondiff:
                _record_by_value(opdef, plan, (self, other, *tail), t)
            return t
        if e is None:
            _learn_binary(fast, candidates, self, other)
        return try_call_cached(key_name, candidates, self, other)
    return op


def _learn_method(fast: dict, candidates: Callable[[], list], what: str, self, other) -> None:
    types = (type(self), type(other))
    entry = False
    if _cacheable(types):
        try:
            op, _ = resolve(candidates(), (self, other), {}, what)
        except Exception:  # the general path raises it with the caller's arguments
            op = None
        fe = _fast_entry(op, types, inplace_ok=True) if op is not None else None
        if fe is not None:
            plan = _plans[op]
            entry = (fe[0], fe[1], 1 in plan.tensor_idx, op, plan, plan.nondiff, plan.inplace)
    fast[types] = entry


def unary_method(key_name: str, what: str, candidates: Callable[[], list]):
    """``self.name(...)``; without arguments or with one positional argument, fast paths that
    skip the handler (and record autograd nodes directly) like :func:`binary_operator`'s."""
    fast: dict = {}  # type(self) -> (impl, defaults, op, plan, op is nondifferentiable) or False
    # (type(self), type(other)) -> (impl, defaults, other is a tensor, op, plan,
    # op is nondifferentiable, op is in-place), or False
    fast_binary: dict = {}

    def method(self, *args, **kwargs):
        if kwargs or len(args) > 1:
            return call_cached(what, candidates, (self,) + args, kwargs, what)
        if args:
            other = args[0]
            e = fast_binary.get((type(self), type(other)))
            if e and _handlers[-1] is HANDLER and self._saved_version is None:
                impl, tail, tensor_other, opdef, plan, nondiff, inplace = e
                if tensor_other:
                    if other._saved_version is not None:
                        return call_cached(what, candidates, (self, other), kwargs, what)
                    y = other._data
                    needs_grad = self._requires_grad or other._requires_grad
                else:
                    y = other
                    needs_grad = self._requires_grad
                if inplace and needs_grad:  # in-place recording checks leaves and views
                    return call_cached(what, candidates, (self, other), kwargs, what)
                x = self._data
                try:
                    out = impl(x, y, *tail)
                except Exception:
                    return call_cached(what, candidates, (self, other), kwargs, what)
                if inplace:
                    self._version[0] += 1
                    return self
                if out is x:
                    return self
                t = wrap(out if type(out) is np.ndarray else np.asarray(out))
                if needs_grad and autograd._grad_enabled and not nondiff:
                    _record_by_value(opdef, plan, (self, other, *tail), t)
                return t
            if e is None:
                _learn_method(fast_binary, candidates, what, self, other)
            return call_cached(what, candidates, (self, other), kwargs, what)
        e = fast.get(type(self))
        if e and _handlers[-1] is HANDLER and self._saved_version is None:
            impl, tail, opdef, plan, nondiff = e
            x = self._data
            try:
                out = impl(x, *tail)
            except Exception:
                out = None
            else:
                if out is x:
                    return self
                t = wrap(out if type(out) is np.ndarray else np.asarray(out))
                if self._requires_grad and autograd._grad_enabled and not nondiff:
                    _record_by_value(opdef, plan, (self, *tail), t)
                return t
        op, bound = resolve_unary(fast_cache, key_name, candidates, self)
        if e is None:
            fe = _fast_entry(op, (type(self),)) if _cacheable((type(self),)) else None
            plan = _plans[op]
            fast[type(self)] = (*fe, op, plan, plan.nondiff) if fe is not None else False
        return _handlers[-1].process(op, bound)

    fast_cache: dict = {}
    return method


def try_call_cached(key_name: str, candidates: Callable[[], list], a, b):
    """An operator ``a <op> b``: like :func:`call_cached`, NotImplemented when nothing matches."""
    entry = _cache.get((key_name, type(a), type(b)))
    if entry is not None:
        return registry._handlers[-1].process(entry[0], entry[1]((a, b), None))
    args = (a, b)
    for op in candidates():
        bound = bind_arguments(op, args, {})
        if bound is not None:
            break
    else:
        return NotImplemented
    if _cacheable((type(a), type(b))):
        binder = _make_binder(op, 2, ())
        if binder is not None:
            _cache[(key_name, type(a), type(b))] = (op, binder)
    return registry._handlers[-1].process(op, tuple(bound))


__all__ = ["RuntimeHandler", "HANDLER", "wrap", "dtype_of", "call_cached", "try_call_cached",
           "binary_operator", "unary_method",
           "clear_cache", "no_match_message"]
