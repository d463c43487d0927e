"""Shape and movement ops (see registry.py for what an entry holds).

Ops tagged VIEW return NumPy views of their input, so the result shares storage exactly where
PyTorch's does; ``reshape`` and ``flatten`` are views whenever the strides allow, copies
otherwise, as in PyTorch. Gradients are written with the same public ops (the gradient of a
view is the inverse movement; of ``select``/``slice``/``narrow`` a registered ``*_backward`` op
that places the gradient in a zero tensor).
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import dtypes
from .dispatch import call
from .registry import NONDIFFERENTIABLE, SHAPE_QUERY, VIEW, Namespace, register

T = (Namespace.TORCH,)


# ------------------------------------------------------------------ shared helpers

def shape_of(x) -> list:
    """The shape of a Tensor or an array as a list of ints."""
    return [int(s) for s in x.shape]


def contiguous(a, dtype=None) -> np.ndarray:
    """A C-contiguous array; unlike ``np.ascontiguousarray`` it keeps 0-d arrays 0-d."""
    return np.asarray(a, dtype=dtype, order="C")


def wrap_dim(dim: int, ndim: int) -> int:
    """PyTorch's dim wrapping: a 0-d tensor accepts 0 and -1."""
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim: int) -> list:
    return [wrap_dim(d, ndim) for d in dims]


def sum_to(a: np.ndarray, size: list) -> np.ndarray:
    """Sum ``a`` over the dims it was broadcast along to come from ``size``."""
    size = list(size)
    lead = a.ndim - len(size)
    if lead < 0:
        raise RuntimeError(f"size {size} is not expandable to size {list(a.shape)}")
    axes = list(range(lead))
    for i, s in enumerate(size):
        if s == 1 and a.shape[lead + i] != 1:
            axes.append(lead + i)
        elif s != a.shape[lead + i]:
            raise RuntimeError(f"size {size} is not expandable to size {list(a.shape)}")
    if axes:
        a = np.sum(a, axis=tuple(axes), keepdims=True)
    return np.asarray(a).reshape(size)


