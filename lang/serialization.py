"""``ts.save`` / ``ts.load``: compiled programs as zip archives that load without running code.

An archive is a zip file with exactly these members::

    meta.json               format version, tensorscript version, kind, entry points + schemas,
                            source members in compile order, tensor constants (dtype, shape)
    code/<name>.py          TensorScript source, compiled again (parsed, type-checked) on load
    constants.safetensors   the tensor constants, in the safetensors format

Kinds: ``function`` (a ScriptFunction), ``compilation_unit``, ``traced_function`` and
``module`` (a ScriptModule from ``ts.script(module)``, a traced module from
``ts.trace(module, ...)``, or a module loaded back). A module's archive holds its script
classes as code, its parameters, buffers and tensor attributes in ``constants.safetensors``
under their ``state_dict`` names (``fc1.weight``), and in meta.json a ``module`` entry
describing the tree: per module its script class, ``training`` flag, parameters
(``requires_grad``), buffers (``persistent``), tensor attributes, plain attributes (ints,
floats, bools, strings, lists and str-keyed dicts of them) and children. On load the
description must account for every attribute the code's classes declare, with matching types,
and every stored tensor must be used by exactly the names the description gives. Loading is safe by construction:
nothing in an archive is ever handed to Python (no pickle, no eval, no import); the code is
TensorScript, which can only compute and print, and it is compiled, not run. Every member is
read in memory, never extracted. Anything wrong with an archive is a :class:`LoadError` that
says what is wrong.
"""
from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
from typing import Any, Optional

import numpy as np

from .errors import CompileError, LoadError

FORMAT = "tensorscript.archive"
FORMAT_VERSION = 1

META = "meta.json"
CONSTANTS = "constants.safetensors"
CODE_DIR = "code/"

MAX_MEMBERS = 64
MAX_META_BYTES = 1 << 20
MAX_CODE_BYTES = 16 << 20
MAX_CONSTANTS_BYTES = 4 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200  # uncompressed / compressed, for members big enough to matter
RATIO_FLOOR = 1 << 20
MAX_SAFETENSORS_HEADER = 16 << 20
MAX_TENSORS = 100_000

_CODE_NAME = re.compile(r"code/[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*\.py")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
KINDS = ("function", "compilation_unit", "traced_function", "module")
MAX_MODULE_DEPTH = 64

# safetensors dtype codes <-> NumPy
_ST_TO_NP = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
             "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
             "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_ST_UNSUPPORTED = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "C64"}
_ST_ITEMSIZE = {"BF16": 2}
_NP_TO_ST = {np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
             np.dtype(np.int16): "I16", np.dtype(np.int32): "I32", np.dtype(np.int64): "I64",
             np.dtype(np.float16): "F16", np.dtype(np.float32): "F32",
             np.dtype(np.float64): "F64"}


def _version() -> str:
    from . import __version__
    return __version__


# ------------------------------------------------------------------ safetensors

def _as_array(t) -> np.ndarray:
    data = getattr(t, "_data", None)
    arr = np.asarray(data if data is not None else t)
    if arr.dtype not in _NP_TO_ST:
        raise TypeError(f"cannot store a tensor of dtype {arr.dtype} in safetensors")
    return np.ascontiguousarray(arr)


def safetensors_bytes(tensors: dict, metadata: Optional[dict] = None) -> bytes:
    """``tensors`` (name -> Tensor or ndarray) in the safetensors format."""
    from safetensors.numpy import save as st_save

    arrays = {}
    for name, t in tensors.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"safetensors names are non-empty strings, got {name!r}")
        arrays[name] = _as_array(t)
    return st_save(arrays, metadata=metadata)


def save_safetensors(tensors: dict, path) -> None:
    """Write ``tensors`` (name -> Tensor) to ``path`` as a safetensors file."""
    data = safetensors_bytes(tensors)
    with open(os.fspath(path), "wb") as fh:
        fh.write(data)


