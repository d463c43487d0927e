"""The ``tensorscript`` command (also ``python -m tensorscript``).

    tensorscript run FILE [ARGS...]     compile FILE as a whole and run it
    tensorscript check FILE...          parse and type-check, print every error
    tensorscript graph FILE[:FUNC]      print the optimised IR of one function, or of all
    tensorscript trace FILE.py:FUNC --input SPEC ... -o OUT.py
                                        trace a Python function into a script file

``run`` compiles the whole file (imports, constants, functions, classes), then executes its
top-level statements in order. The program's arguments reach it through an entry function:
when the file defines ``main`` and its top-level statements do not call it themselves, it is
called after them, as ``main(argv)`` when declared ``def main(argv: List[str]) -> int`` (argv
holds the ARGS after FILE, without the program name) or as ``main()`` when it takes no
parameters. An ``int`` result is the exit status; ``None`` means 0. There is no ``sys.argv``.

Exit status: 0 on success; 1 when the program is rejected (the rendered CompileError) or fails
while running (the rendered ScriptError, with the script traceback), both on stderr; 2 for a
usage error (bad command line, unreadable file).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from .interpreter.errors import ScriptError
from .jit.ir import types as T
from .parser.source import CompileError

USAGE_ERROR = 2


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Usage(f"{self.format_usage()}{self.prog}: error: {message}")

    def exit(self, status=0, message=None):
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tensorscript", description="Run, check and inspect TensorScript programs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="compile a script file and run it")
    run.add_argument("file")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to main(argv)")
    check = sub.add_parser("check", help="parse and type-check files, printing every error")
    check.add_argument("files", nargs="+")
    graph = sub.add_parser("graph", help="print the IR of one function (FILE:FUNC) or of all")
    graph.add_argument("target", metavar="FILE[:FUNC]")
    graph.add_argument("--code", action="store_true", help="print the graph as script source")
    # The converter parses its own options; this entry only lists it in the help.
    sub.add_parser("trace", help="trace a Python function into a TensorScript file "
                                 "(see 'tensorscript trace --help')", add_help=False)
    return parser


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise _Usage(f"tensorscript: cannot read {path}: {exc.strerror or exc}") from None


def _compile(path: str):
    from .compiler import CompilationUnit

    return CompilationUnit(_read(path), name=path)


def _calls_main_at_top_level(cu) -> bool:
    from .parser import ast as A

    compiled = cu._compiled
    module = getattr(compiled.checked, "module", None) if compiled else None
    body = getattr(module, "body", None)
    if body is None:
        return False
    for stmt in body:
        if isinstance(stmt, (A.FunctionDef, A.ClassDef, A.Import, A.ImportFrom)):
            continue
        for node in A.walk(stmt):
            if isinstance(node, A.Name) and node.id == "main":
                return True
    return False


def _run(path: str, argv: list) -> int:
    cu = _compile(path)
    cu.run_main()
    entry = cu.find_function("main")
    if entry is None or _calls_main_at_top_level(cu):
        return 0
    params = entry._params
    if not params:
        result = entry()
    elif len(params) == 1 and params[0].type == T.ListType(T.StrType):
        result = entry(list(argv))
    else:
        raise _Usage(f"tensorscript: {path}: main must be declared 'def main(argv: List[str]) -> int' "
                     f"or 'def main() -> int', not {entry.schema}")
    if result is None:
        return 0
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    return 0


def _check(paths: Sequence[str]) -> int:
    from .typecheck.cli import check_files

    return int(check_files(list(paths)) or 0)


def _split_target(target: str) -> tuple[str, Optional[str]]:
    if ":" in target and not os.path.exists(target):
        path, func = target.rsplit(":", 1)
        if func.replace(".", "_").isidentifier():
            return path, func
    return target, None


def _graph(target: str, as_code: bool) -> int:
    path, func = _split_target(target)
    cu = _compile(path)
    graphs = cu.graphs
    if func is not None:
        if func not in graphs:
            known = ", ".join(sorted(graphs)) or "none"
            raise _Usage(f"tensorscript: {path} has no function '{func}' (functions: {known})")
        names = [func]
    else:
        names = list(graphs)
    for i, name in enumerate(names):
        if i:
            print()
        if as_code and cu.find_function(name) is not None:
            print(cu.get_function(name).code, end="")
        else:
            print(str(graphs[name]), end="")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["trace"]:
        from .trace_tool import main as trace_main

        return trace_main(argv[1:])
    parser = _build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # --help
            return int(exit_.code or 0)
        if args.command is None:
            raise _Usage(parser.format_usage().rstrip() + "\ntensorscript: error: a command is required "
                         "(run, check, graph or trace)")
        if args.command == "run":
            return _run(args.file, args.args)
        if args.command == "check":
            return _check(args.files)

        return _graph(args.target, args.code)
    except _Usage as usage:
        sys.stdout.flush()
        print(str(usage), file=sys.stderr)
        return USAGE_ERROR
    except (CompileError, ScriptError) as err:
        sys.stdout.flush()
        print(str(err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