def _infer_size(size: list, numel: int, op: str) -> list:
    known = 1
    for s in size:
        if s < 0:
            break
        known *= s
    else:
        if known == numel:
            return size
    size = list(size)
    if size.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in size:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = math.prod([s for s in size if s != -1]) if size else 1
    if -1 in size:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{size}' is invalid for input of size {numel}")
        size[size.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{size}' is invalid for input of size {numel}")
    return size


def _reshape_grad(ctx, g):
    return (call("reshape", g, shape_of(ctx.args[0])),)


# ------------------------------------------------------------------ views that change the shape

def _view(a, size):
    size = _infer_size(size, a.size, "view")
    try:
        return a.reshape(size, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None


def _reshape(a, size):
    return np.reshape(a, _infer_size(size, a.size, "reshape"))


register("view(Tensor self, int[] size) -> Tensor", impl=_view, grad=_reshape_grad,
         tags={VIEW}, method=True)
register("view_as(Tensor self, Tensor other) -> Tensor", impl=lambda a, o: _view(a, list(o.shape)),
         grad=_reshape_grad, tags={VIEW}, method=True)
register("reshape(Tensor self, int[] shape) -> Tensor", impl=_reshape, grad=_reshape_grad,
         tags={VIEW}, method=True, namespaces=T)
register("reshape_as(Tensor self, Tensor other) -> Tensor",
         impl=lambda a, o: _reshape(a, list(o.shape)), grad=_reshape_grad, tags={VIEW}, method=True)
register("ravel(Tensor self) -> Tensor", impl=lambda a: _reshape(a, [-1]), grad=_reshape_grad,
         tags={VIEW}, method=True, namespaces=T)


def _flatten(a, start, end):
    if a.ndim == 0:
        wrap_dim(start, 0), wrap_dim(end, 0)
        return a.reshape(1)
    s, e = wrap_dim(start, a.ndim), wrap_dim(end, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = list(a.shape[:s]) + [math.prod(a.shape[s:e + 1])] + list(a.shape[e + 1:])
    return np.reshape(a, shape)


register("flatten.using_ints(Tensor self, int start_dim=0, int end_dim=-1) -> Tensor",
         impl=_flatten,
         grad=_reshape_grad, tags={VIEW}, method=True, namespaces=T)


def _unflatten(a, dim, sizes):
    d = wrap_dim(dim, a.ndim)
    inner = _infer_size(sizes, a.shape[d], "unflatten")
    return _view(a, list(a.shape[:d]) + inner + list(a.shape[d + 1:]))


register("unflatten.int(Tensor self, int dim, int[] sizes) -> Tensor", impl=_unflatten,
         grad=_reshape_grad, tags={VIEW}, method=True, namespaces=T)


def _squeeze(a, dims):
    if a.ndim == 0:
        wrap_dims(dims or [], 0)
        return a[...]
    if dims is None:
        axes = tuple(d for d in range(a.ndim) if a.shape[d] == 1)
    else:
        axes = tuple(d for d in wrap_dims(dims, a.ndim) if a.shape[d] == 1)
    return np.squeeze(a, axis=axes) if axes else a[...]


register("squeeze.dim(Tensor self, int dim) -> Tensor", impl=lambda a, d: _squeeze(a, [d]),
         grad=_reshape_grad, tags={VIEW}, method=True, namespaces=T)
register("squeeze.dims(Tensor self, int[] dim) -> Tensor", impl=_squeeze,
         grad=_reshape_grad, tags={VIEW}, method=True, namespaces=T)
register("squeeze(Tensor self) -> Tensor", impl=lambda a: _squeeze(a, None),
         grad=_reshape_grad, tags={VIEW}, method=True, namespaces=T)


def _unsqueeze(a, dim):
    d = wrap_dim(dim, a.ndim + 1)
    return np.expand_dims(a, d)


register("unsqueeze(Tensor self, int dim) -> Tensor", impl=_unsqueeze, grad=_reshape_grad,
         tags={VIEW}, method=True, namespaces=T)


# ------------------------------------------------------------------ permutations

def _permute(a, dims):
    if len(dims) != a.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {a.ndim} is not equal to len(dims) = {len(dims)}")
    dims = wrap_dims(dims, a.ndim)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return np.transpose(a, dims)


def _permute_grad(ctx, g):
    dims = wrap_dims(ctx.args[1], len(shape_of(ctx.args[0])))
    return (call("permute", g, [int(i) for i in np.argsort(dims)]),)


register("permute(Tensor self, int[] dims) -> Tensor", impl=_permute, grad=_permute_grad,
         tags={VIEW}, method=True, namespaces=T)


def _transpose(a, d0, d1):
    if a.ndim == 0:
        wrap_dim(d0, 0), wrap_dim(d1, 0)
        return a[...]
    return np.swapaxes(a, wrap_dim(d0, a.ndim), wrap_dim(d1, a.ndim))


def _transpose_grad(ctx, g):
    return (call("transpose", g, ctx.args[1], ctx.args[2]),)


register("transpose.int(Tensor self, int dim0, int dim1) -> Tensor", impl=_transpose,
         grad=_transpose_grad, tags={VIEW}, method=True, namespaces=T)
register("swapaxes(Tensor self, int axis0, int axis1) -> Tensor", impl=_transpose,
         grad=_transpose_grad, tags={VIEW}, method=True, namespaces=T)
register("swapdims(Tensor self, int dim0, int dim1) -> Tensor", impl=_transpose,
         grad=_transpose_grad, tags={VIEW}, method=True, namespaces=T)


def _t(a):
    if a.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    return a.T if a.ndim == 2 else a[...]


register("t(Tensor self) -> Tensor", impl=_t, grad=lambda ctx, g: (call("t", g),), tags={VIEW},
         method=True, namespaces=T)
register("adjoint(Tensor self) -> Tensor", impl=lambda a: _transpose(a, -2, -1),
         grad=lambda ctx, g: (call("transpose", g, -2, -1),), tags={VIEW}, method=True,
         namespaces=T)


def _movedim(a, src, dst):
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    if a.ndim == 0:
        wrap_dims(src, 0), wrap_dims(dst, 0)
        return a[...]
    return np.moveaxis(a, wrap_dims(src, a.ndim), wrap_dims(dst, a.ndim))


def _movedim_grad(ctx, g):
    return (call("movedim", g, list(_as_list(ctx.args[2])), list(_as_list(ctx.args[1]))),)


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v]


for _n in ("movedim", "moveaxis"):
    register(f"{_n}.int(Tensor self, int source, int destination) -> Tensor",
             impl=lambda a, s, d: _movedim(a, [s], [d]), grad=_movedim_grad, tags={VIEW},
             method=True, namespaces=T)
    register(f"{_n}.intlist(Tensor self, int[] source, int[] destination) -> Tensor", impl=_movedim,
             grad=_movedim_grad, tags={VIEW}, method=True, namespaces=T)


# ------------------------------------------------------------------ broadcasting

def _expand(a, size):
    size = [int(s) for s in size]
    if len(size) < a.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(a.shape)}}}, size={size}): the number "
                           f"of sizes provided ({len(size)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({a.ndim})")
    lead = len(size) - a.ndim
    target = []
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            target.append(s)
            continue
        have = a.shape[i - lead]
        if s == -1:
            target.append(have)
        elif have == s or have == 1:
            target.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{size}.  Tensor sizes: {list(a.shape)}")
    return np.broadcast_to(a, target)


def _sum_to_grad(ctx, g):
    return (call("sum_to_size", g, shape_of(ctx.args[0])),)


