"""SGD with momentum, dampening, Nesterov momentum, weight decay and ``maximize``."""
from __future__ import annotations

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
                    if p.grad is None:
                        continue
                    g = p.grad if not group["maximize"] else -p.grad
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
                    # The same float32 rounding as p.add_(g, alpha=-lr), which goes through a
                    # scaled copy and a checked copy back: about twice the memory traffic.
                    p.sub_(g * lr)
        return loss


__all__ = ["SGD"]
