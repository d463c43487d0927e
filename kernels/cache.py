"""The on-disk kernel cache: generated kernel modules and their Numba machine code.

An entry is one Python module ``ts_<key>.py`` under ``<cache dir>/kernels``; ``key`` hashes the
kernel's source together with the tensorscript, Numba, NumPy and Python versions and the source
of ``fastmath.py`` (whose functions are inlined into every kernel, so a change there must not
load stale machine code). The module's kernel is compiled with ``cache=True``, so Numba keeps
the machine code in ``__pycache__`` next to it and a second process loads it instead of
compiling; the module is imported under its own name in ``sys.modules``, which Numba needs to
find the module again when it loads the machine code.

Cache directory: ``$TENSORSCRIPT_CACHE_DIR``, else ``$XDG_CACHE_HOME/tensorscript``, else
``~/.cache/tensorscript``; when none is writable, a temporary directory for this process.

Robustness:
- writes are atomic (a temporary file in the same directory, then ``os.replace``), so processes
  writing the same entry at once each leave a complete file;
- the first line of every entry is a checksum of the rest; an entry that fails it (garbage,
  truncation, an older format), or whose text differs from the source asked for, is rewritten;
- a module that fails to import or to compile has its Numba files removed and is compiled once
  more from a freshly written source before the error is raised.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable, Optional

import numba
from numba.core.typing.typeof import Purpose

FORMAT = "tensorscript-kernel-v1"
_lock = threading.Lock()
_loaded: dict = {}  # key -> module
_dir: Optional[Path] = None


def _versions() -> str:
    import numba
    import numpy

    try:
        from importlib.metadata import version
        ts_version = version("tensorscript")
    except Exception:
        ts_version = "dev"
    fastmath_src = (Path(__file__).parent / "fastmath.py").read_bytes()
    return "|".join([FORMAT, ts_version, numba.__version__, numpy.__version__,
                     sys.version.split()[0], hashlib.sha256(fastmath_src).hexdigest()])


_VERSIONS: Optional[str] = None


def cache_dir() -> Path:
    """The directory entries live in (created on first use)."""
    global _dir
    env = os.environ.get("TENSORSCRIPT_CACHE_DIR")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "tensorscript" if xdg else Path.home() / ".cache" / "tensorscript"
    path = base / "kernels"
    if _dir is not None and _dir == path:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        path = Path(tempfile.mkdtemp(prefix="tensorscript-kernels-"))
    _dir = path
    return path


def entry_key(source: str) -> str:
    global _VERSIONS
    if _VERSIONS is None:
        _VERSIONS = _versions()
    return hashlib.sha256((_VERSIONS + "\n" + source).encode()).hexdigest()[:40]


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _render(body: str) -> str:
    return f"# {FORMAT} sha256={_checksum(body)}\n{body}"


def read_valid(path: Path, body: str) -> bool:
    """Whether the file at ``path`` is an intact entry holding exactly ``body``."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    first, _, rest = text.partition("\n")
    return first == f"# {FORMAT} sha256={_checksum(rest)}" and rest == body


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _drop_numba_files(path: Path) -> None:
    pycache = path.parent / "__pycache__"
    if not pycache.is_dir():
        return
    for f in pycache.glob(f"{path.stem}.*"):
        try:
            f.unlink()
        except OSError:
            pass


def _import(path: Path, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # Numba's cached machine code names its globals by module name and imports that name when
    # it loads; a module missing from sys.modules is stored as "<dynamic>" and never loads again.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def load_module(source: str):
    """The module for ``source``, from the cache when a valid entry exists."""
    key = entry_key(source)
    module = _loaded.get(key)
    if module is not None:
        return module
    with _lock:
        module = _loaded.get(key)
        if module is not None:
            return module
        path = cache_dir() / f"ts_{key}.py"
        if not read_valid(path, source):
            _drop_numba_files(path)
            write_atomic(path, _render(source))
        try:
            module = _import(path, f"_tensorscript_kernels.ts_{key}")
        except Exception:
            _drop_numba_files(path)
            write_atomic(path, _render(source))
            module = _import(path, f"_tensorscript_kernels.ts_{key}")
        module.__ts_cache_path__ = path
        _loaded[key] = module
        return module


def compile_kernel(source: str, name: str, args: tuple) -> Callable:
    """The machine code of ``name`` in the module for ``source`` for the types of ``args``,
    loaded from Numba's cache or compiled and stored (nothing runs).

    The result is the compiled entry itself: calling it skips the dispatcher's typing of every
    argument, so a caller must pass arguments of exactly these types (array dtype, rank and
    layout, scalar kinds); a read-only array may stand where ``args`` had a writable one."""
    types = tuple(numba.typeof(a, Purpose.argument) for a in args)
    module = load_module(source)
    try:
        return getattr(module, name).compile(types)
    except Exception:
        # a damaged Numba index or object file: forget it and compile from scratch once
        path = module.__ts_cache_path__
        with _lock:
            _loaded.pop(entry_key(source), None)
            _drop_numba_files(path)
            write_atomic(path, _render(source))
        module = load_module(source)
        return getattr(module, name).compile(types)


def clear_memory() -> None:
    """Forget the modules loaded in this process (the files stay)."""
    _loaded.clear()


__all__ = ["cache_dir", "entry_key", "load_module", "compile_kernel", "read_valid",
           "write_atomic", "clear_memory", "FORMAT"]
