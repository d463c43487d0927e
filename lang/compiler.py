"""script, CompilationUnit, trace and the torch.jit names."""
__all__ = []
