"""Linear algebra: matmul and its special cases, addmm/baddbmm, einsum, linear, bilinear.

Kernels are NumPy calls (one BLAS call each). Gradient rules use public ops only, so they
serve eager autograd, tracing and graph autodiff alike, and are themselves differentiable.
"""

from __future__ import annotations

import numpy as np

from ..ir import dtypes
from . import dispatch
from .registry import Namespace, register

TORCH = (Namespace.TORCH,)
TORCH_AND_F = (Namespace.TORCH, Namespace.FUNCTIONAL)


# ------------------------------------------------------------------ checks


def _dtype_name(a: np.ndarray) -> str:
    return dtypes.from_numpy(a.dtype).name


def check_same_dtype(op: str, *named: tuple) -> None:
    """PyTorch does not promote inside BLAS ops: mixed dtypes are an error."""
    (first_name, first), *rest = named
    for name, arr in rest:
        if arr is not None and arr.dtype != first.dtype:
            raise RuntimeError(
                f"{op}(): expected {first_name} and {name} to have the same dtype, "
                f"but got: {_dtype_name(first)} != {_dtype_name(arr)}"
            )


def _check_dim(op: str, name: str, a: np.ndarray, ndim: int) -> None:
    if a.ndim != ndim:
        raise RuntimeError(
            f"{op}(): {name} must be a {ndim}D tensor, got {a.ndim}D with shape {list(a.shape)}"
        )


def _shape(a: np.ndarray) -> str:
    return "x".join(str(s) for s in a.shape) if a.ndim else "[]"


def _mismatch(op: str, a: np.ndarray, b: np.ndarray) -> RuntimeError:
    return RuntimeError(f"{op}(): shapes cannot be multiplied ({_shape(a)} and {_shape(b)})")


# ------------------------------------------------------------------ gradient building blocks


def sum_to_shape(t, shape):
    """Sum a broadcast gradient back to ``shape`` (leading dims away, size-1 dims kept)."""
    shape = tuple(shape)
    if tuple(t.shape) == shape:
        return t
    lead = t.dim() - len(shape)
    dims = list(range(lead)) + [
        lead + i for i, s in enumerate(shape) if s == 1 and t.shape[lead + i] != 1
    ]
    if dims:
        t = t.sum(dims, keepdim=True)
    return t.reshape(list(shape))


def _mT(t):
    return t.transpose(-1, -2)


def needs_input_grad(ctx, n: int) -> tuple:
    """Which of the op's first ``n`` parameters want a gradient (PyTorch's
    ``ctx.needs_input_grad``): a rule skips the products nobody reads, such as the input
    gradient of a network's first layer. A ctx that does not say wants them all."""
    flags = getattr(ctx, "needs_input_grad", None)
    return tuple(flags[:n]) if flags is not None else (True,) * n


def matmul_(a, b):
    # the registered op itself: resolving the overload cost as much as a small product
    return dispatch.bind(_MATMUL, a, b)


# ------------------------------------------------------------------ matmul family


def _matmul(a, b):
    check_same_dtype("matmul", ("self", a), ("other", b))
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul(): both arguments to matmul need to be at least 1D, "
            f"but they are {a.ndim}D and {b.ndim}D"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise _mismatch("matmul", a, b)
    try:
        out = stacked_matmul(a, b)
    except ValueError:
        raise _mismatch("matmul", a, b) from None
    return np.asarray(out, dtype=a.dtype)


def stacked_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul``, except that a stack of matrices times one matrix is a single GEMM.

    NumPy broadcasts the single matrix over the stack and leaves BLAS for that case: 5 to 15
    times slower than flattening the stack's leading dims, on (64, 128, 512) @ (512, 512)."""
    if a.ndim > 2 and b.ndim <= 2 and a.size:
        lead = a.shape[:-1]
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(lead + b.shape[1:])
    return np.matmul(a, b)


