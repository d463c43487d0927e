"""torch.nn.functional: convolution, pooling, embedding, normalization, activations, losses.

Parameter names and defaults follow ``torch.nn.functional`` (keyword calls depend on them);
where the ``torch`` namespace has the same name with a different signature, the functional
form is a separate overload named ``.functional`` and registered in that namespace only.

Composite ops are registered with :func:`composite`: the forward is one readable NumPy
function, and the gradient is a second NumPy function registered as the op
``<name>_backward``, which the gradient rule applies through ``registry.bind``. So every rule
stays on registered ops (it serves the tape, tracing and graph autodiff alike). A backward op
is first-order only unless it carries a rule of its own (conv, pooling and embedding do).
These composites move to the TensorScript standard library later, where they decompose into
primitives.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...kernels import conv as _conv
from ...kernels import load_on_first_use
from ..ir import dtypes
from . import dispatch
from .linalg import check_same_dtype
from .reductions import softmax_f32
from .registry import MUTATES, NONDIFFERENTIABLE, RANDOM, Namespace, bind, get, register
from .schema import parse_schema

# Numba's kernels load on the first call of one of them, not when the registry is imported.
_nnk = load_on_first_use("nn")
_pool = load_on_first_use("pool")

F = (Namespace.FUNCTIONAL,)
TORCH_AND_F = (Namespace.TORCH, Namespace.FUNCTIONAL)


# ------------------------------------------------------------------ composite registration


def composite(
    schema: str, forward: Callable, backward: Callable, *, grad_of_backward=None, **kwargs
):
    """Register ``schema`` with impl ``forward`` and a gradient computed by ``backward``.

    ``backward(grad_output, *args)`` gets the same arguments as ``forward`` and returns one
    array per tensor parameter (None for absent optional tensors). It becomes the op
    ``<name>_backward(Tensor grad_output, <params>) -> (Tensor, ...)``; absent gradients travel
    as empty arrays and come back to the rule as None.
    """
    parsed = parse_schema(schema)
    tensor_params = [
        i
        for i, p in enumerate(parsed.params)
        if p.type.is_tensor or (p.type.kind == "optional" and p.type.args[0].is_tensor)
    ]
    params_text = schema[schema.index("(") + 1 : schema.rindex(") ->")].replace("*, ", "")
    overload = f".{parsed.overload}" if parsed.overload else ""
    bw_name = f"{parsed.name}_backward"
    returns = ", ".join("Tensor" for _ in tensor_params)
    if len(tensor_params) > 1:
        returns = f"({returns})"
    bw_schema = f"{bw_name}{overload}(Tensor grad_output, {params_text}) -> {returns}"

    def bw_impl(g, *args):
        grads = backward(g, *args)
        out = []
        for i, gi in zip(tensor_params, grads):
            if gi is None:
                out.append(np.empty(0, dtype=g.dtype))
                continue
            gi = np.asarray(gi, dtype=args[i].dtype if args[i] is not None else None)
            # broadcast views are read-only, and a leaf's .grad is accumulated in place
            out.append(gi if gi.flags.writeable else gi.copy())
        return tuple(out) if len(out) > 1 else out[0]

    register(bw_schema, impl=bw_impl, grad=grad_of_backward)
    qualified = bw_name + overload

    def rule(ctx, g):
        grads = _apply(qualified, g, *ctx.args)
        if len(tensor_params) == 1:
            grads = (grads,)
        result = [None] * len(parsed.params)
        for i, gi in zip(tensor_params, grads):
            arg = ctx.args[i]
            # integer tensors (class targets, indices) carry a placeholder, never a gradient
            if arg is not None and getattr(getattr(arg, "dtype", None), "is_floating_point", True):
                result[i] = gi
        return tuple(result)

    return register(schema, impl=forward, grad=rule, **kwargs)


def _apply(qualified: str, *args):
    """Apply one specific overload (the rule already knows which) through the handlers."""
    return bind(get(qualified), *args)


# ------------------------------------------------------------------ shared pieces


def _reduction(legacy_size_average, legacy_reduce, reduction: str) -> str:
    """PyTorch's ``_Reduction.legacy_get_string``: the deprecated flags win when given."""
    if legacy_size_average is None and legacy_reduce is None:
        return reduction
    size_average = True if legacy_size_average is None else legacy_size_average
    reduce = True if legacy_reduce is None else legacy_reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}(): {reduction} is not a valid value for reduction")


def _reduce(loss: np.ndarray, reduction: str, dtype) -> np.ndarray:
    if reduction == "none":
        return np.asarray(loss, dtype=dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=dtype)
    return np.asarray(loss.mean() if loss.size else np.nan, dtype=dtype)


def _reduce_grad(g: np.ndarray, reduction: str, shape, count: int) -> np.ndarray:
    """The upstream gradient spread over the elements a reduction consumed."""
    if reduction == "none":
        return np.broadcast_to(g, shape)
    scale = 1.0 / count if reduction == "mean" else 1.0
    return np.broadcast_to(g * scale, shape)


def _float_input(op: str, x: np.ndarray) -> None:
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"{op}(): expected a floating point input, got {dtypes.from_numpy(x.dtype).name}"
        )


def _ntuple(value, n: int, op: str, name: str) -> list:
    value = [value] if isinstance(value, (int, np.integer)) else list(value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(
            f"{op}(): {name} must be a single int or a tuple of {n} ints, got {value}"
        )
    return value


def _is_empty_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.ndim == 1 and a.size == 0


# ------------------------------------------------------------------ convolution


def _conv_setup(op: str, nd: int, x, w, b, stride, padding, dilation, groups):
    """Validate and bring 1-D/2-D, batched/unbatched input to the 4-D kernel layout.

    Returns (x4, w4, stride2, pads2, dilation2, unbatched)."""
    check_same_dtype(op, ("input", x), ("weight", w), ("bias", b))
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}(): expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, "
            f"but got input of size: {list(x.shape)}"
        )
    if w.ndim != nd + 2:
        raise RuntimeError(f"{op}(): weight must be {nd + 2}D, got shape {list(w.shape)}")
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    stride = _ntuple(stride, nd, op, "stride")
    dilation = _ntuple(dilation, nd, op, "dilation")
    if groups <= 0 or w.shape[0] % groups:
        raise RuntimeError(
            f"{op}(): out_channels {w.shape[0]} must be divisible by groups {groups}"
        )
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"{op}(): expected input{list(x.shape)} to have {w.shape[1] * groups} "
            f"channels, but got {x.shape[1]} channels instead (weight of size "
            f"{list(w.shape)}, groups={groups})"
        )
    if b is not None and (b.ndim != 1 or b.shape[0] != w.shape[0]):
        raise RuntimeError(f"{op}(): bias must have shape [{w.shape[0]}], got {list(b.shape)}")
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"{op}(): stride and dilation must be positive, got {stride}, {dilation}"
        )
    kernel = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(
                    f"{op}(): padding='same' is not supported for strided convolutions"
                )
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
        else:
            raise RuntimeError(
                f"{op}(): invalid padding string '{padding}', expected 'valid' or 'same'"
            )
    else:
        pads = [(p, p) for p in _ntuple(padding, nd, op, "padding")]
        if any(p < 0 for p, _ in pads):
            raise RuntimeError(f"{op}(): negative padding is not supported")
    if nd == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
        stride, dilation, pads = [1] + stride, [1] + dilation, [(0, 0)] + pads
    for size, k, p, d in zip(x.shape[2:], w.shape[2:], pads, dilation):
        if size + p[0] + p[1] < d * (k - 1) + 1:
            raise RuntimeError(
                f"{op}(): kernel size can't be greater than actual input size "
                f"(input {list(x.shape)}, weight {list(w.shape)})"
            )
    return x, w, stride, pads, dilation, unbatched


def _conv_forward(nd: int):
    op = f"conv{nd}d"

    def forward(x, w, b, stride, padding, dilation, groups):
        x4, w4, s, pads, d, unbatched = _conv_setup(
            op, nd, x, w, b, stride, padding, dilation, groups
        )
        out = _conv.conv2d_forward(x4, w4, s, pads, d, groups)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        if nd == 1:
            out = out[:, :, 0, :]
        return out[0] if unbatched else out

    def backward(g, x, w, b, stride, padding, dilation, groups):
        x4, w4, s, pads, d, unbatched = _conv_setup(
            op, nd, x, w, b, stride, padding, dilation, groups
        )
        g4 = g[None] if unbatched else g
        if nd == 1:
            g4 = g4[:, :, None, :]
        g4 = np.ascontiguousarray(g4)
        gx = _conv.conv2d_backward_input(g4, w4, x4.shape[2:], s, pads, d, groups)
        gw = _conv.conv2d_backward_weight(g4, x4, w4.shape, s, pads, d, groups)
        gb = None if b is None else g4.sum(axis=(0, 2, 3))
        if nd == 1:
            gx, gw = gx[:, :, 0, :], gw[:, :, 0, :]
        return (gx[0] if unbatched else gx), gw, gb

    return forward, backward


def _conv_double_backward(nd: int):
    """The backward of conv is bilinear in (grad_output, weight) and (grad_output, input):
    gx = B(g, w), gw = W(g, x), gb = sum(g), with <u, B(g, w)> = <conv(u, w), g> and
    <v, W(g, x)> = <conv(x, v), g>. So every second-order term is a conv or a conv backward."""

    def rule(ctx, ux, uw, ub):
        g, x, w, b, *conf = ctx.args
        overload = f"conv{nd}d.padding" if isinstance(conf[1], str) else f"conv{nd}d"
        backward = overload.replace(f"conv{nd}d", f"conv{nd}d_backward")
        live = [u is not None and u.numel() > 0 for u in (ux, uw, ub)]
        gg = None
        if live[0]:
            gg = _apply(overload, ux, w, None, *conf)
        if live[1]:
            term = _apply(overload, x, uw, None, *conf)
            gg = term if gg is None else gg + term
        if live[2] and b is not None:
            term = ub.reshape([1, -1] + [1] * nd)
            gg = term if gg is None else gg + term
        gx = _apply(backward, g, x, uw, None, *conf)[0] if live[1] else None
        gw = _apply(backward, g, ux, w, None, *conf)[1] if live[0] else None
        return gg, gx, gw, None

    return rule


for _nd in (1, 2):
    _fwd, _bwd = _conv_forward(_nd)
    composite(
        f"conv{_nd}d(Tensor input, Tensor weight, Tensor? bias=None, int[{_nd}] stride=1, "
        f"int[{_nd}] padding=0, int[{_nd}] dilation=1, int groups=1) -> Tensor",
        _fwd,
        _bwd,
        grad_of_backward=_conv_double_backward(_nd),
        namespaces=TORCH_AND_F,
        doc="Cross-correlation by im2col + one GEMM per group.",
    )
    composite(
        f"conv{_nd}d.padding(Tensor input, Tensor weight, Tensor? bias=None, int[{_nd}] stride=1, "
        f'str padding="valid", int[{_nd}] dilation=1, int groups=1) -> Tensor',
        _fwd,
        _bwd,
        grad_of_backward=_conv_double_backward(_nd),
        namespaces=TORCH_AND_F,
    )


