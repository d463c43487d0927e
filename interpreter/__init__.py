"""The runtime: Tensor, eager dispatch through the op registry, eager autograd.

Importing it installs the runtime's handler as the registry's base handler.
"""
from ..jit import ops as _ops  # noqa: F401  registers every op before methods are generated
from . import autograd, runtime  # noqa: F401
from .tensor import Size, Tensor, device, install_methods  # noqa: F401
from .errors import ScriptError  # noqa: F401
from . import compiled_region  # noqa: F401  teaches the executor prim::CompiledRegion
from . import fusion  # noqa: F401  teaches the executor prim::FusionGroup
from . import differentiable_graph  # noqa: F401  teaches the executor prim::DifferentiableGraph
from . import memory  # noqa: F401  fused kernels' planned outputs from the caching allocator