def _matmul_grad(ctx, g):
    a, b = ctx.args
    want_a, want_b = needs_input_grad(ctx, 2)
    ga = gb = None
    if a.dim() == 1 and b.dim() == 1:
        return (g * b if want_a else None), (g * a if want_b else None)
    if b.dim() == 1:
        if want_a:
            ga = sum_to_shape(g.unsqueeze(-1) * b, a.shape)  # (..., m, k)
        if want_b:
            gb = sum_to_shape(matmul_(_mT(a), g.unsqueeze(-1)).squeeze(-1), b.shape)
        return ga, gb
    if a.dim() == 1:
        if want_a:
            ga = sum_to_shape(matmul_(b, g.unsqueeze(-1)).squeeze(-1), a.shape)
        if want_b:
            gb = sum_to_shape(a.unsqueeze(-1) * g.unsqueeze(-2), b.shape)
        return ga, gb
    if a.dim() > 2 and b.dim() == 2:
        # one GEMM over the flattened stack instead of a batched product and a sum
        k, n = b.shape
        if want_b:
            gb = matmul_(a.reshape([-1, k]).t(), g.reshape([-1, n]))
        return (matmul_(g, _mT(b)) if want_a else None), gb
    if want_a:
        ga = sum_to_shape(matmul_(g, _mT(b)), a.shape)
    if want_b:
        gb = sum_to_shape(matmul_(_mT(a), g), b.shape)
    return ga, gb


_MATMUL = register(
    "matmul(Tensor self, Tensor other) -> Tensor",
    impl=_matmul,
    grad=_matmul_grad,
    method=True,
    namespaces=TORCH,
    doc="Matrix product with NumPy's rank rules (1-D dot, batched broadcasting).",
)


def _mm(a, b):
    check_same_dtype("mm", ("self", a), ("mat2", b))
    _check_dim("mm", "self", a, 2)
    _check_dim("mm", "mat2", b, 2)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mm(): mat1 and mat2 shapes cannot be multiplied ({_shape(a)} and {_shape(b)})"
        )
    return a @ b


def _mm_grad(ctx, g):
    a, b = ctx.args
    want_a, want_b = needs_input_grad(ctx, 2)
    return (matmul_(g, b.t()) if want_a else None), (matmul_(a.t(), g) if want_b else None)


register(
    "mm(Tensor self, Tensor mat2) -> Tensor", impl=_mm, grad=_mm_grad, method=True, namespaces=TORCH
)


def _bmm(a, b):
    check_same_dtype("bmm", ("self", a), ("mat2", b))
    _check_dim("bmm", "self", a, 3)
    _check_dim("bmm", "mat2", b, 3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"bmm(): batch1 and batch2 shapes cannot be multiplied "
            f"({list(a.shape)} and {list(b.shape)})"
        )
    return np.matmul(a, b)


def _bmm_grad(ctx, g):
    a, b = ctx.args
    want_a, want_b = needs_input_grad(ctx, 2)
    return (matmul_(g, _mT(b)) if want_a else None), (matmul_(_mT(a), g) if want_b else None)


register(
    "bmm(Tensor self, Tensor mat2) -> Tensor",
    impl=_bmm,
    grad=_bmm_grad,
    method=True,
    namespaces=TORCH,
)


def _mv(a, v):
    check_same_dtype("mv", ("self", a), ("vec", v))
    _check_dim("mv", "self", a, 2)
    _check_dim("mv", "vec", v, 1)
    if a.shape[1] != v.shape[0]:
        raise _mismatch("mv", a, v)
    return a @ v


def _mv_grad(ctx, g):
    a, v = ctx.args
    want_a, want_v = needs_input_grad(ctx, 2)
    return (g.unsqueeze(-1) * v if want_a else None), (matmul_(a.t(), g) if want_v else None)


register(
    "mv(Tensor self, Tensor vec) -> Tensor", impl=_mv, grad=_mv_grad, method=True, namespaces=TORCH
)


def _dot(a, b):
    check_same_dtype("dot", ("self", a), ("tensor", b))
    _check_dim("dot", "self", a, 1)
    _check_dim("dot", "tensor", b, 1)
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"dot(): inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
            f"[{b.shape[0]}] to have the same number of elements"
        )
    return np.asarray(np.dot(a, b), dtype=a.dtype)


def _dot_grad(ctx, g):
    a, b = ctx.args
    return g * b, g * a


register(
    "dot(Tensor self, Tensor tensor) -> Tensor",
    impl=_dot,
    grad=_dot_grad,
    method=True,
    namespaces=TORCH,
)


