"""Scanned materials: checked by content, stored once by SHA-256, never shown to another station."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ulid import ULID

from rules import events
from station.extensions import db
from station.models import Attachment, Case, User
from station.services import timeline
from station.services.errors import DomainError, NotFound
from sync.outbox import enqueue
from websec.files import FileRefused, check_scan, download_name


def blob_path(root: str, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def add_attachment(case: Case, user: User, filename: str, data: bytes, root: str, max_bytes: int) -> Attachment:
    """Store a scan for a case; the same file twice on one case is refused, across cases stored once."""
    if not data:
        raise DomainError("文件是空的，请重新扫描。")
    if len(data) > max_bytes:
        raise DomainError(f"文件太大：最大 {max_bytes // (1024 * 1024)} MB。请降低扫描分辨率后重试。")
    try:  # by the file's content: a decodable JPEG/PNG, or a PDF without scripts — never its name
        content_type = check_scan(data)
    except FileRefused as exc:
        raise DomainError(exc.message) from None
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(root, sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a half-written file is never taken for a whole one
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
