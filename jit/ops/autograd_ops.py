"""Autograd from script code: ``loss.backward()``, ``torch.autograd.grad``, ``x.grad``,
``x.requires_grad_()``, ``x.requires_grad``.

These ops act on Tensors themselves (their tape, their ``.grad``), not on arrays, so they are
registered with ``tensor_args=True``: the runtime hands them the Tensor objects unchanged and
returns what they return. The engine behind ``backward`` and ``grad`` lives in the runtime,
which installs it with :func:`install` (this layer never imports the runtime). They are tagged
``side_effect`` and ``needs_handler``, so no pass folds, merges, moves or removes them.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .registry import NONDIFFERENTIABLE, SIDE_EFFECT, register

_ENGINE: dict = {}

AUTOGRAD = "torch.autograd"


def install(backward: Callable, grad: Callable) -> None:
    """The runtime's ``autograd.backward(tensors, grad_tensors, retain_graph, create_graph)``
    and ``autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
    allow_unused)``."""
    _ENGINE["backward"] = backward
    _ENGINE["grad"] = grad


def _engine(name: str) -> Callable:
    fn = _ENGINE.get(name)
    if fn is None:
        raise RuntimeError(f"autograd.{name} needs the tensorscript runtime")
    return fn


def _backward(self, gradient, retain_graph, create_graph) -> None:
    _engine("backward")(self, gradient, retain_graph, create_graph)


def _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused) -> list:
    return list(_engine("grad")(outputs, inputs, grad_outputs, retain_graph, create_graph,
                                allow_unused))


def _get_grad(self) -> Optional[Any]:
    return self.grad


def _requires_grad_(self, requires_grad: bool) -> Any:
    return self.requires_grad_(requires_grad)


def _requires_grad(self) -> bool:
    return bool(self.requires_grad)


_TAGS = {SIDE_EFFECT, NONDIFFERENTIABLE}

register("backward(Tensor self, Tensor? gradient=None, bool? retain_graph=None, "
         "bool create_graph=False) -> ()", impl=_backward, tags=_TAGS, method=True,
         tensor_args=True, needs_handler=True,
         doc="Accumulate the gradient of this tensor into the leaves' .grad.")
register("grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? grad_outputs=None, "
         "bool? retain_graph=None, bool create_graph=False, bool allow_unused=False) -> Tensor?[]",
         impl=_grad, tags=_TAGS, namespaces=(AUTOGRAD,), tensor_args=True, needs_handler=True,
         doc="torch.autograd.grad: the gradients of outputs with respect to inputs.")
register("grad.property(Tensor self) -> Tensor?", impl=_get_grad, tags=_TAGS, property=True,
         tensor_args=True, needs_handler=True, doc="The gradient accumulated by backward().")
register("requires_grad_(Tensor self, bool requires_grad=True) -> Tensor", impl=_requires_grad_,
         tags=_TAGS, method=True, tensor_args=True, needs_handler=True)
register("requires_grad.property(Tensor self) -> bool", impl=_requires_grad, tags=_TAGS,
         property=True, tensor_args=True, needs_handler=True)

__all__ = ["install", "AUTOGRAD"]
