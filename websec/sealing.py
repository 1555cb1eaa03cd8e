"""Personal data at rest: AES-256-GCM sealing and a keyed blind index, with keys kept outside the database.

A station PC can be copied by anyone in the room, and a county database by anyone with its
backups. ID numbers, phones, addresses, scans and sync secrets are stored sealed; exact lookups
(the duplicate check, the county's search by ID number) go through an HMAC of the normalised
value, which says nothing about the number without the key.

The key ring is a small JSON file created owner-only beside the instance, never in the
database: a copied database alone opens nothing. Rotation adds a key and makes it current; the
old keys stay in the ring (retired) until every record has been sealed again, so a record is
readable at every moment of a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TEXT_PREFIX = "enc1:"  # sealed text: enc1:<key id>:<base64(nonce | ciphertext+tag)>
BLOB_MAGIC = b"BMZS1"  # sealed file: magic, key id length, key id, nonce, ciphertext+tag
NONCE_BYTES = 12
TAG_BYTES = 16
READ_BYTES = 256 * 1024  # how much of a sealed file is held at once when it is read in pieces


class SealingError(Exception):
    """A sealed value that no key in the ring opens (wrong key file, or the value was altered)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class KeyRing:
    """Data keys by id, the id new seals use, and the blind-index keys (current first)."""

    current: str
    keys: dict[str, bytes]
    index_keys: list[bytes]
    path: Path | None = None
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    # --- text ---------------------------------------------------------------------------------
    def seal(self, text: str | bytes | None) -> str:
        """Seal a text value; the empty value stays empty (nothing to hide, and lists stay cheap).

        ``bytes`` are the text already encoded as UTF-8 (JSON as orjson writes it): sealed as they
        are, not decoded and encoded again.
        """
        if not text:
            return ""
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = text if isinstance(text, bytes) else text.encode("utf-8")
        sealed = self._cipher(self.current).encrypt(nonce, plain, self.current.encode())
        return f"{TEXT_PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def unseal(self, stored: str | None) -> str:
        """The value back; a value stored before sealing existed (no prefix) is returned as it is."""
        if not stored:
            return ""
        if not stored.startswith(TEXT_PREFIX):
            return stored
        key_id, _sep, payload = stored[len(TEXT_PREFIX):].partition(":")
        raw = base64.b64decode(payload)
        try:
            return self._cipher(key_id).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise SealingError("加密数据无法解开：数据被改动，或密钥文件不是这台机器的。") from exc

    @staticmethod
    def is_sealed(stored: str | None) -> bool:
        return bool(stored) and stored.startswith(TEXT_PREFIX)

    def needs_resealing(self, stored: str | None) -> bool:
        """Plain, or sealed under a key that is not the current one (what rotation must visit)."""
        if not stored:
            return False
        return not stored.startswith(f"{TEXT_PREFIX}{self.current}:")

    # --- files ----------------------------------------------------------------------------------
    def seal_bytes(self, data: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        key_id = self.current.encode()
        return BLOB_MAGIC + bytes([len(key_id)]) + key_id + nonce + self._cipher(self.current).encrypt(nonce, data, key_id)

    def unseal_bytes(self, blob: bytes) -> bytes:
        """A sealed file's content; a file written before sealing existed is returned as it is."""
        if not blob.startswith(BLOB_MAGIC):
            return blob
        at = len(BLOB_MAGIC)
        length = blob[at]
        key_id = blob[at + 1 : at + 1 + length]
        body = blob[at + 1 + length :]
        try:
            return self._cipher(key_id.decode()).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], key_id)
        except InvalidTag as exc:
            raise SealingError("加密文件无法解开：文件被改动，或密钥文件不是这台机器的。") from exc

    @staticmethod
    def is_sealed_blob(blob: bytes) -> bool:
        return blob.startswith(BLOB_MAGIC)

    def open_file(self, path: Path) -> SealedFile:
        """A stored file to read in pieces (a big scan forwarded or uploaded is never held whole)."""
        return SealedFile(self, Path(path))

    # --- blind index ------------------------------------------------------------------------------
    def blind_index(self, value: str | None) -> str:
        """The lookup token for an exact match under the current index key ("" for no value)."""
        return _hmac(self.index_keys[0], value) if value else ""

    def blind_indexes(self, value: str | None) -> list[str]:
        """Lookup tokens under every index key in the ring: a search still finds rows mid-rotation."""
        return [_hmac(key, value) for key in self.index_keys] if value else []

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = AESGCM(self._key(key_id))
        return cipher

    def _key(self, key_id: str) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise SealingError(f"密钥文件中没有编号为 {key_id} 的密钥：请使用这台机器原来的密钥文件。")
        return key

    # --- the key file ---------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({
            "format": 1,
            "current": self.current,
            "keys": {key_id: _b64(key) for key_id, key in self.keys.items()},
            "index_keys": [_b64(key) for key in self.index_keys],
        }, indent=1)

    def rotated(self) -> KeyRing:
        """A ring with a new current data key and a new index key; the old ones stay to open old records."""
        key_id = f"k{len(self.keys) + 1}-{secrets.token_hex(2)}"
        keys = dict(self.keys, **{key_id: AESGCM.generate_key(bit_length=256)})
        return KeyRing(key_id, keys, [secrets.token_bytes(32), *self.index_keys], self.path)

    def retired(self) -> KeyRing:
        """The ring after a finished rotation: only the current data key and index key."""
        return KeyRing(self.current, {self.current: self.keys[self.current]}, self.index_keys[:1], self.path)