def parse_safetensors(data: bytes, what: str = "safetensors data") -> tuple:
    """Validate and decode safetensors bytes: ``({name: ndarray}, {name: (code, shape)}, metadata)``.

    Checks the header length, that the header is a JSON object within size limits, every
    entry's dtype, shape and offsets, that offsets neither overlap nor leave holes nor run past
    the data, and that each tensor's byte count is its shape's element count times its dtype's
    item size.
    """
    n = len(data)
    if n < 8:
        raise LoadError(f"{what}: truncated ({n} bytes; the 8-byte header length is missing)")
    (hlen,) = struct.unpack("<Q", data[:8])
    if hlen > MAX_SAFETENSORS_HEADER:
        raise LoadError(f"{what}: header length {hlen} is larger than the limit "
                        f"({MAX_SAFETENSORS_HEADER} bytes)")
    if 8 + hlen > n:
        raise LoadError(f"{what}: header length {hlen} runs past the end of the data "
                        f"({n} bytes)")
    raw = data[8:8 + hlen]
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except LoadError as exc:
        raise LoadError(f"{what}: header {exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LoadError(f"{what}: header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise LoadError(f"{what}: header is not a JSON object")
    buffer = memoryview(data)[8 + hlen:]
    metadata = header.pop("__metadata__", None)
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise LoadError(f"{what}: __metadata__ must map strings to strings")
    if len(header) > MAX_TENSORS:
        raise LoadError(f"{what}: {len(header)} tensors is more than the limit ({MAX_TENSORS})")
    spans = []
    infos = {}
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise LoadError(f"{what}: tensor {name!r}: an entry needs exactly dtype, shape and "
                            "data_offsets")
        code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(code, str) or (code not in _ST_TO_NP and code not in _ST_ITEMSIZE):
            if isinstance(code, str) and code in _ST_UNSUPPORTED:
                raise LoadError(f"{what}: tensor {name!r}: dtype {code} is not supported by "
                                "tensorscript")
            raise LoadError(f"{what}: tensor {name!r}: unknown dtype {code!r}")
        if not isinstance(shape, list) or not all(_is_uint(s) for s in shape) or len(shape) > 64:
            raise LoadError(f"{what}: tensor {name!r}: shape {shape!r} is not a list of "
                            "non-negative ints")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_uint(o) for o in offsets)
                or offsets[0] > offsets[1]):
            raise LoadError(f"{what}: tensor {name!r}: data_offsets {offsets!r} are not "
                            "[begin, end] with begin <= end")
        begin, end = offsets
        if end > len(buffer):
            raise LoadError(f"{what}: tensor {name!r}: data_offsets [{begin}, {end}] run past "
                            f"the end of the data ({len(buffer)} bytes)")
        itemsize = _ST_ITEMSIZE.get(code) or _ST_TO_NP[code].itemsize
        numel = 1
        for s in shape:
            numel *= s
        if numel * itemsize != end - begin:
            raise LoadError(f"{what}: tensor {name!r}: {end - begin} bytes do not match shape "
                            f"{shape} of {code} ({numel * itemsize} bytes)")
        spans.append((begin, end, name))
        infos[name] = (code, tuple(shape))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin < pos:
            raise LoadError(f"{what}: tensor {name!r} overlaps the previous tensor's bytes")
        if begin > pos:
            raise LoadError(f"{what}: a hole of {begin - pos} bytes before tensor {name!r}")
        pos = end
    if pos != len(buffer):
        raise LoadError(f"{what}: {len(buffer) - pos} bytes after the last tensor belong to "
                        "no tensor")
    arrays = {}
    for name, (code, shape) in infos.items():
        begin, end = header[name]["data_offsets"]
        chunk = bytes(buffer[begin:end])
        if code == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32).reshape(shape)
        else:
            arr = np.frombuffer(chunk, dtype=_ST_TO_NP[code]).reshape(shape).copy()
            if code == "BOOL" and arr.size and not np.all(np.frombuffer(chunk, np.uint8) <= 1):
                raise LoadError(f"{what}: tensor {name!r}: BOOL bytes other than 0 and 1")
        arrays[name] = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    return arrays, infos, metadata or {}


