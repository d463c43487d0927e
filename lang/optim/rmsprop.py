"""RMSprop with momentum and the centered variant."""
from __future__ import annotations

from .. import eager
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """PyTorch's RMSprop: ``v = alpha v + (1-alpha) g^2``; centered subtracts the squared running
    mean of ``g``; ``p -= lr * g / (sqrt(v) + eps)``, through a momentum buffer when
    ``momentum > 0``."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with eager.no_grad():
            for group in self.param_groups:
                lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
                wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad if not group["maximize"] else -p.grad
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = eager.tensor(0.0, dtype=eager.float32)
                        state["square_avg"] = eager.zeros_like(p)
                        if momentum > 0:
                            state["momentum_buffer"] = eager.zeros_like(p)
                        if centered:
                            state["grad_avg"] = eager.zeros_like(p)
                    state["step"].add_(1)
                    if wd != 0:
                        grad = grad.add(p, alpha=wd)
                    square_avg = state["square_avg"]
                    # Scaled before the in-place ops: add_(x, alpha=a) builds a scaled copy and
                    # then copies the sum back, twice the memory traffic.
                    square_avg.mul_(alpha).add_(grad * grad * (1 - alpha))
                    if centered:
                        grad_avg = state["grad_avg"]
                        grad_avg.lerp_(grad, 1 - alpha)
                        avg = (square_avg - grad_avg * grad_avg).sqrt()
                    else:
                        avg = square_avg.sqrt()
                    avg = avg.add_(eps)
                    if momentum > 0:
                        buf = state["momentum_buffer"]
                        buf.mul_(momentum).add_(grad / avg)
                        p.sub_(buf * lr)
                    else:
                        p.sub_(grad / avg * lr)
        return loss


__all__ = ["RMSprop"]
