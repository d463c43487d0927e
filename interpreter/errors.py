"""Run-time failures of scripts."""
from __future__ import annotations


class ScriptError(RuntimeError):
    """A failure while a script ran.

    ``error_type`` is the name of the original exception (``IndexError``, ``ZeroDivisionError``,
    ``AssertionError``, ...), ``original`` the exception itself, and ``frames`` the script
    traceback as ``(location, source line)`` pairs, outermost call first.
    """

    def __init__(self, message: str, error_type: str = "RuntimeError", original: BaseException | None = None,
                 frames: list | None = None):
        self.message = message
        self.error_type = error_type
        self.original = original
        self.frames = frames or []
        super().__init__(self.render())

    def render(self) -> str:
        lines = []
        if self.frames:
            lines.append("Traceback of TensorScript (most recent call last):")
            for location, text in self.frames:
                lines.append(f"  {location}")
                if text:
                    lines.append(f"    {text.strip()}")
        lines.append(f"{self.error_type}: {self.message}")
        return "\n".join(lines)
