"""Small NumPy references of the layers' forward passes (PyTorch's documented formulas)."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def conv2d(x, w, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, c, h, wd = x.shape
    oc, icg, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, oc, oh, ow), dtype=np.float64)
    ocg = oc // groups
    for o in range(oc):
        g = o // ocg
        for i in range(oh):
            for j in range(ow):
                patch = x[:, g * icg:(g + 1) * icg,
                          i * stride[0]:i * stride[0] + dilation[0] * (kh - 1) + 1:dilation[0],
                          j * stride[1]:j * stride[1] + dilation[1] * (kw - 1) + 1:dilation[1]]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def pool2d(x, k, s, reduce):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


def layer_norm(x, shape, w, b, eps):
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def group_norm(x, groups, w, b, eps):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    y = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    y = y.reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return y * w.reshape(shape) + b.reshape(shape)


def mha(q, k, v, w_q, w_k, w_v, b_in, w_o, b_o, heads, mask=None, kpm=None):
    """Unbatched-by-loop reference, ``(L, N, E)`` layout; masks are additive float arrays."""
    L, N, E = q.shape
    S = k.shape[0]
    d = E // heads
    bq, bk, bv = (b_in[:E], b_in[E:2 * E], b_in[2 * E:]) if b_in is not None else (0, 0, 0)
    out = np.zeros((L, N, E))
    weights = np.zeros((N, heads, L, S))
    for n in range(N):
        Q = q[:, n] @ w_q.T + bq
        K = k[:, n] @ w_k.T + bk
        V = v[:, n] @ w_v.T + bv
        heads_out = []
        for h in range(heads):
            sl = slice(h * d, (h + 1) * d)
            scores = Q[:, sl] @ K[:, sl].T / np.sqrt(d)
            if mask is not None:
                scores = scores + mask
            if kpm is not None:
                scores = scores + kpm[n][None, :]
            a = softmax(scores)
            weights[n, h] = a
            heads_out.append(a @ V[:, sl])
        out[:, n] = np.concatenate(heads_out, axis=1) @ w_o.T + b_o
    return out, weights


def lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse=False):
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    out = [None] * x.shape[0]
    H = h.shape[-1]
    for t in steps:
        gates = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out[t] = h
    return np.stack(out), h, c


def gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse=False):
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    out = [None] * x.shape[0]
    H = h.shape[-1]
    for t in steps:
        gi = x[t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * h
        out[t] = h
    return np.stack(out), h