register("expand(Tensor self, int[] size, *, bool implicit=False) -> Tensor",
         impl=lambda a, size, implicit: _expand(a, size), grad=_sum_to_grad, tags={VIEW},
         method=True)
register("expand_as(Tensor self, Tensor other) -> Tensor",
         impl=lambda a, o: _expand(a, list(o.shape)),
         grad=_sum_to_grad, tags={VIEW}, method=True)
register("broadcast_to(Tensor self, int[] size) -> Tensor", impl=_expand, grad=_sum_to_grad,
         tags={VIEW}, method=True, namespaces=T)


def broadcast_shapes(*shapes) -> list:
    try:
        return list(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{', '.join(str(list(s)) for s in shapes)}") from None


def _broadcast_tensors(arrays):
    shape = broadcast_shapes(*[a.shape for a in arrays])
    return [np.broadcast_to(a, shape) for a in arrays]


def _broadcast_tensors_grad(ctx, *grads):
    return ([call("sum_to_size", g, shape_of(x)) for g, x in zip(grads, ctx.args[0])],)


register("broadcast_tensors(Tensor[] tensors) -> Tensor[]", impl=_broadcast_tensors,
         grad=_broadcast_tensors_grad, tags={VIEW}, namespaces=T)


def _repeat(a, repeats):
    if len(repeats) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {repeats}")
    padded = a.reshape([1] * (len(repeats) - a.ndim) + list(a.shape))
    return contiguous(np.tile(padded, repeats))


def _repeat_grad(ctx, g, repeats=None):
    x = ctx.args[0]
    shape = shape_of(x)
    repeats = list(ctx.args[1]) if repeats is None else repeats
    padded = [1] * (len(repeats) - len(shape)) + shape
    interleaved = []
    for r, s in zip(repeats, padded):
        interleaved += [r, s]
    g = call("reshape", g, interleaved)
    g = call("sum", g, list(range(0, 2 * len(repeats), 2)))
    return (call("reshape", g, shape),)


def _tile_repeats(a_ndim: int, dims: list) -> list:
    return [1] * (a_ndim - len(dims)) + list(dims)


register("repeat(Tensor self, int[] repeats) -> Tensor", impl=_repeat, grad=_repeat_grad,
         method=True)
register("tile(Tensor self, int[] dims) -> Tensor",
         impl=lambda a, dims: _repeat(a, _tile_repeats(a.ndim, dims)),
         grad=lambda ctx, g: _repeat_grad(
             ctx, g, _tile_repeats(len(shape_of(ctx.args[0])), ctx.args[1])),
         method=True, namespaces=T)


# ------------------------------------------------------------------ joining and splitting

def _promoted(arrays) -> np.dtype:
    result = dtypes.result_type([dtypes.from_numpy(a.dtype) for a in arrays])
    return result.np


def _cat(arrays, dim):
    if len(arrays) == 0:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    # PyTorch skips legacy empty 1-d tensors of shape [0] when joining
    kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)] or arrays[:1]
    ref = max(kept, key=lambda a: a.ndim)
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    for i, a in enumerate(kept):
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {ref.shape[k]} but got size {a.shape[k]} for tensor "
                                   f"number {i} in the list.")
    return np.concatenate(kept, axis=d, dtype=_promoted(arrays))


def _cat_grad(ctx, g):
    tensors, dim = ctx.args
    shapes = [shape_of(t) for t in tensors]
    ref = max(shapes, key=len)
    d = wrap_dim(dim, len(ref))
    grads, start = [], 0
    for s in shapes:
        if len(s) == 1 and s[0] == 0 and len(ref) != 1:
            grads.append(None)
            continue
        grads.append(call("narrow", g, d, start, s[d]))
        start += s[d]
    return (grads,)


for _n in ("cat", "concat", "concatenate"):
    register(f"{_n}(Tensor[] tensors, int dim=0) -> Tensor", impl=_cat, grad=_cat_grad,
             namespaces=T)


def _stack(arrays, dim):
    if len(arrays) == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = wrap_dim(dim, arrays[0].ndim + 1)
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise RuntimeError("stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at entry "
                               f"{i}")
    return np.stack(arrays, axis=d, dtype=_promoted(arrays))


def _stack_grad(ctx, g):
    return (list(call("unbind", g, ctx.args[1])),)


register("stack(Tensor[] tensors, int dim=0) -> Tensor", impl=_stack, grad=_stack_grad,
         namespaces=T)


def _hstack(arrays):
    arrays = [a.reshape(1) if a.ndim == 0 else a for a in arrays]
    return _cat(arrays, 0 if arrays and arrays[0].ndim == 1 else 1)


def _vstack(arrays):
    return _cat([a.reshape(1, -1) if a.ndim < 2 else a for a in arrays], 0)


