"""The exceptions users catch, gathered from the layers that raise them."""
from .parser.source import CompileError
from .interpreter.errors import ScriptError


class LoadError(Exception):
    """A saved archive could not be loaded: what is wrong with it is in the message."""


__all__ = ["CompileError", "ScriptError", "LoadError"]