def _conv_transpose_setup(op, nd, x, w, b, stride, padding, output_padding, groups, dilation):
    """Validate and bring the input to the 4-D kernel layout. The weight is (C_in, C_out/groups,
    *kernel): the layout of the convolution this one is the adjoint of."""
    check_same_dtype(op, ("input", x), ("weight", w), ("bias", b))
    if x.ndim not in (nd + 1, nd + 2) or w.ndim != nd + 2:
        raise RuntimeError(
            f"{op}(): expected {nd + 2}D input and weight, got input {list(x.shape)} and "
            f"weight {list(w.shape)}"
        )
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    if groups <= 0 or x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise RuntimeError(
            f"{op}(): input with {x.shape[1]} channels does not match weight {list(w.shape)} "
            f"with groups={groups}"
        )
    stride = _ntuple(stride, nd, op, "stride")
    padding = _ntuple(padding, nd, op, "padding")
    output_padding = _ntuple(output_padding, nd, op, "output_padding")
    dilation = _ntuple(dilation, nd, op, "dilation")
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}(): output padding must be smaller than either stride or dilation")
    if nd == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
        stride, padding = [1] + stride, [0] + padding
        output_padding, dilation = [0] + output_padding, [1] + dilation
    out_hw = [
        (size - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for size, s, p, d, k, op_ in zip(
            x.shape[2:], stride, padding, dilation, w.shape[2:], output_padding
        )
    ]
    if any(o <= 0 for o in out_hw):
        raise RuntimeError(f"{op}(): the output size {out_hw} is too small")
    pads = [(p, p) for p in padding]
    return x, w, stride, pads, dilation, out_hw, unbatched


def _conv_transpose(nd: int):
    op = f"conv_transpose{nd}d"

    def forward(x, w, b, stride, padding, output_padding, groups, dilation):
        x4, w4, s, pads, d, out_hw, unbatched = _conv_transpose_setup(
            op, nd, x, w, b, stride, padding, output_padding, groups, dilation
        )
        out = _conv.conv2d_backward_input(np.ascontiguousarray(x4), w4, out_hw, s, pads, d, groups)
        out = np.ascontiguousarray(out)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        if nd == 1:
            out = out[:, :, 0, :]
        return out[0] if unbatched else out

    def backward(g, x, w, b, stride, padding, output_padding, groups, dilation):
        x4, w4, s, pads, d, _, unbatched = _conv_transpose_setup(
            op, nd, x, w, b, stride, padding, output_padding, groups, dilation
        )
        g4 = g[None] if unbatched else g
        if nd == 1:
            g4 = g4[:, :, None, :]
        g4 = np.ascontiguousarray(g4)
        gx = _conv.conv2d_forward(g4, w4, s, pads, d, groups)[:, :, : x4.shape[2], : x4.shape[3]]
        gw = _conv.conv2d_backward_weight(
            np.ascontiguousarray(x4), g4, w4.shape, s, pads, d, groups
        )
        gb = None if b is None else g4.sum(axis=(0, 2, 3))
        if nd == 1:
            gx, gw = gx[:, :, 0, :], gw[:, :, 0, :]
        return (gx[0] if unbatched else gx), gw, gb

    return forward, backward


for _nd in (1, 2):
    _fwd, _bwd = _conv_transpose(_nd)
    composite(
        f"conv_transpose{_nd}d(Tensor input, Tensor weight, Tensor? bias=None, "
        f"int[{_nd}] stride=1, int[{_nd}] padding=0, int[{_nd}] output_padding=0, "
        f"int groups=1, int[{_nd}] dilation=1) -> Tensor",
        _fwd,
        _bwd,
        namespaces=TORCH_AND_F,
        doc="The adjoint of conv{nd}d with the same weight (a fractionally strided convolution).",
    )


def _window_args(op, kernel_size, dilation, padding, stride):
    k = _ntuple(kernel_size, 2, op, "kernel_size")
    d = _ntuple(dilation, 2, op, "dilation")
    p = _ntuple(padding, 2, op, "padding")
    s = _ntuple(stride, 2, op, "stride")
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(
            f"{op}(): kernel_size, dilation and stride must be positive and padding "
            f"non-negative, got {k}, {d}, {p}, {s}"
        )
    return k, d, [(v, v) for v in p], s


def _unfold(x, kernel_size, dilation, padding, stride):
    if x.ndim not in (3, 4):
        raise RuntimeError(f"unfold(): expected 3D or 4D input, got {list(x.shape)}")
    k, d, p, s = _window_args("unfold", kernel_size, dilation, padding, stride)
    try:
        out = _conv.unfold(x if x.ndim == 4 else x[None], k, s, p, d)
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    return out if x.ndim == 4 else out[0]


def _fold(x, output_size, kernel_size, dilation, padding, stride):
    if x.ndim not in (2, 3):
        raise RuntimeError(f"fold(): expected 2D or 3D input, got {list(x.shape)}")
    k, d, p, s = _window_args("fold", kernel_size, dilation, padding, stride)
    hw = _ntuple(output_size, 2, "fold", "output_size")
    try:
        out = _conv.fold(np.ascontiguousarray(x if x.ndim == 3 else x[None]), hw, k, s, p, d)
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    return np.ascontiguousarray(out if x.ndim == 3 else out[0])


# unfold and fold are each other's adjoint, so each one's gradient is the other.
register(
    "unfold.functional(Tensor input, int[2] kernel_size, int[2] dilation=1, int[2] padding=0, "
    "int[2] stride=1) -> Tensor",
    impl=_unfold,
    namespaces=F,
    grad=lambda ctx, g: (_apply("fold", g, list(ctx.args[0].shape[-2:]), *ctx.args[1:]),),
)
register(
    "fold(Tensor input, int[2] output_size, int[2] kernel_size, int[2] dilation=1, int[2] "
    "padding=0, "
    "int[2] stride=1) -> Tensor",
    impl=_fold,
    namespaces=F,
    grad=lambda ctx, g: (_apply("unfold.functional", g, *ctx.args[2:]),),
)


# ------------------------------------------------------------------ pooling


def _pool_setup(op: str, nd: int, x, kernel_size, stride, padding, dilation, ceil_mode):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): expected {nd + 1}D or {nd + 2}D input, got {list(x.shape)}")
    k = _ntuple(kernel_size, nd, op, "kernel_size")
    s = _ntuple(stride, nd, op, "stride") if stride is not None and stride != [] else list(k)
    p = _ntuple(padding, nd, op, "padding")
    d = _ntuple(dilation, nd, op, "dilation")
    if any(v <= 0 for v in k + s + d):
        raise RuntimeError(
            f"{op}(): kernel_size, stride and dilation must be greater than zero, got {k}, {s}, {d}"
        )
    if any(pi < 0 or pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(
            f"{op}(): pad should be at most half of effective kernel size, "
            f"but got pad={p} and kernel_size={k}"
        )
    if nd == 1:
        k, s, p, d = [1] + k, [1] + s, [0] + p, [1] + d
    spatial = x.shape[-nd:]
    if nd == 1:
        spatial = (1,) + spatial
    out = [
        _pool.pooled_size(n, ki, si, pi, di, ceil_mode)
        for n, ki, si, pi, di in zip(spatial, k, s, p, d)
    ]
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"{op}(): output size is too small (input {list(x.shape)}, output {out})"
        )
    planes = np.ascontiguousarray(x.reshape((-1,) + tuple(spatial)))
    return planes, k, s, p, d, out


def _max_pool_with_indices(nd: int):
    op = f"max_pool{nd}d"

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        _float_input(op, x)
        planes, k, s, p, d, out = _pool_setup(
            op, nd, x, kernel_size, stride, padding, dilation, ceil_mode
        )
        y = np.empty((planes.shape[0],) + tuple(out), dtype=x.dtype)
        idx = np.empty(y.shape, dtype=np.int64)
        _pool.max_pool2d_kernel(planes, y, idx, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
        shape = x.shape[:-nd] + tuple(out[-nd:])
        return y.reshape(shape), idx.reshape(shape)

    return forward


def _values_only(with_indices: Callable) -> Callable:
    def impl(*args):
        return with_indices(*args)[0]

    return impl


def _max_pool_grad(nd: int):
    def rule(ctx, g):
        x = ctx.args[0]
        with_idx = _apply(f"max_pool{nd}d_with_indices", x, *ctx.args[1:])
        return (_apply(f"max_pool{nd}d_backward", g, with_idx[1], list(x.shape)),)

    return rule


def _max_pool_with_indices_grad(nd: int):
    def rule(ctx, g, _g_indices=None):
        if g is None:
            return (None,)
        return (_apply(f"max_pool{nd}d_backward", g, ctx.out[1], list(ctx.args[0].shape)),)

    return rule


def _max_pool_backward_nd(nd: int):
    def impl(g, indices, input_size):
        shape = tuple(input_size)
        w = shape[-1]
        h = shape[-2] if nd == 2 else 1
        nb = int(np.prod(shape[:-nd], dtype=np.int64))
        gx = np.zeros((nb, h, w), dtype=g.dtype)
        ow = g.shape[-1]
        oh = g.shape[-2] if nd == 2 else 1
        _pool.max_pool2d_backward_kernel(
            np.ascontiguousarray(g).reshape(nb, oh, ow),
            np.ascontiguousarray(indices).reshape(nb, oh, ow),
            gx,
        )
        return gx.reshape(shape)

    return impl


def _max_pool_backward_grad(nd: int):
    def rule(ctx, gg):
        _, indices, _ = ctx.args
        # The adjoint of the scatter is a gather at the same indices.
        flat = gg.flatten(-nd) if nd == 2 else gg
        idx = indices.flatten(-nd) if nd == 2 else indices
        picked = flat.gather(-1, idx)
        return (picked.reshape(list(indices.shape)),)

    return rule


for _nd in (1, 2):
    _args = (
        f"int[{_nd}] kernel_size, int[{_nd}]? stride=None, int[{_nd}] padding=0, "
        f"int[{_nd}] dilation=1, bool ceil_mode=False"
    )
    _mpi = _max_pool_with_indices(_nd)
    register(
        f"max_pool{_nd}d_with_indices(Tensor input, {_args}) -> (Tensor, Tensor)",
        impl=_mpi,
        grad=_max_pool_with_indices_grad(_nd),
        namespaces=F,
    )
    register(
        f"max_pool{_nd}d(Tensor input, {_args}) -> Tensor",
        impl=_values_only(_mpi),
        grad=_max_pool_grad(_nd),
        namespaces=TORCH_AND_F,
        doc="Max over each window; a NaN in a window wins.",
    )
    register(
        f"max_pool{_nd}d_backward(Tensor grad_output, Tensor indices, int[] input_size) -> Tensor",
        impl=_max_pool_backward_nd(_nd),
        grad=_max_pool_backward_grad(_nd),
    )


def _avg_pool(nd: int):
    op = f"avg_pool{nd}d"

    def forward(
        x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None
    ):
        _float_input(op, x)
        planes, k, s, p, _, out = _pool_setup(
            op, nd, x, kernel_size, stride, padding, [1], ceil_mode
        )
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError(f"{op}(): divisor must be not zero")
        y = np.empty((planes.shape[0],) + tuple(out), dtype=x.dtype)
        _pool.avg_pool2d_kernel(
            planes,
            y,
            k[0],
            k[1],
            s[0],
            s[1],
            p[0],
            p[1],
            bool(count_include_pad),
            int(divisor_override or 0),
        )
        return y.reshape(x.shape[:-nd] + tuple(out[-nd:]))

    def backward(
        g, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None
    ):
        planes, k, s, p, _, out = _pool_setup(
            op, nd, x, kernel_size, stride, padding, [1], ceil_mode
        )
        gx = np.zeros(planes.shape, dtype=x.dtype)
        gy = np.ascontiguousarray(g, dtype=x.dtype).reshape((planes.shape[0],) + tuple(out))
        _pool.avg_pool2d_backward_kernel(
            gy,
            gx,
            k[0],
            k[1],
            s[0],
            s[1],
            p[0],
            p[1],
            bool(count_include_pad),
            int(divisor_override or 0),
        )
        return (gx.reshape(x.shape),)

    return forward, backward


def _avg_pool_backward_grad(nd: int):
    def rule(ctx, gg):
        # avg pooling is linear: the gradient of its backward is the pooling itself.
        return (_apply(f"avg_pool{nd}d", gg, *ctx.args[2:]),)

    return rule


_fwd, _bwd = _avg_pool(2)
composite(
    "avg_pool2d(Tensor input, int[2] kernel_size, int[2]? stride=None, int[2] padding=0, "
    "bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) -> Tensor",
    _fwd,
    _bwd,
    grad_of_backward=_avg_pool_backward_grad(2),
    namespaces=TORCH_AND_F,
)
_fwd, _bwd = _avg_pool(1)
composite(
    "avg_pool1d(Tensor input, int[1] kernel_size, int[1]? stride=None, int[1] padding=0, "
    "bool ceil_mode=False, bool count_include_pad=True) -> Tensor",
    _fwd,
    _bwd,
    grad_of_backward=_avg_pool_backward_grad(1),
    namespaces=TORCH_AND_F,
)


def _adaptive_setup(op: str, nd: int, x, output_size):
    if x.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in x.shape[-nd:]):
        raise RuntimeError(
            f"{op}(): expected {nd + 1}D or {nd + 2}D input with non-zero spatial "
            f"sizes, got {list(x.shape)}"
        )
    out = _ntuple(output_size, nd, op, "output_size")
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}(): output_size must be non-negative, got {out}")
    spatial = tuple(x.shape[-nd:])
    if nd == 1:
        spatial, out = (1,) + spatial, [1] + out
    hs, he = _pool.adaptive_bounds(spatial[0], out[0])
    ws, we = _pool.adaptive_bounds(spatial[1], out[1])
    return spatial, out, (hs, he, ws, we)


def _adaptive_avg_pool(nd: int):
    op = f"adaptive_avg_pool{nd}d"

    def forward(x, output_size):
        _float_input(op, x)
        spatial, out, bounds = _adaptive_setup(op, nd, x, output_size)
        planes = np.ascontiguousarray(x).reshape((-1,) + spatial)
        y = np.empty((planes.shape[0],) + tuple(out), dtype=x.dtype)
        _pool.adaptive_avg_pool2d_kernel(planes, y, *bounds)
        return y.reshape(x.shape[:-nd] + tuple(out[-nd:]))

    def backward(g, x, output_size):
        spatial, out, bounds = _adaptive_setup(op, nd, x, output_size)
        gx = np.zeros((int(np.prod(x.shape[:-nd], dtype=np.int64)),) + spatial, dtype=x.dtype)
        gy = np.ascontiguousarray(g, dtype=x.dtype).reshape((gx.shape[0],) + tuple(out))
        _pool.adaptive_avg_pool2d_backward_kernel(gy, gx, *bounds)
        return (gx.reshape(x.shape),)

    return forward, backward


def _adaptive_avg_pool_backward_grad(nd: int):
    def rule(ctx, gg):
        # linear in grad_output: the gradient of the backward is the pooling itself
        return (_apply(f"adaptive_avg_pool{nd}d", gg, ctx.args[2]),)

    return rule


