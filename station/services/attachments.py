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

# Checked by the file's first bytes, not its name or the browser's word for it.
SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


def sniff_type(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


def blob_path(root: str, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def add_attachment(case: Case, user: User, filename: str, data: bytes, root: str, max_bytes: int) -> Attachment:
    """Store a scan for a case; the same file twice on one case is refused, across cases stored once."""
    if not data:
        raise DomainError("文件是空的，请重新扫描。")
    if len(data) > max_bytes:
        raise DomainError(f"文件太大：最大 {max_bytes // (1024 * 1024)} MB。请降低扫描分辨率后重试。")
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise DomainError("只能上传 JPG、PNG 图片或 PDF 文件。")
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(root, sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a half-written file is never taken for a whole one
    safe_name = os.path.basename(filename or "scan")[:200] or "scan"
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