class SealedFile:
    """A stored file's plain bytes, given out piece by piece from any offset (the resumable uploads).

    ``size`` is the plain size, known from the file's length without reading it. A sealed file is
    one AES-GCM message: it is decrypted from its first byte on every read (GCM has no seek that
    keeps the tag check; decrypting is far faster than the link), with at most ``READ_BYTES`` and
    one piece in memory, and the tag is checked before the last piece is given out — so an altered
    file never completes anywhere. A file stored before sealing existed is read as it is.
    """

    def __init__(self, ring: KeyRing, path: Path) -> None:
        self.path = path
        with open(path, "rb") as fh:
            head = fh.read(len(BLOB_MAGIC) + 1 + 255 + NONCE_BYTES)
        stored = path.stat().st_size
        self._key_id = b""
        self._body_at = 0
        self.size = stored
        if head.startswith(BLOB_MAGIC):
            at = len(BLOB_MAGIC)
            self._key_id = head[at + 1:at + 1 + head[at]]
            self._nonce = head[at + 1 + head[at]:at + 1 + head[at] + NONCE_BYTES]
            self._body_at = at + 1 + head[at] + NONCE_BYTES
            self.size = stored - self._body_at - TAG_BYTES
            if self.size < 0 or len(self._nonce) != NONCE_BYTES:
                raise SealingError("加密文件不完整：文件被截断或改动。")
            self._key = ring._key(self._key_id.decode("ascii", "replace"))

    def chunks(self, start: int, chunk_bytes: int) -> Iterator[bytes]:
        """The plain bytes from ``start`` to the end, in pieces of ``chunk_bytes`` (the last one shorter)."""
        if not self._key_id:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                yield from iter(lambda: fh.read(chunk_bytes), b"")
            return
        pending = bytearray()
        for plain in self._decrypted(start):
            pending += plain
            while len(pending) >= chunk_bytes:
                yield bytes(pending[:chunk_bytes])
                del pending[:chunk_bytes]
        if pending:
            yield bytes(pending)

    def _decrypted(self, start: int) -> Iterator[bytes]:
        """Plain blocks from ``start``; the block that ends the file only after its tag verified."""
        with open(self.path, "rb") as fh:
            fh.seek(self._body_at + self.size)
            tag = fh.read(TAG_BYTES)
            fh.seek(self._body_at)
            decryptor = Cipher(algorithms.AES(self._key), modes.GCM(self._nonce, tag)).decryptor()
            decryptor.authenticate_additional_data(self._key_id)
            position, remaining = 0, self.size
            while True:
                block = fh.read(min(READ_BYTES, remaining))
                remaining -= len(block)
                plain = decryptor.update(block)
                if not remaining or not block:
                    try:
                        plain += decryptor.finalize()
                    except InvalidTag as exc:
                        raise SealingError("加密文件无法解开：文件被改动，或密钥文件不是这台机器的。") from exc
                if position + len(plain) > start:
                    yield plain[max(start - position, 0):]
                position += len(plain)
                if not remaining or not block:
                    return


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _hmac(key: bytes, value: str) -> str:
    normalised = value.strip().upper()  # an ID number's x and X are the same number
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def new_key_ring(path: Path | None = None) -> KeyRing:
    key_id = f"k1-{secrets.token_hex(2)}"
    return KeyRing(key_id, {key_id: AESGCM.generate_key(bit_length=256)}, [secrets.token_bytes(32)], path)


def parse_key_ring(text: str, path: Path | None = None) -> KeyRing:
    data = json.loads(text)
    return KeyRing(
        current=data["current"],
        keys={key_id: base64.b64decode(key) for key_id, key in data["keys"].items()},
        index_keys=[base64.b64decode(key) for key in data["index_keys"]],
        path=path,
    )


def write_owner_only(path: Path, content: str | bytes) -> None:
    """Write a file created with mode 0600 from the start (never readable for a moment), whole or not at all.

    Key rings, sealed scans on both apps: written under a temporary name, then moved into place.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = path.with_name(path.name + f".tmp-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic on Windows and POSIX: a crash leaves the old file or the new one
    finally:
        tmp.unlink(missing_ok=True)


def load_key_ring(path: Path, *, create: bool = True) -> KeyRing:
    """The key ring in `path`; a first start creates it owner-only (Windows: see docs/security.md)."""
    if path.exists():
        return parse_key_ring(path.read_text(encoding="utf-8"), path)
    if not create:
        raise SealingError(f"找不到密钥文件 {path}：没有它，已加密的居民信息无法读取。请从备份中恢复密钥文件。")
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = new_key_ring(path)
    write_owner_only(path, ring.to_json())
    return ring


def save_key_ring(ring: KeyRing) -> None:
    if ring.path is None:
        raise SealingError("这个密钥环没有文件位置。")
    write_owner_only(ring.path, ring.to_json())


def reseal_all(values: Iterable[str], ring: KeyRing) -> list[str]:
    """Each value sealed under the current key (rotation's inner step, for callers that batch rows)."""
    return [ring.seal(ring.unseal(value)) if value else value for value in values]


__all__ = [
    "KeyRing", "SealingError", "load_key_ring", "new_key_ring", "parse_key_ring", "reseal_all",
    "save_key_ring", "write_owner_only",
]
