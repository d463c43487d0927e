"""The front end: TensorScript source text to AST, with spans and syntax errors."""
from . import ast
from .parse import parse_expression, parse_module
from .source import CompileError, SourceFile, Span

__all__ = ["ast", "parse_module", "parse_expression", "CompileError", "SourceFile", "Span"]
