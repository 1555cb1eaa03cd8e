"""The bundle file alone: what the township can check without a key, and what only the key opens."""

from __future__ import annotations

import hashlib
import io
import json
import struct

import pytest

from sync.usb_bundle import DIGEST_BYTES, MAGIC, BundleError, open_bundle, read_header, write_bundle

SECRET = "a-village-secret-of-some-length"
HEADER = {"kind": "outbound", "bundle_id": "01JDZZZZZZZZZZZZZZZZZZZZZZ", "station": "ST1", "township": "141081102",
          "seq": 1}


def sealed(parts: list[bytes] | None = None, secret: str = SECRET) -> bytes:
    parts = parts if parts is not None else [b"x" * 3_000_000, b"scan-bytes"]
    out = io.BytesIO()
    write_bundle(out, secret, HEADER, {"lengths": [len(p) for p in parts]}, parts,
                 total_bytes=sum(len(p) for p in parts))
    return out.getvalue()


def redigest(body: bytes) -> bytes:
    """The file as someone who changed it would leave it: the plain trailing digest made to fit again."""
    return body + hashlib.sha256(body).digest()


def test_a_bundle_opens_with_its_station_key_and_gives_back_what_went_in():
    data = sealed()
    opened = open_bundle(data, SECRET)
    assert opened.header.station == "ST1" and opened.header.seq == 1
    assert opened.parts(opened.content["lengths"]) == [b"x" * 3_000_000, b"scan-bytes"]
    assert b"scan-bytes" not in data and b"xxxxxxxx" not in data  # the stick shows nothing


@pytest.mark.parametrize("keep", [10, len(MAGIC) + 50, 1_500_000, -DIGEST_BYTES - 1, -1])
def test_a_cut_file_is_refused_before_any_key_is_needed(keep):
    data = sealed()
    with pytest.raises(BundleError, match="不完整"):
        read_header(data[:keep])


def test_a_changed_byte_with_a_fitting_digest_passes_the_township_but_not_the_key():
    data = bytearray(sealed()[:-DIGEST_BYTES])
    data[len(data) // 2] ^= 0x01
    tampered = redigest(bytes(data))
    read_header(tampered)  # the township cannot tell
    with pytest.raises(BundleError, match="被改动"):
        open_bundle(tampered, SECRET)


def test_a_header_rewritten_to_another_township_does_not_open():
    data = sealed()
    (length,) = struct.unpack_from(">I", data, len(MAGIC))
    start = len(MAGIC) + 4
    fields = json.loads(data[start:start + length])
    fields["township"] = "141081103"
    raw = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    forged = redigest(MAGIC + struct.pack(">I", len(raw)) + raw + data[start + length:-DIGEST_BYTES])
    assert read_header(forged).township == "141081103"
    with pytest.raises(BundleError, match="被改动"):
        open_bundle(forged, SECRET)


def test_another_stations_key_does_not_open_it():
    with pytest.raises(BundleError):
        open_bundle(sealed(), "another-station-secret-000000")


def test_a_file_that_is_no_bundle_says_so():
    with pytest.raises(BundleError, match="不是离线包"):
        read_header(b"PK\x03\x04 a zip file")
