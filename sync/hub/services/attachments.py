"""Attachments: content-addressed by SHA-256, uploaded once, resumable, visible only to owners.

A station "owns" a file once it has uploaded it completely. ``check`` reports a file as missing
to any station that does not own it, even when another station uploaded the same bytes: the
hub never reveals what other stations hold. Partial uploads live per station, so two stations
uploading the same file never interfere. Writing a chunk at its offset is idempotent (the
bytes at an offset of a content-addressed file are always the same), so a retried chunk after
a broken transfer is harmless and needs no lock.

Complete files are stored sealed with the hub's key ring (``websec.sealing``), written owner-only
under a temporary name and moved into place; the SHA-256 that names a file stays that of the
plain bytes, so the content addressing and the stations' ``check`` are unchanged. A partial
upload is plain until its last chunk arrives (chunks are written at their offsets), then
verified and sealed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from peewee import IntegrityError

from sync import protocol
from sync.hub.extensions import db, key_ring
from sync.hub.models import Attachment, AttachmentLink, AttachmentOwner, AttachmentUpload, Station, utcnow
from sync.hub.services.errors import AttachmentError, NotFound
from websec.sealing import BLOB_MAGIC, write_owner_only


def blob_path(root: str | Path, sha256: str) -> Path:
    """Where a complete file lives: ``<root>/ab/abcdef…``."""
    return Path(root) / sha256[:2] / sha256


def _owner_only_folder(path: Path) -> None:
    """Create ``path`` (if needed) owner-only (0700) where the OS has modes (Windows: the folder's ACL)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except OSError:
        pass


def _partial_path(root: str | Path, station: Station, sha256: str) -> Path:
    return Path(root) / "partial" / f"{station.id}-{sha256}.part"


def _owns(station: Station | int, sha256: str) -> bool:
    return AttachmentOwner.select().where((AttachmentOwner.station == station)
                                         & (AttachmentOwner.sha256 == sha256)).exists()


def held_by(station: Station, digests: list[str]) -> set[str]:
    """Those of ``digests`` this station uploaded itself, whole or in part (one query each).

    Only these may be linked to its cases: the same bytes held for another station do not count.
    """
    wanted = list(dict.fromkeys(digests))
    if not wanted:
        return set()
    whole = {row.sha256 for row in AttachmentOwner.select(AttachmentOwner.sha256)
             .where((AttachmentOwner.station == station) & (AttachmentOwner.sha256.in_(wanted)))}
    rest = [d for d in wanted if d not in whole]
    if not rest:
        return whole
    partial = {row.sha256 for row in AttachmentUpload.select(AttachmentUpload.sha256)
               .where((AttachmentUpload.station == station) & (AttachmentUpload.sha256.in_(rest)))}
    return whole | partial


def check(station: Station, digests: list[str]) -> list[str]:
    """Return the digests this station still has to upload, in the order asked."""
    wanted = [d for d in dict.fromkeys(digests) if protocol.is_sha256(d)]
    if not wanted:
        return []
    owned = {row.sha256 for row in AttachmentOwner.select(AttachmentOwner.sha256)
             .where((AttachmentOwner.station == station) & (AttachmentOwner.sha256.in_(wanted)))}
    return [d for d in wanted if d not in owned]


def status(station: Station, sha256: str) -> dict[str, object]:
    """How much of the file the hub holds for this station, to resume a broken upload."""
    if _owns(station, sha256):
        size = Attachment.get(Attachment.sha256 == sha256).size
        return {"sha256": sha256, "received": size, "total": size, "complete": True}
    upload = AttachmentUpload.get_or_none((AttachmentUpload.station == station)
                                          & (AttachmentUpload.sha256 == sha256))
    if upload is None:
        return {"sha256": sha256, "received": 0, "total": None, "complete": False}
    return {"sha256": sha256, "received": upload.received, "total": upload.total, "complete": False}


def put_chunk(root: str | Path, station: Station, sha256: str, *, start: int, end: int, total: int,
              data: bytes, max_bytes: int, content_type: str | None = None) -> dict[str, object]:
    """Store bytes ``start..end`` of a file; verify and publish it when the last byte arrives.

    Raises :class:`AttachmentError` with 413 (too large), 416 (a gap: resume from ``received``),
    400 (length does not match the range) or 409 (the complete file's digest is wrong; the
    partial is discarded and the upload must start over).
    """
    if total > max_bytes:
        raise AttachmentError(f"附件超过大小上限（{max_bytes // (1024 * 1024)} MB）。", "too_large", 413,
                              max_bytes=max_bytes)
    if len(data) != end - start + 1:
        raise AttachmentError("上传内容长度与 Content-Range 不符。", "bad_range", 400)
    if _owns(station, sha256):
        return status(station, sha256)
    upload = _upload_row(station, sha256, total, content_type)
    if start > upload.received:
        raise AttachmentError("上传位置不连续，请从平台已收到的位置继续。", "range_gap", 416,
                              received=upload.received)
    partial = _partial_path(root, station, sha256)
    _owner_only_folder(partial.parent)
    # plain until complete (an ID card's photo): owner-only from its first byte, as the sealed files are
    with os.fdopen(os.open(partial, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as fh:
        fh.seek(start)
        fh.write(data)
    received = max(upload.received, end + 1)
    AttachmentUpload.update(received=received, updated_at=utcnow()).where(
        (AttachmentUpload.id == upload.id) & (AttachmentUpload.received < received)).execute()
    if received < total:
        return {"sha256": sha256, "received": received, "total": total, "complete": False}
    return _finish(root, station, sha256, partial, total, content_type or upload.content_type)


def _upload_row(station: Station, sha256: str, total: int, content_type: str | None) -> AttachmentUpload:
    query = (AttachmentUpload.station == station) & (AttachmentUpload.sha256 == sha256)
    upload = AttachmentUpload.get_or_none(query)
    if upload is None:
        try:
            with db.atomic():
                upload = AttachmentUpload.create(station=station, sha256=sha256, total=total,
                                                 content_type=content_type)
        except IntegrityError:
            upload = AttachmentUpload.get(query)
    if upload.total != total:  # the station restarted with a different idea of the size
        AttachmentUpload.update(total=total, received=0).where(AttachmentUpload.id == upload.id).execute()
        upload.total, upload.received = total, 0
    return upload


def _finish(root: str | Path, station: Station, sha256: str, partial: Path, total: int,
            content_type: str | None) -> dict[str, object]:
    digest = hashlib.sha256()
    with open(partial, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    size = partial.stat().st_size
    if digest.hexdigest() != sha256 or size != total:
        partial.unlink(missing_ok=True)
        AttachmentUpload.delete().where((AttachmentUpload.station == station)
                                        & (AttachmentUpload.sha256 == sha256)).execute()
        raise AttachmentError("附件内容校验失败（SHA-256 不一致），请重新上传。", "digest_mismatch", 409)
    final = blob_path(root, sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():  # else the same bytes were already stored by another upload
        write_sealed(final, partial.read_bytes())
    partial.unlink(missing_ok=True)
    with db.atomic():
        (Attachment.insert(sha256=sha256, size=total, content_type=content_type, created_at=utcnow())
         .on_conflict_ignore().execute())
        (AttachmentOwner.insert(station=station, sha256=sha256, created_at=utcnow())
         .on_conflict_ignore().execute())
        AttachmentUpload.delete().where((AttachmentUpload.station == station)
                                        & (AttachmentUpload.sha256 == sha256)).execute()
    return {"sha256": sha256, "received": total, "total": total, "complete": True}


def write_sealed(final: Path, plain: bytes) -> None:
    """Seal ``plain`` into ``final``: created owner-only under a temporary name, then moved into place."""
    write_owner_only(final, key_ring.seal_bytes(plain))


def read_plain(path: Path) -> bytes:
    """A stored file's bytes as the station sent them (a file stored before sealing is read as it is)."""
    return key_ring.unseal_bytes(path.read_bytes())


def blob_key_id(head: bytes) -> str | None:
    """The id of the key a sealed file was sealed with (from its first bytes), None for a plain file."""
    if not key_ring.is_sealed_blob(head):
        return None
    at = len(BLOB_MAGIC)
    return head[at + 1:at + 1 + head[at]].decode("ascii", "replace")


def reseal_files(root: str | Path) -> int:
    """Seal every complete file again under the ring's current key (plain ones too); returns how many."""
    count = 0
    for path in sorted(Path(root).glob("[0-9a-f][0-9a-f]/*")):
        if not protocol.is_sha256(path.name):
            continue
        with open(path, "rb") as fh:
            head = fh.read(64)
        if blob_key_id(head) != key_ring.current:
            write_sealed(path, read_plain(path))
            count += 1
    return count


def for_case(case_id: str) -> list[dict[str, object]]:
    """The attachments a case names, each with whether the hub has the file yet."""
    links = list(AttachmentLink.select().where(AttachmentLink.case_id == case_id).order_by(AttachmentLink.id))
    present = {a.sha256 for a in Attachment.select(Attachment.sha256)
               .where(Attachment.sha256.in_([link.sha256 for link in links] or [""]))}
    return [{"sha256": link.sha256, "filename": link.filename or link.sha256[:12], "size": link.size,
             "content_type": link.content_type, "present": link.sha256 in present} for link in links]


def file_for_case(root: str | Path, case_id: str, sha256: str) -> tuple[Path, AttachmentLink]:
    """The stored file of a case's attachment, for the clerk's download link."""
    link = AttachmentLink.get_or_none((AttachmentLink.case_id == case_id) & (AttachmentLink.sha256 == sha256))
    path = blob_path(root, sha256)
    # The case's own station must hold the file: a link made on another station's digest (before
    # the hub checked ownership at ingest) never serves that station's scan.
    if link is None or not path.exists() or not _owns(link.station_id, sha256):
        raise NotFound("附件不存在或尚未上传完成。")
    return path, link