def _outer(a, b):
    check_same_dtype("outer", ("self", a), ("vec2", b))
    _check_dim("outer", "self", a, 1)
    _check_dim("outer", "vec2", b, 1)
    return np.multiply.outer(a, b)


def _outer_grad(ctx, g):
    a, b = ctx.args
    return matmul_(g, b), matmul_(g.t(), a)


register(
    "outer(Tensor self, Tensor vec2) -> Tensor",
    impl=_outer,
    grad=_outer_grad,
    method=True,
    namespaces=TORCH,
)
register(
    "ger(Tensor self, Tensor vec2) -> Tensor",
    impl=_outer,
    grad=_outer_grad,
    method=True,
    namespaces=TORCH,
)


def _scaled_sum(op, self, prod, beta, alpha):
    """beta * self + alpha * prod, where beta == 0 ignores self entirely (NaN included)."""
    if alpha != 1:
        prod = prod * np.asarray(alpha, dtype=prod.dtype)
    if beta == 0:
        return prod
    try:
        base = np.broadcast_to(self, prod.shape)
    except ValueError:
        raise RuntimeError(
            f"{op}(): self of shape {list(self.shape)} cannot be broadcast to "
            f"the product's shape {list(prod.shape)}"
        ) from None
    if beta != 1:
        base = base * np.asarray(beta, dtype=prod.dtype)
    return (base + prod).astype(prod.dtype, copy=False)


def _addmm(self, m1, m2, beta, alpha):
    check_same_dtype("addmm", ("self", self), ("mat1", m1), ("mat2", m2))
    return _scaled_sum("addmm", self, _mm(m1, m2), beta, alpha)


def _addmm_grad(ctx, g):
    self, m1, m2, beta, alpha = ctx.args
    want_self, want_m1, want_m2 = needs_input_grad(ctx, 3)
    g_self = None
    if want_self and beta != 0:
        g_self = sum_to_shape(g * beta if beta != 1 else g, self.shape)
    ga = g * alpha if alpha != 1 and (want_m1 or want_m2) else g
    return (g_self, matmul_(ga, m2.t()) if want_m1 else None,
            matmul_(m1.t(), ga) if want_m2 else None)


register(
    "addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) -> Tensor",
    impl=_addmm,
    grad=_addmm_grad,
    method=True,
    namespaces=TORCH,
)


def _baddbmm(self, b1, b2, beta, alpha):
    check_same_dtype("baddbmm", ("self", self), ("batch1", b1), ("batch2", b2))
    return _scaled_sum("baddbmm", self, _bmm(b1, b2), beta, alpha)


def _baddbmm_grad(ctx, g):
    self, b1, b2, beta, alpha = ctx.args
    want_self, want_b1, want_b2 = needs_input_grad(ctx, 3)
    g_self = None
    if want_self and beta != 0:
        g_self = sum_to_shape(g * beta if beta != 1 else g, self.shape)
    ga = g * alpha if alpha != 1 and (want_b1 or want_b2) else g
    return (g_self, matmul_(ga, _mT(b2)) if want_b1 else None,
            matmul_(_mT(b1), ga) if want_b2 else None)


register(
    "baddbmm(Tensor self, Tensor batch1, Tensor batch2, *, Scalar beta=1, Scalar alpha=1) -> "
    "Tensor",
    impl=_baddbmm,
    grad=_baddbmm_grad,
    method=True,
    namespaces=TORCH,
)


