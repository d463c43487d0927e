"""LSTM and GRU: multi-layer, optionally bidirectional, PyTorch's parameter layout and gates.

LSTM gates are stacked (i, f, g, o) in ``weight_ih_l{k}`` rows; GRU gates (r, z, n), with
``b_hn`` inside the reset product: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""
from __future__ import annotations

import math

from ... import eager
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
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    def _layer_params(self, layer: int, direction: int):
        suffix = "_reverse" if direction == 1 else ""
        w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
        if self.bias:
            return (w_ih, w_hh, getattr(self, f"bias_ih_l{layer}{suffix}"),
                    getattr(self, f"bias_hh_l{layer}{suffix}"))
        return w_ih, w_hh, None, None

    def _prepare(self, input, hx):
        """Time-major batched input, and whether to squeeze the batch back out."""
        batched = input.dim() == 3
        if not batched:
            if input.dim() != 2:
                raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                                 f"{input.dim()}D instead")
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        return input, batched

    def _zeros_state(self, batch: int, dtype):
        directions = 2 if self.bidirectional else 1
        return eager.zeros(self.num_layers * directions, batch, self.hidden_size, dtype=dtype)

    def _run(self, input, states: list) -> tuple:
        """Runs every layer and direction; ``states[i]`` is the per-cell state tuple for
        layer*directions+direction. Returns the output sequence and the final states."""
        directions = 2 if self.bidirectional else 1
        finals = []
        layer_input = input
        steps = input.shape[0]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
                # The input projection for all steps at once: one matmul instead of one per step.
                x_proj = F.linear(layer_input, w_ih, b_ih)
                state = states[layer * directions + direction]
                order = range(steps - 1, -1, -1) if direction == 1 else range(steps)
                step_out = [None] * steps
                for t in order:
                    state = self._cell(x_proj[t], state, w_hh, b_hh)
                    step_out[t] = state[0]
                outputs.append(eager.stack(step_out))
                finals.append(state)
            layer_input = outputs[0] if directions == 1 else eager.cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, finals

    def _finish(self, output, batched: bool):
        if not batched:
            return output.squeeze(1)
        if self.batch_first:
            return output.transpose(0, 1)
        return output

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

    @staticmethod
    def _cell(x_proj, state, w_hh, b_hh):
        h, c = state
        gates = x_proj + F.linear(h, w_hh, b_hh)
        i, f, g, o = gates.chunk(4, 1)
        c = eager.sigmoid(f) * c + eager.sigmoid(i) * eager.tanh(g)
        h = eager.sigmoid(o) * eager.tanh(c)
        return h, c

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        batch = input.shape[1]
        if hx is None:
            h0 = c0 = self._zeros_state(batch, input.dtype)
        else:
            h0, c0 = hx
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        states = [(h0[i], c0[i]) for i in range(h0.shape[0])]
        output, finals = self._run(input, states)
        h_n = eager.stack([s[0] for s in finals])
        c_n = eager.stack([s[1] for s in finals])
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, batched), (h_n, c_n)


class GRU(RNNBase):
    """Returns ``output, h_n``; ``h_n`` is ``(layers * directions, N, H)``."""

    _gates = 3

    @staticmethod
    def _cell(x_proj, state, w_hh, b_hh):
        (h,) = state
        h_proj = F.linear(h, w_hh, b_hh)
        x_r, x_z, x_n = x_proj.chunk(3, 1)
        h_r, h_z, h_n = h_proj.chunk(3, 1)
        r = eager.sigmoid(x_r + h_r)
        z = eager.sigmoid(x_z + h_z)
        n = eager.tanh(x_n + r * h_n)
        h = (1 - z) * n + z * h
        return (h,)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        batch = input.shape[1]
        if hx is None:
            hx = self._zeros_state(batch, input.dtype)
        elif not batched:
            hx = hx.unsqueeze(1)
        states = [(hx[i],) for i in range(hx.shape[0])]
        output, finals = self._run(input, states)
        h_n = eager.stack([s[0] for s in finals])
        if not batched:
            h_n = h_n.squeeze(1)
        return self._finish(output, batched), h_n


__all__ = ["LSTM", "GRU"]