for _nd in (1, 2):
    _fwd, _bwd = _adaptive_avg_pool(_nd)
    composite(
        f"adaptive_avg_pool{_nd}d(Tensor input, int[{_nd}] output_size) -> Tensor",
        _fwd,
        _bwd,
        grad_of_backward=_adaptive_avg_pool_backward_grad(_nd),
        namespaces=TORCH_AND_F,
    )


def _adaptive_max_pool_with_indices(nd: int):
    op = f"adaptive_max_pool{nd}d"

    def forward(x, output_size):
        _float_input(op, x)
        spatial, out, bounds = _adaptive_setup(op, nd, x, output_size)
        planes = np.ascontiguousarray(x).reshape((-1,) + spatial)
        y = np.empty((planes.shape[0],) + tuple(out), dtype=x.dtype)
        idx = np.empty(y.shape, dtype=np.int64)
        _pool.adaptive_max_pool2d_kernel(planes, y, idx, *bounds)
        shape = x.shape[:-nd] + tuple(out[-nd:])
        return y.reshape(shape), idx.reshape(shape)

    return forward


def _adaptive_max_pool_grad(nd: int, with_indices: bool):
    def rule(ctx, g, _g_indices=None):
        if g is None:
            return (None,)
        x = ctx.args[0]
        if with_indices:
            indices = ctx.out[1]
        else:
            indices = _apply(f"adaptive_max_pool{nd}d_with_indices", x, ctx.args[1])[1]
        # the same scatter as max pooling: indices are flat positions in each plane
        return (_apply(f"max_pool{nd}d_backward", g, indices, list(x.shape)), None)

    return rule


for _nd in (1, 2):
    _ampi = _adaptive_max_pool_with_indices(_nd)
    register(
        f"adaptive_max_pool{_nd}d_with_indices(Tensor input, int[{_nd}] output_size) "
        "-> (Tensor, Tensor)",
        impl=_ampi,
        grad=_adaptive_max_pool_grad(_nd, True),
        namespaces=F,
    )
    register(
        f"adaptive_max_pool{_nd}d(Tensor input, int[{_nd}] output_size) -> Tensor",
        impl=_values_only(_ampi),
        grad=_adaptive_max_pool_grad(_nd, False),
        namespaces=TORCH_AND_F,
    )


# ------------------------------------------------------------------ embedding


def _check_indices(op: str, indices: np.ndarray, num: int) -> None:
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}(): expected indices to be an integer tensor (Long or Int), "
            f"got {dtypes.from_numpy(indices.dtype).name}"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices[(indices < 0) | (indices >= num)].flat[0]
        raise IndexError(f"{op}(): index {bad} is out of range for a weight with {num} rows")


def _embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    if weight.ndim != 2:
        raise RuntimeError(f"embedding(): weight must be 2-D, got shape {list(weight.shape)}")
    _check_indices("embedding", indices, weight.shape[0])
    return weight[indices]


def _embedding_dense_backward(g, indices, num_weights, padding_idx, scale_grad_by_freq):
    d = g.shape[-1]
    flat = np.ascontiguousarray(indices, dtype=np.int64).reshape(-1)
    gy = np.ascontiguousarray(g).reshape(-1, d)
    if scale_grad_by_freq:
        counts = np.bincount(flat, minlength=num_weights)
        gy = gy / counts[flat][:, None].astype(gy.dtype)
    gw = np.zeros((num_weights, d), dtype=g.dtype)
    _nnk.embedding_backward_kernel(gy, flat, padding_idx, gw)
    return gw


def _embedding_grad(ctx, g):
    weight, indices, padding_idx, scale_grad_by_freq, _ = ctx.args
    n = weight.shape[0]
    pad = padding_idx if padding_idx >= 0 else -1
    return _apply("embedding_dense_backward", g, indices, n, pad, scale_grad_by_freq), None


def _embedding_backward_grad(ctx, gg):
    _, indices, _, padding_idx, scale = ctx.args
    if scale:
        raise NotImplementedError("double backward of embedding with scale_grad_by_freq")
    out = _apply("embedding", gg, indices, -1, False, False)
    if padding_idx >= 0:
        out = out * (indices != padding_idx).unsqueeze(-1)
    return (out,)


register(
    "embedding(Tensor weight, Tensor indices, int padding_idx=-1, bool scale_grad_by_freq=False, "
    "bool sparse=False) -> Tensor",
    impl=_embedding,
    grad=_embedding_grad,
    namespaces=(Namespace.TORCH,),
)
register(
    "embedding_dense_backward(Tensor grad_output, Tensor indices, int num_weights, int "
    "padding_idx, "
    "bool scale_grad_by_freq) -> Tensor",
    impl=_embedding_dense_backward,
    grad=_embedding_backward_grad,
)


def _embedding_f(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse):
    pad = _padding_idx(weight, padding_idx)
    if max_norm is not None:
        _check_indices("embedding", input, weight.shape[0])
        _embedding_renorm(weight, input, max_norm, norm_type)
    return _embedding(weight, input, pad, scale_grad_by_freq, sparse)


def _padding_idx(weight, padding_idx) -> int:
    if padding_idx is None:
        return -1
    n = weight.shape[0]
    if not -n <= padding_idx < n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + n if padding_idx < 0 else padding_idx


