"""Hand-made hostile archives: every one is refused with ts.LoadError, nothing runs, nothing
outside the temporary directory is touched."""
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import tensorscript as ts
from archive_helpers import (build, members_of, patch_central_directory, safetensors,
                             valid_archive, with_meta)

PAYLOAD_MARK = "tensorscript-pwned-marker"


class _Evil:
    def __reduce__(self):
        return (open, (PAYLOAD_MARK, "w"))


PICKLE = pickle.dumps(_Evil())


@pytest.fixture
def valid(tmp_path):
    return valid_archive(tmp_path)


@pytest.fixture
def members(valid):
    return members_of(valid)


@pytest.fixture
def load_bytes(tmp_path, monkeypatch):
    """Write bytes to a temp file and load it, with the cwd in an empty directory."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    outside = sorted(os.listdir(tmp_path.parent))

    def load(data: bytes, match=None):
        path = tmp_path / "archive.tsa"
        path.write_bytes(data)
        with pytest.raises(ts.LoadError, match=match) as info:
            ts.load(path)
        assert os.listdir(work) == []
        return str(info.value)

    yield load
    assert sorted(os.listdir(tmp_path.parent)) == outside
    assert not os.path.exists(os.path.join(str(work), PAYLOAD_MARK))


def test_valid_archive_loads(tmp_path, valid):
    from archive_helpers import behaves
    path = tmp_path / "ok.tsa"
    path.write_bytes(valid)
    behaves(ts.load(path))


# ------------------------------------------------------------------ not a zip, broken zips

@pytest.mark.parametrize("data", [b"", b"hello", b"PK\x03\x04" + b"\0" * 30, PICKLE,
                                  b"\x89HDF\r\n\x1a\n" + b"\0" * 100])
def test_not_a_zip(load_bytes, data):
    load_bytes(data, match="not a tensorscript archive|corrupted")


def test_missing_file(tmp_path):
    with pytest.raises(ts.LoadError, match="cannot read"):
        ts.load(tmp_path / "missing.tsa")


def test_truncated_everywhere(load_bytes, valid):
    for cut in list(range(0, len(valid), max(1, len(valid) // 97))) + [len(valid) - 1]:
        load_bytes(valid[:cut])


def test_crc_errors(load_bytes, members):
    data = build(members, compress=zipfile.ZIP_STORED)
    start = data.find(b"def head")
    corrupted = bytearray(data)
    corrupted[start + 4] ^= 0x20  # 'head' -> 'Head' in the stored code: only the CRC notices
    load_bytes(bytes(corrupted), match="CRC|corrupted")


def test_bit_flips_in_compressed_data(load_bytes, valid):
    start = valid.find(b"code/head.py") + len("code/head.py")
    for k in range(8):
        corrupted = bytearray(valid)
        corrupted[start + 5 + k] ^= 1 << k
        load_bytes(bytes(corrupted))


def test_declared_size_lies(load_bytes, members):
    data = build(members)
    load_bytes(patch_central_directory(data, 24, "<I", 5))  # uncompressed size
    load_bytes(patch_central_directory(data, 20, "<I", 3))  # compressed size


def test_encrypted_member(load_bytes, members):
    load_bytes(patch_central_directory(build(members), 8, "<H", 1), match="encrypted")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_unsupported_compression(load_bytes, members, method):
    load_bytes(build(members, compress=method), match="compression method")


# ------------------------------------------------------------------ member names

@pytest.mark.parametrize("name", [
    "../evil.py", "code/../../evil.py", "code/./head2.py", "/etc/evil.py", "/abs.py",
    "C:/windows/evil.py", "c:evil.py", "code\\evil.py", "..\\..\\evil.py", "code/",
    "data.pkl", "code/head.pkl", "archive/data.pkl", "meta.json/x", "code/sub/x.py",
    "constants.bin", "code/.py", "code/x y.py",
])
def test_bad_member_names(load_bytes, members, name):
    bad = dict(members)
    bad[name] = PICKLE
    message = load_bytes(build(bad))
    assert repr(name) in message or "not allowed" in message


def test_pickle_as_constants(load_bytes, members):
    bad = dict(members)
    bad["constants.safetensors"] = PICKLE
    load_bytes(build(bad), match="constants.safetensors")


def test_pickle_in_place_of_meta(load_bytes, members):
    bad = dict(members)
    bad["meta.json"] = PICKLE
    load_bytes(build(bad), match="meta.json")


def test_repeated_member(load_bytes, members):
    items = list(members.items()) + [("code/head.py", members["code/head.py"])]
    with pytest.warns(UserWarning):
        data = build(items)
    load_bytes(data, match="twice")


def test_too_many_members(load_bytes, members):
    bad = dict(members)
    for i in range(70):
        bad[f"code/extra{i}.py"] = b"\n"
    load_bytes(build(bad), match="members")


def test_declared_member_count_is_checked_first(load_bytes, members):
    data = bytearray(build(members))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 60000, 60000)
    load_bytes(bytes(data), match="declares 60000 members")


# ------------------------------------------------------------------ sizes

def test_zip_bomb_by_ratio(load_bytes, members):
    bad = dict(members)
    bad["code/head.py"] = members["code/head.py"] + b"\n" * (12 << 20)
    load_bytes(build(bad), match="ratio|limit")


def test_member_past_the_size_limit(load_bytes, members):
    bad = dict(members)
    bad["meta.json"] = b" " * ((1 << 20) + 10)
    load_bytes(build(bad, compress=zipfile.ZIP_STORED), match="limit")


def test_declared_size_past_the_limit(load_bytes, members):
    load_bytes(patch_central_directory(build(members), 24, "<I", 0xFFFFFFF0), match="limit|corrupted")


# ------------------------------------------------------------------ meta.json

@pytest.mark.parametrize("changes, match", [
    ({"format_version": 2}, "newer"),
    ({"format_version": 999}, "newer"),
    ({"format_version": "1"}, "format version"),
    ({"format_version": 0}, "format version"),
    ({"format_version": True}, "format version"),
    ({"format": "pytorch"}, "format"),
    ({"kind": "module_from_the_future"}, "kind"),
    ({"kind": "compilation_unit"}, None),
    ({"sources": ["code/other.py"]}, "sources"),
    ({"sources": "code/head.py"}, "sources"),
    ({"entry_points": [{"name": "nothere", "schema": "nothere(Tensor x) -> Tensor"}]}, "nothere"),
    ({"entry_points": [{"name": "head", "schema": "head(int x) -> int"}]}, "schema"),
    ({"entry_points": []}, "entry_points"),
    ({"entry_points": [{"name": "os.system", "schema": "x"}]}, "entry_points"),
    ({"constants": {"c0": {"dtype": "F64", "shape": [3, 4]}}}, "c0"),
    ({"constants": {"c0": {"dtype": "F32", "shape": [4, 3]}}}, "c0"),
    ({"constants": {}}, "disagrees"),
    ({"constants": {"c0": {"dtype": "F32", "shape": [3, 4]}, "c9": {"dtype": "F32", "shape": []}}},
     "disagrees"),
    ({"globals": {"__import__": "os"}}, None),
    ({"globals": {"x y": 1}}, "global"),
    ({"globals": {"w": {"pickle": "..."}}}, "global"),
])
def test_bad_meta(load_bytes, members, changes, match):
    load_bytes(build(with_meta(members, **changes)), match=match)


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"str"', b"\xff\xfe", b"{" * 100000,
                                 b'{"format": 1, "format": 2}', b"null"])
def test_meta_not_valid(load_bytes, members, raw):
    bad = dict(members)
    bad["meta.json"] = raw
    load_bytes(build(bad), match="meta.json")


def test_missing_members(load_bytes, members):
    for name in ("meta.json", "constants.safetensors", "code/head.py"):
        bad = {k: v for k, v in members.items() if k != name}
        load_bytes(build(bad))


# ------------------------------------------------------------------ code

def test_code_that_does_not_compile(load_bytes, members):
    bad = dict(members)
    bad["code/head.py"] = members["code/head.py"].replace(b"torch.relu", b"torch.relu_nope")
    message = load_bytes(build(bad), match="does not compile")
    assert "code/head.py" in message and "relu_nope" in message


def test_code_with_python_escapes(load_bytes, members):
    evil = (b"import os\n"
            b"def head(x: torch.Tensor) -> torch.Tensor:\n"
            b"    os.system('touch " + PAYLOAD_MARK.encode() + b"')\n"
            b"    return x\n")
    bad = dict(members)
    bad["code/head.py"] = evil
    load_bytes(build(bad))


def test_code_not_utf8(load_bytes, members):
    bad = dict(members)
    bad["code/head.py"] = b"\xff\xfe\x00def"
    load_bytes(build(bad), match="UTF-8")


def test_constant_without_builder(load_bytes, members):
    bad = dict(members)
    bad["code/head.py"] = members["code/head.py"].replace(b"_constant_c0", b"_constant_k0")
    load_bytes(build(bad), match="builder|does not compile")


def test_constant_values_must_match_the_code(load_bytes, members):
    from archive_helpers import W
    other = W.numpy().copy()
    other[0, 0] += 1.0
    blob = safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}},
                       other.tobytes())
    load_bytes(_st_case(members, blob), match="other values")


def test_builder_must_be_straight_line(load_bytes, members):
    code = members["code/head.py"].decode()
    start = code.index("def _constant_c0")
    end = code.index("def head")
    looping = ("def _constant_c0() -> torch.Tensor:\n"
               "    x = torch.zeros([3, 4])\n"
               "    while True:\n"
               "        x = x + 1.0\n"
               "    return x\n\n\n")
    bad = dict(members)
    bad["code/head.py"] = (code[:start] + looping + code[end:]).encode()
    load_bytes(build(bad), match="plain constant builder")


# ------------------------------------------------------------------ safetensors blocks

def _st_case(members, blob):
    bad = dict(members)
    bad["constants.safetensors"] = blob
    return build(bad)


F32_12 = np.arange(12, dtype=np.float32).tobytes()


@pytest.mark.parametrize("blob, match", [
    (b"", "truncated"),
    (b"\x01\x02\x03", "truncated"),
    (struct.pack("<Q", 1 << 40) + b"{}", "limit"),
    (struct.pack("<Q", 500) + b"{}", "past the end"),
    (struct.pack("<Q", 4) + b"{]}x", "JSON"),
    (struct.pack("<Q", 2) + b"[]", "object"),
    (struct.pack("<Q", 3) + b"\xff{}", "JSON"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}},
                 F32_12[:40]), "run past"),
    (safetensors({"c0": {"dtype": "Q7", "shape": [3, 4], "data_offsets": [0, 48]}}, F32_12),
     "dtype"),
    (safetensors({"c0": {"dtype": "U32", "shape": [3, 4], "data_offsets": [0, 48]}}, F32_12),
     "not supported"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 5], "data_offsets": [0, 48]}}, F32_12),
     "do not match"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, -4], "data_offsets": [0, 48]}}, F32_12),
     "shape"),
    (safetensors({"c0": {"dtype": "F32", "shape": "3x4", "data_offsets": [0, 48]}}, F32_12),
     "shape"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [48, 0]}}, F32_12),
     "data_offsets"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}},
                 F32_12 + b"tail"), "after the last"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [4, 52]}},
                 b"hole" + F32_12), "hole"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]},
                  "c1": {"dtype": "F32", "shape": [2], "data_offsets": [40, 48]}}, F32_12),
     "overlaps"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48],
                         "extra": 1}}, F32_12), "exactly"),
    (safetensors({"c0": [1, 2]}, F32_12), "exactly"),
    (safetensors({"__metadata__": {"a": 1},
                  "c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}}, F32_12),
     "__metadata__"),
    (safetensors({"c0": {"dtype": "F64", "shape": [3, 2], "data_offsets": [0, 48]}}, F32_12),
     "meta.json declares"),
    (safetensors({"c0": {"dtype": "F32", "shape": [12], "data_offsets": [0, 48]}}, F32_12),
     "meta.json declares"),
    (safetensors({"c7": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}}, F32_12),
     "disagrees"),
    (safetensors({"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}}, F32_12,
                 header_len=10), "JSON"),
])
def test_bad_safetensors_block(load_bytes, members, blob, match):
    load_bytes(_st_case(members, blob), match=match)


def test_duplicate_keys_in_safetensors_header(load_bytes, members):
    raw = (b'{"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}, '
           b'"c0": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}}')
    load_bytes(_st_case(members, struct.pack("<Q", len(raw)) + raw + F32_12), match="repeats")


def test_bool_bytes_must_be_0_or_1(tmp_path):
    blob = safetensors({"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07")
    (tmp_path / "b.safetensors").write_bytes(blob)
    with pytest.raises(ts.LoadError, match="BOOL"):
        ts.load_safetensors(tmp_path / "b.safetensors")


@pytest.mark.parametrize("blob", [
    b"", b"\x00" * 7, struct.pack("<Q", 1 << 60),
    safetensors({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4),
    safetensors({"x": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 8]}},
                b"\0" * 8),
])
def test_load_safetensors_rejects(tmp_path, blob):
    (tmp_path / "x.safetensors").write_bytes(blob)
    with pytest.raises(ts.LoadError):
        ts.load_safetensors(tmp_path / "x.safetensors")


def test_no_payload_file_anywhere():
    assert not os.path.exists(PAYLOAD_MARK)
