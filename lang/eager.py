"""The eager tensor library: filled from the op registry."""
__all__ = []