def _embedding_renorm(weight, indices, max_norm, norm_type) -> None:
    """PyTorch rescales, in place, the rows looked up whose norm exceeds ``max_norm``."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    weight[rows] *= scale[:, None].astype(weight.dtype)


def _embedding_f_grad(ctx, g):
    input, weight, padding_idx, _, _, scale_grad_by_freq, _ = ctx.args
    pad = -1 if padding_idx is None else (padding_idx % weight.shape[0])
    return None, _apply(
        "embedding_dense_backward", g, input, weight.shape[0], pad, scale_grad_by_freq
    )


register(
    "embedding.functional(Tensor input, Tensor weight, int? padding_idx=None, float? "
    "max_norm=None, "
    "float norm_type=2., bool scale_grad_by_freq=False, bool sparse=False) -> Tensor",
    impl=_embedding_f,
    grad=_embedding_f_grad,
    namespaces=F,
    doc="weight[input]; out-of-range indices raise IndexError; padding_idx rows get no gradient.",
)


# ------------------------------------------------------------------ dropout


def _uniform(shape: tuple) -> np.ndarray:
    """Uniform [0, 1) numbers from the project's seeded generator (the ``rand`` op's kernel)."""
    for op in dispatch.overloads("rand"):
        bound = dispatch.bind_arguments(op, (list(shape),), {"dtype": dtypes.float64})
        if bound is not None:
            return np.asarray(op.impl(*bound))
    return np.random.default_rng().random(shape)


def _dropout_forward(x, p, training):
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x.copy()
    if p == 1:
        return np.zeros_like(x)
    keep = _uniform(x.shape) >= p
    return (x * keep / (1.0 - p)).astype(x.dtype)


def _dropout_grad(p_index: int, training_index: int):
    def rule(ctx, g):
        p, training = ctx.args[p_index], ctx.args[training_index]
        if not training or p == 0:
            return (g,)
        if p == 1:
            return (g * 0.0,)
        # The kept positions are where the output is non-zero; an exact zero input that was
        # kept also gets zero gradient here.
        return (g * (ctx.out != 0) * (1.0 / (1.0 - p)),)

    return rule


register(
    "dropout(Tensor input, float p, bool train) -> Tensor",
    impl=_dropout_forward,
    grad=_dropout_grad(1, 2),
    tags={RANDOM},
    namespaces=(Namespace.TORCH,),
)
register(
    "dropout.functional(Tensor input, float p=0.5, bool training=True, bool inplace=False) -> "
    "Tensor",
    impl=lambda x, p, training, inplace: _dropout_forward(x, p, training),
    grad=_dropout_grad(1, 2),
    tags={RANDOM},
    namespaces=F,
)


def _feature_dropout(nd: int):
    """dropout{nd}d: whole channels are zeroed, one draw per (batch, channel)."""
    op = f"dropout{nd}d"

    def forward(x, p, training, inplace):
        if x.ndim not in (nd + 1, nd + 2):
            raise RuntimeError(
                f"{op}(): expected {nd + 1}D or {nd + 2}D input, got {list(x.shape)}"
            )
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if not training or p == 0:
            return x.copy()
        if p == 1:
            return np.zeros_like(x)
        channels = x.shape[: x.ndim - nd]
        keep = _uniform(channels) >= p
        return (x * keep.reshape(channels + (1,) * nd) / (1.0 - p)).astype(x.dtype)

    return forward


for _nd in (1, 2, 3):
    register(
        f"dropout{_nd}d(Tensor input, float p=0.5, bool training=True, bool inplace=False) "
        "-> Tensor",
        impl=_feature_dropout(_nd),
        grad=_dropout_grad(1, 2),
        tags={RANDOM},
        namespaces=F,
    )


# ------------------------------------------------------------------ activations


def _activation(schema: str, forward: Callable, derivative: Callable, namespaces=F, **kwargs):
    """An elementwise activation: ``derivative(x, *params)`` is dy/dx, in NumPy."""

    def backward(g, x, *params):
        return (g * derivative(x, *params),)

    return composite(schema, forward, backward, namespaces=namespaces, **kwargs)


def _leaky_relu(x, slope, inplace=False):
    return np.where(x > 0, x, x * np.asarray(slope, dtype=x.dtype)).astype(x.dtype)


_activation(
    "leaky_relu(Tensor input, float negative_slope=0.01, bool inplace=False) -> Tensor",
    _leaky_relu,
    lambda x, slope, inplace=False: np.where(x > 0, 1.0, slope),
)


def _elu(x, alpha, inplace=False):
    a = np.asarray(alpha, dtype=x.dtype)
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))).astype(x.dtype)


_activation(
    "elu(Tensor input, float alpha=1.0, bool inplace=False) -> Tensor",
    _elu,
    lambda x, alpha, inplace=False: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))),
)

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_activation(
    "selu(Tensor input, bool inplace=False) -> Tensor",
    lambda x, inplace=False: (_SELU_SCALE * _elu(x, _SELU_ALPHA)).astype(x.dtype),
    lambda x, inplace=False: (
        _SELU_SCALE * np.where(x > 0, 1.0, _SELU_ALPHA * np.exp(np.minimum(x, 0)))
    ),
)
_activation(
    "celu(Tensor input, float alpha=1.0, bool inplace=False) -> Tensor",
    lambda x, alpha, inplace=False: np.where(
        x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha)
    ).astype(x.dtype),
    lambda x, alpha, inplace=False: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0) / alpha)),
)


def _hardtanh(x, lo, hi, inplace=False):
    if lo > hi:
        raise ValueError("hardtanh(): min_val cannot be greater than max_val")
    return np.clip(x, x.dtype.type(lo), x.dtype.type(hi))


# PyTorch passes the gradient only strictly inside (min_val, max_val).
_activation(
    "hardtanh(Tensor input, float min_val=-1., float max_val=1., bool inplace=False) -> Tensor",
    _hardtanh,
    lambda x, lo, hi, inplace=False: (x > lo) & (x < hi),
)
_activation(
    "relu6(Tensor input, bool inplace=False) -> Tensor",
    lambda x, inplace=False: _hardtanh(x, 0.0, 6.0),
    lambda x, inplace=False: (x > 0) & (x < 6),
)
_activation(
    "hardsigmoid(Tensor input, bool inplace=False) -> Tensor",
    lambda x, inplace=False: (np.clip(x, -3, 3) / 6 + 0.5).astype(x.dtype),
    lambda x, inplace=False: np.where((x > -3) & (x < 3), 1.0 / 6, 0.0),
)
_activation(
    "hardswish(Tensor input, bool inplace=False) -> Tensor",
    lambda x, inplace=False: (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype),
    lambda x, inplace=False: np.where(x < -3, 0.0, np.where(x <= 3, x / 3 + 0.5, 1.0)),
)


def _logsigmoid(x):
    return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype)


def _sigmoid(x):
    return np.where(
        x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))
    )


_activation("logsigmoid(Tensor input) -> Tensor", _logsigmoid, lambda x: _sigmoid(-x))
_activation(
    "softsign(Tensor input) -> Tensor",
    lambda x: (x / (1 + np.abs(x))).astype(x.dtype),
    lambda x: 1 / (1 + np.abs(x)) ** 2,
)
_activation(
    "tanhshrink(Tensor input) -> Tensor",
    lambda x: (x - np.tanh(x)).astype(x.dtype),
    lambda x: np.tanh(x) ** 2,
)


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


_activation(
    "mish(Tensor input, bool inplace=False) -> Tensor",
    lambda x, inplace=False: (x * np.tanh(_softplus(x))).astype(x.dtype),
    lambda x, inplace=False: (
        np.tanh(_softplus(x)) + x * _sigmoid(x) * (1 - np.tanh(_softplus(x)) ** 2)
    ),
)
_activation(
    "threshold(Tensor input, float threshold, float value, bool inplace=False) -> Tensor",
    lambda x, th, value, inplace=False: np.where(x > th, x, x.dtype.type(value)),
    lambda x, th, value, inplace=False: x > th,
)


def _glu_halves(x, dim):
    d = _softmax_dim(x.ndim, dim) if x.ndim else None
    if d is None or x.shape[d] % 2:
        raise RuntimeError(
            f"glu(): halving dimension must be even, but dimension {dim} of input "
            f"{list(x.shape)} is not"
        )
    a, b = np.split(x, 2, axis=d)
    return a, b, d


def _glu(x, dim):
    a, b, _ = _glu_halves(x, dim)
    return (a * _sigmoid(b)).astype(x.dtype)


def _glu_backward(g, x, dim):
    a, b, d = _glu_halves(x, dim)
    sb = _sigmoid(b)
    return (np.concatenate([g * sb, g * a * sb * (1 - sb)], axis=d),)


composite("glu(Tensor input, int dim=-1) -> Tensor", _glu, _glu_backward, namespaces=TORCH_AND_F)


def _prelu_weight(x, weight):
    if weight.ndim > 1 or (weight.size != 1 and (x.ndim < 2 or weight.size != x.shape[1])):
        raise RuntimeError(
            f"prelu(): mismatch of parameter numbers and input channel size: weight "
            f"{list(weight.shape)}, input {list(x.shape)}"
        )
    if weight.size == 1:
        return weight.reshape(())
    return weight.reshape((-1,) + (1,) * (x.ndim - 2))


def _prelu(x, weight):
    check_same_dtype("prelu", ("input", x), ("weight", weight))
    return np.where(x > 0, x, _prelu_weight(x, weight) * x).astype(x.dtype)


def _prelu_backward(g, x, weight):
    w = _prelu_weight(x, weight)
    gx = g * np.where(x > 0, 1, w)
    contrib = np.where(x > 0, 0, g * x)
    if weight.size == 1:
        gw = np.asarray(contrib.sum()).reshape(weight.shape)
    else:
        gw = contrib.sum(axis=tuple(i for i in range(x.ndim) if i != 1)).reshape(weight.shape)
    return gx, gw


composite(
    "prelu(Tensor input, Tensor weight) -> Tensor", _prelu, _prelu_backward, namespaces=TORCH_AND_F
)


# ------------------------------------------------------------------ softmax family


def _softmax_dim(ndim: int, dim: int | None) -> int:
    """``torch.nn.functional._get_softmax_dim`` for the implicit-dim legacy form."""
    if dim is None:
        dim = 0 if ndim in (0, 1, 3) else 1
    if ndim == 0:
        if dim not in (0, -1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})"
            )
        return 0
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got "
            f"{dim})"
        )
    return dim % ndim


def _softmax_np(x, dim, log=False):
    if x.ndim == 0:
        return np.zeros_like(x) if log else np.ones_like(x)
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    z = x - m
    lse = np.log(np.sum(np.exp(z), axis=dim, keepdims=True))
    return (z - lse) if log else np.exp(z - lse)


def _softmin(x, dim, _stacklevel, dtype):
    if dtype is not None:
        x = x.astype(dtype.np)
    _float_input("softmin", x)
    return _softmax_np(-x, _softmax_dim(x.ndim, dim)).astype(x.dtype)


def _softmin_backward(g, x, dim, _stacklevel, dtype):
    y = _softmin(x, dim, _stacklevel, dtype)
    d = _softmax_dim(x.ndim, dim)
    if x.ndim == 0:
        return (np.zeros_like(x),)
    return (-(y * (g - np.sum(g * y, axis=d, keepdims=True))),)


composite(
    "softmin(Tensor input, int? dim=None, int _stacklevel=3, ScalarType? dtype=None) -> Tensor",
    _softmin,
    _softmin_backward,
    namespaces=F,
)


def _softmax_functional(log: bool):
    def forward(x, dim, _stacklevel, dtype):
        if dtype is not None:
            x = x.astype(dtype.np)
        _float_input("log_softmax" if log else "softmax", x)
        d = _softmax_dim(x.ndim, dim)
        if x.dtype == np.float32 and x.ndim and x.size:
            return softmax_f32(x, d, log)
        return _softmax_np(x, d, log).astype(x.dtype)

    def backward(g, x, dim, _stacklevel, dtype):
        y = forward(x, dim, _stacklevel, dtype)
        if x.ndim == 0:
            return (np.zeros_like(x),)
        d = _softmax_dim(x.ndim, dim)
        if log:
            return (g - np.exp(y) * np.sum(g, axis=d, keepdims=True),)
        return (y * (g - np.sum(g * y, axis=d, keepdims=True)),)

    return forward, backward


# F.softmax(x) with the implicit dim: the torch-namespace softmax entries require ``dim``.
for _name, _log in (("softmax", False), ("log_softmax", True)):
    _fwd, _bwd = _softmax_functional(_log)
    composite(
        f"{_name}.implicit_dim(Tensor input, int? dim=None, int _stacklevel=3, "
        f"ScalarType? dtype=None) -> Tensor",
        _fwd,
        _bwd,
        namespaces=F,
    )


# ------------------------------------------------------------------ normalization


def _normalized_rows(op: str, x, normalized_shape, weight, bias):
    normalized_shape = list(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or list(x.shape[x.ndim - k :]) != normalized_shape or x.ndim < k:
        raise RuntimeError(
            f"{op}(): given normalized_shape={normalized_shape}, expected input with "
            f"shape [*, {', '.join(map(str, normalized_shape))}], but got input of "
            f"size {list(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and list(t.shape) != normalized_shape:
            raise RuntimeError(
                f"{op}(): expected {name} of shape {normalized_shape}, got {list(t.shape)}"
            )
    n = int(np.prod(normalized_shape, dtype=np.int64))
    rows = np.ascontiguousarray(x).reshape(-1, n)
    w = _nnk.empty_vector(x.dtype) if weight is None else np.ascontiguousarray(weight).reshape(n)
    b = _nnk.empty_vector(x.dtype) if bias is None else np.ascontiguousarray(bias).reshape(n)
    return rows, w, b


def _layer_norm(x, normalized_shape, weight, bias, eps, cudnn_enable=True):
    _float_input("layer_norm", x)
    check_same_dtype("layer_norm", ("input", x), ("weight", weight), ("bias", bias))
    rows, w, b = _normalized_rows("layer_norm", x, normalized_shape, weight, bias)
    out = np.empty_like(rows)
    mean = np.empty(rows.shape[0], dtype=np.float64)
    rstd = np.empty(rows.shape[0], dtype=np.float64)
    if rows.size:
        _nnk.layer_norm_rows(rows, w, b, eps, out, mean, rstd)
    return out.reshape(x.shape)


def _layer_norm_backward(g, x, normalized_shape, weight, bias, eps, cudnn_enable=True):
    rows, w, b = _normalized_rows("layer_norm", x, normalized_shape, weight, bias)
    out = np.empty_like(rows)
    mean = np.empty(rows.shape[0], dtype=np.float64)
    rstd = np.empty(rows.shape[0], dtype=np.float64)
    gx = np.empty_like(rows)
    gw = np.zeros(rows.shape[1], dtype=np.float64)
    gb = np.zeros(rows.shape[1], dtype=np.float64)
    if rows.size:
        _nnk.layer_norm_rows(rows, w, b, eps, out, mean, rstd)
        gy = np.ascontiguousarray(g, dtype=x.dtype).reshape(rows.shape)
        _nnk.layer_norm_backward_rows(gy, rows, w, mean, rstd, gx, gw, gb)
    shape = list(normalized_shape)
    return (
        gx.reshape(x.shape),
        None if weight is None else gw.reshape(shape),
        None if bias is None else gb.reshape(shape),
    )


composite(
    "layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? bias=None, "
    "float eps=1e-05, bool cudnn_enable=True) -> Tensor",
    _layer_norm,
    _layer_norm_backward,
    namespaces=TORCH_AND_F,
    doc="Normalize over the trailing normalized_shape dims, one pass per row.",
)


def _channel_shape(x) -> tuple:
    return (1, -1) + (1,) * (x.ndim - 2)


def _batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    _float_input("batch_norm", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm(): expected 2D or more input, got {list(x.shape)}")
    c = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.size != c:
            raise RuntimeError(f"batch_norm(): {name} should contain {c} elements not {t.size}")
    axes = (0,) + tuple(range(2, x.ndim))
    xd = x.astype(np.float64)
    if training:
        count = x.size // c if c else 0
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{list(x.shape)}"
            )
        mean = xd.mean(axis=axes)
        var = xd.var(axis=axes)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += (momentum * mean).astype(running_mean.dtype)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * var * count / (count - 1)).astype(running_var.dtype)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError(
                "batch_norm(): running_mean and running_var must be defined in evaluation mode"
            )
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    shape = _channel_shape(x)
    y = (xd - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y.astype(x.dtype)


def _batch_norm_backward(g, x, running_mean, running_var, weight, bias, training, momentum, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = _channel_shape(x)
    xd = x.astype(np.float64)
    gd = np.asarray(g, dtype=np.float64)
    if training:
        mean, var = xd.mean(axis=axes), xd.var(axis=axes)
    else:
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (xd - mean.reshape(shape)) * rstd.reshape(shape)
    w = np.ones(x.shape[1]) if weight is None else weight.astype(np.float64)
    gxhat = gd * w.reshape(shape)
    if training:
        gx = rstd.reshape(shape) * (
            gxhat
            - gxhat.mean(axis=axes, keepdims=True)
            - xhat * (gxhat * xhat).mean(axis=axes, keepdims=True)
        )
    else:
        gx = gxhat * rstd.reshape(shape)
    gw = None if weight is None else (gd * xhat).sum(axis=axes)
    gb = None if bias is None else gd.sum(axis=axes)
    return gx, None, None, gw, gb


composite(
    "batch_norm.functional(Tensor input, Tensor? running_mean, Tensor? running_var, "
    "Tensor? weight=None, Tensor? bias=None, bool training=False, float momentum=0.1, "
    "float eps=1e-05) -> Tensor",
    _batch_norm,
    _batch_norm_backward,
    namespaces=F,
    tags={MUTATES},
    doc="In training mode running_mean/var are updated in place (unbiased var).",
)


def _batch_norm_torch(
    x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled
):
    return _batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm_torch_backward(
    g, x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled
):
    gx, _, _, gw, gb = _batch_norm_backward(
        g, x, running_mean, running_var, weight, bias, training, momentum, eps
    )
    return gx, gw, gb, None, None


# torch.batch_norm orders the parameters differently from F.batch_norm.
composite(
    "batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, Tensor? "
    "running_var, "
    "bool training, float momentum, float eps, bool cudnn_enabled) -> Tensor",
    _batch_norm_torch,
    _batch_norm_torch_backward,
    namespaces=(Namespace.TORCH,),
    tags={MUTATES},
)


def _group_rows(op, x, num_groups):
    if x.ndim < 2 or num_groups <= 0 or x.shape[1] % num_groups:
        raise RuntimeError(
            f"{op}(): expected the number of channels of input {list(x.shape)} to be "
            f"divisible by num_groups={num_groups}"
        )
    return np.ascontiguousarray(x).reshape(x.shape[0] * num_groups, -1)


def _group_norm(x, num_groups, weight, bias, eps):
    _float_input("group_norm", x)
    rows = _group_rows("group_norm", x, num_groups)
    out = np.empty_like(rows)
    mean = np.empty(rows.shape[0])
    rstd = np.empty(rows.shape[0])
    empty = _nnk.empty_vector(x.dtype)
    if rows.size:
        _nnk.layer_norm_rows(rows, empty, empty, eps, out, mean, rstd)
    y = out.reshape(x.shape)
    shape = _channel_shape(x)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y.astype(x.dtype)


def _group_norm_backward(g, x, num_groups, weight, bias, eps):
    rows = _group_rows("group_norm", x, num_groups)
    out = np.empty_like(rows)
    mean = np.empty(rows.shape[0])
    rstd = np.empty(rows.shape[0])
    empty = _nnk.empty_vector(x.dtype)
    gx = np.empty_like(rows)
    if rows.size:
        _nnk.layer_norm_rows(rows, empty, empty, eps, out, mean, rstd)
    xhat = out.reshape(x.shape)
    shape = _channel_shape(x)
    gxhat = g if weight is None else g * weight.reshape(shape)
    if rows.size:
        scratch = np.zeros(rows.shape[1])
        _nnk.layer_norm_backward_rows(
            np.ascontiguousarray(gxhat, dtype=x.dtype).reshape(rows.shape),
            rows,
            empty,
            mean,
            rstd,
            gx,
            scratch,
            scratch.copy(),
        )
    axes = (0,) + tuple(range(2, x.ndim))
    gw = None if weight is None else (g * xhat).sum(axis=axes, dtype=np.float64)
    gb = None if bias is None else g.sum(axis=axes, dtype=np.float64)
    return gx.reshape(x.shape), gw, gb


composite(
    "group_norm(Tensor input, int num_groups, Tensor? weight=None, Tensor? bias=None, "
    "float eps=1e-05) -> Tensor",
    _group_norm,
    _group_norm_backward,
    namespaces=F,
)


def _instance_norm(x, running_mean, running_var, weight, bias, use_input_stats, momentum, eps):
    if not use_input_stats:
        return _batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    if running_mean is not None or running_var is not None:
        axes = tuple(range(2, x.ndim))
        count = int(np.prod(x.shape[2:], dtype=np.int64))
        xd = x.astype(np.float64)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += (momentum * xd.mean(axis=axes).mean(axis=0)).astype(running_mean.dtype)
        if running_var is not None:
            unbiased = xd.var(axis=axes) * count / max(count - 1, 1)
            running_var *= 1 - momentum
            running_var += (momentum * unbiased.mean(axis=0)).astype(running_var.dtype)
    return _group_norm(x, x.shape[1], weight, bias, eps)


def _instance_norm_backward(
    g, x, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
):
    if not use_input_stats:
        return _batch_norm_backward(
            g, x, running_mean, running_var, weight, bias, False, momentum, eps
        )
    gx, gw, gb = _group_norm_backward(g, x, x.shape[1], weight, bias, eps)
    return gx, None, None, gw, gb


composite(
    "instance_norm(Tensor input, Tensor? running_mean=None, Tensor? running_var=None, "
    "Tensor? weight=None, Tensor? bias=None, bool use_input_stats=True, float momentum=0.1, "
    "float eps=1e-05) -> Tensor",
    _instance_norm,
    _instance_norm_backward,
    namespaces=F,
    tags={MUTATES},
)


def _lp_norm(x, p, axis):
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    if p == math.inf:
        return np.max(np.abs(x), axis=axis, keepdims=True)
    if p == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=True)
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=True) ** (1.0 / p)


def _lp_norm_derivative(x, p, norm):
    """d||x||_p / dx (0 where the norm is 0)."""
    safe = np.where(norm == 0, 1, norm)
    if p == 2:
        d = x / safe
    elif p == 1:
        d = np.sign(x)
    elif p == math.inf:
        d = np.sign(x) * (np.abs(x) == norm)
        d = d / np.maximum(np.sum(np.abs(d), axis=-1, keepdims=True), 1)
    else:
        d = np.sign(x) * np.abs(x) ** (p - 1) / safe ** (p - 1)
    return np.where(norm == 0, 0, d)


def _normalize(x, p, dim, eps):
    _float_input("normalize", x)
    d = _softmax_dim(x.ndim, dim) if x.ndim else 0
    xd = x.reshape(1) if x.ndim == 0 else x
    n = np.maximum(_lp_norm(xd, p, d), eps)
    return (xd / n).reshape(x.shape).astype(x.dtype)


def _normalize_backward(g, x, p, dim, eps):
    d = _softmax_dim(x.ndim, dim) if x.ndim else 0
    xd = np.moveaxis(x.reshape(1) if x.ndim == 0 else x, d, -1).astype(np.float64)
    gd = (
        np.moveaxis(np.reshape(g, xd.shape if x.ndim == 0 else x.shape), d, -1)
        if x.ndim
        else np.reshape(g, (1,))
    )
    raw = _lp_norm(xd, p, -1)
    n = np.maximum(raw, eps)
    dn = np.where(raw > eps, _lp_norm_derivative(xd, p, raw), 0)
    gx = gd / n - np.sum(gd * xd, axis=-1, keepdims=True) / n**2 * dn
    return (np.moveaxis(gx, -1, d).reshape(x.shape) if x.ndim else gx.reshape(()),)


composite(
    "normalize(Tensor input, float p=2., int dim=1, float eps=1e-12) -> Tensor",
    _normalize,
    _normalize_backward,
    namespaces=F,
    doc="x / max(||x||_p, eps) along dim.",
)


def _broadcast_pair(op, a, b):
    try:
        return np.broadcast_arrays(a, b)
    except ValueError:
        raise RuntimeError(
            f"{op}(): the shapes {list(a.shape)} and {list(b.shape)} are not broadcastable"
        ) from None


def _cosine_parts(x1, x2, dim, eps):
    a, b = _broadcast_pair("cosine_similarity", x1.astype(np.float64), x2.astype(np.float64))
    nd = a.ndim
    d = _softmax_dim(max(nd, 1), dim)
    if nd == 0:
        a, b = a.reshape(1), b.reshape(1)
    a, b = np.moveaxis(a, d, -1), np.moveaxis(b, d, -1)
    r1, r2 = _lp_norm(a, 2, -1), _lp_norm(b, 2, -1)
    return a, b, r1, r2, np.maximum(r1, eps), np.maximum(r2, eps)


def _cosine_similarity(x1, x2, dim, eps):
    check_same_dtype("cosine_similarity", ("x1", x1), ("x2", x2))
    _float_input("cosine_similarity", x1)
    a, b, _, _, n1, n2 = _cosine_parts(x1, x2, dim, eps)
    return np.sum((a / n1) * (b / n2), axis=-1).astype(x1.dtype)


def _cosine_similarity_backward(g, x1, x2, dim, eps):
    a, b, r1, r2, n1, n2 = _cosine_parts(x1, x2, dim, eps)
    u, v = a / n1, b / n2
    gk = np.asarray(g, dtype=np.float64)[..., None]
    cos = np.sum(u * v, axis=-1, keepdims=True)
    g1 = gk * (v - np.where(r1 > eps, u * cos, 0)) / n1
    g2 = gk * (u - np.where(r2 > eps, v * cos, 0)) / n2
    nd = max(np.broadcast_shapes(x1.shape, x2.shape).__len__(), 1)
    d = _softmax_dim(nd, dim)
    g1, g2 = np.moveaxis(g1, -1, d), np.moveaxis(g2, -1, d)
    return _sum_to(g1, x1.shape), _sum_to(g2, x2.shape)


def _sum_to(a: np.ndarray, shape) -> np.ndarray:
    shape = tuple(shape)
    if not shape:
        return np.asarray(a.sum())
    lead = a.ndim - len(shape)
    if lead:
        a = a.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and a.shape[i] != 1)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return a.reshape(shape)


composite(
    "cosine_similarity(Tensor x1, Tensor x2, int dim=1, float eps=1e-08) -> Tensor",
    _cosine_similarity,
    _cosine_similarity_backward,
    namespaces=TORCH_AND_F,
)


def _pairwise_distance(x1, x2, p, eps, keepdim):
    check_same_dtype("pairwise_distance", ("x1", x1), ("x2", x2))
    a, b = _broadcast_pair("pairwise_distance", x1, x2)
    diff = (a.astype(np.float64) - b) + eps
    if diff.ndim == 0:
        diff = diff.reshape(1)
    out = _lp_norm(diff, p, -1)
    return (out if keepdim else out[..., 0]).astype(x1.dtype)


def _pairwise_distance_backward(g, x1, x2, p, eps, keepdim):
    a, b = _broadcast_pair("pairwise_distance", x1, x2)
    diff = (a.astype(np.float64) - b) + eps
    scalar = diff.ndim == 0
    if scalar:
        diff = diff.reshape(1)
    norm = _lp_norm(diff, p, -1)
    gk = np.asarray(g, dtype=np.float64)
    gk = gk if keepdim else gk[..., None]
    gd = gk * _lp_norm_derivative(diff, p, norm)
    if scalar:
        gd = gd.reshape(())
    return _sum_to(gd, x1.shape), _sum_to(-gd, x2.shape)


composite(
    "pairwise_distance(Tensor x1, Tensor x2, float p=2., float eps=1e-06, bool keepdim=False) -> "
    "Tensor",
    _pairwise_distance,
    _pairwise_distance_backward,
    namespaces=TORCH_AND_F,
)


# ------------------------------------------------------------------ classification losses


def _class_layout(op: str, x, target, prob_target: bool):
    """(N*, C) rows of the input and the matching flat targets, for input (C), (N, C) or
    (N, C, d1, ...)."""
    if x.ndim == 0:
        raise RuntimeError(f"{op}(): input must have at least one dimension")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    rows = x.reshape(1, c) if x.ndim == 1 else np.moveaxis(x, 1, -1).reshape(-1, c)
    if prob_target:
        if target.shape != x.shape:
            raise RuntimeError(
                f"{op}(): expected target of shape {list(x.shape)} for probability "
                f"targets, got {list(target.shape)}"
            )
        t = target.reshape(1, c) if x.ndim == 1 else np.moveaxis(target, 1, -1).reshape(-1, c)
    else:
        expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
        if target.shape != expected:
            raise RuntimeError(
                f"{op}(): expected target of size {list(expected)}, got "
                f"{list(target.shape)} (input {list(x.shape)})"
            )
        t = target.reshape(-1)
    return rows, t, c


def _restore_layout(per_row: np.ndarray, x) -> np.ndarray:
    if x.ndim == 1:
        return per_row.reshape(())
    return per_row.reshape((x.shape[0],) + x.shape[2:])


def _restore_class_layout(rows: np.ndarray, x) -> np.ndarray:
    if x.ndim == 1:
        return rows.reshape(x.shape)
    moved = rows.reshape((x.shape[0],) + x.shape[2:] + (x.shape[1],))
    return np.moveaxis(moved, -1, 1)


def _class_weights(op, target, c, weight, ignore_index):
    """(per-row target weight, mask of rows that count, safe class index per row)."""
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}(): expected target to be a Long tensor of class indices, got "
            f"{dtypes.from_numpy(target.dtype).name}"
        )
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= c))
    if bad.any():
        raise IndexError(f"{op}(): Target {target[bad].flat[0]} is out of bounds.")
    safe = np.where(valid, target, 0)
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != c):
        raise RuntimeError(
            f"{op}(): weight tensor should be defined either for all {c} classes "
            f"or no classes but got weight tensor of shape: {list(weight.shape)}"
        )
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    return np.where(valid, w[safe], 0.0), valid, safe


def _target_distribution(op, x, target, weight, ignore_index, label_smoothing):
    """The per-row weighted target distribution q (loss_i = -sum_c q_ic log p_ic), the mean
    denominator, and the per-row layout. Handles class-index and probability targets."""
    prob = target.dtype.kind == "f"
    rows, t, c = _class_layout(op, x, target, prob)
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    eps = label_smoothing
    if prob:
        check_same_dtype(op, ("input", x), ("target", target))
        q = (t.astype(np.float64) * (1 - eps) + eps / c) * w
        denom = float(rows.shape[0])
    else:
        wt, valid, safe = _class_weights(op, t, c, weight, ignore_index)
        q = np.zeros(rows.shape)
        q[np.arange(len(t)), safe] = (1 - eps) * wt
        if eps:
            q += np.where(valid[:, None], eps / c * w[None, :], 0.0)
        denom = float(wt.sum())
    return rows, q, denom, prob


def _logsumexp_rows(rows: np.ndarray) -> np.ndarray:
    """log(sum(exp(row))) per row, in float64. The exponentials and their (pairwise) sum stay
    in the input's dtype, as PyTorch's; a float64 accumulator would cost a conversion pass."""
    if rows.shape[1] == 0:
        return np.full(rows.shape[0], -np.inf)
    m = rows.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    z = rows - m
    np.exp(z, out=z)
    return np.log(z.sum(axis=1).astype(np.float64)) + m[:, 0]


def _cross_entropy(
    x, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing
):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    _float_input("cross_entropy", x)
    check_same_dtype("cross_entropy", ("input", x), ("weight", weight))
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(
            f"cross_entropy(): label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    if target.dtype.kind == "f":
        rows, q, denom, _ = _target_distribution(
            "cross_entropy", x, target, weight, ignore_index, label_smoothing
        )
        logp = _softmax_np(rows.astype(np.float64), 1, log=True)
        per_row = -np.sum(np.where(q != 0, q * logp, 0.0), axis=1)
    else:
        # Class indices: -log p[t] = lse - x[t], and sum_c w_c log p_c = x . w - lse * sum(w),
        # so no (N, C) temporary beyond the exponentials.
        rows, t, c = _class_layout("cross_entropy", x, target, False)
        wt, valid, safe = _class_weights("cross_entropy", t, c, weight, ignore_index)
        lse = _logsumexp_rows(rows)
        per_row = wt * (lse - rows[np.arange(len(t)), safe])
        if label_smoothing:
            w = np.ones(c) if weight is None else weight.astype(np.float64)
            smooth = np.where(valid, lse * w.sum() - rows @ w.astype(rows.dtype), 0.0)
            per_row = (1 - label_smoothing) * per_row + label_smoothing / c * smooth
        denom = float(wt.sum())
    if reduction == "none":
        return _restore_layout(per_row, x).astype(x.dtype)
    if reduction == "sum":
        return np.asarray(per_row.sum(), dtype=x.dtype)
    return np.asarray(per_row.sum() / denom if denom else np.nan, dtype=x.dtype)


def _cross_entropy_backward(
    g, x, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing
):
    """d loss_i / d x_i = softmax(x_i) * sum(q_i) - q_i for the weighted target distribution
    q (see :func:`_target_distribution`), times the reduction's scale."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.dtype.kind == "f":
        rows, q, denom, _ = _target_distribution(
            "cross_entropy", x, target, weight, ignore_index, label_smoothing
        )
        logp = _softmax_np(rows.astype(np.float64), 1, log=True)
        scale = np.reshape(_ce_scale(g, reduction, denom), (-1, 1))
        gx = scale * (np.exp(logp) * q.sum(axis=1, keepdims=True) - q)
        w = np.ones(rows.shape[1]) if weight is None else weight.astype(np.float64)
        gt = _restore_class_layout(-scale * (1 - label_smoothing) * w * logp, x)
        return _restore_class_layout(gx, x), gt, None
    # Class indices: q is one weighted spike plus the smoothing floor, so it is never built.
    rows, t, c = _class_layout("cross_entropy", x, target, False)
    wt, valid, safe = _class_weights("cross_entropy", t, c, weight, ignore_index)
    scale = _ce_scale(g, reduction, float(wt.sum()))
    eps = label_smoothing
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    row_scale = scale * ((1 - eps) * wt + np.where(valid, eps / c * w.sum(), 0.0))
    gx = np.exp(rows - _logsumexp_rows(rows)[:, None].astype(rows.dtype))
    gx *= np.reshape(row_scale, (-1, 1)).astype(rows.dtype)
    gx[np.arange(len(t)), safe] -= (scale * (1 - eps) * wt).astype(rows.dtype)
    if eps:
        gx -= (np.reshape(scale * valid, (-1, 1)) * (eps / c) * w).astype(rows.dtype)
    return _restore_class_layout(gx, x), None, None


