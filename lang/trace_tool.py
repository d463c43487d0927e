"""``tensorscript trace FILE.py:FUNC --input SPEC ... -o OUT.py``: Python to TensorScript.

Imports FILE.py as a Python module with ``torch`` meaning tensorscript: for the duration of the
import only, ``sys.modules`` maps ``torch``, ``torch.nn`` and ``torch.nn.functional`` to
tensorscript's (whatever was there before is put back afterwards), so ``import torch`` and
``import torch.nn.functional as F`` in the file bind tensorscript. Then it builds one random
input per ``--input`` (seeded), traces FUNC on them with ``ts.trace``, checks that the printed
script compiles, and writes it with a header saying what it was traced from.

An input spec is ``DTYPE[D0,D1,...]`` (``float32[8,16]``, ``int64[8]``, ``float32[]`` for a
0-d tensor). Floats are drawn from a standard normal, ints uniformly from ``--int-range``
(``LO:HI``, HI excluded), bools as fair coins.

Exit status: 0 when the script was written, 1 when the file could not be imported, traced or
its trace did not compile (the reason on stderr), 2 for a usage error.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import warnings
from typing import Optional, Sequence

import numpy as np

USAGE_ERROR = 2
FAILURE = 1

_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
           "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8,
           "uint8": np.uint8, "bool": np.bool_}
_SPEC = re.compile(r"\s*([a-z0-9]+)\s*\[\s*([0-9,\s]*)\]\s*")


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Usage(f"{self.format_usage()}{self.prog}: error: {message}")


def parse_spec(text: str) -> tuple:
    """``'float32[8,16]'`` -> ``('float32', (8, 16))``."""
    m = _SPEC.fullmatch(text)
    if not m or m.group(1) not in _DTYPES:
        raise _Usage(f"tensorscript trace: bad --input {text!r}: expected DTYPE[D0,D1,...] with "
                     f"DTYPE one of {', '.join(_DTYPES)}")
    dims = [d.strip() for d in m.group(2).split(",") if d.strip()]
    return m.group(1), tuple(int(d) for d in dims)


def make_input(spec: tuple, rng: np.random.Generator, int_range: tuple):
    import tensorscript as ts

    name, shape = spec
    np_dtype = _DTYPES[name]
    if name == "bool":
        arr = rng.random(shape) < 0.5
    elif np.issubdtype(np_dtype, np.integer):
        arr = rng.integers(int_range[0], int_range[1], size=shape).astype(np_dtype)
    else:
        arr = rng.standard_normal(shape).astype(np_dtype)
    return ts.tensor(np.asarray(arr), dtype=getattr(ts, name))


def _torch_aliases() -> dict:
    import tensorscript as ts
    return {"torch": ts, "torch.nn": ts.nn, "torch.nn.functional": ts.nn.functional}


def import_with_torch(path: str):
    """Import ``path`` as a fresh module with ``torch`` bound to tensorscript during the import."""
    aliases = _torch_aliases()
    saved = {name: sys.modules.get(name) for name in aliases}
    mod_name = "_tensorscript_traced_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    module.torch = aliases["torch"]
    sys.modules.update(aliases)
    sys.modules[mod_name] = module  # what dataclasses and typing look up while it runs
    try:
        spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return module


def header(source: str, func: str, specs: Sequence[str], seed: int, int_range: tuple) -> str:
    lines = [
        f"# Traced by `tensorscript trace` from {source}:{func}",
        f"# on inputs {', '.join(specs)} (seed {seed}, ints in [{int_range[0]}, {int_range[1]})).",
        "# Python control flow ran once, on those inputs: loops are unrolled and only the",
        "# branches taken are kept; values read from tensors are constants.",
        "import torch",
        "from typing import List, Dict, Tuple, Optional",
        "",
        "",
    ]
    return "\n".join(lines)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tensorscript trace",
                description="Trace a Python function on random inputs and write it as a "
                            "TensorScript file.")
    p.add_argument("target", metavar="FILE.py:FUNC")
    p.add_argument("--input", "-i", action="append", default=[], metavar="SPEC",
                   help="one example input, DTYPE[D0,D1,...]; repeat for each argument")
    p.add_argument("-o", "--output", required=True, help="the script file to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--int-range", default="0:10", metavar="LO:HI",
                   help="range of random ints (HI excluded), default 0:10")
    return p


def _parse_range(text: str) -> tuple:
    m = re.fullmatch(r"\s*(-?\d+)\s*:\s*(-?\d+)\s*", text)
    if not m or int(m.group(1)) >= int(m.group(2)):
        raise _Usage(f"tensorscript trace: bad --int-range {text!r}: expected LO:HI with LO < HI")
    return int(m.group(1)), int(m.group(2))


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = _build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        path, sep, func = args.target.rpartition(":")
        if not sep or not path or not func:
            raise _Usage(f"tensorscript trace: expected FILE.py:FUNC, got {args.target!r}")
        specs = [parse_spec(s) for s in args.input]
        int_range = _parse_range(args.int_range)
        if not os.path.isfile(path):
            raise _Usage(f"tensorscript trace: no such file: {path}")
    except _Usage as exc:
        print(str(exc), file=sys.stderr)
        return USAGE_ERROR
    import tensorscript as ts
    from .tracing import TracingError

    try:
        module = import_with_torch(path)
    except Exception as exc:
        print(f"tensorscript trace: importing {path} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return FAILURE
    fn = getattr(module, func, None)
    if not callable(fn):
        print(f"tensorscript trace: {path} defines no function {func!r}", file=sys.stderr)
        return FAILURE
    rng = np.random.default_rng(args.seed)
    inputs = tuple(make_input(s, rng, int_range) for s in specs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ts.TracerWarning)
            traced = ts.trace(fn, inputs)
        code = traced.code
    except (TracingError, ts.CompileError) as exc:
        print(f"tensorscript trace: tracing {func} failed: {exc}", file=sys.stderr)
        return FAILURE
    except Exception as exc:
        print(f"tensorscript trace: tracing {func} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return FAILURE
    text = header(path, func, args.input, args.seed, int_range) + code
    try:
        ts.CompilationUnit(text, name=args.output)
    except ts.CompileError as exc:
        print(f"tensorscript trace: the traced script does not compile:\n{exc}", file=sys.stderr)
        return FAILURE
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        print(f"tensorscript trace: cannot write {args.output}: {exc.strerror or exc}",
              file=sys.stderr)
        return FAILURE
    return 0


__all__ = ["main", "parse_spec", "make_input", "import_with_torch"]
