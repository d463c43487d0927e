"""The op registry and every op definition. Importing this package registers all ops."""
from . import registry
from .registry import bind, get, overloads, register

# Each module registers the ops of one family when imported.
from . import creation, elementwise, reductions, shape, indexing, linalg, nn  # noqa: E402,F401
from . import scalars, strings, containers, mathlib  # noqa: E402,F401
from . import autograd_ops, io  # noqa: E402,F401