def _ce_scale(g, reduction: str, denom: float):
    """The upstream gradient per row: the 'none' gradient itself, else a scalar."""
    if reduction == "none":
        return np.asarray(g, dtype=np.float64).reshape(-1)
    if reduction == "mean":
        return float(g) / denom if denom else 0.0
    return float(g)


composite(
    "cross_entropy(Tensor input, Tensor target, Tensor? weight=None, bool? size_average=None, "
    'int ignore_index=-100, bool? reduce=None, str reduction="mean", float label_smoothing=0.0) -> '
    "Tensor",
    _cross_entropy,
    _cross_entropy_backward,
    namespaces=F,
    doc="log_softmax + nll_loss; class-index or probability targets, label smoothing.",
)


def _nll_loss(x, target, weight, size_average, ignore_index, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    check_same_dtype("nll_loss", ("input", x), ("weight", weight))
    rows, t, c = _class_layout("nll_loss", x, target, False)
    wt, _, safe = _class_weights("nll_loss", t, c, weight, ignore_index)
    per_row = -wt * rows[np.arange(len(t)), safe].astype(np.float64)
    if reduction == "none":
        return _restore_layout(per_row, x).astype(x.dtype)
    if reduction == "sum":
        return np.asarray(per_row.sum(), dtype=x.dtype)
    denom = wt.sum()
    return np.asarray(per_row.sum() / denom if denom else np.nan, dtype=x.dtype)


def _nll_loss_backward(g, x, target, weight, size_average, ignore_index, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    rows, t, c = _class_layout("nll_loss", x, target, False)
    wt, _, safe = _class_weights("nll_loss", t, c, weight, ignore_index)
    if reduction == "none":
        scale = np.asarray(g, dtype=np.float64).reshape(-1)
    else:
        denom = wt.sum() if reduction == "mean" else 1.0
        scale = float(g) / denom if denom else 0.0
    gx = np.zeros(rows.shape)
    gx[np.arange(len(t)), safe] = -wt * scale
    return _restore_class_layout(gx, x), None, None


composite(
    "nll_loss(Tensor input, Tensor target, Tensor? weight=None, bool? size_average=None, "
    'int ignore_index=-100, bool? reduce=None, str reduction="mean") -> Tensor',
    _nll_loss,
    _nll_loss_backward,
    namespaces=F,
)


# ------------------------------------------------------------------ elementwise losses


def _pointwise_loss(
    name: str, value: Callable, derivative: Callable, extra_params: str = "", legacy: bool = True
):
    """A loss that is an elementwise function of (input, target), then reduced.

    ``value(x, t, *params)`` is the elementwise loss, ``derivative(x, t, *params)`` its
    (d/dx, d/dt), both in the inputs' dtype as PyTorch computes them: a float32 loss over
    float64 copies of its inputs cost a large layer's training step more than its own work.
    The gradient is the op ``<name>_backward(grad_output, input, target, input_grad,
    target_grad, ...)``, which makes only the gradients its flags ask for (a target that does
    not require grad costs nothing); the others come back as empty placeholders."""
    legacy_params = "bool? size_average=None, bool? reduce=None, " if legacy else ""
    params = f'{legacy_params}str reduction="mean"{extra_params}'

    def split(args):
        if legacy:
            size_average, reduce, reduction, *extra = args
            return _reduction(size_average, reduce, reduction), extra
        reduction, *extra = args
        return reduction, extra

    def operands(x, t):
        dtype = np.result_type(x.dtype, t.dtype)
        a, b = _broadcast_pair(name, x.astype(dtype, copy=False), t.astype(dtype, copy=False))
        return a, b, dtype

    def forward(x, t, *args):
        reduction, extra = split(args)
        _check_reduction(name, reduction)
        _float_input(name, x)
        a, b, dtype = operands(x, t)
        return _reduce_elementwise(value(a, b, *extra), reduction, dtype)

    def backward(g, x, t, input_grad, target_grad, *args):
        reduction, extra = split(args)
        a, b, dtype = operands(x, t)
        scale = _reduce_grad(np.asarray(g, dtype=dtype), reduction, a.shape, a.size)
        dx, dt = derivative(a, b, *extra)
        gx = _gradient_in(scale * dx, x) if input_grad else np.empty(0, dtype)
        gt = _gradient_in(scale * dt, t) if target_grad else np.empty(0, dtype)
        return gx, gt

    backward_op = register(
        f"{name}_backward(Tensor grad_output, Tensor input, Tensor target, bool input_grad, "
        f"bool target_grad, {params}) -> (Tensor, Tensor)",
        impl=backward,
    )

    def rule(ctx, g):
        t = ctx.args[1]
        # which inputs want a gradient; a ctx that does not say wants both
        flags = getattr(ctx, "needs_input_grad", None)
        want_x = flags is None or bool(flags[0])
        want_t = (flags is None or bool(flags[1])) and t.dtype.is_floating_point
        gx, gt = bind(backward_op, g, ctx.args[0], t, want_x, want_t, *ctx.args[2:])
        unused = (None,) * (len(ctx.args) - 2)
        return ((gx if want_x else None), (gt if want_t else None)) + unused

    return register(
        f"{name}(Tensor input, Tensor target, {params}) -> Tensor",
        impl=forward,
        grad=rule,
        namespaces=F,
    )


def _reduce_elementwise(loss: np.ndarray, reduction: str, dtype) -> np.ndarray:
    """:func:`_reduce` for a fresh loss array: the same pairwise sum and division in the
    loss's dtype as ``ndarray.mean``, without its bookkeeping, which costs more than a small
    loss."""
    if reduction == "none":
        return np.asarray(loss, dtype=dtype)
    total = np.add.reduce(loss, axis=None)
    if reduction == "mean":
        total = total / loss.size if loss.size else np.nan
    return np.asarray(total, dtype=dtype)


def _gradient_in(g: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``g`` summed to ``like``'s shape and cast to its dtype; a gradient already in that
    shape stays the array it is (not a view), so it can become a ``.grad`` without a copy."""
    if g.shape != like.shape:
        g = _sum_to(g, like.shape)
    return g.astype(like.dtype, copy=False)


def _squared_difference(x, t):
    d = x - t
    return np.multiply(d, d, out=d)


def _squared_difference_d(x, t):
    dx = x - t
    dx *= 2
    return dx, -dx


_pointwise_loss("mse_loss", _squared_difference, _squared_difference_d)
_pointwise_loss(
    "l1_loss", lambda x, t: np.abs(x - t), lambda x, t: (np.sign(x - t), -np.sign(x - t))
)


def _smooth_l1(x, t, beta):
    d = np.abs(x - t)
    if beta == 0:
        return d
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _smooth_l1_d(x, t, beta):
    d = x - t
    dx = np.sign(d) if beta == 0 else np.where(np.abs(d) < beta, d / beta, np.sign(d))
    return dx, -dx


_pointwise_loss("smooth_l1_loss", _smooth_l1, _smooth_l1_d, ", float beta=1.0")


def _huber(x, t, delta):
    d = np.abs(x - t)
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _huber_d(x, t, delta):
    d = x - t
    dx = np.where(np.abs(d) < delta, d, delta * np.sign(d))
    return dx, -dx


_pointwise_loss("huber_loss", _huber, _huber_d, ", float delta=1.0", legacy=False)


_pointwise_loss(
    "soft_margin_loss",
    lambda x, y: np.logaddexp(0.0, -y * x),
    lambda x, y: (-y * _sigmoid(-y * x), -x * _sigmoid(-y * x)),
)


def _poisson_nll(x, t, log_input, full, size_average, eps, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("poisson_nll_loss", reduction)
    xd, td = _broadcast_pair("poisson_nll_loss", x.astype(np.float64), t.astype(np.float64))
    loss = np.exp(xd) - td * xd if log_input else xd - td * np.log(xd + eps)
    if full:
        # Stirling's term, only where target > 1 as in PyTorch
        safe = np.where(td > 1, td, 2.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe)
        loss = loss + np.where(td > 1, stirling, 0.0)
    return _reduce(loss, reduction, x.dtype)


def _poisson_nll_backward(g, x, t, log_input, full, size_average, eps, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    xd, td = _broadcast_pair("poisson_nll_loss", x.astype(np.float64), t.astype(np.float64))
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, xd.shape, xd.size)
    if log_input:
        dx, dt = np.exp(xd) - td, -xd
    else:
        dx, dt = 1 - td / (xd + eps), -np.log(xd + eps)
    if full:
        safe = np.where(td > 1, td, 2.0)
        dt = dt + np.where(td > 1, np.log(safe) + 0.5 / safe, 0.0)
    return _sum_to(gs * dx, x.shape), _sum_to(gs * dt, t.shape)


composite(
    "poisson_nll_loss(Tensor input, Tensor target, bool log_input=True, bool full=False, "
    'bool? size_average=None, float eps=1e-08, bool? reduce=None, str reduction="mean") -> Tensor',
    _poisson_nll,
    _poisson_nll_backward,
    namespaces=F,
)


def _margin_ranking(x1, x2, y, margin, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("margin_ranking_loss", reduction)
    a, b, t = np.broadcast_arrays(
        x1.astype(np.float64), x2.astype(np.float64), y.astype(np.float64)
    )
    return _reduce(np.maximum(0.0, -t * (a - b) + margin), reduction, x1.dtype)


def _margin_ranking_backward(g, x1, x2, y, margin, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    a, b, t = np.broadcast_arrays(
        x1.astype(np.float64), x2.astype(np.float64), y.astype(np.float64)
    )
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, a.shape, a.size)
    active = (-t * (a - b) + margin) > 0
    ga = np.where(active, -t, 0.0) * gs
    gy = np.where(active, -(a - b), 0.0) * gs
    return _sum_to(ga, x1.shape), _sum_to(-ga, x2.shape), _sum_to(gy, y.shape)


composite(
    "margin_ranking_loss(Tensor input1, Tensor input2, Tensor target, float margin=0., "
    'bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor',
    _margin_ranking,
    _margin_ranking_backward,
    namespaces=F,
)


def _hinge_embedding(x, t, margin, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("hinge_embedding_loss", reduction)
    a, b = _broadcast_pair("hinge_embedding_loss", x.astype(np.float64), t.astype(np.float64))
    loss = np.where(b != -1, a, 0.0) + np.where(b != 1, np.maximum(margin - a, 0.0), 0.0)
    return _reduce(loss, reduction, x.dtype)


def _hinge_embedding_backward(g, x, t, margin, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    a, b = _broadcast_pair("hinge_embedding_loss", x.astype(np.float64), t.astype(np.float64))
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, a.shape, a.size)
    dx = np.where(b != -1, 1.0, 0.0) - np.where((b != 1) & (margin - a > 0), 1.0, 0.0)
    return _sum_to(gs * dx, x.shape), None


composite(
    "hinge_embedding_loss(Tensor input, Tensor target, float margin=1.0, bool? size_average=None, "
    'bool? reduce=None, str reduction="mean") -> Tensor',
    _hinge_embedding,
    _hinge_embedding_backward,
    namespaces=F,
)


def _cosine_embedding_parts(x1, x2):
    """PyTorch's cosine for this loss: sum(x1 x2) / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12))."""
    if x1.shape != x2.shape or x1.ndim not in (1, 2):
        raise RuntimeError(
            f"cosine_embedding_loss(): expected 1D or 2D inputs of one shape, got "
            f"{list(x1.shape)} and {list(x2.shape)}"
        )
    a, b = x1.astype(np.float64), x2.astype(np.float64)
    dot = np.sum(a * b, axis=-1)
    m1, m2 = np.sum(a * a, axis=-1) + 1e-12, np.sum(b * b, axis=-1) + 1e-12
    return a, b, dot, m1, m2, dot / np.sqrt(m1 * m2)


def _cosine_embedding(x1, x2, t, margin, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("cosine_embedding_loss", reduction)
    _, _, _, _, _, cos = _cosine_embedding_parts(x1, x2)
    loss = np.where(t == 1, 1 - cos, 0.0) + np.where(t == -1, np.maximum(cos - margin, 0.0), 0.0)
    return _reduce(loss, reduction, x1.dtype)


def _cosine_embedding_backward(g, x1, x2, t, margin, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    a, b, dot, m1, m2, cos = _cosine_embedding_parts(x1, x2)
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, cos.shape, cos.size)
    dcos = np.where(t == 1, -1.0, 0.0) + np.where((t == -1) & (cos - margin > 0), 1.0, 0.0)
    k = (gs * dcos)[..., None]
    denom = np.sqrt(m1 * m2)[..., None]
    g1 = k * (b / denom - (dot / (m1 * np.sqrt(m1 * m2)))[..., None] * a)
    g2 = k * (a / denom - (dot / (m2 * np.sqrt(m1 * m2)))[..., None] * b)
    return g1, g2, None


composite(
    "cosine_embedding_loss(Tensor input1, Tensor input2, Tensor target, float margin=0., "
    'bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor',
    _cosine_embedding,
    _cosine_embedding_backward,
    namespaces=F,
)


def _triplet_parts(anchor, positive, negative, margin, p, eps, swap):
    d_ap = _pairwise_distance(anchor, positive, p, eps, False).astype(np.float64)
    d_an = _pairwise_distance(anchor, negative, p, eps, False).astype(np.float64)
    use_pn = np.zeros(d_an.shape, dtype=bool)
    if swap:
        d_pn = _pairwise_distance(positive, negative, p, eps, False).astype(np.float64)
        use_pn = d_pn < d_an
        d_an = np.where(use_pn, d_pn, d_an)
    return d_ap, d_an, use_pn, d_ap - d_an + margin


def _triplet_margin(
    anchor, positive, negative, margin, p, eps, swap, size_average, reduce, reduction
):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("triplet_margin_loss", reduction)
    *_, raw = _triplet_parts(anchor, positive, negative, margin, p, eps, swap)
    return _reduce(np.maximum(raw, 0.0), reduction, anchor.dtype)


def _triplet_margin_backward(
    g, anchor, positive, negative, margin, p, eps, swap, size_average, reduce, reduction
):
    reduction = _reduction(size_average, reduce, reduction)
    _, _, use_pn, raw = _triplet_parts(anchor, positive, negative, margin, p, eps, swap)
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, raw.shape, raw.size)
    k = np.where(raw > 0, gs, 0.0)
    ga_p, gp_a = _pairwise_distance_backward(k, anchor, positive, p, eps, False)
    ga_n, gn_a = _pairwise_distance_backward(
        np.where(use_pn, 0.0, -k), anchor, negative, p, eps, False
    )
    gp_n, gn_p = _pairwise_distance_backward(
        np.where(use_pn, -k, 0.0), positive, negative, p, eps, False
    )
    return ga_p + ga_n, gp_a + gp_n, gn_a + gn_p


composite(
    "triplet_margin_loss(Tensor anchor, Tensor positive, Tensor negative, float margin=1.0, "
    "float p=2., float eps=1e-06, bool swap=False, bool? size_average=None, bool? reduce=None, "
    'str reduction="mean") -> Tensor',
    _triplet_margin,
    _triplet_margin_backward,
    namespaces=F,
)


def _kl_div_value(x, t, log_target):
    if log_target:
        return np.exp(t) * (t - x)
    return np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0.0) - t * x


def _kl_div_d(x, t, log_target):
    if log_target:
        return -np.exp(t), np.exp(t) * (t - x + 1)
    return -t, np.where(t > 0, np.log(np.where(t > 0, t, 1)) + 1, 0.0) - x


def _kl_div(x, t, size_average, reduce, reduction, log_target):
    reduction = _reduction(size_average, reduce, reduction)
    _float_input("kl_div", x)
    a, b = _broadcast_pair("kl_div", x.astype(np.float64), t.astype(np.float64))
    loss = _kl_div_value(a, b, log_target)
    if reduction == "batchmean":
        return np.asarray(loss.sum() / (a.shape[0] if a.ndim else 1), dtype=x.dtype)
    _check_reduction("kl_div", reduction)
    return _reduce(loss, reduction, x.dtype)


def _kl_div_backward(g, x, t, size_average, reduce, reduction, log_target):
    reduction = _reduction(size_average, reduce, reduction)
    a, b = _broadcast_pair("kl_div", x.astype(np.float64), t.astype(np.float64))
    if reduction == "batchmean":
        gs = np.broadcast_to(float(g) / (a.shape[0] if a.ndim else 1), a.shape)
    else:
        gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, a.shape, a.size)
    dx, dt = _kl_div_d(a, b, log_target)
    return _sum_to(gs * dx, x.shape), _sum_to(gs * dt, t.shape)


composite(
    "kl_div(Tensor input, Tensor target, bool? size_average=None, bool? reduce=None, "
    'str reduction="mean", bool log_target=False) -> Tensor',
    _kl_div,
    _kl_div_backward,
    namespaces=F,
)


def _bce_parts(x, t, weight):
    if x.shape != t.shape:
        raise ValueError(
            f"Using a target size ({list(t.shape)}) that is different to the input size "
            f"({list(x.shape)}) is deprecated. Please ensure they have the same size."
        )
    xd, td = x.astype(np.float64), t.astype(np.float64)
    if np.any((xd < 0) | (xd > 1)):
        raise RuntimeError(
            "binary_cross_entropy(): all elements of input should be between 0 and 1"
        )
    w = 1.0 if weight is None else np.broadcast_to(weight.astype(np.float64), x.shape)
    return xd, td, w


def _binary_cross_entropy(x, t, weight, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    _float_input("binary_cross_entropy", x)
    xd, td, w = _bce_parts(x, t, weight)
    with np.errstate(divide="ignore"):
        # PyTorch clamps each log at -100 so that 0 * log(0) stays finite.
        log_x = np.maximum(np.log(xd), -100.0)
        log_1mx = np.maximum(np.log1p(-xd), -100.0)
    loss = -w * (td * log_x + (1 - td) * log_1mx)
    return _reduce(loss, reduction, x.dtype)


def _binary_cross_entropy_backward(g, x, t, weight, size_average, reduce, reduction):
    reduction = _reduction(size_average, reduce, reduction)
    xd, td, w = _bce_parts(x, t, weight)
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, x.shape, x.size)
    gx = gs * w * (xd - td) / np.maximum((1 - xd) * xd, 1e-12)
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(xd), -100.0)
        log_1mx = np.maximum(np.log1p(-xd), -100.0)
    gt = gs * w * (log_1mx - log_x)
    gw = None if weight is None else _sum_to(-gs * (td * log_x + (1 - td) * log_1mx), weight.shape)
    return gx, gt, gw