# ------------------------------------------------------------------ einsum

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def explicit_einsum(equation: str, ranks: list) -> tuple:
    """Rewrite an equation without ``...`` and with an explicit output, as PyTorch reads it:
    (list of operand subscripts, output subscripts)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise RuntimeError(
            f"einsum(): {len(terms)} operands in the equation, but {len(ranks)} were given"
        )
    used = {c for c in eq if c.isalpha()}
    free = [c for c in _LETTERS if c not in used]
    ell_rank = max(
        [r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t] or [0]
    )
    ell = "".join(free[:ell_rank])
    subs = []
    for t, r in zip(terms, ranks):
        if "..." in t:
            n = r - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_rank - n :] if n else "")
        if len(t) != r:
            raise RuntimeError(
                f"einsum(): the number of subscripts in '{t}' does not match the "
                f"operand's {r} dimensions"
            )
        subs.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts: dict = {}
        for t in subs:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    return subs, out


def _einsum(equation, tensors, path):
    if len(tensors) > 1:
        check_same_dtype("einsum", *[(f"operand {i}", t) for i, t in enumerate(tensors)])
    subs, out = explicit_einsum(equation, [t.ndim for t in tensors])
    eq = ",".join(subs) + "->" + out
    try:
        res = np.einsum(eq, *tensors, optimize=len(tensors) > 2)
    except ValueError as e:
        raise RuntimeError(
            f"einsum(): {e} (equation '{equation}', shapes {[list(t.shape) for t in tensors]})"
        ) from None
    return np.asarray(res, dtype=tensors[0].dtype if tensors else np.float32)


def _einsum_grad(ctx, g):
    equation, tensors, _ = ctx.args
    subs, out = explicit_einsum(equation, [t.dim() for t in tensors])
    grads = []
    for i, (s, t) in enumerate(zip(subs, tensors)):
        others = [x for j, x in enumerate(tensors) if j != i]
        other_subs = [x for j, x in enumerate(subs) if j != i]
        available = set(out).union(*other_subs) if other_subs else set(out)
        if len(set(s)) != len(s):
            raise NotImplementedError(
                f"einsum(): gradient of a repeated subscript in '{s}' (a diagonal)"
            )
        kept = "".join(c for c in s if c in available)
        eq_i = ",".join([out] + other_subs) + "->" + kept
        gi = dispatch.call("einsum", eq_i, [g] + others)
        if (
            kept != s
        ):  # subscripts summed only within this operand: the gradient is constant along them
            for axis, c in enumerate(s):
                if c not in available:
                    gi = gi.unsqueeze(axis)
            gi = gi.expand(list(t.shape))
        grads.append(gi)
    return None, grads


register(
    "einsum(str equation, Tensor[] tensors, *, int[]? path=None) -> Tensor",
    impl=_einsum,
    grad=_einsum_grad,
    namespaces=TORCH,
)


# ------------------------------------------------------------------ linear, bilinear


def _linear(x, w, b):
    check_same_dtype("linear", ("input", x), ("weight", w), ("bias", b))
    if w.ndim not in (1, 2):
        raise RuntimeError(f"linear(): weight must be 1D or 2D, got shape {list(w.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise RuntimeError(
            f"linear(): input and weight.T shapes cannot be multiplied "
            f"({_shape(x)} and {_shape(w.T)})"
        )
    out = np.asarray(stacked_matmul(x, w.T))
    if b is not None:
        out = (
            np.add(out, b, out=out)
            if out.shape == np.broadcast_shapes(out.shape, b.shape)
            else out + b
        )
    return np.asarray(out, dtype=x.dtype)


def _linear_grad(ctx, g):
    x, w, b = ctx.args
    want_x, want_w, want_b = needs_input_grad(ctx, 3)
    want_b = want_b and b is not None
    if w.dim() == 2 and (b is None or tuple(b.shape) == (w.shape[0],)):
        gx, gw, gb = dispatch.bind(_LINEAR_BACKWARD, g, x, w, want_x, want_w, want_b)
        return (gx if want_x else None), (gw if want_w else None), (gb if want_b else None)
    gx = gw = gb = None
    if w.dim() == 1:
        if want_x:
            gx = g.unsqueeze(-1) * w
        if want_w:
            gw = sum_to_shape(g.unsqueeze(-1) * x, w.shape)
        if want_b:
            gb = sum_to_shape(g, b.shape)
        return gx, gw, gb
    n_out, n_in = w.shape
    if want_x:
        gx = matmul_(g, w)
    # Batch dims flattened into one, skipped when there is only one: on a small layer each
    # op left out is a dispatch saved on every backward.
    g_rows = g if g.dim() == 2 else g.reshape([-1, n_out])
    if want_w:
        x_rows = x if x.dim() == 2 else x.reshape([-1, n_in])
        gw = matmul_(g_rows.t(), x_rows)
    if want_b:
        gb = g_rows.sum(0) if tuple(b.shape) == (n_out,) else sum_to_shape(g, b.shape)
    return gx, gw, gb


def _linear_backward(g, x, w, input_grad, weight_grad, bias_grad):
    """The gradients of ``linear`` with a 2-D weight and a 1-D bias (or none) in one dispatch
    instead of five (two products, a transpose, a reshape and a sum), which is most of a small
    layer's backward. A gradient not asked for is an empty placeholder."""
    n_out, n_in = w.shape
    g_rows = g.reshape(-1, n_out)
    gx = stacked_matmul(g, w) if input_grad else np.empty(0, g.dtype)
    gw = np.matmul(g_rows.T, x.reshape(-1, n_in)) if weight_grad else np.empty(0, g.dtype)
    gb = g_rows.sum(0) if bias_grad else np.empty(0, g.dtype)
    return gx, gw, gb


