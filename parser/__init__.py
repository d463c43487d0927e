"""The front end: TensorScript source text to AST, with spans and syntax errors."""
from . import ast
from .source import CompileError, SourceFile, Span

__all__ = ["ast", "parse_module", "parse_expression", "CompileError", "SourceFile", "Span"]

_PARSE_FUNCTIONS = ("parse_module", "parse_expression")


def __getattr__(name: str):
    # The parser loads with the first parse: the layers above import the AST and the error
    # types when tensorscript is imported, and a program may never parse anything.
    if name in _PARSE_FUNCTIONS:
        from . import parse
        return getattr(parse, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