composite(
    "binary_cross_entropy(Tensor input, Tensor target, Tensor? weight=None, bool? "
    "size_average=None, "
    'bool? reduce=None, str reduction="mean") -> Tensor',
    _binary_cross_entropy,
    _binary_cross_entropy_backward,
    namespaces=F,
)


def _bce_logits_parts(x, t, weight, pos_weight):
    if x.shape != t.shape:
        raise ValueError(
            f"Target size ({list(t.shape)}) must be the same as input size ({list(x.shape)})"
        )
    xd, td = x.astype(np.float64), t.astype(np.float64)
    sp_neg = np.maximum(-xd, 0) + np.log1p(np.exp(-np.abs(xd)))  # softplus(-x), stable
    pw = None if pos_weight is None else np.broadcast_to(pos_weight.astype(np.float64), x.shape)
    lw = 1.0 if pw is None else (pw - 1) * td + 1
    w = 1.0 if weight is None else np.broadcast_to(weight.astype(np.float64), x.shape)
    return xd, td, sp_neg, pw, lw, w


def _bce_with_logits(x, t, weight, size_average, reduce, reduction, pos_weight):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _float_input("binary_cross_entropy_with_logits", x)
    xd, td, sp_neg, _, lw, w = _bce_logits_parts(x, t, weight, pos_weight)
    loss = w * ((1 - td) * xd + lw * sp_neg)
    return _reduce(loss, reduction, x.dtype)