def _linear_backward_grad(ctx, ggx, ggw, ggb):
    """Second order: the gradients of (g @ w, g_rows.T @ x_rows, g_rows.sum(0))."""
    g, x, w, input_grad, weight_grad, bias_grad = ctx.args
    want_g, want_x, want_w = needs_input_grad(ctx, 3)
    n_out, n_in = w.shape
    g_rows = g.reshape([-1, n_out])
    gg = gx = gw = None
    if want_g:
        terms = []
        if input_grad:
            terms.append(matmul_(ggx, w.t()))
        if weight_grad:
            terms.append(matmul_(x.reshape([-1, n_in]), ggw.t()).reshape(list(g.shape)))
        if bias_grad:
            terms.append(ggb.expand(list(g.shape)))
        for term in terms:
            gg = term if gg is None else gg + term
    if want_x and weight_grad:
        gx = matmul_(g_rows, ggw).reshape(list(x.shape))
    if want_w and input_grad:
        gw = matmul_(g_rows.t(), ggx.reshape([-1, n_in]))
    return gg, gx, gw, None, None, None


_LINEAR_BACKWARD = register(
    "linear_backward(Tensor grad_output, Tensor input, Tensor weight, bool input_grad, "
    "bool weight_grad, bool bias_grad) -> (Tensor, Tensor, Tensor)",
    impl=_linear_backward,
    grad=_linear_backward_grad,
)


register(
    "linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor",
    impl=_linear,
    grad=_linear_grad,
    namespaces=TORCH_AND_F,
    doc="input @ weight.T + bias",
)


def _bilinear(x1, x2, w, b):
    check_same_dtype("bilinear", ("input1", x1), ("input2", x2), ("weight", w), ("bias", b))
    if (
        w.ndim != 3
        or x1.shape[-1] != w.shape[1]
        or x2.shape[-1] != w.shape[2]
        or x1.shape[:-1] != x2.shape[:-1]
    ):
        raise RuntimeError(
            f"bilinear(): incompatible shapes input1 {list(x1.shape)}, input2 "
            f"{list(x2.shape)}, weight {list(w.shape)}"
        )
    out = np.einsum("...i,oij,...j->...o", x1, w, x2, optimize=True)
    if b is not None:
        out = out + b
    return np.asarray(out, dtype=x1.dtype)


def _bilinear_grad(ctx, g):
    x1, x2, w, b = ctx.args
    want_1, want_2, want_w, want_b = needs_input_grad(ctx, 4)
    g1 = dispatch.call("einsum", "...o,oij,...j->...i", [g, w, x2]) if want_1 else None
    g2 = dispatch.call("einsum", "...o,oij,...i->...j", [g, w, x1]) if want_2 else None
    gw = dispatch.call("einsum", "...o,...i,...j->oij", [g, x1, x2]) if want_w else None
    gb = sum_to_shape(g, b.shape) if want_b and b is not None else None
    return g1, g2, gw, gb


register(
    "bilinear(Tensor input1, Tensor input2, Tensor weight, Tensor? bias=None) -> Tensor",
    impl=_bilinear,
    grad=_bilinear_grad,
    namespaces=TORCH_AND_F,
)


# ------------------------------------------------------------------ products and distances

def _float_result(*arrays):
    dt = np.result_type(*arrays)
    return dt if dt.kind == "f" else np.dtype(np.float32)


