"""Scanned materials: checked by content, stored once by SHA-256 (of the plain file), sealed on disk.

An ID-card scan is the most personal thing a station keeps: the file on disk is sealed with the
station's key ring (`seal_bytes`) and created owner-only (0600); it is unsealed only when served
to staff and when uploaded to the county, which receives the plain file with the same SHA-256 —
read and unsealed piece by piece (`open_blob`), so a big scan is never held whole for the upload.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ulid import ULID

from rules import events
from station import keys
from station.extensions import db
from station.models import Attachment, Case, User
from station.services import timeline
from station.services.errors import DomainError, NotFound
from sync.outbox import enqueue
from websec.files import FileRefused, check_scan, download_name
from websec.sealing import SealedFile, write_owner_only


def blob_path(root: str, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def write_sealed(path: Path, data: bytes) -> None:
    """Seal `data` into `path`, created 0600 from the start; a half-written file is never taken for a whole one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_owner_only(path, keys.ring().seal_bytes(data))


def read_blob(root: str, sha256: str) -> bytes | None:
    """A stored scan's plain bytes (None when the file is missing)."""
    path = blob_path(root, sha256)
    try:
        stored = path.read_bytes()
    except FileNotFoundError:
        return None
    return keys.ring().unseal_bytes(stored)


def open_blob(root: str, sha256: str) -> SealedFile | None:
    """A stored scan opened to be read in pieces (None when the file is missing).

    A scan stored before sealing existed is a plain file on disk; it is read from disk as it is.
    """
    try:
        return keys.ring().open_file(blob_path(root, sha256))
    except FileNotFoundError:
        return None


def too_large_message(max_bytes: int) -> str:
    """The one Chinese sentence for a scan over the limit, naming the limit (the view and the 413 page share it)."""
    if max_bytes >= 1024 * 1024:
        limit = f"{max_bytes / (1024 * 1024):g} MB"
    else:
        limit = f"{max_bytes} 字节"
    return f"文件太大：超过 {limit} 上限。请降低扫描分辨率或分页扫描后重新上传。"


def add_attachment(case: Case, user: User, filename: str, data: bytes, root: str, max_bytes: int) -> Attachment:
    """Store a scan for a case; the same file twice on one case is refused, across cases stored once."""
    if not data:
        raise DomainError("文件是空的，请重新扫描。")
    if len(data) > max_bytes:
        raise DomainError(too_large_message(max_bytes))
    try:  # by the file's content: a decodable JPEG/PNG, or a PDF without scripts — never its name
        content_type = check_scan(data)
    except FileRefused as exc:
        raise DomainError(exc.message) from None
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(root, sha256)
    if not path.exists():
        write_sealed(path, data)
    safe_name = download_name(filename, content_type)  # kept under its real type's extension
    with db.atomic("IMMEDIATE"):
        if Attachment.select().where((Attachment.case == case) & (Attachment.sha256 == sha256)).exists():
            raise DomainError("这个文件已经上传过了。")
        attachment = Attachment.create(
            id=str(ULID()), case=case, sha256=sha256, filename=safe_name, content_type=content_type,
            size=len(data), uploaded_by=user,
        )
        timeline.record(case, timeline.actor_of(user), "attachment", f"上传扫描件：{safe_name}",
                        {"sha256": sha256, "size": len(data)})
        enqueue(
            case.id, events.MATERIALS_UPDATED,
            {"attachments": [{"sha256": sha256, "filename": safe_name, "size": len(data),
                                    "content_type": content_type}]},
            catalog_version=case.catalog_version, deadline=case.committed_due,
        )
    return attachment


def get_attachment(case: Case, attachment_id: str) -> Attachment:
    """Only an attachment of this case (so a guessed id from elsewhere finds nothing)."""
    attachment = Attachment.get_or_none((Attachment.id == attachment_id) & (Attachment.case == case))
    if attachment is None:
        raise NotFound("没有找到这个附件。")
    return attachment
