"""Adam (with L2 weight decay and AMSGrad) and AdamW (decoupled weight decay)."""
from __future__ import annotations

import math

from .. import eager
from .optimizer import Optimizer


def _check(lr, eps, betas, weight_decay) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """PyTorch's Adam: ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``,
    ``p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)`` (``v`` replaced by its running
    maximum with AMSGrad). The state's ``step`` is a float32 0-d tensor, as in PyTorch."""

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None) -> None:
        _check(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused)
        if self._decoupled:
            defaults["decoupled_weight_decay"] = True
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with eager.no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
                amsgrad = group["amsgrad"]
                decoupled = group.get("decoupled_weight_decay", False)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad if not group["maximize"] else -p.grad
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = eager.tensor(0.0, dtype=eager.float32)
                        state["exp_avg"] = eager.zeros_like(p)
                        state["exp_avg_sq"] = eager.zeros_like(p)
                        if amsgrad:
                            state["max_exp_avg_sq"] = eager.zeros_like(p)
                    state["step"].add_(1)
                    step = state["step"].item()
                    if wd != 0:
                        if decoupled:
                            p.mul_(1 - lr * wd)
                        else:
                            grad = grad.add(p, alpha=wd)
                    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                    exp_avg.lerp_(grad, 1 - beta1)
                    # Scaled before the in-place add: add_(x, alpha=a) builds a scaled copy
                    # and then copies the sum back, twice the memory traffic.
                    exp_avg_sq.mul_(beta2).add_(grad * grad * (1 - beta2))
                    bias_correction1 = 1 - beta1 ** step
                    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
                    step_size = lr / bias_correction1
                    if amsgrad:
                        max_sq = state["max_exp_avg_sq"]
                        max_sq.copy_(eager.maximum(max_sq, exp_avg_sq))
                        denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                    else:
                        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                    p.sub_(exp_avg / denom * step_size)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * wd`` before the Adam step."""

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, **kwargs) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **kwargs)


__all__ = ["Adam", "AdamW"]