def _cross_dim(a, b, dim):
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"{a.ndim} and {b.ndim}")
    if dim is None:
        shape = np.broadcast_shapes(a.shape, b.shape)
        dims = [d for d, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        return dims[0]
    d = dim + a.ndim if dim < 0 else dim
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    return d


def _cross(a, b, dim):
    d = _cross_dim(a, b, dim)
    return np.asarray(np.cross(a, b, axis=d), dtype=np.result_type(a, b))


def _cross_grad(ctx, g):
    a, b, dim = ctx.args[0], ctx.args[1], ctx.args[2]
    d = _cross_dim(np.empty(a.shape), np.empty(b.shape), dim)
    return (dispatch.call("cross", b, g, d), dispatch.call("cross", g, a, d))


register("cross(Tensor self, Tensor other, int? dim=None) -> Tensor", impl=_cross,
         grad=_cross_grad, method=True, namespaces=(Namespace.TORCH,))
register("cross.linalg(Tensor self, Tensor other, int dim=-1) -> Tensor", impl=_cross,
         grad=_cross_grad, namespaces=(Namespace.LINALG,))


def _pnorm_grad(diff, dist, g, p):
    """d ||diff||_p / d diff, times ``g`` (both already broadcast), 0 where the norm is 0."""
    call = dispatch.call
    if p == 0:
        return diff * 0.0
    if p == 1:
        return g * diff.sign()
    if p == float("inf"):
        mask = diff.abs() == dist
        count = call("sum", mask, [-1], True)
        return g * diff.sign() * mask / count
    safe = call("masked_fill", dist, dist == 0, 1.0)
    if p == 2:
        return call("masked_fill", g * diff / safe, dist == 0, 0.0)
    return call("masked_fill", g * diff.sign() * diff.abs() ** (p - 1) / safe ** (p - 1),
                dist == 0, 0.0)


def _dist(a, b, p):
    diff = (a - b).astype(_float_result(a, b)).reshape(-1)
    return np.asarray(_pnorm_np(diff, p, -1), dtype=diff.dtype)


def _pnorm_np(d, p, axis):
    x = np.abs(d)
    if p == 0:
        return np.sum(x != 0, axis=axis).astype(d.dtype)
    if p == float("inf"):
        return np.max(x, axis=axis, initial=0)
    if p == 1:
        return np.sum(x, axis=axis)
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=axis))
    return np.sum(x ** p, axis=axis) ** (1.0 / p)


def _dist_grad(ctx, g):
    a, b, p = ctx.args[0], ctx.args[1], ctx.args[2]
    diff = (a - b).reshape([-1])
    gd = _pnorm_grad(diff, ctx.out, g, float(p)).reshape(list(diff.shape))
    full = dispatch.call("expand", dispatch.call("sub", a, b) * 0.0, list((a - b).shape))
    gd = gd.reshape(list(full.shape))
    return (gd, -gd)


register("dist(Tensor self, Tensor other, Scalar p=2) -> Tensor", impl=_dist, grad=_dist_grad,
         method=True, namespaces=(Namespace.TORCH,))


def _cdist(x1, x2, p, mode):
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    dt = _float_result(x1, x2)
    diff = x1[..., :, None, :].astype(dt) - x2[..., None, :, :].astype(dt)
    return np.ascontiguousarray(_pnorm_np(diff, p, -1), dtype=dt)


def _cdist_grad(ctx, g):
    x1, x2, p = ctx.args[0], ctx.args[1], float(ctx.args[2])
    call = dispatch.call
    diff = call("unsqueeze", x1, -2) - call("unsqueeze", x2, -3)
    gd = _pnorm_grad(diff, call("unsqueeze", ctx.out, -1), call("unsqueeze", g, -1), p)
    return (call("sum", gd, [-2]), -call("sum", gd, [-3]))


register("cdist(Tensor x1, Tensor x2, float p=2., int? compute_mode=None) -> Tensor",
         impl=_cdist, grad=_cdist_grad, namespaces=(Namespace.TORCH,))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _tensordot_dims(a_ndim, b_ndim, dims):
    if len(dims) == 1 and not isinstance(dims[0], list):
        n = dims[0]
        return list(range(a_ndim - n, a_ndim)), list(range(n))
    da, db = dims
    return [d % a_ndim for d in da], [d % b_ndim for d in db]