def _hstack_grad(ctx, g):
    tensors = ctx.args[0]
    d = 0 if len(shape_of(tensors[0])) <= 1 else 1
    grads, start = [], 0
    for t in tensors:
        s = shape_of(t)
        n = s[d] if s else 1
        grads.append(call("reshape", call("narrow", g, d, start, n), s))
        start += n
    return (grads,)


def _vstack_grad(ctx, g):
    grads, start = [], 0
    for t in ctx.args[0]:
        s = shape_of(t)
        n = s[0] if len(s) >= 2 else 1
        grads.append(call("reshape", call("narrow", g, 0, start, n), s))
        start += n
    return (grads,)


register("hstack(Tensor[] tensors) -> Tensor", impl=_hstack, grad=_hstack_grad, namespaces=T)
register("vstack(Tensor[] tensors) -> Tensor", impl=_vstack, grad=_vstack_grad, namespaces=T)
register("row_stack(Tensor[] tensors) -> Tensor", impl=_vstack, grad=_vstack_grad, namespaces=T)


def _split_views(a, sizes, d):
    out, start = [], 0
    for s in sizes:
        out.append(_narrow(a, d, start, s))
        start += s
    return out


def _split(a, split_size, dim):
    if a.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if split_size < 0 or (split_size == 0 and n != 0):
        raise RuntimeError("split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {n}")
    if n == 0:
        return [a[...]]
    sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
    return _split_views(a, sizes, d)


def _split_sizes(a, sizes, dim):
    if a.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, a.ndim)
    if sum(sizes) != a.shape[d] or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {a.shape[d]} "
                           f"(input tensor's size at dimension {d}), but got "
                           f"split_sizes={list(sizes)}")
    return _split_views(a, sizes, d)


def _join_grads(ctx, grads, dim):
    """Gradient of the ops that cut ``self`` into pieces along ``dim``: the pieces joined back."""
    x = ctx.args[0]
    pieces = []
    for g, piece in zip(grads, ctx.out):
        pieces.append(call("zeros_like", piece) if g is None else g)
    if not pieces:
        return (call("zeros_like", x),)
    return (call("cat", pieces, dim),)


register("split.Tensor(Tensor self, int split_size, int dim=0) -> Tensor[]", impl=_split,
         grad=lambda ctx, *g: _join_grads(ctx, g, ctx.args[2]), tags={VIEW}, method=True,
         namespaces=T)
register("split.sizes(Tensor self, int[] split_size, int dim=0) -> Tensor[]", impl=_split_sizes,
         grad=lambda ctx, *g: _join_grads(ctx, g, ctx.args[2]), tags={VIEW}, method=True,
         namespaces=T)
register("split_with_sizes(Tensor self, int[] split_sizes, int dim=0) -> Tensor[]",
         impl=_split_sizes,
         grad=lambda ctx, *g: _join_grads(ctx, g, ctx.args[2]), tags={VIEW}, method=True,
         namespaces=T)


def _chunk(a, chunks, dim):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if a.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    size = -(-n // chunks)
    return _split(a, size, d) if n else [a[...]]


register("chunk(Tensor self, int chunks, int dim=0) -> Tensor[]", impl=_chunk,
         grad=lambda ctx, *g: _join_grads(ctx, g, ctx.args[2]), tags={VIEW}, method=True,
         namespaces=T)


def _unbind(a, dim):
    if a.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, a.ndim)
    return [_select(a, d, i) for i in range(a.shape[d])]


def _unbind_grad(ctx, *grads):
    x, dim = ctx.args
    pieces = [call("zeros_like", p) if g is None else g for g, p in zip(grads, ctx.out)]
    if not pieces:
        return (call("zeros_like", x),)
    return (call("stack", pieces, dim),)


register("unbind.int(Tensor self, int dim=0) -> Tensor[]", impl=_unbind, grad=_unbind_grad,
         tags={VIEW}, method=True, namespaces=T)


# ------------------------------------------------------------------ slicing views

def _select(a, dim, index):
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if index < -n or index >= n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(a.shape)} "
                         f"at dimension {d}")
    return a[(slice(None),) * d + (index, Ellipsis)]


def _select_backward(g, sizes, dim, index):
    out = np.zeros(sizes, dtype=g.dtype)
    d = wrap_dim(dim, len(sizes))
    out[(slice(None),) * d + (index, Ellipsis)] = g
    return out


register("select.int(Tensor self, int dim, int index) -> Tensor", impl=_select,
         grad=lambda ctx, g: (call("select_backward", g, shape_of(ctx.args[0]), ctx.args[1],
                                   ctx.args[2]),),
         tags={VIEW}, method=True, namespaces=T)
register("select_backward(Tensor grad_output, int[] input_sizes, int dim, int index) -> Tensor",
         impl=_select_backward, grad=lambda ctx, g: (call("select", g, ctx.args[2], ctx.args[3]),))