def _bce_with_logits_backward(g, x, t, weight, size_average, reduce, reduction, pos_weight):
    reduction = _reduction(size_average, reduce, reduction)
    xd, td, sp_neg, pw, lw, w = _bce_logits_parts(x, t, weight, pos_weight)
    gs = _reduce_grad(np.asarray(g, dtype=np.float64), reduction, x.shape, x.size)
    sig_neg = _sigmoid(-xd)
    gx = gs * w * ((1 - td) - lw * sig_neg)
    gt = gs * w * (-xd + (0.0 if pw is None else (pw - 1) * sp_neg))
    gw = None if weight is None else _sum_to(gs * ((1 - td) * xd + lw * sp_neg), weight.shape)
    gpw = None if pos_weight is None else _sum_to(gs * w * td * sp_neg, pos_weight.shape)
    return gx, gt, gw, gpw


composite(
    "binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight=None, "
    'bool? size_average=None, bool? reduce=None, str reduction="mean", Tensor? pos_weight=None) -> '
    "Tensor",
    _bce_with_logits,
    _bce_with_logits_backward,
    namespaces=F,
)


# ------------------------------------------------------------------ one_hot, pad


def _one_hot(t, num_classes):
    if t.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if t.size and t.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max()) + 1
    elif t.size and t.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(t.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, t[..., None], 1, axis=-1)
    return out


register(
    "one_hot(Tensor tensor, int num_classes=-1) -> Tensor",
    impl=_one_hot,
    tags={NONDIFFERENTIABLE},
    namespaces=F,
)


