"""Source text, spans, and the compile-time error every front-end stage raises."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceFile:
    """A program text with the name used in messages (a path, or ``<string>``)."""

    text: str
    name: str = "<string>"
    line_offset: int = 0  # added to reported lines when the text was cut from a larger file

    def line(self, lineno: int) -> str:
        lines = self.text.split("\n")
        if 1 <= lineno <= len(lines):
            return lines[lineno - 1]
        return ""


@dataclass(frozen=True)
class Span:
    """Where a node came from: 1-based lines and columns, end exclusive."""

    source: SourceFile
    line: int
    col: int
    end_line: int
    end_col: int

    def __repr__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.col}"

    @property
    def location(self) -> str:
        return f"{self.source.name}:{self.line + self.source.line_offset}:{self.col}"

    def render_excerpt(self) -> str:
        """The source line with a caret under the span, as in the error format."""
        lineno = self.line + self.source.line_offset
        text = self.source.line(self.line).rstrip("\n")
        gutter = f"{lineno:>6} | "
        width = (self.end_col - self.col) if self.end_line == self.line else len(text) - self.col + 1
        width = max(1, width)
        marker = "^" + "~" * (width - 1)
        return f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {' ' * (self.col - 1)}{marker}"


class CompileError(Exception):
    """A program was rejected before running.

    ``lineno`` and ``col`` are 1-based and point at the first error; ``errors`` holds every
    independent error found, each a ``(message, span)`` pair, in source order.
    """

    def __init__(self, message: str, lineno: int = 1, col: int = 1, *,
                 span: Span | None = None, errors: list[tuple[str, Span | None]] | None = None,
                 code: str | None = None):
        self.message = message
        self.span = span
        self.code = code
        if span is not None:
            lineno, col = span.line + span.source.line_offset, span.col
        self.lineno = int(lineno)
        self.col = max(1, int(col))
        self.errors = errors if errors is not None else [(message, span)]
        super().__init__(self.render())

    @classmethod
    def at(cls, span: Span | None, message: str, code: str | None = None) -> "CompileError":
        if span is None:
            return cls(message, code=code)
        return cls(message, span=span, code=code)

    def render(self) -> str:
        parts = []
        for message, span in self.errors:
            if span is None:
                parts.append(f"error: {message}")
            else:
                parts.append(f"{span.location}: error: {message}\n{span.render_excerpt()}")
        return "\n".join(parts)
