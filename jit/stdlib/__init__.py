"""Composite ops written in TensorScript: the decompositions ``decompose_composites`` inlines.

``DECOMPOSITIONS`` maps an op's qualified name to its candidates ``(module, function,
required)``: the function in ``jit/stdlib/<module>.py`` that computes it from primitives, and
the arguments that must be these constants for it to apply (they are not passed to it; the
others are, in schema order). The first candidate that matches is used; an op with none keeps
its kernel.
"""

DECOMPOSITIONS = {
    "softmax.int": [("activations", "softmax", {"dtype": None})],
    "log_softmax.int": [("activations", "log_softmax", {"dtype": None})],
    "silu": [("activations", "silu", {})],
    "gelu": [("activations", "gelu", {"approximate": "none"}),
             ("activations", "gelu_tanh", {"approximate": "tanh"})],
}

__all__ = ["DECOMPOSITIONS"]