def _is_uint(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < (1 << 62)


def _no_duplicates(pairs: list) -> dict:
    out = {}
    for k, v in pairs:
        if k in out:
            raise LoadError(f"repeats the key {k!r}")
        out[k] = v
    return out


def _to_tensors(arrays: dict) -> dict:
    from .interpreter.runtime import wrap
    return {name: wrap(arr) for name, arr in arrays.items()}


def load_safetensors(path) -> dict:
    """Tensors from a safetensors file written by any tool, validated like an archive's."""
    data = _read_file(path, MAX_CONSTANTS_BYTES)
    where = os.fspath(path)
    try:
        arrays, _, _ = parse_safetensors(data, where)
    except LoadError:
        raise
    except Exception as exc:  # e.g. NumPy refusing a shape: still the file's fault
        raise LoadError(f"{where}: {type(exc).__name__}: {exc}") from None
    return _to_tensors(arrays)


def _read_file(path, limit: int) -> bytes:
    p = os.fspath(path)
    try:
        size = os.path.getsize(p)
        if size > limit:
            raise LoadError(f"{p}: {size} bytes is more than the limit ({limit})")
        with open(p, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise LoadError(f"cannot read {p}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------ saving

class LoadedTracedFunction:
    """A traced function read back from an archive: the saved script, compiled again."""

    def __init__(self, name: str, code: str, script_fn, constants: dict):
        self.name = name
        self.qualified_name = name
        self._code = code
        self._fn = script_fn
        self._constants = constants

    @property
    def code(self) -> str:
        return self._code

    @property
    def graph(self):
        return self._fn.graph

    @property
    def constants(self) -> dict:
        return dict(self._constants)

    @property
    def schema(self) -> str:
        return self._fn.schema

    def save(self, path) -> None:
        save(self, path)

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<LoadedTracedFunction {self.schema}>"


def _json_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, tuple) and all(isinstance(v, (bool, int, float, str)) for v in value):
        return {"tuple": list(value)}
    raise TypeError(f"cannot save the captured global {where} ({type(value).__name__})")


def _globals_from_json(data: Any) -> dict:
    if not isinstance(data, dict):
        raise LoadError("meta.json: 'globals' must be an object")
    out = {}
    for k, v in data.items():
        if not _IDENT.fullmatch(k) or k.startswith("__"):
            raise LoadError(f"meta.json: global name {k!r} is not a plain identifier")
        if isinstance(v, dict) and set(v) == {"tuple"} and isinstance(v["tuple"], list) and all(
                isinstance(e, (bool, int, float, str)) for e in v["tuple"]):
            v = tuple(v["tuple"])
        elif not (v is None or isinstance(v, (bool, int, float, str))):
            raise LoadError(f"meta.json: global {k!r} has a value of an unsupported kind")
        out[k] = v
    return out


def _module_sources(compiled) -> list:
    """The source texts a ScriptFunction's unit was compiled from, in order."""
    module = compiled.checked.module
    texts = []
    seen = set()
    for stmt in getattr(module, "body", []):
        src = getattr(getattr(stmt, "span", None), "source", None) or module.source
        if id(src) not in seen:
            seen.add(id(src))
            texts.append(src.text)
    if not texts:
        texts.append(module.source.text)
    return texts


def _describe(obj) -> tuple:
    """(kind, entry names, [(member, text)], globals, tensor constants, schemas)."""
    from .compiler import CompilationUnit, ScriptFunction, _collect
    from .tracing import TracedFunction

    if isinstance(obj, (TracedFunction, LoadedTracedFunction)):
        name = obj.name
        code = obj.code
        schema = _compile_check([code], [f"code/{name}.py"], {}).get_function(name).schema
        return ("traced_function", [(name, schema)], [(f"code/{name}.py", code)], {},
                obj.constants)
    if isinstance(obj, ScriptFunction):
        texts = _module_sources(obj._compiled)
        globals_ = {}
        if obj._python_fn is not None:
            globals_ = _collect(obj._python_fn)[1]
        members = _members_for(obj.name, texts)
        return ("function", [(obj.name, obj.schema)], members, globals_, {})
    from .nn.scripting import ScriptModule
    if isinstance(obj, ScriptModule):
        return _describe_module(obj)
    if isinstance(obj, CompilationUnit):
        texts = [text for text, _ in obj._sources]
        if not texts:
            raise TypeError("cannot save an empty CompilationUnit")
        entries = [(n, f.schema) for n, f in obj.functions.items()]
        return ("compilation_unit", entries, _members_for("unit", texts), dict(obj._globals), {})
    raise TypeError(f"ts.save cannot save a {type(obj).__name__} (script functions, "
                    "compilation units, traced functions and script or traced modules can be "
                    "saved)")


def _describe_module(sm) -> tuple:
    desc, weights, schema = _module_tree(sm)
    texts = [text for text, _ in sm._sources]
    return ("module", [("forward", schema)], _members_for("module", texts),
            dict(sm._globals), weights, desc)


def _members_for(base: str, texts: list) -> list:
    if len(texts) == 1:
        return [(f"code/{base}.py", texts[0])]
    return [(f"code/{base}.{i}.py", t) for i, t in enumerate(texts)]


def _compile_check(texts: list, names: list, globals_: dict):
    from .compiler import CompilationUnit

    cu = CompilationUnit(_globals=globals_)
    for text, name in zip(texts, names):
        cu.define(text, name)
    return cu


def save(obj, path) -> None:
    """Write a ScriptFunction, CompilationUnit, traced function or script/traced module to
    ``path`` (a zip archive)."""
    described = _describe(obj)
    kind, entries, members, globals_, constants = described[:5]
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tensorscript_version": _version(),
        "kind": kind,
        "sources": [m for m, _ in members],
        "entry_points": [{"name": n, "schema": s} for n, s in entries],
        "globals": {k: _json_value(v, k) for k, v in globals_.items()},
        "constants": {name: {"dtype": _NP_TO_ST[_as_array(t).dtype],
                             "shape": [int(s) for s in _as_array(t).shape]}
                      for name, t in constants.items()},
    }
    if kind == "module":
        meta["module"] = described[5]
    # a module's description keeps registration order (parameters, children, ...)
    blobs = [(META, json.dumps(meta, indent=1, sort_keys=kind != "module").encode("utf-8"))]
    blobs += [(m, text.encode("utf-8")) for m, text in members]
    blobs.append((CONSTANTS, safetensors_bytes(constants)))
    with zipfile.ZipFile(os.fspath(path), "w") as zf:
        for name, data in blobs:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


# ------------------------------------------------------------------ loading

def _check_member_name(name: str) -> None:
    if not name:
        raise LoadError("archive member with an empty name")
    if "\\" in name:
        raise LoadError(f"archive member {name!r}: backslashes are not allowed in names")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise LoadError(f"archive member {name!r}: absolute paths are not allowed")
    parts = name.split("/")
    if ".." in parts or "." in parts:
        raise LoadError(f"archive member {name!r}: '..' and '.' are not allowed in names")
    if any(ord(c) < 32 for c in name):
        raise LoadError(f"archive member {name!r}: control characters in the name")
    if name in (META, CONSTANTS) or _CODE_NAME.fullmatch(name):
        return
    raise LoadError(f"unexpected archive member {name!r} (an archive holds only meta.json, "
                    "constants.safetensors and code/<name>.py)")


def _limit_for(name: str) -> int:
    if name == META:
        return MAX_META_BYTES
    if name == CONSTANTS:
        return MAX_CONSTANTS_BYTES
    return MAX_CODE_BYTES


def _declared_member_count(data: bytes) -> Optional[int]:
    """The entry count of the end-of-central-directory record, read before zipfile parses
    the directory (so an archive declaring millions of members costs nothing)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - (22 + 65535)))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    return None if count == 0xFFFF else count


def _read_members(data: bytes) -> dict:
    count = _declared_member_count(data)
    if count is not None and count > MAX_MEMBERS:
        raise LoadError(f"the archive declares {count} members, more than the limit "
                        f"({MAX_MEMBERS})")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LoadError(f"not a tensorscript archive: not a zip file or a truncated one ({exc})") from None
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise LoadError(f"the archive has {len(infos)} members, more than the limit ({MAX_MEMBERS})")
    seen = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise LoadError(f"archive member {name!r} appears twice")
        seen.add(name)
        _check_member_name(name)
        if info.flag_bits & 0x1:
            raise LoadError(f"archive member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise LoadError(f"archive member {name!r}: compression method {info.compress_type} "
                            "is not supported")
        limit = _limit_for(name)
        if info.file_size > limit:
            raise LoadError(f"archive member {name!r} declares {info.file_size} bytes, more than "
                            f"the limit ({limit})")
        if (info.file_size > RATIO_FLOOR
                and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            raise LoadError(f"archive member {name!r}: compression ratio "
                            f"{info.file_size // max(info.compress_size, 1)} is past the limit "
                            f"({MAX_RATIO}); a zip bomb?")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise LoadError(f"the archive's members add up to more than {MAX_TOTAL_BYTES} bytes")
    out = {}
    for info in infos:
        with zf.open(info) as fh:
            chunks = []
            got = 0
            while True:
                chunk = fh.read(min(1 << 20, info.file_size + 1 - got) or 1)
                if not chunk:
                    break
                got += len(chunk)
                if got > info.file_size:
                    raise LoadError(f"archive member {info.filename!r} holds more bytes than "
                                    f"it declares ({info.file_size})")
                chunks.append(chunk)
        if got != info.file_size:
            raise LoadError(f"archive member {info.filename!r} holds {got} bytes, not the "
                            f"{info.file_size} it declares")
        out[info.filename] = b"".join(chunks)
    return out


def _parse_meta(raw: bytes) -> dict:
    try:
        meta = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except LoadError as exc:
        raise LoadError(f"meta.json {exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LoadError(f"meta.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise LoadError("meta.json is not a JSON object")
    if meta.get("format") != FORMAT:
        raise LoadError(f"meta.json: format is {meta.get('format')!r}, not {FORMAT!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LoadError(f"meta.json: unknown format version {version!r}")
    if version > FORMAT_VERSION:
        raise LoadError(f"archive format version {version} is newer than this tensorscript "
                        f"({_version()}) reads (up to {FORMAT_VERSION}): upgrade tensorscript")
    kind = meta.get("kind")
    if kind not in KINDS:
        raise LoadError(f"meta.json: unknown kind of object {kind!r} (known: {', '.join(KINDS)})")
    sources = meta.get("sources")
    if (not isinstance(sources, list) or not sources
            or not all(isinstance(s, str) and _CODE_NAME.fullmatch(s) for s in sources)
            or len(set(sources)) != len(sources)):
        raise LoadError("meta.json: 'sources' must list the archive's code/<name>.py members")
    entries = meta.get("entry_points")
    if (not isinstance(entries, list) or not entries or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and _IDENT.fullmatch(e["name"])
            and isinstance(e.get("schema"), str) for e in entries)):
        raise LoadError("meta.json: 'entry_points' must be a list of {name, schema}")
    if kind != "compilation_unit" and len(entries) != 1:
        raise LoadError(f"meta.json: a {kind} has exactly one entry point")
    constants = meta.get("constants", {})
    if not isinstance(constants, dict):
        raise LoadError("meta.json: 'constants' must be an object")
    meta["globals"] = _globals_from_json(meta.get("globals", {}))
    if kind not in ("traced_function", "module") and constants:
        raise LoadError(f"meta.json: a {kind} has no tensor constants, but constants are listed")
    if (kind == "module") != ("module" in meta):
        raise LoadError("meta.json: a module archive needs a 'module' entry and only a module "
                        "archive may have one")
    if kind == "traced_function" and meta["globals"]:
        raise LoadError("meta.json: a traced_function captures no globals, but globals are listed")
    return meta


def _check_constants(meta: dict, infos: dict) -> None:
    declared = meta.get("constants", {})
    if set(declared) != set(infos):
        missing = sorted(set(declared) - set(infos))
        extra = sorted(set(infos) - set(declared))
        raise LoadError(f"constants.safetensors disagrees with meta.json: missing {missing}, "
                        f"unexpected {extra}")
    for name, spec in declared.items():
        code, shape = infos[name]
        if not isinstance(spec, dict) or spec.get("dtype") != code or spec.get("shape") != list(shape):
            raise LoadError(f"constant {name!r}: meta.json declares {spec!r} but "
                            f"constants.safetensors holds {code} {list(shape)}")


def _load_members(members: dict):
    if META not in members:
        raise LoadError("the archive has no meta.json")
    meta = _parse_meta(members[META])
    sources = meta["sources"]
    code_members = sorted(m for m in members if m.startswith(CODE_DIR))
    if sorted(sources) != code_members:
        raise LoadError(f"meta.json lists the sources {sources} but the archive holds "
                        f"{code_members}")
    if CONSTANTS not in members:
        raise LoadError("the archive has no constants.safetensors")
    arrays, infos, _ = parse_safetensors(members[CONSTANTS], "constants.safetensors")
    _check_constants(meta, infos)
    texts = []
    for m in sources:
        try:
            texts.append(members[m].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise LoadError(f"{m} is not UTF-8 text ({exc})") from None
    if meta["kind"] == "module":
        return _load_module(meta, texts, sources, _to_tensors(arrays))
    try:
        cu = _compile_check(texts, sources, meta["globals"])
    except CompileError as exc:
        raise LoadError(f"the archive's code does not compile:\n{exc}") from None
    for entry in meta["entry_points"]:
        fn = cu.find_function(entry["name"])
        if fn is None:
            raise LoadError(f"meta.json names the entry point {entry['name']!r} but the code "
                            "does not define it")
        if fn.schema != entry["schema"]:
            raise LoadError(f"entry point {entry['name']!r}: meta.json declares the schema "
                            f"{entry['schema']!r} but the code's is {fn.schema!r}")
    kind = meta["kind"]
    if kind == "compilation_unit":
        declared = sorted(e["name"] for e in meta["entry_points"])
        if declared != sorted(cu.functions):
            raise LoadError(f"meta.json lists the functions {declared} but the code defines "
                            f"{sorted(cu.functions)}")
        return cu
    name = meta["entry_points"][0]["name"]
    if kind == "function":
        return cu.get_function(name)
    for cname in infos:
        _check_builder(cu, cname, arrays[cname])
    return LoadedTracedFunction(name, texts[0], cu.get_function(name), _to_tensors(arrays))


_BUILDER_KINDS = frozenset({"op", "prim::Constant", "prim::ListConstruct"})


def _check_builder(cu, cname: str, expected: np.ndarray) -> None:
    """The code's ``_constant_<name>()`` must rebuild exactly the stored tensor. A builder is
    straight-line (no loops, no calls), so running it is as bounded as reading a literal."""
    builder = cu.find_function(f"_constant_{cname}") if _IDENT.fullmatch(cname) else None
    if builder is None:
        raise LoadError(f"constant {cname!r} has no builder _constant_{cname} in the code")
    if builder.schema != f"_constant_{cname}() -> Tensor" or any(
            n.kind not in _BUILDER_KINDS or n.blocks for n in builder.graph.nodes()):
        raise LoadError(f"_constant_{cname} is not a plain constant builder")
    try:
        built = np.asarray(builder()._data)
    except Exception as exc:
        raise LoadError(f"_constant_{cname} fails: {exc}") from None
    same = (built.dtype == expected.dtype and built.shape == expected.shape
            and (built.tobytes() == np.ascontiguousarray(expected).tobytes()
                 or (built.dtype.kind == "f" and np.array_equal(built, expected, equal_nan=True))))
    if not same:
        raise LoadError(f"constant {cname!r}: constants.safetensors holds other values than "
                        "the code builds")


def load(path):
    """Read an archive written by :func:`save`; returns an equivalent callable (or unit)."""
    data = _read_file(path, MAX_TOTAL_BYTES)
    try:
        members = _read_members(data)
        return _load_members(members)
    except LoadError:
        raise
    except Exception as exc:  # a corrupted archive can fail anywhere in zipfile or zlib
        raise LoadError(f"corrupted archive: {type(exc).__name__}: {exc}") from None


def _script_save(tensors: dict, path: str) -> None:
    save_safetensors(tensors, path)


# ------------------------------------------------------------------ modules

def _forward_schema(graph) -> str:
    from .compiler import schema_type
    params = ", ".join(f"{schema_type(v.type)} {v.name}" for v in graph.inputs[1:])
    outs = graph.outputs
    ret = schema_type(outs[0].type) if len(outs) == 1 else "()"
    return f"forward({params}) -> {ret}"


def _json_attribute(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_attribute(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_attribute(v, where) for k, v in value.items()}
    raise TypeError(f"ts.save: the module attribute {where} ({type(value).__name__}) cannot be "
                    "saved (ints, floats, bools, strings, lists and str-keyed dicts can)")


def _module_tree(sm) -> tuple:
    """(description, {name: tensor}, forward schema) of a ScriptModule's tree."""
    from .eager import Tensor
    from .nn.scripting import _attr_name

    weights: dict = {}
    keys: dict = {}  # id(tensor) -> the name it is stored under (tied tensors are stored once)

    def store(t, key: str) -> str:
        hit = keys.get(id(t))
        if hit is None:
            keys[id(t)] = hit = key
            weights[key] = t.detach()
        return hit

    def describe(node, prefix: str) -> dict:
        module = node.module
        claimed = {"training"}
        params, buffers, tensors, attributes, children = {}, {}, {}, {}, {}
        for name, p in module._parameters.items():
            claimed.add(_attr_name(name))
            params[name] = None if p is None else {
                "tensor": store(p, prefix + name), "requires_grad": bool(p.requires_grad)}
        for name, b in module._buffers.items():
            claimed.add(_attr_name(name))
            buffers[name] = None if b is None else {
                "tensor": store(b, prefix + name),
                "persistent": name not in module._non_persistent_buffers_set}
        for name, child in node.children.items():
            claimed.add(node.child_attr[name])
            children[name] = describe(child, prefix + name + ".")
        for attr, value in node.values.items():
            if attr in claimed:
                continue
            if isinstance(value, Tensor):
                tensors[attr] = store(value, prefix + attr)
            elif isinstance(value, (list, tuple)) and value and all(
                    isinstance(v, Tensor) for v in value):
                tensors[attr] = [store(v, f"{prefix}{attr}.{i}") for i, v in enumerate(value)]
            elif value is None and dict(node.decls).get(attr) == "Optional[Tensor]":
                tensors[attr] = None
            else:
                attributes[attr] = _json_attribute(getattr(module, attr, value), prefix + attr)
        return {"class": node.class_name, "training": bool(module.training),
                "parameters": params, "buffers": buffers, "tensors": tensors,
                "attributes": attributes, "children": children}

    desc = describe(sm._root, "")
    desc = {"traced": type(sm).__name__ == "TracedModule", "root": desc}
    graph = sm._compiled.graphs[f"{sm._root.class_name}.forward"]
    return desc, weights, _forward_schema(graph)


def _attribute_fits(value: Any, t) -> bool:
    from .jit.ir import types as T
    if isinstance(t, T.OptionalType):
        return value is None or _attribute_fits(value, t.elem)
    if t == T.NoneType:
        return value is None
    if t == T.BoolType:
        return isinstance(value, bool)
    if t == T.IntType:
        return isinstance(value, int) and not isinstance(value, bool)
    if t == T.FloatType:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == T.StrType:
        return isinstance(value, str)
    if isinstance(t, T.ListType):
        return isinstance(value, list) and all(_attribute_fits(v, t.elem) for v in value)
    if isinstance(t, T.TupleType):
        return isinstance(value, list) and len(value) == len(t.elems) and all(
            _attribute_fits(v, e) for v, e in zip(value, t.elems))
    if isinstance(t, T.DictType):
        return (t.key == T.StrType and isinstance(value, dict)
                and all(_attribute_fits(v, t.value) for v in value.values()))
    return False


def _attribute_value(value: Any, t) -> Any:
    from .jit.ir import types as T
    if isinstance(t, T.OptionalType):
        return None if value is None else _attribute_value(value, t.elem)
    if t == T.FloatType:
        return float(value)
    if isinstance(t, T.ListType):
        return [_attribute_value(v, t.elem) for v in value]
    if isinstance(t, T.TupleType):
        return [_attribute_value(v, e) for v, e in zip(value, t.elems)]
    if isinstance(t, T.DictType):
        return {k: _attribute_value(v, t.value) for k, v in value.items()}
    return value


class _LoadedModule:
    pass  # replaced below by a Module subclass (nn is imported lazily)


def _loaded_module_class():
    from .nn.modules.module import Module

    global _LoadedModule
    if not isinstance(_LoadedModule, type) or not issubclass(_LoadedModule, Module):
        class LoadedModule(Module):
            """A module read back from an archive: its forward is the compiled class's."""

            _script_class = "LoadedModule"

            def _get_name(self) -> str:
                return self._script_class

        _LoadedModule = LoadedModule
    return _LoadedModule


_DESC_KEYS = {"class", "training", "parameters", "buffers", "tensors", "attributes", "children"}


def _load_module(meta: dict, texts: list, sources: list, tensors: dict):
    """Rebuild a module archive: compile its classes, check the description against them and
    against the stored tensors, then assemble the module tree over those tensors."""
    from .jit.ir import types as T
    from .nn.modules.module import Parameter
    from .nn.scripting import ScriptModule, _attr_name, _Node, build_script_module, compile_sources
    from .nn.trace_module import TracedModule

    info = meta["module"]
    if not isinstance(info, dict) or set(info) != {"traced", "root"} or not isinstance(
            info["traced"], bool):
        raise LoadError("meta.json: 'module' must be {traced, root}")
    try:
        compiled = compile_sources(list(zip(texts, sources)), meta["globals"])
    except CompileError as exc:
        raise LoadError(f"the archive's code does not compile:\n{exc}") from None
    classes = compiled.checked.classes
    LoadedModule = _loaded_module_class()
    used: dict = {}  # tensor name -> the Tensor (or Parameter) it became

    def tensor_for(key: Any, where: str, param: Optional[bool] = None):
        if not isinstance(key, str):
            raise LoadError(f"meta.json: {where}: 'tensor' must be a string")
        if key not in tensors:
            raise LoadError(f"{where}: the tensor {key!r} is missing from constants.safetensors")
        hit = used.get(key)
        if hit is None:
            t = tensors[key]
            if param is not None:
                if param and t.dtype.is_floating_point is False:
                    raise LoadError(f"{where}: tensor {key!r} of dtype {t.dtype} cannot "
                                    "require grad")
                t = Parameter(t, requires_grad=param)
            used[key] = hit = t
        elif param is not None and not isinstance(hit, Parameter):
            raise LoadError(f"{where}: tensor {key!r} is shared by a parameter and a buffer")
        return hit

    def build(desc: Any, where: str, depth: int) -> _Node:
        if depth > MAX_MODULE_DEPTH:
            raise LoadError(f"meta.json: the module tree is deeper than {MAX_MODULE_DEPTH}")
        if not isinstance(desc, dict) or set(desc) != _DESC_KEYS:
            raise LoadError(f"meta.json: module {where}: needs exactly the keys "
                            f"{sorted(_DESC_KEYS)}")
        cname = desc["class"]
        if not isinstance(cname, str) or cname not in classes:
            raise LoadError(f"meta.json: module {where}: class {cname!r} is not defined by the "
                            "code")
        ctype = classes[cname].type
        declared = dict(ctype.attributes)
        if not isinstance(desc["training"], bool):
            raise LoadError(f"meta.json: module {where}: 'training' must be a bool")
        for table in ("parameters", "buffers", "tensors", "attributes", "children"):
            if not isinstance(desc[table], dict):
                raise LoadError(f"meta.json: module {where}: '{table}' must be an object")
        module = LoadedModule()
        module.__dict__["_script_class"] = cname
        module.__dict__["training"] = desc["training"]
        node = _Node(module)
        node.class_name = cname
        node.values["training"] = desc["training"]
        claimed = {"training": T.BoolType}

        def claim(attr: str, what: str):
            if attr in claimed:
                raise LoadError(f"meta.json: module {where}: attribute {attr!r} is described "
                                "twice")
            if attr not in declared:
                raise LoadError(f"module {where}: meta.json describes the {what} {attr!r} but "
                                f"class {cname} declares no such attribute")
            claimed[attr] = declared[attr]
            return declared[attr]

        def tensor_type_ok(t, present: bool) -> bool:
            return t == T.TensorType if present else t in (T.optional(T.TensorType), T.NoneType)

        for name, entry in desc["parameters"].items():
            attr = _attr_name(name)
            t = claim(attr, "parameter")
            if entry is not None and (not isinstance(entry, dict) or set(entry) != {
                    "tensor", "requires_grad"} or not isinstance(entry["requires_grad"], bool)):
                raise LoadError(f"meta.json: parameter {where}{name}: needs tensor and "
                                "requires_grad")
            if not tensor_type_ok(t, entry is not None):
                raise LoadError(f"parameter {where}{name}: class {cname} declares it {t}")
            value = None if entry is None else tensor_for(
                entry["tensor"], f"parameter {where}{name}", entry["requires_grad"])
            _check_name(name, where)
            module.register_parameter(name, value)
            node.values[attr] = value
        for name, entry in desc["buffers"].items():
            attr = _attr_name(name)
            t = claim(attr, "buffer")
            if entry is not None and (not isinstance(entry, dict) or set(entry) != {
                    "tensor", "persistent"} or not isinstance(entry["persistent"], bool)):
                raise LoadError(f"meta.json: buffer {where}{name}: needs tensor and persistent")
            if not tensor_type_ok(t, entry is not None):
                raise LoadError(f"buffer {where}{name}: class {cname} declares it {t}")
            value = None if entry is None else tensor_for(entry["tensor"], f"buffer {where}{name}")
            _check_name(name, where)
            module.register_buffer(name, value, True if entry is None else entry["persistent"])
            node.values[attr] = value
        for attr, key in desc["tensors"].items():
            t = claim(attr, "tensor attribute")
            if isinstance(key, list):  # a list of tensors (often aliases of parameters)
                if t != T.ListType(T.TensorType) or not key:
                    raise LoadError(f"tensor attribute {where}{attr}: class {cname} declares "
                                    f"it {t}, the description a list of tensors")
                value = [tensor_for(k, f"tensor attribute {where}{attr}") for k in key]
            elif not tensor_type_ok(t, key is not None):
                raise LoadError(f"tensor attribute {where}{attr}: class {cname} declares it {t}")
            else:
                value = None if key is None else tensor_for(key, f"tensor attribute {where}{attr}")
            module.__dict__[attr] = value
            node.values[attr] = value
        for attr, value in desc["attributes"].items():
            t = claim(attr, "attribute")
            if not _attribute_fits(value, t):
                raise LoadError(f"attribute {where}{attr}: the value {value!r} does not fit the "
                                f"type {t} class {cname} declares")
            value = _attribute_value(value, t)
            module.__dict__[attr] = value
            node.values[attr] = value
        for name, child_desc in desc["children"].items():
            attr = _attr_name(name)
            t = claim(attr, "submodule")
            _check_name(name, where)
            child = build(child_desc, f"{where}{name}.", depth + 1)
            if not isinstance(t, T.ClassType) or t.class_name != child.class_name:
                raise LoadError(f"submodule {where}{name}: class {cname} declares it {t}, the "
                                f"description {child.class_name}")
            module.add_module(name, child.module)
            node.children[name] = child
            node.child_attr[name] = attr
        missing = sorted(set(declared) - set(claimed))
        if missing:
            raise LoadError(f"module {where or '(root)'}: class {cname} declares the attributes "
                            f"{missing} that meta.json does not describe")
        if declared.get("training") != T.BoolType:
            raise LoadError(f"class {cname} must declare 'training: bool'")
        return node

    root = build(info["root"], "", 0)
    extra = sorted(set(tensors) - set(used))
    if extra:
        raise LoadError(f"constants.safetensors holds tensors no module attribute uses: {extra}")
    graph = compiled.graphs.get(f"{root.class_name}.forward")
    if graph is None:
        raise LoadError(f"class {root.class_name} has no forward method")
    entry = meta["entry_points"][0]
    schema = _forward_schema(graph)
    if entry["name"] != "forward" or entry["schema"] != schema:
        raise LoadError(f"entry point {entry['name']!r}: meta.json declares the schema "
                        f"{entry['schema']!r} but the code's forward is {schema!r}")
    cls = TracedModule if info["traced"] else ScriptModule
    sm = build_script_module(root, list(zip(texts, sources)), meta["globals"], compiled=compiled,
                             cls=cls)
    sm.__dict__["_signature"] = None
    sm.__dict__["original_name"] = root.class_name
    return sm


def _check_name(name: str, where: str) -> None:
    if not isinstance(name, str) or not name or "." in name or name.startswith("__"):
        raise LoadError(f"meta.json: module {where or '(root)'}: {name!r} is not a valid "
                        "attribute name")


def _install_script_io() -> None:
    from .jit.ops import io as _io
    _io.install(_script_save, load_safetensors)


_install_script_io()

__all__ = ["save", "load", "load_safetensors", "save_safetensors", "parse_safetensors",
           "LoadedTracedFunction", "FORMAT_VERSION"]
