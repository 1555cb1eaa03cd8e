"""The USB bundle file (离线包): what a village without a link carries to its township, and back.

Pure functions, no Flask and no database: the station (export/import) and the hub (forwarded
bundles) share one definition, as they share :mod:`sync.protocol`.

Layout (``docs/sync-protocol.md`` "USB bundles" is the prose version)::

    MAGIC                          b"BMZUSB1\\n"
    u32 header length, header      plain JSON: kind, bundle id, station, township, seq, counts
    records                        u32 length, 12-byte nonce, AES-256-GCM ciphertext+tag (≤ 1 MiB plain each)
    32-byte SHA-256 of all above   a digest anyone can check: a bad stick is found before the hub

The key is HKDF-SHA256 of the station's hub secret: the station and the county hold it, the
township that carries the file does not, so it can neither read nor alter what it forwards.
Each record's AAD is the header's digest, the record's index and a last-record flag, so a
changed header, a record dropped, reordered or cut short fails to open. The trailing digest is
no security (anyone can recompute it); it tells a damaged file from a tampered one early.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync import protocol

MAGIC = b"BMZUSB1\n"
FORMAT = 1
KIND_OUTBOUND = "outbound"  # village → township → county: events and files
KIND_RETURN = "return"  # county → township → village: answers and changes
KINDS = (KIND_OUTBOUND, KIND_RETURN)
RECORD_PLAIN_BYTES = 1024 * 1024
NONCE_BYTES = 12
MAX_HEADER_BYTES = 16 * 1024
DIGEST_BYTES = 32
SUFFIX = ".bmz"  # what the file is called on the stick
#: The largest bundle: a village's export stops short of it, the township's upload and the county's
#: relay endpoint take up to it (one number, so a bundle the township took is never too large upstream).
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
#: The request each batch inside an outbound bundle is signed as (the push it stands for); the
#: village signs and the county verifies with this path, whatever prefix the hub is served under.
BATCH_SIGNED_PATH = "/api/v1/events"

_U32 = struct.Struct(">I")


class BundleError(Exception):
    """A bundle that cannot be used; ``message`` says why in Chinese, for the clerk."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bundle_key(secret: str) -> bytes:
    """The AES-256 key for one station's bundles, derived from its hub secret (never the secret itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"bmz-usb-bundle", info=b"usb_bundle v1").derive(
        secret.encode("utf-8"))


@dataclass(frozen=True)
class Header:
    """The plain part of a bundle: enough for the township to file it, nothing about a resident."""

    fields: dict[str, Any]
    raw: bytes

    @property
    def kind(self) -> str:
        return str(self.fields.get("kind") or "")

    @property
    def bundle_id(self) -> str:
        return str(self.fields.get("bundle_id") or "")

    @property
    def station(self) -> str:
        return str(self.fields.get("station") or "")

    @property
    def township(self) -> str:
        return str(self.fields.get("township") or "")

    @property
    def device(self) -> int:
        """The device that made (or is answered by) the bundle: 0 the station PC, 1…99 a second device."""
        value = self.fields.get("device") or 0
        return value if isinstance(value, int) and not isinstance(value, bool) else -1

    @property
    def seq(self) -> int:
        value = self.fields.get("seq")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0


def device_name(device: int) -> str:
    """How a clerk names the machine a bundle came from."""
    return "站点主机" if device == 0 else f"第 {device} 号设备"


def township_of(area_code: str) -> str:
    """The township part (first 9 digits) of a 12-digit area code: whose centre a village's bundles go to."""
    return (area_code or "")[:9]


def _aad(header_digest: bytes, index: int, last: bool) -> bytes:
    return header_digest + struct.pack(">QB", index, 1 if last else 0)


