"""A valid archive to take apart, and ways to put hostile ones together."""
import io
import json
import struct
import zipfile

import numpy as np

import tensorscript as ts

torch = ts

W = ts.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 7.0)


def head(x):
    return torch.relu(x @ W).sum(dim=-1)


def example_input():
    return ts.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))


def valid_archive(tmp_path) -> bytes:
    traced = ts.trace(head, (example_input(),))
    path = tmp_path / "valid.tsa"
    ts.save(traced, path)
    return path.read_bytes()


def members_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def build(members, compress=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``members`` (a dict, or a list of (name, bytes) to allow repeats)."""
    items = members.items() if isinstance(members, dict) else members
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compress
            zf.writestr(info, data)
    return buf.getvalue()


def with_meta(members: dict, **changes) -> dict:
    meta = json.loads(members["meta.json"])
    meta.update(changes)
    out = dict(members)
    out["meta.json"] = json.dumps(meta).encode()
    return out


def safetensors(header: dict, payload: bytes, header_len=None) -> bytes:
    raw = json.dumps(header).encode()
    n = len(raw) if header_len is None else header_len
    return struct.pack("<Q", n) + raw + payload


def patch_central_directory(data: bytes, field_offset: int, fmt: str, value) -> bytes:
    """Overwrite one field of every central directory entry (offsets from the PK\\1\\2 mark)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into(fmt, out, pos + field_offset, value)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def behaves(loaded) -> None:
    """A loaded archive computes what the original does."""
    x = example_input()
    np.testing.assert_array_equal(loaded(x).numpy(), head(x).numpy())
