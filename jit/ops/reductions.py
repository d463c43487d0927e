"""Op definitions (see registry.py)."""