def _pad_source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded axis, the source position (-1: the fill value)."""
    pos = np.arange(-before, n + after)
    if mode == "constant":
        return np.where((pos >= 0) & (pos < n), pos, -1)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":
        return pos % n
    if mode == "reflect":
        period = 2 * (n - 1)
        m = np.abs(pos) % period if period else np.zeros_like(pos)
        return np.where(m < n, m, period - m)
    raise NotImplementedError(f"pad(): unsupported padding mode '{mode}'")


def _pad_plan(x, pad, mode):
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(
            f"pad(): padding length must be divisible by 2 and at most twice the "
            f"input's {x.ndim} dims, got {len(pad)}"
        )
    plan = []
    for i in range(len(pad) // 2):
        axis = x.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        n = x.shape[axis]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(
                f"pad(): padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension {axis} "
                f"of input {list(x.shape)}"
            )
        if mode != "constant" and (n == 0 or before < 0 and mode == "reflect"):
            raise RuntimeError(f"pad(): {mode} padding needs a non-empty dimension {axis}")
        if n + before + after < 0:
            raise RuntimeError(f"pad(): the padded size of dimension {axis} would be negative")
        plan.append((axis, _pad_source_index(n, before, after, mode)))
    return plan


def _pad(x, pad, mode, value):
    if mode != "constant" and value not in (None, 0):
        raise RuntimeError(f'pad(): padding mode "{mode}" doesn\'t take in value argument')
    out = x
    for axis, src in _pad_plan(x, pad, mode):
        out = (
            np.take(out, np.maximum(src, 0), axis=axis)
            if out.shape[axis]
            else np.zeros(out.shape[:axis] + (len(src),) + out.shape[axis + 1 :], dtype=x.dtype)
        )
        if mode == "constant":
            fill = [slice(None)] * out.ndim
            fill[axis] = src < 0
            out[tuple(fill)] = 0 if value is None else value
    return np.ascontiguousarray(out) if out is not x else x.copy()


def _pad_backward(g, x, pad, mode, value):
    gx = np.asarray(g)
    for axis, src in reversed(_pad_plan(x, pad, mode)):
        shape = list(gx.shape)
        shape[axis] = x.shape[axis]
        acc = np.zeros(shape, dtype=gx.dtype)
        keep = src >= 0
        index = [slice(None)] * gx.ndim
        index[axis] = keep
        moved_src = np.moveaxis(gx[tuple(index)], axis, 0)
        np.add.at(np.moveaxis(acc, axis, 0), src[keep], moved_src)
        gx = acc
    return (gx,)


composite(
    'pad(Tensor input, int[] pad, str mode="constant", float? value=None) -> Tensor',
    _pad,
    _pad_backward,
    namespaces=F,
    doc="Pads the last len(pad)//2 dims, last dim first; negative pads crop.",
)


_INTERPOLATE_RANK = {
    "nearest": None,
    "nearest-exact": None,
    "linear": 1,
    "bilinear": 2,
    "trilinear": 3,
}


def _interpolate_plan(x, size, scale_factor, mode, align_corners, recompute_scale_factor):
    """Per spatial axis: (axis, source indices (out, 2), weights (out, 2)). Interpolation is
    separable, so the forward applies one axis at a time and the backward scatters back."""
    if mode not in _INTERPOLATE_RANK:
        raise NotImplementedError(f"interpolate(): mode '{mode}' is not supported")
    nd = x.ndim - 2
    if nd < 1 or (_INTERPOLATE_RANK[mode] not in (None, nd)):
        raise ValueError(f"interpolate(): mode '{mode}' does not take {x.ndim}-D input")
    if align_corners is not None and _INTERPOLATE_RANK[mode] is None:
        raise ValueError("align_corners option can only be set with the interpolating modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined, not both")
    in_sizes = x.shape[2:]
    if size is not None:
        out_sizes = [size] * nd if isinstance(size, int) else list(size)
        scales = [None] * nd
    else:
        factors = (
            [float(scale_factor)] * nd
            if isinstance(scale_factor, (int, float))
            else list(scale_factor)
        )
        out_sizes = [math.floor(n * f) for n, f in zip(in_sizes, factors)]
        scales = [None if recompute_scale_factor else 1.0 / f for f in factors]
    if len(out_sizes) != nd or any(o <= 0 for o in out_sizes):
        raise ValueError(
            f"interpolate(): invalid output size {out_sizes} for input {list(x.shape)}"
        )
    plan = []
    for axis, (n, o, sc) in enumerate(zip(in_sizes, out_sizes, scales)):
        dst = np.arange(o, dtype=np.float64)
        if _INTERPOLATE_RANK[mode] is None:
            scale = sc if sc is not None else n / o
            offset = 0.5 if mode == "nearest-exact" else 0.0
            src = np.minimum(np.floor((dst + offset) * scale).astype(np.int64), n - 1)
            idx = np.stack([src, src], axis=1)
            wts = np.stack([np.ones(o), np.zeros(o)], axis=1)
        else:
            if align_corners:
                src = dst * ((n - 1) / (o - 1) if o > 1 else 0.0)
            else:
                scale = sc if sc is not None else n / o
                src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
            i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
            i1 = np.minimum(i0 + 1, n - 1)
            frac = src - i0
            idx = np.stack([i0, i1], axis=1)
            wts = np.stack([1.0 - frac, frac], axis=1)
        plan.append((axis + 2, idx, wts))
    return plan


def _interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    _float_input("interpolate", x)
    out = x.astype(np.float64)
    for axis, idx, wts in _interpolate_plan(
        x, size, scale_factor, mode, align_corners, recompute_scale_factor
    ):
        shape = [1] * out.ndim
        shape[axis] = -1
        out = np.take(out, idx[:, 0], axis=axis) * wts[:, 0].reshape(shape) + np.take(
            out, idx[:, 1], axis=axis
        ) * wts[:, 1].reshape(shape)
    return out.astype(x.dtype)


def _interpolate_backward(
    g, x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
):
    plan = _interpolate_plan(x, size, scale_factor, mode, align_corners, recompute_scale_factor)
    gx = np.asarray(g, dtype=np.float64)
    for axis, idx, wts in reversed(plan):
        shape = list(gx.shape)
        shape[axis] = x.shape[axis]
        acc = np.zeros(shape)
        moved_acc = np.moveaxis(acc, axis, 0)
        moved_g = np.moveaxis(gx, axis, 0)
        wshape = (-1,) + (1,) * (gx.ndim - 1)
        for k in range(2):
            np.add.at(moved_acc, idx[:, k], moved_g * wts[:, k].reshape(wshape))
        gx = acc
    return (gx,)


composite(
    "interpolate(Tensor input, int[]? size=None, float[]? scale_factor=None, "
    'str mode="nearest", bool? align_corners=None, bool? recompute_scale_factor=None, '
    "bool antialias=False) -> Tensor",
    _interpolate,
    _interpolate_backward,
    namespaces=F,
    doc="nearest, nearest-exact, linear, bilinear and trilinear resampling (PyTorch's indices).",
)
# A single size or factor for every spatial dim; a separate form because a bare int is no int[].
composite(
    "interpolate.scalar(Tensor input, int? size=None, float? scale_factor=None, "
    'str mode="nearest", bool? align_corners=None, bool? recompute_scale_factor=None, '
    "bool antialias=False) -> Tensor",
    _interpolate,
    _interpolate_backward,
    namespaces=F,
)


def _pixel_shuffle(x, upscale_factor):
    r = upscale_factor
    if x.ndim < 3 or r <= 0 or x.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle(): expected input of shape (*, C*{r}^2, H, W), got {list(x.shape)}"
        )
    *lead, c, h, w = x.shape
    out = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    out = out.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return np.ascontiguousarray(out).reshape(*lead, c // (r * r), h * r, w * r)


def _pixel_unshuffle(x, downscale_factor):
    r = downscale_factor
    if x.ndim < 3 or r <= 0 or x.shape[-2] % r or x.shape[-1] % r:
        raise RuntimeError(
            f"pixel_unshuffle(): expected height and width divisible by {r}, got {list(x.shape)}"
        )
    *lead, c, h, w = x.shape
    out = x.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    out = out.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return np.ascontiguousarray(out).reshape(*lead, c * r * r, h // r, w // r)


# Pure permutations, each the inverse (and so the adjoint) of the other.
register(
    "pixel_shuffle(Tensor self, int upscale_factor) -> Tensor",
    impl=_pixel_shuffle,
    grad=lambda ctx, g: (_apply("pixel_unshuffle", g, ctx.args[1]),),
    namespaces=TORCH_AND_F,
)
register(
    "pixel_unshuffle(Tensor self, int downscale_factor) -> Tensor",
    impl=_pixel_unshuffle,
    grad=lambda ctx, g: (_apply("pixel_shuffle", g, ctx.args[1]),),
    namespaces=TORCH_AND_F,
)


# ------------------------------------------------------------------ attention


def _attention_parts(q, k, v, attn_mask, dropout_p, is_causal, scale):
    check_same_dtype("scaled_dot_product_attention", ("query", q), ("key", k), ("value", v))
    if dropout_p != 0.0:
        raise NotImplementedError("scaled_dot_product_attention(): dropout_p > 0 is not supported")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention(): incompatible shapes query "
            f"{list(q.shape)}, key {list(k.shape)}, value {list(v.shape)}"
        )
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    qd, kd, vd = q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)
    logits = np.matmul(qd, np.swapaxes(kd, -1, -2)) * s
    L, S = logits.shape[-2:]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "scaled_dot_product_attention(): attn_mask and is_causal cannot both be set"
            )
        logits = np.where(np.tril(np.ones((L, S), dtype=bool)), logits, -np.inf)
    elif attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            logits = np.where(attn_mask, logits, -np.inf)
        else:
            logits = logits + attn_mask
    attn = _softmax_np(logits, -1)
    return qd, kd, vd, s, attn


def _sdpa(q, k, v, attn_mask, dropout_p, is_causal, scale, enable_gqa=False):
    _, _, vd, _, attn = _attention_parts(q, k, v, attn_mask, dropout_p, is_causal, scale)
    return np.matmul(attn, vd).astype(q.dtype)


def _sdpa_backward(g, q, k, v, attn_mask, dropout_p, is_causal, scale, enable_gqa=False):
    qd, kd, vd, s, attn = _attention_parts(q, k, v, attn_mask, dropout_p, is_causal, scale)
    gd = np.asarray(g, dtype=np.float64)
    gv = np.matmul(np.swapaxes(attn, -1, -2), gd)
    ga = np.matmul(gd, np.swapaxes(vd, -1, -2))
    gs = attn * (ga - np.sum(ga * attn, axis=-1, keepdims=True))
    gs = np.nan_to_num(gs)
    gq = np.matmul(gs, kd) * s
    gk = np.matmul(np.swapaxes(gs, -1, -2), qd) * s
    gm = None
    if attn_mask is not None and attn_mask.dtype != np.bool_:
        gm = _sum_to(gs, attn_mask.shape)
    return _sum_to(gq, q.shape), _sum_to(gk, k.shape), _sum_to(gv, v.shape), gm


composite(
    "scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask=None, "
    "float dropout_p=0.0, bool is_causal=False, *, float? scale=None, bool enable_gqa=False) -> "
    "Tensor",
    _sdpa,
    _sdpa_backward,
    namespaces=F,
    doc="softmax(q k^T * scale + mask) v",
)


# ------------------------------------------------------------------ torch activations in F


class _ForwardedCtx:
    """The context a torch-namespace rule expects, for a functional form with extra flags."""

    __slots__ = ("args", "op", "out")

    def __init__(self, op, args, out):
        self.op, self.args, self.out = op, args, out


def _functional_alias(name: str, extra_params: str = "") -> None:
    """F.<name> with PyTorch's functional signature (``input``, ``inplace``) for a unary op
    whose registered forms lack it: same kernel and rule as the torch-namespace entry."""
    wanted = {p.split()[-1].split("=")[0] for p in extra_params.split(",") if p.strip()}
    for op in dispatch.functions_in(Namespace.FUNCTIONAL, name):
        if wanted <= {p.name for p in op.schema.params}:
            return
    bases = [
        op
        for op in dispatch.functions_in(Namespace.TORCH, name)
        if len(op.schema.params) == 1 and op.schema.params[0].type.is_tensor
    ]
    if not bases:
        return
    base = bases[0]

    def rule(ctx, g):
        grads = base.grad(_ForwardedCtx(base, ctx.args[:1], ctx.out), g)
        return tuple(grads if isinstance(grads, (tuple, list)) else (grads,))[:1]

    register(
        f"{name}.functional(Tensor input{extra_params}) -> Tensor",
        impl=lambda x, *flags: base.impl(x),
        grad=rule if base.grad else None,
        tags=base.tags & {NONDIFFERENTIABLE},
        namespaces=F,
    )


_functional_alias("relu", ", bool inplace=False")
_functional_alias("silu", ", bool inplace=False")
_functional_alias("sigmoid")
_functional_alias("tanh")


# ------------------------------------------------------------------ more pointwise functions


def _as_float(*arrays):
    dt = np.result_type(*arrays)
    if dt.kind != "f":
        dt = np.dtype(np.float32)
    return [np.asarray(a, dtype=dt) for a in arrays], dt


def _logaddexp(a, b):
    (x, y), dt = _as_float(a, b)
    return np.asarray(np.logaddexp(x, y), dtype=dt)


register("logaddexp(Tensor self, Tensor other) -> Tensor", impl=_logaddexp,
         grad=lambda ctx, g: (g * (ctx.args[0] - ctx.args[1]).sigmoid(),
                              g * (ctx.args[1] - ctx.args[0]).sigmoid()),
         method=True, namespaces=(Namespace.TORCH,))


def _logit(a, eps):
    (x,), dt = _as_float(a)
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(x / (1.0 - x)), dtype=dt)


def _logit_grad(ctx, g):
    x, eps = ctx.args[0], ctx.args[1]
    d = g / (x * (1.0 - x))
    if eps is None:
        return (d,)
    inside = dispatch.call("logical_and", x >= eps, x <= 1.0 - eps)
    return (dispatch.call("where", inside, d, 0.0),)


register("logit(Tensor self, float? eps=None) -> Tensor", impl=_logit, grad=_logit_grad,
         method=True, namespaces=(Namespace.TORCH,))


def _xlogy(a, b):
    (x, y), dt = _as_float(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x == 0, 0.0, x * np.log(y))
    return np.asarray(np.where(np.isnan(y), np.nan, out), dtype=dt)


def _xlogy_grad(ctx, g):
    x, y = ctx.args[0], ctx.args[1]
    return (g * dispatch.call("xlogy", (x != 0).to(g.dtype), y), g * x / y)


register("xlogy.Tensor(Tensor self, Tensor other) -> Tensor", impl=_xlogy, grad=_xlogy_grad,
         method=True, namespaces=(Namespace.TORCH,))
register("xlogy.Scalar_Other(Tensor self, Scalar other) -> Tensor",
         impl=lambda a, b: _xlogy(a, np.asarray(b, dtype=np.float64 if isinstance(b, float)
                                                else np.int64)),
         grad=lambda ctx, g: (g * dispatch.call("xlogy", (ctx.args[0] != 0).to(g.dtype),
                                                ctx.args[1]),),
         method=True, namespaces=(Namespace.TORCH,))


def _heaviside(a, v):
    if np.result_type(a, v) != a.dtype or a.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    return np.asarray(np.where(a == 0, v, (a > 0).astype(a.dtype)), dtype=a.dtype)


register("heaviside(Tensor self, Tensor values) -> Tensor", impl=_heaviside,
         tags={NONDIFFERENTIABLE}, method=True, namespaces=(Namespace.TORCH,))

_activation(
    "softshrink(Tensor input, float lambd=0.5) -> Tensor",
    lambda x, l: np.where(x > l, x - l, np.where(x < -l, x + l, 0)).astype(x.dtype),
    lambda x, l: ((x > l) | (x < -l)).astype(x.dtype),
)
_activation(
    "hardshrink(Tensor input, float lambd=0.5) -> Tensor",
    lambda x, l: np.where((x > l) | (x < -l), x, 0).astype(x.dtype),
    lambda x, l: ((x > l) | (x < -l)).astype(x.dtype),
)
