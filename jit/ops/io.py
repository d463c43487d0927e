"""Saving and loading weights from script code: ``torch.save(weights, path)`` and
``torch.load(path)`` on ``Dict[str, Tensor]``, in the safetensors format; and
``time.perf_counter()`` for timing a script.

Nothing is pickled and nothing read from disk runs: ``torch.load`` validates the file as
strictly as ``ts.load_safetensors`` (header, dtypes, shapes, offsets) and returns the tensors.
The reader and writer live in the public layer, which installs them with :func:`install`.
"""
from __future__ import annotations

import time as _time
from typing import Callable

from .registry import SIDE_EFFECT, Namespace, register

_IMPL: dict = {}


def install(save: Callable, load: Callable) -> None:
    """``save(tensors: dict, path: str)`` and ``load(path: str) -> dict``."""
    _IMPL["save"] = save
    _IMPL["load"] = load


def _impl(name: str) -> Callable:
    fn = _IMPL.get(name)
    if fn is None:
        raise RuntimeError(f"torch.{name} needs the tensorscript library (import tensorscript)")
    return fn


def _save(obj: dict, path: str) -> None:
    _impl("save")(dict(obj), path)


def _load(path: str) -> dict:
    return dict(_impl("load")(path))


register("save(Dict(str, Tensor) obj, str f) -> ()", impl=_save, tags={SIDE_EFFECT},
         namespaces=(Namespace.TORCH,), needs_handler=True,
         doc="Write a dict of tensors to a safetensors file.")
register("load(str f) -> Dict(str, Tensor)", impl=_load, tags={SIDE_EFFECT},
         namespaces=(Namespace.TORCH,), needs_handler=True,
         doc="Read a safetensors file (validated; nothing in it runs) into a dict of tensors.")



def _perf_counter() -> float:
    return _time.perf_counter()


register("perf_counter() -> float", impl=_perf_counter, tags={SIDE_EFFECT}, namespaces=("time",),
         needs_handler=True, doc="time.perf_counter(): seconds on a monotonic clock.")

__all__ = ["install"]
