"""LSTM and GRU: multi-layer, optionally bidirectional, PyTorch's parameter layout and gates.

LSTM gates are stacked (i, f, g, o) in ``weight_ih_l{k}`` rows; GRU gates (r, z, n), with
``b_hn`` inside the reset product: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

from ... import eager
from ...eager import Tensor
from .. import functional as F
from .. import init
from .module import Module, Parameter


class RNNBase(Module):
    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        dt = dtype if dtype is not None else eager.float32
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        directions = 2 if bidirectional else 1
        gate_size = self._gates * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else hidden_size * directions
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(gate_size, layer_input), (gate_size, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(eager.empty(*shape, dtype=dt)))
                    self._flat_weights_names.append(name)
        # The parameters themselves (not copies), in flat order: forward indexes this list.
        self._weights = [getattr(self, name) for name in self._flat_weights_names]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        names = self.__dict__.get("_flat_weights_names")
        if names is not None and name in names and "_weights" in self.__dict__:
            self._weights = [getattr(self, n) for n in names]

    def _check_input(self, input: Tensor) -> None:
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError("RNN: Expected input to be 2D or 3D")
        if input.shape[-1] != self.input_size:
            raise RuntimeError("input.size(-1) must be equal to input_size")

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class LSTM(RNNBase):
    """Returns ``output, (h_n, c_n)``; ``h`` and ``c`` are ``(layers * directions, N, H)``."""

    _gates = 4

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.pop("proj_size", 0):
            raise NotImplementedError("LSTM with proj_size > 0 is not supported")
        super().__init__(*args, **kwargs)

    def forward(self, input: Tensor, hx: Optional[Tuple[Tensor, Tensor]] = None
                ) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        self._check_input(input)
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        if hx is None:
            h0 = eager.zeros([self.num_layers * directions, batch, self.hidden_size],
                             dtype=input.dtype)
            c0 = eager.zeros([self.num_layers * directions, batch, self.hidden_size],
                             dtype=input.dtype)
        else:
            h0 = hx[0]
            c0 = hx[1]
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1)
        per_cell = 4 if self.bias else 2
        weights = self._weights
        steps = input.shape[0]
        layer_input = input
        h_n: List[Tensor] = []
        c_n: List[Tensor] = []
        for layer in range(self.num_layers):
            outputs: List[Tensor] = []
            for direction in range(directions):
                cell = layer * directions + direction
                w_hh = weights[cell * per_cell + 1]
                b_ih: Optional[Tensor] = None
                b_hh: Optional[Tensor] = None
                if self.bias:
                    b_ih = weights[cell * per_cell + 2]
                    b_hh = weights[cell * per_cell + 3]
                # The input projection for all steps at once: one matmul instead of one per step.
                x_proj = F.linear(layer_input, weights[cell * per_cell], b_ih)
                h = h0[cell]
                c = c0[cell]
                step_out: List[Tensor] = []
                for s in range(steps):
                    t = steps - 1 - s if direction == 1 else s
                    gates = (x_proj[t] + F.linear(h, w_hh, b_hh)).chunk(4, 1)
                    c = eager.sigmoid(gates[1]) * c + eager.sigmoid(gates[0]) * eager.tanh(gates[2])
                    h = eager.sigmoid(gates[3]) * eager.tanh(c)
                    step_out.append(h)
                if direction == 1:
                    step_out.reverse()
                outputs.append(eager.stack(step_out))
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else eager.cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_out = eager.stack(h_n)
        c_out = eager.stack(c_n)
        if not batched:
            return layer_input.squeeze(1), (h_out.squeeze(1), c_out.squeeze(1))
        if self.batch_first:
            layer_input = layer_input.transpose(0, 1)
        return layer_input, (h_out, c_out)


class GRU(RNNBase):
    """Returns ``output, h_n``; ``h_n`` is ``(layers * directions, N, H)``."""

    _gates = 3

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        self._check_input(input)
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        if hx is None:
            h0 = eager.zeros([self.num_layers * directions, batch, self.hidden_size],
                             dtype=input.dtype)
        elif not batched:
            h0 = hx.unsqueeze(1)
        else:
            h0 = hx
        per_cell = 4 if self.bias else 2
        weights = self._weights
        steps = input.shape[0]
        layer_input = input
        h_n: List[Tensor] = []
        for layer in range(self.num_layers):
            outputs: List[Tensor] = []
            for direction in range(directions):
                cell = layer * directions + direction
                w_hh = weights[cell * per_cell + 1]
                b_ih: Optional[Tensor] = None
                b_hh: Optional[Tensor] = None
                if self.bias:
                    b_ih = weights[cell * per_cell + 2]
                    b_hh = weights[cell * per_cell + 3]
                x_proj = F.linear(layer_input, weights[cell * per_cell], b_ih)
                h = h0[cell]
                step_out: List[Tensor] = []
                for s in range(steps):
                    t = steps - 1 - s if direction == 1 else s
                    x_g = x_proj[t].chunk(3, 1)
                    h_g = F.linear(h, w_hh, b_hh).chunk(3, 1)
                    r = eager.sigmoid(x_g[0] + h_g[0])
                    z = eager.sigmoid(x_g[1] + h_g[1])
                    # b_hn stays inside the reset product: r * (W_hn h + b_hn).
                    n = eager.tanh(x_g[2] + r * h_g[2])
                    h = (1 - z) * n + z * h
                    step_out.append(h)
                if direction == 1:
                    step_out.reverse()
                outputs.append(eager.stack(step_out))
                h_n.append(h)
            layer_input = outputs[0] if directions == 1 else eager.cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_out = eager.stack(h_n)
        if not batched:
            return layer_input.squeeze(1), h_out.squeeze(1)
        if self.batch_first:
            layer_input = layer_input.transpose(0, 1)
        return layer_input, h_out


__all__ = ["LSTM", "GRU"]
