"""Grouped 2-D convolution by im2col + GEMM (1-D is the H=1 case).

The window view is a strided view of the padded input, so im2col costs one copy and the
multiply is one BLAS call per group. Layouts follow PyTorch: input (N, C, H, W), weight
(O, C/groups, KH, KW), output (N, O, OH, OW).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def out_size(size: int, kernel: int, stride: int, pads: tuple, dilation: int) -> int:
    """``pads`` is (before, after): "same" padding may be one larger after."""
    return (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


def _pad(x: np.ndarray, pads: tuple) -> np.ndarray:
    if not any(pads[0]) and not any(pads[1]):
        return x
    return np.pad(x, ((0, 0), (0, 0), tuple(pads[0]), tuple(pads[1])))


def _columns(xp: np.ndarray, kh: int, kw: int, oh: int, ow: int, stride, dilation) -> np.ndarray:
    """A (N, C, OH, OW, KH, KW) view: element [n, c, i, j, a, b] is the input tap under
    output (i, j) and kernel offset (a, b)."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return as_strided(
        xp,
        (n, c, oh, ow, kh, kw),
        (sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
        writeable=False,
    )


def _group_columns(cols: np.ndarray, g: int, cg: int) -> np.ndarray:
    """im2col for one group as a (Cg*KH*KW, N*OH*OW) matrix. Putting the output pixels last
    makes the copy stream along input rows, about 3x faster than pixels-first."""
    part = cols[:, g * cg : (g + 1) * cg]
    n, _, oh, ow, kh, kw = part.shape
    return part.transpose(1, 4, 5, 0, 2, 3).reshape(cg * kh * kw, n * oh * ow)


def conv2d_forward(x, w, stride, pads, dilation, groups):
    """``pads`` is ((top, bottom), (left, right))."""
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh = out_size(h, kh, stride[0], pads[0], dilation[0])
    ow = out_size(wd, kw, stride[1], pads[1], dilation[1])
    og = o // groups
    out = np.empty((n, o, oh, ow), dtype=x.dtype)
    if out.size == 0:
        return out
    if cg * kh * kw == 0:
        out.fill(0)
        return out
    cols = _columns(_pad(x, pads), kh, kw, oh, ow, stride, dilation)
    for g in range(groups):
        wg = w[g * og : (g + 1) * og].reshape(og, cg * kh * kw)
        res = wg @ _group_columns(cols, g, cg)  # (Og, N*OH*OW)
        out[:, g * og : (g + 1) * og] = res.reshape(og, n, oh, ow).transpose(1, 0, 2, 3)
    return out


def _grad_rows(gy: np.ndarray, g: int, og: int) -> np.ndarray:
    """One group's output gradient as (Og, N*OH*OW), matching :func:`_group_columns`."""
    part = gy[:, g * og : (g + 1) * og]
    n, _, oh, ow = part.shape
    return part.transpose(1, 0, 2, 3).reshape(og, n * oh * ow)


def conv2d_backward_input(gy, w, input_hw, stride, pads, dilation, groups):
    """d(conv)/d(input): one GEMM back to columns, then col2im as one strided add per tap."""
    n, o, oh, ow = gy.shape
    _, cg, kh, kw = w.shape
    h, wd = input_hw
    og = o // groups
    c = cg * groups
    (pt, pb), (pl, pr) = pads
    gxp = np.zeros((n, c, h + pt + pb, wd + pl + pr), dtype=gy.dtype)
    if gy.size and gxp.size:
        for g in range(groups):
            wg = w[g * og : (g + 1) * og].reshape(og, cg * kh * kw)
            dcols = (wg.T @ _grad_rows(gy, g, og)).reshape(cg, kh, kw, n, oh, ow)
            dst = gxp[:, g * cg : (g + 1) * cg]
            for a in range(kh):
                r0 = a * dilation[0]
                for b in range(kw):
                    c0 = b * dilation[1]
                    dst[
                        :,
                        :,
                        r0 : r0 + stride[0] * (oh - 1) + 1 : stride[0],
                        c0 : c0 + stride[1] * (ow - 1) + 1 : stride[1],
                    ] += dcols[:, a, b].transpose(1, 0, 2, 3)
    return gxp[:, :, pt : pt + h, pl : pl + wd]


def conv2d_backward_weight(gy, x, weight_shape, stride, pads, dilation, groups):
    _, o, oh, ow = gy.shape
    _, cg, kh, kw = weight_shape
    og = o // groups
    gw = np.zeros(tuple(weight_shape), dtype=gy.dtype)
    if gy.size == 0 or gw.size == 0:
        return gw
    cols = _columns(_pad(x, pads), kh, kw, oh, ow, stride, dilation)
    for g in range(groups):
        gw[g * og : (g + 1) * og] = (_grad_rows(gy, g, og) @ _group_columns(cols, g, cg).T).reshape(
            og, cg, kh, kw
        )
    return gw


def unfold(x, kernel, stride, pads, dilation):
    """im2col in PyTorch's ``F.unfold`` layout: (N, C*KH*KW, OH*OW)."""
    n, c, h, wd = x.shape
    kh, kw = kernel
    oh = out_size(h, kh, stride[0], pads[0], dilation[0])
    ow = out_size(wd, kw, stride[1], pads[1], dilation[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"unfold: the kernel {list(kernel)} does not fit the padded input {[h, wd]}"
        )
    cols = _columns(_pad(x, pads), kh, kw, oh, ow, stride, dilation)
    return cols.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def fold(cols, output_hw, kernel, stride, pads, dilation):
    """col2im, the adjoint of :func:`unfold`: overlapping patches are summed."""
    n, ck, length = cols.shape
    kh, kw = kernel
    h, wd = output_hw
    oh = out_size(h, kh, stride[0], pads[0], dilation[0])
    ow = out_size(wd, kw, stride[1], pads[1], dilation[1])
    if ck % (kh * kw) or oh * ow != length:
        raise ValueError(
            f"fold: expected input of shape (N, C*{kh * kw}, {oh * ow}), got {list(cols.shape)}"
        )
    c = ck // (kh * kw)
    (pt, pb), (pl, pr) = pads
    out = np.zeros((n, c, h + pt + pb, wd + pl + pr), dtype=cols.dtype)
    patches = cols.reshape(n, c, kh, kw, oh, ow)
    for a in range(kh):
        r0 = a * dilation[0]
        for b in range(kw):
            c0 = b * dilation[1]
            out[
                :,
                :,
                r0 : r0 + stride[0] * (oh - 1) + 1 : stride[0],
                c0 : c0 + stride[1] * (ow - 1) + 1 : stride[1],
            ] += patches[:, :, a, b]
    return out[:, :, pt : pt + h, pl : pl + wd]
