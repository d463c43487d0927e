"""``tensorscript check FILE...``: type-check script files without running them."""
from __future__ import annotations

import sys
from typing import Iterable, TextIO

from ..parser.source import CompileError


def check_files(paths: Iterable[str], out: TextIO | None = None) -> int:
    """Check each file; print every error (``file:line:col: error: ...`` with the source line)
    and a summary. Returns the exit status: 0 when every file checks, 1 otherwise."""
    from .. import jit  # noqa: F401  registers the ops the checker resolves against
    from ..jit import ops  # noqa: F401
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
        print(f"Found {errors} error{'s' if errors != 1 else ''} in {failed} file{'s' if failed != 1 else ''} "
              f"(checked {len(paths)} source file{'s' if len(paths) != 1 else ''})", file=out)
        return 1
    print(f"Success: no issues found in {len(paths)} source file{'s' if len(paths) != 1 else ''}", file=out)
    return 0
