"""The static type checker: AST to typed AST (see docs/internals.md and targets.py)."""

from .checker import MAX_DEPTH, CheckedModule, check_module

__all__ = ["check_module", "CheckedModule", "MAX_DEPTH"]