def slice_bounds(n: int, start, end, step: int) -> tuple:
    """PyTorch's clamping of slice bounds: negative from the end, then clamped to [0, n]."""
    if step <= 0:
        raise ValueError("slice step must be positive")
    start = 0 if start is None else start
    end = n if end is None else end
    if start < 0:
        start += n
    if end < 0:
        end += n
    start = min(max(start, 0), n)
    end = min(max(end, start), n)
    return start, end


def _slice(a, dim, start, end, step):
    if a.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, a.ndim)
    s, e = slice_bounds(a.shape[d], start, end, step)
    return a[(slice(None),) * d + (slice(s, e, step), Ellipsis)]


def _slice_backward(g, sizes, dim, start, end, step):
    out = np.zeros(sizes, dtype=g.dtype)
    d = wrap_dim(dim, len(sizes))
    s, e = slice_bounds(sizes[d], start, end, step)
    out[(slice(None),) * d + (slice(s, e, step), Ellipsis)] = g
    return out


register("slice.Tensor(Tensor self, int dim=0, int? start=None, int? end=None, int step=1) -> "
         "Tensor",
         impl=_slice,
         grad=lambda ctx, g: (call("slice_backward", g, shape_of(ctx.args[0]), *ctx.args[1:]),),
         tags={VIEW}, method=True, namespaces=T)
register("slice_backward(Tensor grad_output, int[] input_sizes, int dim, int? start, int? end, "
         "int step) -> Tensor",
         impl=_slice_backward, grad=lambda ctx, g: (call("slice", g, *ctx.args[2:]),))


def _narrow(a, dim, start, length):
    if a.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if start < -n or start > n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return a[(slice(None),) * d + (slice(start, start + length), Ellipsis)]


def _narrow_grad(ctx, g):
    x, dim, start, length = ctx.args
    n = shape_of(x)[wrap_dim(dim, len(shape_of(x)))]
    start = start + n if start < 0 else start
    return (call("slice_backward", g, shape_of(x), dim, start, start + length, 1),)


register("narrow(Tensor self, int dim, int start, int length) -> Tensor", impl=_narrow,
         grad=_narrow_grad, tags={VIEW}, method=True, namespaces=T)


