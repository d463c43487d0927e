"""``tensorscript check FILE...``: type-check script files without running them."""

from __future__ import annotations

import sys
from typing import Iterable, TextIO

from ..parser.source import CompileError


def check_files(paths: Iterable[str], out: TextIO | None = None) -> int:
    """Check each file; print every error (``file:line:col: error: ...`` with the source line)
    and a summary. Returns the exit status: 0 when every file checks, 1 otherwise."""
    from ..jit.ops import registry  # noqa: F401  importing the package registers every op
    from ..parser import parse_module
    from .checker import check_module

    out = out if out is not None else sys.stdout
    paths = list(paths)
    failed = 0
    errors = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            print(f"{path}: error: cannot read file: {e.strerror or e}", file=out)
            failed += 1
            errors += 1
            continue
        try:
            check_module(parse_module(text, name=path))
        except CompileError as e:
            print(e.render(), file=out)
            failed += 1
            errors += len(e.errors)
    if failed:
        print(
            f"Found {_plural(errors, 'error')} in {_plural(failed, 'file')} "
            f"(checked {_plural(len(paths), 'source file')})",
            file=out,
        )
        return 1
    print(
        f"Success: no issues found in {_plural(len(paths), 'source file')}",
        file=out,
    )
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