def write_bundle(out: BinaryIO, secret: str, header: dict[str, Any], content: dict[str, Any],
                 parts: Iterable[bytes] = (), *, total_bytes: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Seal ``content`` (JSON) and ``parts`` (bytes, in the order ``content`` lists them) into ``out``.

    Returns the bytes written. ``progress(done, total)`` is called per record with plain bytes
    (``total_bytes`` is what the caller expects the parts to add up to).
    """
    content_json = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    plain_total = 4 + len(content_json) + total_bytes
    header = {**header, "format": FORMAT, "plain_bytes": plain_total,
              "records": max(1, -(-plain_total // RECORD_PLAIN_BYTES))}
    header_raw = json.dumps(header, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if len(header_raw) > MAX_HEADER_BYTES:
        raise BundleError("离线包头部过大。")
    digest = hashlib.sha256()
    written = 0

    def emit(data: bytes) -> None:
        nonlocal written
        out.write(data)
        digest.update(data)
        written += len(data)

    emit(MAGIC + _U32.pack(len(header_raw)) + header_raw)
    header_digest = hashlib.sha256(MAGIC + header_raw).digest()
    cipher = AESGCM(bundle_key(secret))
    pending = bytearray(_U32.pack(len(content_json)) + content_json)
    index = 0
    done = 0

    def seal(chunk: bytes, last: bool) -> None:
        nonlocal index, done
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, chunk, _aad(header_digest, index, last))
        emit(_U32.pack(NONCE_BYTES + len(sealed)) + nonce + sealed)
        index += 1
        done += len(chunk)
        if progress is not None:
            progress(done, plain_total)

    for part in parts:
        pending += part
        while len(pending) > RECORD_PLAIN_BYTES:
            seal(bytes(pending[:RECORD_PLAIN_BYTES]), False)
            del pending[:RECORD_PLAIN_BYTES]
    if done + len(pending) != plain_total:
        raise BundleError("离线包内容长度与清单不符（导出程序错误）。")
    seal(bytes(pending), True)
    if index != header["records"]:
        raise BundleError("离线包分段数与清单不符（导出程序错误）。")
    out.write(digest.digest())
    return written + DIGEST_BYTES


Source = bytes | BinaryIO  # a whole bundle in memory, or a seekable file read in chunks
CHUNK_BYTES = 1024 * 1024


def _as_file(source: Source) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source


def _read_exact(src: BinaryIO, count: int) -> bytes:
    data = src.read(count)
    if len(data) != count:
        raise BundleError("离线包文件不完整（最后一段被截断）。")
    return data


def file_digest(source: Source, end: int | None = None) -> str:
    """SHA-256 (hex) of the first ``end`` bytes of a bundle (all of it by default), read 1 MiB at a time."""
    return protocol.sha256_hex_file(_as_file(source), end, CHUNK_BYTES)


def read_header(source: Source) -> Header:
    """The plain header, after checking the file is whole (magic, record lengths, trailing digest).

    What the township can check without the key: a cut or damaged file is refused here. A file is
    read in 1 MiB chunks (hashed as it is read); its size is never needed in memory.
    """
    return _checked(_as_file(source))[0]


def _checked(src: BinaryIO) -> tuple[Header, list[tuple[int, int]]]:
    """The header and the (offset, length) of each sealed record of a whole, undamaged file."""
    size = src.seek(0, io.SEEK_END)
    src.seek(0)
    if src.read(len(MAGIC)) != MAGIC:
        raise BundleError("这不是离线包文件（文件开头不对），请确认选择了 .bmz 文件。")
    if size < len(MAGIC) + 4 + DIGEST_BYTES:
        raise BundleError("离线包文件不完整（可能复制中断），请重新导出后再试。")
    end = size - DIGEST_BYTES
    expected = file_digest(src, end)
    src.seek(end)
    if src.read(DIGEST_BYTES).hex() != expected:
        raise BundleError("离线包文件不完整或已损坏（校验值不符），请重新导出后再试。")
    src.seek(len(MAGIC))
    (length,) = _U32.unpack(src.read(4))
    start = len(MAGIC) + 4
    if length > MAX_HEADER_BYTES or start + length > end:
        raise BundleError("离线包文件已损坏（头部长度不对）。")
    raw = src.read(length)
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError("离线包文件已损坏（头部无法读取）。") from exc
    if not isinstance(fields, dict) or fields.get("format") != FORMAT or fields.get("kind") not in KINDS:
        raise BundleError("离线包格式版本不受支持，请升级本站软件。")
    header = Header(fields, raw)
    if not header.bundle_id or not header.station or header.seq < 1:
        raise BundleError("离线包文件已损坏（头部缺少编号）。")
    records = _records(src, start + length, end)
    if len(records) != fields.get("records"):
        raise BundleError("离线包文件不完整（分段数不对），请重新导出后再试。")
    return header, records


def _records(src: BinaryIO, offset: int, end: int) -> list[tuple[int, int]]:
    """(offset, length) of each sealed record between the header and the trailing digest (lengths read, not bodies)."""
    found = []
    while offset < end:
        if offset + 4 > end:
            raise BundleError("离线包文件不完整（最后一段被截断）。")
        src.seek(offset)
        (length,) = _U32.unpack(src.read(4))
        offset += 4
        if length <= NONCE_BYTES or offset + length > end:
            raise BundleError("离线包文件不完整（最后一段被截断）。")
        found.append((offset, length))
        offset += length
    return found


class OpenedBundle:
    """A bundle opened with its station's key: the header, the JSON content, and the parts read on demand.

    Every record was decrypted once when it was opened (so a changed byte anywhere is found before
    anything is used); :meth:`iter_parts` decrypts them again one record (≤ 1 MiB) at a time, so a
    bundle of any size is read holding one record and one part in memory.
    """

    def __init__(self, header: Header, src: BinaryIO, records: list[tuple[int, int]], cipher: AESGCM) -> None:
        self.header = header
        self._src, self._records, self._cipher = src, records, cipher
        self._digest = hashlib.sha256(MAGIC + header.raw).digest()
        plain = self._plain()
        (length,) = _U32.unpack(plain.take(4))
        try:
            self.content = json.loads(plain.take(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleError("离线包内容无法读取。") from exc
        if not isinstance(self.content, dict):
            raise BundleError("离线包内容无法读取。")
        self._body_start = 4 + length

    def _record(self, index: int) -> bytes:
        offset, length = self._records[index]
        self._src.seek(offset)
        record = _read_exact(self._src, length)
        try:
            return self._cipher.decrypt(record[:NONCE_BYTES], record[NONCE_BYTES:],
                                        _aad(self._digest, index, index == len(self._records) - 1))
        except InvalidTag as exc:
            raise BundleError("离线包无法解开：文件在导出后被改动过，或不是用本站密钥加密的。") from exc

    def _plain(self) -> _Plain:
        return _Plain(self._record(i) for i in range(len(self._records)))

    def verify(self) -> int:
        """Decrypt every record once (nothing kept); the plain length, checked against the header."""
        total = sum(len(self._record(i)) for i in range(len(self._records)))
        if total != self.header.fields.get("plain_bytes") or total < 4:
            raise BundleError("离线包内容长度不对。")
        return total

    def iter_parts(self, lengths: Iterable[Any]) -> Iterator[bytes]:
        """Each binary part in turn, cut by ``lengths``; refuse a manifest that does not add up."""
        wanted = list(lengths)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in wanted) or (
                self._body_start + sum(wanted) != self.header.fields.get("plain_bytes")):
            raise BundleError("离线包内容与清单不符。")
        plain = self._plain()
        plain.take(self._body_start)
        for length in wanted:
            yield plain.take(length)

    def parts(self, lengths: Iterable[Any]) -> list[bytes]:
        """Every part at once (for small bundles and tests)."""
        return list(self.iter_parts(lengths))


class _Plain:
    """The plain stream, from decrypted records as they come."""

    def __init__(self, records: Iterator[bytes] | Any) -> None:
        self._records = iter(records)
        self._buffer = bytearray()

    def take(self, count: int) -> bytes:
        """The next ``count`` plain bytes; a stream that ends first was not what its header said."""
        while len(self._buffer) < count:
            record = next(self._records, None)
            if record is None:
                raise BundleError("离线包内容与清单不符。")
            self._buffer += record
        out = bytes(self._buffer[:count])
        del self._buffer[:count]
        return out


def open_bundle(source: Source, secret: str) -> OpenedBundle:
    """Check and decrypt a bundle (in memory, or a file read in chunks) with the station's secret.

    Raises :class:`BundleError` for a damaged file, a bundle of another station (its key does not
    open it), or one whose bytes were changed after sealing.
    """
    src = _as_file(source)
    header, records = _checked(src)
    opened = OpenedBundle(header, src, records, AESGCM(bundle_key(secret)))
    opened.verify()
    return opened


def new_bundle_id() -> str:
    """A fresh bundle id (ULID): sortable, made offline."""
    return protocol.new_id()