def _diagonal(a, offset, dim1, dim2):
    if a.ndim < 2:
        raise RuntimeError(f"diagonal dimensions requires ndim larger than 1, but got {a.ndim}")
    d1, d2 = wrap_dim(dim1, a.ndim), wrap_dim(dim2, a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    view = np.diagonal(a, offset, d1, d2)
    # np.diagonal is read-only; PyTorch's diagonal is a writable view of the same memory
    return np.lib.stride_tricks.as_strided(
        a[_diag_start(a.ndim, d1, d2, offset, a.shape)], view.shape, view.strides,
        writeable=a.flags.writeable)


def _diag_start(ndim, d1, d2, offset, shape):
    key = [slice(None)] * ndim
    if offset >= 0:
        key[d2] = slice(min(offset, shape[d2]), None)
    else:
        key[d1] = slice(min(-offset, shape[d1]), None)
    return tuple(key)


def _diagonal_backward(g, sizes, offset, dim1, dim2):
    out = np.zeros(sizes, dtype=g.dtype)
    _diagonal(out, offset, dim1, dim2)[...] = g
    return out


register("diagonal(Tensor self, int offset=0, int dim1=0, int dim2=1) -> Tensor", impl=_diagonal,
         grad=lambda ctx, g: (call("diagonal_backward", g, shape_of(ctx.args[0]), *ctx.args[1:]),),
         tags={VIEW}, method=True, namespaces=T)
register("diagonal_backward(Tensor grad_output, int[] input_sizes, int offset, int dim1, int "
         "dim2) -> Tensor",
         impl=_diagonal_backward, grad=lambda ctx, g: (call("diagonal", g, *ctx.args[2:]),))


def _diag(a, diagonal):
    if a.ndim == 1:
        return np.diag(a, diagonal)
    if a.ndim == 2:
        return contiguous(np.diagonal(a, diagonal))
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{a.ndim}D")


def _diag_grad(ctx, g):
    x, k = ctx.args
    if len(shape_of(x)) == 1:
        return (call("diagonal", g, k),)
    return (call("diagonal_backward", g, shape_of(x), k, 0, 1),)


register("diag(Tensor self, int diagonal=0) -> Tensor", impl=_diag, grad=_diag_grad, method=True,
         namespaces=T)


def _diag_embed(a, offset, dim1, dim2):
    if a.ndim < 1:
        raise RuntimeError("diag_embed(): expected a tensor with at least one dimension")
    n = a.shape[-1] + abs(offset)
    ndim = a.ndim + 1
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = list(a.shape[:-1])
    sizes = []
    for d in range(ndim):
        sizes.append(n if d in (d1, d2) else rest.pop(0))
    out = np.zeros(sizes, dtype=a.dtype)
    _diagonal(out, offset, d1, d2)[...] = a
    return out


register("diag_embed(Tensor self, int offset=0, int dim1=-2, int dim2=-1) -> Tensor",
         impl=_diag_embed, grad=lambda ctx, g: (call("diagonal", g, *ctx.args[1:]),),
         method=True, namespaces=T)


# ------------------------------------------------------------------ reordering copies

def _flip(a, dims):
    if a.ndim == 0:
        wrap_dims(dims, 0)
        return a.copy()
    return contiguous(np.flip(a, tuple(wrap_dims(dims, a.ndim))))


register("flip(Tensor self, int[] dims) -> Tensor", impl=_flip,
         grad=lambda ctx, g: (call("flip", g, ctx.args[1]),), method=True, namespaces=T)
register("fliplr(Tensor self) -> Tensor", impl=lambda a: _flip(a, [1]),
         grad=lambda ctx, g: (call("fliplr", g),), method=True, namespaces=T)
register("flipud(Tensor self) -> Tensor", impl=lambda a: _flip(a, [0]),
         grad=lambda ctx, g: (call("flipud", g),), method=True, namespaces=T)


def _roll(a, shifts, dims):
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return np.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    return np.roll(a, shifts, tuple(wrap_dims(dims, a.ndim)))


register("roll(Tensor self, int[1] shifts, int[1] dims=[]) -> Tensor", impl=_roll,
         grad=lambda ctx, g: (call("roll", g, [-s for s in ctx.args[1]], ctx.args[2]),),
         method=True, namespaces=T)


def _unfold(a, dimension, size, step):
    if a.ndim == 0:
        wrap_dim(dimension, 0)
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        return a.reshape(1)
    d = wrap_dim(dimension, a.ndim)
    n = a.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    windows = (n - size) // step + 1
    shape = list(a.shape[:d]) + [windows] + list(a.shape[d + 1:]) + [size]
    strides = list(a.strides[:d]) + [a.strides[d] * step] + list(a.strides[d + 1:]) + [a.strides[d]]
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


def _unfold_backward(g, sizes, dim, size, step):
    out = np.zeros(sizes, dtype=g.dtype)
    if not sizes:
        out[...] = g.reshape(())
        return out
    d = wrap_dim(dim, len(sizes))
    windows = g.shape[d]
    moved = np.moveaxis(out, d, -1)
    gm = np.moveaxis(g, d, -2)  # (..., windows, size)
    for k in range(size):
        # element k of every window: positions k, k + step, ...
        moved[..., k:k + step * (windows - 1) + 1:step] += gm[..., k]
    return out


register("unfold(Tensor self, int dimension, int size, int step) -> Tensor", impl=_unfold,
         grad=lambda ctx, g: (call("unfold_backward", g, shape_of(ctx.args[0]), *ctx.args[1:]),),
         tags={VIEW}, method=True)
register("unfold_backward(Tensor grad_in, int[] input_sizes, int dim, int size, int step) -> "
         "Tensor",
         impl=_unfold_backward, grad=lambda ctx, g: (call("unfold", g, *ctx.args[2:]),))


def _rot90(a, k, dims):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if a.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {a.ndim}")
    d0, d1 = wrap_dims(dims, a.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 "
                           f"= {d1}")
    return contiguous(np.rot90(a, k, (d0, d1)))


register("rot90(Tensor self, int k=1, int[] dims=[0, 1]) -> Tensor", impl=_rot90,
         grad=lambda ctx, g: (call("rot90", g, -ctx.args[1], ctx.args[2]),), method=True,
         namespaces=T)


def _meshgrid(arrays, indexing):
    if indexing not in (None, "ij", "xy"):
        raise RuntimeError("torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for a in arrays:
        if a.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {a.ndim}D")
    flat = [a.reshape(-1) for a in arrays]
    return [contiguous(g) for g in np.meshgrid(*flat, indexing=indexing or "ij")]


def _meshgrid_grad(ctx, *grads):
    tensors, indexing = ctx.args
    n = len(tensors)
    out = []
    for i, (g, t) in enumerate(zip(grads, tensors)):
        axis = i
        if indexing == "xy" and n >= 2 and i < 2:
            axis = 1 - i
        others = [d for d in range(n) if d != axis]
        r = call("sum", g, others) if others else g
        out.append(call("reshape", r, shape_of(t)))
    return (out,)


register("meshgrid(Tensor[] tensors, *, str? indexing=None) -> Tensor[]", impl=_meshgrid,
         grad=_meshgrid_grad, namespaces=T)


def _tensor_split_sizes(n: int, sections: int) -> list:
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    base, extra = divmod(n, sections)
    return [base + 1] * extra + [base] * (sections - extra)


def _tensor_split_indices(n: int, indices: list) -> list:
    sizes, prev = [], 0
    for i in list(indices) + [n]:
        i = min(max(i + n if i < 0 else i, prev), n)
        sizes.append(i - prev)
        prev = i
    return sizes


def _tensor_split(a, sections, dim):
    if a.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim(dim, a.ndim)
    return _split_views(a, _tensor_split_sizes(a.shape[d], sections), d)


def _tensor_split_at(a, indices, dim):
    if a.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim(dim, a.ndim)
    return _split_views(a, _tensor_split_indices(a.shape[d], indices), d)


register("tensor_split.sections(Tensor self, int sections, int dim=0) -> Tensor[]",
         impl=_tensor_split,
         grad=lambda ctx, *g: _join_grads(ctx, g, ctx.args[2]), tags={VIEW}, method=True,
         namespaces=T)
register("tensor_split.indices(Tensor self, int[] indices, int dim=0) -> Tensor[]",
         impl=_tensor_split_at,
         grad=lambda ctx, *g: _join_grads(ctx, g, ctx.args[2]), tags={VIEW}, method=True,
         namespaces=T)


def _atleast(a, n):
    if a.ndim >= n:
        return a[...]
    if n == 1 or a.ndim == 0:
        return a.reshape([1] * (n - a.ndim) + list(a.shape))
    if n == 2:
        return a[None]
    return a[None, :, None] if a.ndim == 1 else a[..., None]


for _k in (1, 2, 3):
    register(f"atleast_{_k}d(Tensor self) -> Tensor", impl=lambda a, _n=_k: _atleast(a, _n),
             grad=_reshape_grad, tags={VIEW}, namespaces=T)


def _dstack(arrays):
    return _cat([_atleast(a, 3) for a in arrays], 2)


def _column_stack(arrays):
    return _cat([a.reshape(-1, 1) if a.ndim <= 1 else a for a in arrays], 1)


def _restack_grad(ctx, g, dim: int, shape_fn):
    grads, start = [], 0
    for t in ctx.args[0]:
        s = shape_of(t)
        n = shape_fn(s)
        grads.append(call("reshape", call("narrow", g, dim, start, n), s))
        start += n
    return (grads,)


register("dstack(Tensor[] tensors) -> Tensor", impl=_dstack,
         grad=lambda ctx, g: _restack_grad(ctx, g, 2, lambda s: s[2] if len(s) >= 3 else 1),
         namespaces=T)
register("column_stack(Tensor[] tensors) -> Tensor", impl=_column_stack,
         grad=lambda ctx, g: _restack_grad(ctx, g, 1, lambda s: s[1] if len(s) >= 2 else 1),
         namespaces=T)


def _alias(a):
    return a[...]


register("alias(Tensor self) -> Tensor", impl=_alias, grad=lambda ctx, g: (g,), tags={VIEW},
         namespaces=T)


# ------------------------------------------------------------------ sizes and dims

def _size_of_0d(a, dim):
    wrap_dim(dim, 0)
    raise IndexError("dimension specified as 0 but tensor has no dimensions")


register("size.int(Tensor self, int dim) -> int",
         impl=lambda a, dim: int(a.shape[wrap_dim(dim, a.ndim)]) if a.ndim else _size_of_0d(a, dim),
         tags={NONDIFFERENTIABLE, SHAPE_QUERY}, method=True)
register("size(Tensor self) -> int[]", impl=lambda a: [int(s) for s in a.shape],
         tags={NONDIFFERENTIABLE, SHAPE_QUERY}, method=True)
register("dim(Tensor self) -> int", impl=lambda a: int(a.ndim), tags={NONDIFFERENTIABLE, SHAPE_QUERY},
         method=True)
register("ndimension(Tensor self) -> int", impl=lambda a: int(a.ndim), tags={NONDIFFERENTIABLE, SHAPE_QUERY},
         method=True)
register("numel(Tensor self) -> int", impl=lambda a: int(a.size), tags={NONDIFFERENTIABLE, SHAPE_QUERY},
         method=True, namespaces=T)
register("nelement(Tensor self) -> int", impl=lambda a: int(a.size), tags={NONDIFFERENTIABLE, SHAPE_QUERY},
         method=True)
register("is_floating_point(Tensor self) -> bool", impl=lambda a: a.dtype.kind == "f",
         tags={NONDIFFERENTIABLE}, method=True, namespaces=T)
register("is_complex(Tensor self) -> bool", impl=lambda a: a.dtype.kind == "c",
         tags={NONDIFFERENTIABLE}, method=True, namespaces=T)
register("is_nonzero(Tensor self) -> bool", impl=lambda a: _is_nonzero(a),
         tags={NONDIFFERENTIABLE}, method=True, namespaces=T)


def _is_nonzero(a):
    if a.size != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous"
                           if a.size else "Boolean value of Tensor with no values is ambiguous")
    return bool(a.reshape(-1)[0])


# ``x.shape``: a property, not a method
register("shape(Tensor self) -> int[]", impl=lambda a: [int(s) for s in a.shape],
         tags={NONDIFFERENTIABLE, SHAPE_QUERY}, property=True)
register("ndim(Tensor self) -> int", impl=lambda a: int(a.ndim), tags={NONDIFFERENTIABLE, SHAPE_QUERY},
         property=True)


# ------------------------------------------------------------------ repeat_interleave, diff

def _repeat_interleave(a, repeats, dim):
    if dim is None:
        a, d = a.reshape(-1), 0
    else:
        d = wrap_dim(dim, a.ndim)
        if a.ndim == 0:
            a = a.reshape(1)
    if isinstance(repeats, np.ndarray):
        if repeats.ndim > 1 or repeats.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim integer tensor")
        if repeats.ndim == 1 and repeats.shape[0] not in (1, a.shape[d]):
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats.shape[0]} and input.size({d}) = "
                               f"{a.shape[d]}")
        repeats = repeats.reshape(-1)
        if repeats.size == 1:
            repeats = int(repeats[0])
    if np.any(np.asarray(repeats) < 0):
        raise RuntimeError("repeats can not be negative")
    return contiguous(np.repeat(a, repeats, axis=d))


