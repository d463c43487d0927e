"""What shape specialisation knows about a value, kept in ``Value.meta``.

- a tensor: ``TensorMeta(dtype, shape, requires_grad)``; ``dtype`` a ``DType`` (or None when
  unknown), ``shape`` a tuple of ints with ``None`` for a dimension only known at run time (or
  ``shape=None`` when even the rank is unknown), ``requires_grad`` a bool or None;
- a tuple of tensors (``max.dim``, ``split``): a Python tuple of ``TensorMeta`` (None for an
  element nothing is known about);
- anything else: None. Scalars become constants instead, so a known int is a ``prim::Constant``.

A graph whose inputs carry metas is a *specialised* graph: it is only valid for arguments that
match them, which the guard in ``jit.specialize`` checks on every call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .dtypes import DType


@dataclass(frozen=True)
class TensorMeta:
    dtype: Optional[DType]
    shape: Optional[tuple]
    requires_grad: Optional[bool] = None

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)

    @property
    def complete(self) -> bool:
        """Every size and the dtype known: enough to evaluate an op on a stand-in array."""
        return self.dtype is not None and self.shape is not None and None not in self.shape

    def __str__(self) -> str:
        dims = "?" if self.shape is None else ", ".join("?" if d is None else str(d) for d in self.shape)
        dtype = self.dtype.short if self.dtype is not None else "?"
        grad = ", requires_grad" if self.requires_grad else ""
        return f"{dtype}[{dims}]{grad}"


def tensor_meta(value) -> Optional[TensorMeta]:
    m = value.meta
    return m if isinstance(m, TensorMeta) else None


__all__ = ["TensorMeta", "tensor_meta"]
