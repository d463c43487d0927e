"""tensorscript.nn: modules and the functional API."""

from . import functional  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Buffer, Module, Parameter  # noqa: F401
from . import init, utils  # noqa: F401
