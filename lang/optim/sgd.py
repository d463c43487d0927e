"""SGD with momentum, dampening, Nesterov momentum, weight decay and ``maximize``."""
from __future__ import annotations

import numpy as np

from .. import eager
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's update: ``g += wd * p``; ``buf = momentum * buf + (1 - dampening) * g`` (the
    first step takes ``buf = g``); ``g = g + momentum * buf`` (Nesterov) or ``g = buf``;
    ``p -= lr * g``."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with eager.no_grad():
            for group in self.param_groups:
                lr, momentum = group["lr"], group["momentum"]
                dampening, wd = group["dampening"], group["weight_decay"]
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if group["maximize"]:
                        g = -g
                    if wd != 0:
                        g = g.add(p, alpha=wd)
                    if momentum != 0:
                        state = self.state[p]
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = g.clone().detach()
                            state["momentum_buffer"] = buf
                        else:
                            buf.mul_(momentum).add_(g, alpha=1 - dampening)
                        g = g.add(buf, alpha=momentum) if group["nesterov"] else buf
                    _subtract_scaled(p, g, lr)
        return loss


# Elements per block of a large update: the scaled step stays in cache instead of making a
# whole extra pass over memory (written, then read back).
_BLOCK = 1 << 15


def _subtract_scaled(p, g, lr: float) -> None:
    """``p.sub_(g * lr)`` straight on the arrays: the same rounding in p's dtype as
    ``p.add_(g, alpha=-lr)`` (which goes through a scaled copy and a checked copy back, twice
    the memory traffic), without the two dispatches that dominate a small model's step. The
    version bump keeps the in-place checks of graphs that saved ``p``."""
    lr = float(lr)  # a Python float: the product stays in g's dtype
    data, grad = p._data, g._data
    if (data.size <= _BLOCK or data.shape != grad.shape or not data.flags.c_contiguous
            or not grad.flags.c_contiguous):
        np.subtract(data, np.multiply(grad, lr), out=data, casting="same_kind")
    else:
        flat, flat_grad = data.reshape(-1), grad.reshape(-1)
        scratch = np.empty(_BLOCK, dtype=grad.dtype)
        for start in range(0, flat.size, _BLOCK):
            block = flat[start:start + _BLOCK]
            step = np.multiply(flat_grad[start:start + _BLOCK], lr, out=scratch[:block.size])
            np.subtract(block, step, out=block, casting="same_kind")
    p._version[0] += 1


__all__ = ["SGD"]
