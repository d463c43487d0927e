"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder, with PyTorch's layouts."""
from __future__ import annotations

import copy
import math
from typing import Optional, Tuple

from ... import eager
from ...eager import Tensor
from .. import functional as F
from .. import init
from .activation import GELU, ReLU
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear, NonDynamicallyQuantizableLinear
from .module import Module, Parameter
from .normalization import LayerNorm


class MultiheadAttention(Module):
    """``softmax(Q K^T / sqrt(d) + mask) V`` over ``num_heads`` heads, then ``out_proj``.

    Inputs are ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``. The
    weights returned with ``need_weights`` are averaged over heads unless
    ``average_attn_weights=False``.
    """

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        dt = dtype if dtype is not None else eager.float32
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(eager.empty(embed_dim, embed_dim, dtype=dt))
            self.k_proj_weight = Parameter(eager.empty(embed_dim, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(eager.empty(embed_dim, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(eager.empty(3 * embed_dim, embed_dim, dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(eager.empty(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(eager.empty(1, 1, embed_dim, dtype=dt))
            self.bias_v = Parameter(eager.empty(1, 1, embed_dim, dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Optional[Tensor] = None, need_weights: bool = True,
                attn_mask: Optional[Tensor] = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        batched = query.dim() == 3
        if self.batch_first and batched:
            query = query.transpose(0, 1)
            key = key.transpose(0, 1)
            value = value.transpose(0, 1)
        if not batched:
            query = query.unsqueeze(1)
            key = key.unsqueeze(1)
            value = value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        tgt_len = query.shape[0]
        bsz = query.shape[1]
        embed_dim = query.shape[2]
        if embed_dim != self.embed_dim:
            raise AssertionError("query's embedding dimension differs from embed_dim")
        heads = self.num_heads
        head_dim = self.head_dim
        e = self.embed_dim

        in_proj_weight = self.in_proj_weight
        q_proj_weight = self.q_proj_weight
        k_proj_weight = self.k_proj_weight
        v_proj_weight = self.v_proj_weight
        if in_proj_weight is not None:
            w_q = in_proj_weight[:e]
            w_k = in_proj_weight[e:2 * e]
            w_v = in_proj_weight[2 * e:]
        elif q_proj_weight is not None and k_proj_weight is not None and \
                v_proj_weight is not None:
            w_q = q_proj_weight
            w_k = k_proj_weight
            w_v = v_proj_weight
        else:
            raise AssertionError("MultiheadAttention has no projection weights")
        b_q: Optional[Tensor] = None
        b_k: Optional[Tensor] = None
        b_v: Optional[Tensor] = None
        in_proj_bias = self.in_proj_bias
        if in_proj_bias is not None:
            b_q = in_proj_bias[:e]
            b_k = in_proj_bias[e:2 * e]
            b_v = in_proj_bias[2 * e:]
        q = F.linear(query, w_q, b_q)
        k = F.linear(key, w_k, b_k)
        v = F.linear(value, w_v, b_v)

        if is_causal and attn_mask is None:
            attn_mask = eager.ones([tgt_len, key.shape[0]], dtype=eager.bool).triu(1)
        bias_k = self.bias_k
        bias_v = self.bias_v
        if bias_k is not None and bias_v is not None:
            k = eager.cat([k, bias_k.expand([1, bsz, embed_dim])])
            v = eager.cat([v, bias_v.expand([1, bsz, embed_dim])])
            if attn_mask is not None:
                attn_mask = F.pad(attn_mask, [0, 1])
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, [0, 1])

        # (L, N, E) -> (N * H, L, head_dim)
        q = q.reshape([tgt_len, bsz * heads, head_dim]).transpose(0, 1)
        k = k.reshape([k.shape[0], bsz * heads, head_dim]).transpose(0, 1)
        v = v.reshape([v.shape[0], bsz * heads, head_dim]).transpose(0, 1)
        if self.add_zero_attn:
            zeros = eager.zeros([bsz * heads, 1, head_dim], dtype=q.dtype)
            k = eager.cat([k, zeros], 1)
            v = eager.cat([v, zeros], 1)
            if attn_mask is not None:
                attn_mask = F.pad(attn_mask, [0, 1])
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, [0, 1])
        src_len = k.shape[1]

        scores = eager.bmm(q * (1.0 / math.sqrt(head_dim)), k.transpose(1, 2))
        if attn_mask is not None:
            # True in a bool mask means "not attended"; a float mask is added.
            if attn_mask.dim() == 2:
                attn_mask = attn_mask.unsqueeze(0)
            if attn_mask.dtype != eager.bool:
                scores = scores + attn_mask
            else:
                scores = scores.masked_fill(attn_mask, float("-inf"))
        if key_padding_mask is not None:
            scores = scores.reshape([bsz, heads, tgt_len, src_len])
            padding = key_padding_mask.reshape([bsz, 1, 1, src_len])
            if padding.dtype != eager.bool:
                scores = scores + padding
            else:
                scores = scores.masked_fill(padding, float("-inf"))
            scores = scores.reshape([bsz * heads, tgt_len, src_len])
        weights = F.softmax(scores, -1)
        dropped = weights
        if self.training and self.dropout > 0.0:
            dropped = F.dropout(weights, self.dropout)
        out = eager.bmm(dropped, v)
        out = out.transpose(0, 1).reshape([tgt_len, bsz, embed_dim])
        out = self.out_proj(out)

        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape([bsz, heads, tgt_len, src_len])
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights


def _activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual and a LayerNorm (after the
    sum by default, before the block with ``norm_first``)."""

    __constants__ = ["norm_first"]

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation_relu_or_gelu = 1 if activation in ("relu", ReLU) or \
            isinstance(activation, ReLU) else 2 if activation == "gelu" or \
            isinstance(activation, GELU) else 0
        self.activation = _activation_fn(activation)

    def forward(self, src: Tensor, src_mask: Optional[Tensor] = None,
                src_key_padding_mask: Optional[Tensor] = None, is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Optional[Tensor],
                  key_padding_mask: Optional[Tensor], is_causal: bool = False) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer``, applied in turn, then ``norm``."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Optional[Module] = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Optional[Tensor] = None,
                src_key_padding_mask: Optional[Tensor] = None,
                is_causal: Optional[bool] = None) -> Tensor:
        out = src
        causal = False
        if is_causal is not None:
            causal = is_causal
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                        is_causal=causal)
        if self.norm is not None:
            out = self.norm(out)
        return out


__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder"]
