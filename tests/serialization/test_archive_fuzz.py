"""Mutated valid archives (byte flips, truncations, insertions, deletions): each one is refused
with ts.LoadError, or it loads and computes what the original does. Nothing else happens."""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorscript as ts
from archive_helpers import behaves, valid_archive

_VALID = {}


def _valid(tmp_path_factory):
    if "data" not in _VALID:
        _VALID["data"] = valid_archive(tmp_path_factory.mktemp("fuzz-valid"))
    return _VALID["data"]


@st.composite
def mutations(draw, size):
    kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "delete", "overwrite"]))
    at = draw(st.integers(0, size - 1))
    if kind == "flip":
        return (kind, at, draw(st.integers(1, 255)))
    if kind == "truncate":
        return (kind, at, None)
    if kind == "insert":
        return (kind, at, draw(st.binary(min_size=1, max_size=16)))
    if kind == "delete":
        return (kind, at, draw(st.integers(1, 64)))
    return (kind, at, draw(st.binary(min_size=1, max_size=8)))


def mutate(data: bytes, steps) -> bytes:
    out = bytearray(data)
    for kind, at, arg in steps:
        at = min(at, max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[at] ^= arg
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = arg
        elif kind == "delete":
            del out[at:at + arg]
        elif kind == "overwrite":
            out[at:at + len(arg)] = arg
    return bytes(out)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    return _valid(tmp_path_factory)


def test_mutated_archives(valid, tmp_path_factory):
    work = tmp_path_factory.mktemp("fuzz")
    before = sorted(os.listdir(work))
    outcomes = {"refused": 0, "loaded": 0}

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.lists(mutations(len(valid)), min_size=1, max_size=3))
    def check(steps):
        path = work / "mutated.tsa"
        path.write_bytes(mutate(valid, steps))
        try:
            loaded = ts.load(path)
        except ts.LoadError:
            outcomes["refused"] += 1
            return
        outcomes["loaded"] += 1
        behaves(loaded)

    check()
    assert sorted(os.listdir(work)) == sorted(before + ["mutated.tsa"])
    assert outcomes["refused"] > 0


def test_mutated_members(valid, tmp_path_factory):
    """Mutations inside the members (re-zipped, so the CRCs agree) reach the parsers of
    meta.json, safetensors and the code."""
    from archive_helpers import build, example_input, members_of

    members = members_of(valid)
    names = sorted(members)
    work = tmp_path_factory.mktemp("fuzz-members")

    @settings(max_examples=120, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.sampled_from(names), st.data())
    def check(name, data):
        steps = data.draw(st.lists(mutations(len(members[name])), min_size=1, max_size=2))
        changed = dict(members)
        changed[name] = mutate(members[name], steps)
        path = work / "mutated.tsa"
        path.write_bytes(build(changed))
        try:
            loaded = ts.load(path)
        except ts.LoadError:
            return
        try:
            out = loaded(example_input())
        except ts.ScriptError:
            return
        assert getattr(type(out), "_ts_tensor", False)

    check()
    assert sorted(os.listdir(work)) == ["mutated.tsa"]


def test_mutated_safetensors_files(tmp_path_factory):
    import numpy as np
    work = tmp_path_factory.mktemp("fuzz-st")
    valid = work / "valid.safetensors"
    ts.save_safetensors({"a": ts.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)),
                         "b": ts.tensor(np.array([True, False])),
                         "c": ts.tensor(np.array([1, 2], dtype=np.int64))}, valid)
    data = valid.read_bytes()

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(mutations(len(data)), min_size=1, max_size=3))
    def check(steps):
        path = work / "mutated.safetensors"
        path.write_bytes(mutate(data, steps))
        try:
            tensors = ts.load_safetensors(path)
        except ts.LoadError:
            return
        for value in tensors.values():
            assert getattr(type(value), "_ts_tensor", False)

    check()
