"""Scans go to the hub before the events that refer to them: content-addressed, once, resumable
(the chunks and the resuming are :mod:`sync.file_upload`'s, shared with a hub forwarding to a peer).

A file the station lost or the hub refuses sets aside its own case's event for a person; the
other cases' events go on.
"""

from __future__ import annotations

from sync import protocol
from sync.backlog import QueuedEvent, attachments_of
from sync.errors import CaseProblem
from sync.file_upload import FileUploader
from sync.local_db import db
from sync.outbox import OutboxEvent
from sync.summary import SyncSummary
from sync.transport import refuse_unless_ok


class AttachmentUploader(FileUploader):
    """Uploads the files a batch refers to, resuming from what the hub already holds (each file read in pieces)."""

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