def _tensordot_equation(a_ndim, b_ndim, da, db):
    la = list(_LETTERS[:a_ndim])
    lb = list(_LETTERS[a_ndim:a_ndim + b_ndim])
    for i, j in zip(da, db):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in da] + [c for j, c in enumerate(lb)
                                                          if j not in db]
    return "".join(la), "".join(lb), "".join(out)


def _tensordot(a, b, dims_a, dims_b):
    return np.array(np.tensordot(a, b, axes=(dims_a, dims_b)),
                                dtype=np.result_type(a, b))


def _tensordot_grad(ctx, g):
    a, b, da, db = ctx.args[:4]
    na, nb = len(a.shape), len(b.shape)
    da, db = [d % na for d in da], [d % nb for d in db]
    ea, eb, eo = _tensordot_equation(na, nb, da, db)
    ga = dispatch.call("einsum", f"{eo},{eb}->{ea}", [g, b])
    gb = dispatch.call("einsum", f"{ea},{eo}->{eb}", [a, g])
    return (ga, gb)


register("tensordot(Tensor self, Tensor other, int[] dims_self, int[] dims_other) -> Tensor",
         impl=_tensordot, grad=_tensordot_grad, namespaces=(Namespace.TORCH,))


def _inner(a, b):
    return np.array(np.inner(a, b), dtype=np.result_type(a, b))


def _inner_grad(ctx, g):
    a, b = ctx.args[0], ctx.args[1]
    na, nb = len(a.shape), len(b.shape)
    if na == 0 or nb == 0:
        return (g * b, g * a)
    ea, eb, eo = _tensordot_equation(na, nb, [na - 1], [nb - 1])
    return (dispatch.call("einsum", f"{eo},{eb}->{ea}", [g, b]),
            dispatch.call("einsum", f"{ea},{eo}->{eb}", [a, g]))


register("inner(Tensor self, Tensor other) -> Tensor", impl=_inner, grad=_inner_grad,
         method=True, namespaces=(Namespace.TORCH,))


def _kron(a, b):
    return np.ascontiguousarray(np.kron(a, b), dtype=np.result_type(a, b))


def _kron_grad(ctx, g):
    a, b = ctx.args[0], ctx.args[1]
    sa, sb = list(a.shape), list(b.shape)
    n = max(len(sa), len(sb))
    sa, sb = [1] * (n - len(sa)) + sa, [1] * (n - len(sb)) + sb
    inter = []
    for x, y in zip(sa, sb):
        inter += [x, y]
    g4 = g.reshape(inter)
    la = "".join(_LETTERS[2 * i] for i in range(n))
    lb = "".join(_LETTERS[2 * i + 1] for i in range(n))
    lg = "".join(_LETTERS[i] for i in range(2 * n))
    ga = dispatch.call("einsum", f"{lg},{lb}->{la}", [g4, b.reshape(sb)]).reshape(list(a.shape))
    gb = dispatch.call("einsum", f"{lg},{la}->{lb}", [g4, a.reshape(sa)]).reshape(list(b.shape))
    return (ga, gb)


register("kron(Tensor self, Tensor other) -> Tensor", impl=_kron, grad=_kron_grad, method=True,
         namespaces=(Namespace.TORCH,))


def _tensordot_int(a, b, dims):
    if dims < 0 or dims > min(a.ndim, b.ndim):
        raise RuntimeError(f"tensordot expects dims >= 0 and <= the inputs' dimensions, got {dims}")
    return _tensordot(a, b, list(range(a.ndim - dims, a.ndim)), list(range(dims)))


def _tensordot_int_grad(ctx, g):
    a, b, n = ctx.args[:3]
    na = len(a.shape)

    class _Ctx:
        args = (a, b, list(range(na - n, na)), list(range(n)))
    return _tensordot_grad(_Ctx, g)


register("tensordot.int(Tensor self, Tensor other, int dims=2) -> Tensor", impl=_tensordot_int,
         grad=_tensordot_int_grad, namespaces=(Namespace.TORCH,))