def _repeat_interleave_grad(ctx, g):
    x, repeats, dim = ctx.args[:3]
    shape = shape_of(x)
    d = 0 if dim is None or not shape else wrap_dim(dim, len(shape))
    if dim is None:
        n = math.prod(shape)
    else:
        n = shape[d] if shape else 1
    per_item = repeats.tolist() if hasattr(repeats, "tolist") else repeats
    counts = [int(r) for r in np.broadcast_to(np.asarray(per_item), (n,))]
    owner = call("tensor", [i for i, c in enumerate(counts) for _ in range(c)],
                 dtype=dtypes.int64)
    base = call("reshape", x, [-1]) if dim is None else (x if shape else call("reshape", x, [1]))
    gx = call("index_add", call("zeros_like", base), d, owner, g)
    return (call("reshape", gx, shape),)


register("repeat_interleave.self_int(Tensor self, int repeats, int? dim=None, *, "
         "int? output_size=None) -> Tensor",
         impl=lambda a, r, dim, output_size: _repeat_interleave(a, r, dim),
         grad=_repeat_interleave_grad, method=True, namespaces=T)
register("repeat_interleave.self_Tensor(Tensor self, Tensor repeats, int? dim=None, *, "
         "int? output_size=None) -> Tensor",
         impl=lambda a, r, dim, output_size: _repeat_interleave(a, r, dim),
         grad=_repeat_interleave_grad, method=True, namespaces=T)


