"""``ts.autograd``: ``grad``, ``backward``, ``gradcheck`` and the grad-mode switches."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .interpreter import runtime as _runtime
from .interpreter.autograd import (backward, enable_grad, grad, is_grad_enabled, no_grad,
                                   set_grad_enabled)


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree."""


def _tensors(inputs):
    if getattr(type(inputs), "_ts_tensor", False):
        return (inputs,)
    return tuple(inputs)


def _flat_outputs(out) -> list:
    if getattr(type(out), "_ts_tensor", False):
        return [out]
    return [o for o in out if getattr(type(o), "_ts_tensor", False)]


def _numerical_jacobian(fn: Callable, inputs: tuple, i: int, eps: float) -> list:
    """d(each output element)/d(input i element) by central differences, one column per element."""
    x = inputs[i]
    flat = x._data.reshape(-1) if x._data.flags.c_contiguous else None
    if flat is None:
        raise ValueError("gradcheck needs contiguous inputs")
    columns = []
    with no_grad():
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = [o._data.astype(np.float64).ravel().copy() for o in _flat_outputs(fn(*inputs))]
            flat[k] = orig - eps
            minus = [o._data.astype(np.float64).ravel().copy() for o in _flat_outputs(fn(*inputs))]
            flat[k] = orig
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    return columns


def gradcheck(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Compare autograd's gradients of ``fn`` at ``inputs`` with central finite differences.

    Inputs that require grad should be float64 (finite differences in float32 are too coarse).
    """
    inputs = _tensors(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if getattr(type(t), "_ts_tensor", False)
                and t.requires_grad]
    outputs = _flat_outputs(fn(*inputs))
    for out_i, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        n_out = out.numel()
        analytical = {i: np.zeros((inputs[i].numel(), n_out)) for i in diff_idx}
        for j in range(n_out):
            g = np.zeros(out._data.shape, dtype=out._data.dtype)
            g.reshape(-1)[j] = 1
            grads = grad([out], [inputs[i] for i in diff_idx], [_runtime.wrap(g)],
                         retain_graph=True, allow_unused=True)
            for i, gi in zip(diff_idx, grads):
                if gi is not None:
                    analytical[i][:, j] = gi._data.astype(np.float64).ravel()
        for i in diff_idx:
            cols = _numerical_jacobian(fn, inputs, i, eps)
            numerical = np.array([c[out_i] for c in cols]).reshape(inputs[i].numel(), n_out)
            if not np.allclose(analytical[i], numerical, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {out_i} with respect to input {i},\n"
                    f"numerical:{numerical}\nanalytical:{analytical[i]}\n")
    return True


__all__ = ["grad", "backward", "gradcheck", "GradcheckError", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled"]
