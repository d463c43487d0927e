"""The on-disk kernel cache: atomic entries, damaged entries recompiled, concurrent writers,
and a second process loading machine code instead of compiling."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tensorscript.kernels import cache
from tensorscript.kernels import fusion as kf


def _source(tag: str) -> str:
    spec = kf.KernelSpec(
        inputs=(("float32", kf.INNER_CONTIG),), scalars=(),
        steps=(kf.Step("tanh(a)", ("a",), (kf.Operand("in", 0, "float32"),), "float32", "float32"),
               kf.Step("a * b", ("a", "b"), (kf.Operand("val", 0, "float32"),
                                              kf.Operand("const", float(len(tag)), "float")),
                       "float32", "float32")),
        outputs=((1, "float32", False),), outer_rank=0, parallel=False)
    return kf.generate_source(spec) + f"\n# {tag}\n"


def _args(n=100):
    x = np.linspace(-3, 3, n, dtype=np.float32)
    out = np.empty_like(x)
    return x, out, (np.array([1, n, n, 1, 1], np.int64), x, out)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TENSORSCRIPT_CACHE_DIR", str(tmp_path))
    cache.clear_memory()
    yield tmp_path / "kernels"
    cache.clear_memory()


def _entry(cache_dir: Path, source: str) -> Path:
    return cache_dir / f"ts_{cache.entry_key(source)}.py"


def test_entry_written_with_checksum(cache_dir):
    src = _source("a")
    x, out, args = _args()
    cache.compile_kernel(src, "kernel", args)(*args)
    np.testing.assert_allclose(out, np.tanh(x) * 1, rtol=2e-6, atol=2e-6)
    path = _entry(cache_dir, src)
    assert cache.read_valid(path, src)
    assert path.read_text().startswith(f"# {cache.FORMAT} sha256=")
    assert not list(cache_dir.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "stale", "empty"])
def test_damaged_entry_is_recompiled(cache_dir, damage):
    src = _source("damage-" + damage)
    path = _entry(cache_dir, src)
    path.parent.mkdir(parents=True, exist_ok=True)
    good = f"# {cache.FORMAT} sha256=x\n" + src
    if damage == "garbage":
        path.write_bytes(os.urandom(300))
    elif damage == "truncated":
        path.write_text(good[: len(good) // 2])
    elif damage == "stale":
        path.write_text(good.replace("np.float32", "np.float64"))
    else:
        path.write_text("")
    x, out, args = _args()
    cache.compile_kernel(src, "kernel", args)(*args)
    assert cache.read_valid(path, src)
    np.testing.assert_allclose(out, np.tanh(x) * len("damage-" + damage), rtol=1e-5, atol=1e-5)


def test_damaged_numba_files_are_recompiled(cache_dir):
    src = _source("numba-damage")
    _, _, args = _args()
    cache.compile_kernel(src, "kernel", args)
    pycache = cache_dir / "__pycache__"
    files = list(pycache.glob("ts_*"))
    assert files
    for f in files:
        f.write_bytes(b"\x00garbage" * 10)
    cache.clear_memory()
    x, out, args = _args()
    cache.compile_kernel(src, "kernel", args)(*args)
    np.testing.assert_allclose(out, np.tanh(x) * len("numba-damage"), rtol=1e-5, atol=1e-5)


CHILD = textwrap.dedent('''
    import json, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_cache import _args, _source
    from tensorscript.kernels import cache
    src = _source({tag!r})
    x, out, args = _args()
    cache.compile_kernel(src, "kernel", args)(*args)
    stats = cache.load_module(src).kernel.stats
    ok = bool(np.allclose(out, np.tanh(x) * len({tag!r}), rtol=1e-5, atol=1e-5))
    print(json.dumps({{"loaded": sum(stats.cache_hits.values()),
                      "compiled": sum(stats.cache_misses.values()), "ok": ok}}))
''')


def _child(tag: str, env: dict) -> subprocess.Popen:
    code = CHILD.format(tests=str(Path(__file__).parent), tag=tag)
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_concurrent_processes_and_second_process_loads(cache_dir, tmp_path):
    env = {**os.environ, "TENSORSCRIPT_CACHE_DIR": str(tmp_path)}
    tag = "concurrent"
    procs = [_child(tag, env) for _ in range(3)]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    assert all(r["ok"] for r in results)
    src = _source(tag)
    assert cache.read_valid(_entry(cache_dir, src), src)
    # a later process loads the machine code: Numba reports a cache hit and compiles nothing
    for _ in range(2):
        p = _child(tag, env)
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr
        warm = json.loads(stdout.strip().splitlines()[-1])
        assert warm == {"loaded": 1, "compiled": 0, "ok": True}


def test_compiled_entry_skips_dispatch_and_accepts_read_only_inputs(cache_dir):
    src = _source("entry")
    x, out, args = _args()
    entry = cache.compile_kernel(src, "kernel", args)
    frozen = x.copy()
    frozen.flags.writeable = False
    entry(args[0], frozen, out)
    np.testing.assert_allclose(out, np.tanh(x) * len("entry"), rtol=1e-5, atol=1e-5)
    # one machine code for both: a read-only input did not make Numba compile another
    assert len(cache.load_module(src).kernel.overloads) == 1