def _diff(a, n, dim, prepend, append):
    if a.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, a.ndim)
    parts = [p for p in (prepend, a, append) if p is not None]
    if len(parts) > 1:
        a = _cat([p if p.ndim else np.broadcast_to(p, a.shape[:d] + (1,) + a.shape[d + 1:])
                  for p in parts], d)
    if a.dtype == np.bool_:
        out = a
        for _ in range(n):
            out = np.logical_xor(np.take(out, range(1, out.shape[d]), d),
                                 np.take(out, range(0, out.shape[d] - 1), d))
        return contiguous(out)
    return contiguous(np.diff(a, n=n, axis=d))


def _diff_grad(ctx, g):
    x, n, dim, prepend, append = ctx.args
    tensors = [t for t in (prepend, x, append) if t is not None]
    joined = call("cat", tensors, dim) if len(tensors) > 1 else x
    length = shape_of(joined)[wrap_dim(dim, len(shape_of(joined)))]
    for k in range(n):
        m = length - n + k  # the length of the input to the (n-k)-th difference
        sizes = shape_of(g)
        sizes[wrap_dim(dim, len(sizes))] = m + 1
        g = (call("slice_backward", g, sizes, dim, 1, m + 1, 1)
             - call("slice_backward", g, sizes, dim, 0, m, 1))
    grads = []
    start = 0
    for t in (prepend, x, append):
        if t is None:
            grads.append(None)
            continue
        size = shape_of(t)[wrap_dim(dim, len(shape_of(t)))] if shape_of(t) else 1
        grads.append(call("narrow", g, dim, start, size) if shape_of(t) else None)
        start += size
    return grads[1], None, None, grads[0], grads[2]


register("diff(Tensor self, int n=1, int dim=-1, Tensor? prepend=None, Tensor? append=None) "
         "-> Tensor",
         impl=_diff, grad=_diff_grad, method=True, namespaces=T)
