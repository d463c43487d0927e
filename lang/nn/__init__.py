"""tensorscript.nn: modules and the functional API."""

from . import functional  # noqa: F401
