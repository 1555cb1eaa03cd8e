"""Scans go to the hub before the events that refer to them: content-addressed, once, resumable.

A file the station lost or the hub refuses sets aside its own case's event for a person; the
other cases' events go on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync import protocol
from sync.backlog import QueuedEvent, attachments_of
from sync.errors import CaseProblem, HubFault
from sync.local_db import db
from sync.outbox import OutboxEvent
from sync.summary import SyncSummary
from sync.transport import HubClient, refuse_unless_ok

CHUNK_BYTES = 256 * 1024


class AttachmentUploader:
    """Uploads the files a batch refers to, resuming from what the hub already holds."""

    def __init__(self, client: HubClient, read_blob: Callable[[str], bytes | None]) -> None:
        self.client = client
        self.read_blob = read_blob

    def upload_for(self, batch: list[QueuedEvent], summary: SyncSummary) -> list[QueuedEvent]:
        """Upload the files the batch refers to; return the batch without the cases whose files failed."""
        wanted = attachments_of(batch)
        if not wanted:
            return batch
        status, payload = self.client.call(
            "POST", "/api/v1/attachments/check", protocol.encode_body({"sha256": sorted(wanted)}, compress=False),
            headers={"Content-Type": "application/json"})
        refuse_unless_ok(status, payload, "附件核对请求")
        failed: dict[str, str] = {}
        for sha256 in payload.get("missing") or []:
            if sha256 not in wanted:
                continue
            try:
                self.upload_one(sha256, wanted[sha256])
            except CaseProblem as exc:
                failed[sha256] = str(exc)
                continue
            summary.attachments_uploaded += 1
        if not failed:
            return batch
        return _set_aside_for_files(batch, failed, summary)

    def upload_one(self, sha256: str, entry: dict[str, Any]) -> None:
        """Upload a file in chunks, resuming from what the hub already holds."""
        data = self.read_blob(sha256)  # unsealed by the station: the hub gets the file as scanned
        if data is None:
            raise CaseProblem(f"本地扫描件丢失：{entry.get('filename', sha256)}，请重新扫描上传后再重新发送")
        total = len(data)
        _s, held = self.client.call("GET", f"/api/v1/attachments/{sha256}/status")
        offset = int(held.get("received") or 0)
        if held.get("complete"):
            return
        while offset < total:
            chunk = data[offset:offset + CHUNK_BYTES]
            end = offset + len(chunk) - 1
            status, result = self.client.call(
                "PUT", f"/api/v1/attachments/{sha256}", chunk,
                headers={"Content-Range": f"bytes {offset}-{end}/{total}",
                         "Content-Type": entry.get("content_type") or "application/octet-stream"})
            if status >= 500:
                raise HubFault(f"附件上传时县级平台故障（{status}）")
            if status >= 400:
                raise CaseProblem(f"县级平台拒收扫描件“{entry.get('filename', sha256)}”：{result.get('message', status)}")
            offset = end + 1


def _set_aside_for_files(batch: list[QueuedEvent], failed: dict[str, str],
                         summary: SyncSummary) -> list[QueuedEvent]:
    """Set aside each event that refers to a failed file; its case's later events wait behind it."""
    blocked_from: dict[str, int] = {}  # case → first seq that may not go
    with db.atomic("IMMEDIATE"):
        for event in sorted(batch, key=lambda e: (e.case_id, e.seq)):
            reasons = [failed[sha] for sha in attachments_of([event]) if sha in failed]
            if reasons and event.case_id not in blocked_from:
                reason = "；".join(reasons)
                OutboxEvent.update(state="set_aside", result="rejected", result_code="attachment",
                                   reason=reason).where(OutboxEvent.id == event.id).execute()
                blocked_from[event.case_id] = event.seq
                summary.rejected += 1
                summary.details.append(f"{event.case_id} #{event.seq}: {reason}")
    # the case's earlier events still go; the failed one and those after it wait for a person
    return [e for e in batch if e.seq < blocked_from.get(e.case_id, e.seq + 1)]
