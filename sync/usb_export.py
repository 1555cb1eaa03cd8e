"""A village without a link: its backlog out on a USB stick, the county's answers back in.

The bundle carries the very batches a network push would send, each signed like the request
that would have carried it, so the hub checks the village's signature and removes duplicates
exactly as for a push. Exported events stay queued (one more attempt counted) until an answer
comes back — by a return bundle or by the network, whichever first — so nothing is lost when a
stick is, and an event the hub already holds comes back ``duplicate``, never twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sync import protocol, state
from sync.backlog import QueuedEvent, attachments_of, pending_events, take_batch, update_outbox, with_payloads
from sync.file_upload import CHUNK_BYTES
from sync.hooks import StationHooks
from sync.local_db import db, now
from sync.outbox import OutboxEvent
from sync.pull import apply_page
from sync.push import batch_body, heartbeat, record_results
from sync.summary import SyncSummary
from sync.transport import HubLink
from sync.usb_bundle import (
    BATCH_SIGNED_PATH,
    KIND_OUTBOUND,
    KIND_RETURN,
    MAX_BUNDLE_BYTES,
    BundleError,
    Source,
    device_name,
    new_bundle_id,
    open_bundle,
    read_header,
    township_of,
    write_bundle,
)

USB_SEQ = "usb_bundle_seq"  # the last bundle this station exported
USB_RETURN_SEQ = "usb_return_seq"  # the bundle whose answers were imported last
USB_LAST_EXPORT = "usb_last_export"  # JSON: what the last export held, for the page
USB_PROGRESS = "usb_progress"  # JSON: how far the running export or import is
BUNDLE_MARGIN_BYTES = 4 * 1024 * 1024  # the content list, headers and record framing, below the limit
EVENT_OVERHEAD_BYTES = 1024  # an event's envelope in its batch, more than it ever takes


@dataclass(frozen=True)
class ExportSummary:
    """What went onto the stick."""

    bundle_id: str
    seq: int
    events: int
    cases: int
    files: int
    bytes: int
    held_back: list[str]  # cases left queued because a scan is missing on this PC
    left_for_next: list[str] = field(default_factory=list)  # cases (or their later events) past the size limit

    def size_message(self) -> str:
        """What the agent is told when the bundle is full."""
        if not self.left_for_next:
            return ""
        return (f"离线包已达上限（{MAX_BUNDLE_BYTES // 1024 // 1024} MB），还有 {len(self.left_for_next)} 件办件的记录"
                "留待下一个离线包：请在本包的回执包导入后再导出下一包。")


@dataclass(frozen=True)
class ReturnSummary:
    """What a return bundle changed here."""

    seq: int
    acknowledged: int
    set_aside: int
    pulled: int


def record_progress(stage: str, done: int, total: int, message: str) -> None:
    """Store how far an export or import is (the page polls it)."""
    state.set_value(USB_PROGRESS, json.dumps({"stage": stage, "done": done, "total": total, "message": message},
                                             ensure_ascii=False))


def export_bundle(out: BinaryIO, link: HubLink, hooks: StationHooks, area_code: str, *,
                  progress: Callable[[int, int], None] | None = None,
                  max_bytes: int = MAX_BUNDLE_BYTES) -> ExportSummary:
    """Write every queued event and the scans they need into ``out``, sealed for the county.

    With nothing queued the bundle is still worth carrying: it takes the changes cursor up, and
    the return bundle brings the county's decisions since then.

    A case whose scan is missing on this PC stays queued and out of the bundle (the network
    push sets it aside for a person, as it would any lost scan). A bundle stops short of
    ``max_bytes`` (what the township and the county take): the most urgent events go first, a case
    that does not fit waits (from the event that did not fit, so its order holds) for the next
    bundle — exported once this one's answers are back, as its events stay queued until then.
    """
    if not township_of(area_code):
        raise BundleError("本站区划代码未设置，无法确定所属乡镇（请站长在本站设置中填写）。")
    events = pending_events()
    batches: list[list[QueuedEvent]] = []
    files: dict[str, tuple[dict[str, Any], int]] = {}  # sha256 → (entry, length): checked now, read again when written
    held_back: set[str] = set()
    later: set[str] = set()  # cases (or their later events) past the size limit: the next bundle takes them
    budget, used = max_bytes - BUNDLE_MARGIN_BYTES, 0
    start = 0
    while start < len(events):
        batch = with_payloads(take_batch(events, start, protocol.MAX_EVENTS_PER_BATCH, 1024 * 1024))
        start += len(batch)
        kept = []
        for event in batch:
            if event.case_id in later or event.case_id in held_back:
                continue
            new: dict[str, tuple[dict[str, Any], int]] = {}
            for sha256, entry in attachments_of([event]).items():
                if sha256 in files or sha256 in new:
                    continue
                source = hooks.open_blob(sha256)
                if source is None or _digest(source.chunks(0, CHUNK_BYTES)) != sha256:
                    held_back.add(event.case_id)
                else:
                    new[sha256] = (entry, source.size)
            cost = event.payload_bytes + EVENT_OVERHEAD_BYTES + sum(length for _entry, length in new.values())
            if used + cost > budget:  # this event and the case's later ones wait: each case stays in order
                later.add(event.case_id)
                continue
            used += cost
            files.update(new)
            kept.append(event)
        batches.append(kept)
    batches = [kept for kept in ([e for e in b if e.case_id not in held_back] for b in batches) if kept]
    clock_offset = float(state.get_value(state.CLOCK_OFFSET, "0") or 0)  # as learned the last time online
    beat = heartbeat(clock_offset, hooks)
    bodies, manifest = [], []
    for batch in batches:
        body = batch_body(link.station_code, batch, beat)
        headers = protocol.sign_request(link.secret, "POST", BATCH_SIGNED_PATH, body, station=link.station_code,
                                        clock_offset_s=clock_offset, device=link.device)
        bodies.append(body)
        manifest.append({"length": len(body), "headers": headers, "events": len(batch)})
    file_list = [{"sha256": sha, "length": length, "content_type": entry.get("content_type") or "",
                  "filename": entry.get("filename") or ""} for sha, (entry, length) in files.items()]
    seq = int(state.get_value(USB_SEQ, "0") or 0) + 1
    bundle_id = new_bundle_id()
    shipped = [e for b in batches for e in b]
    header = {"kind": KIND_OUTBOUND, "bundle_id": bundle_id, "station": link.station_code,
              "township": township_of(area_code), "seq": seq, "created_at": now().isoformat(timespec="seconds"),
              "events": len(shipped), "cases": len({e.case_id for e in shipped}), "files": len(files),
              **({"device": link.device} if link.device else {})}  # a laptop's: sealed with its own secret
    content = {"cursor": int(state.get_value(state.CURSOR, "0") or 0), "batches": manifest, "files": file_list}
    total = sum(len(b) for b in bodies) + sum(length for _entry, length in files.values())
    size = write_bundle(out, link.secret, header, content, _parts(bodies, files, hooks), total_bytes=total,
                        progress=progress)
    with db.atomic("IMMEDIATE"):
        update_outbox([e.id for e in shipped], {}, now())  # sent, by stick: "已发送，等待县级确认"
        state.set_value(USB_SEQ, str(seq))
        state.set_value(USB_LAST_EXPORT, json.dumps({**header, "bytes": size}, ensure_ascii=False))
    return ExportSummary(bundle_id, seq, len(shipped), header["cases"], len(files), size, sorted(held_back),
                         sorted(later - held_back))


def _parts(bodies: list[bytes], files: dict[str, tuple[dict[str, Any], int]],
           hooks: StationHooks) -> Iterator[bytes]:
    """The batch bodies, then each scan read from disk in pieces as it is written (one piece in memory)."""
    yield from bodies
    for sha256 in files:
        source = hooks.open_blob(sha256)
        digest = hashlib.sha256()
        for piece in source.chunks(0, CHUNK_BYTES) if source is not None else ():
            digest.update(piece)
            yield piece
        if digest.hexdigest() != sha256:  # gone, or changed since it was checked: the bundle is not finished
            raise BundleError("导出过程中有扫描件被改动或删除，请重新导出。")


def _digest(pieces: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    return digest.hexdigest()


def import_return(data: Source, link: HubLink, hooks: StationHooks) -> ReturnSummary:
    """Apply a return bundle: answers mark outbox events, changes apply as a pull applies them.

    Refused with nothing changed: another station's bundle, a damaged or altered file, one
    imported already, one older than the last imported, one answering no bundle of ours.
    """
    header = read_header(data)
    if header.kind != KIND_RETURN:
        raise BundleError("这是村站导出的离线包，应在乡镇便民服务中心导入；本站只能导入县级回执包。")
    if header.station != link.station_code:
        raise BundleError(f"此回执包是给 {header.station} 站的，不是本站（{link.station_code}），未导入。")
    if header.device != link.device:
        raise BundleError(f"此回执包是给{device_name(header.device)}的，不是本机（{device_name(link.device)}），未导入。")
    opened = open_bundle(data, link.secret)
    last = int(state.get_value(USB_RETURN_SEQ, "0") or 0)
    exported = int(state.get_value(USB_SEQ, "0") or 0)
    if header.seq == last:
        raise BundleError(f"此回执包（答复第 {header.seq} 号离线包）已导入过，未重复导入。")
    if header.seq < last:
        raise BundleError(f"此回执包答复的是第 {header.seq} 号离线包，比已导入的（第 {last} 号）旧，未导入。")
    if header.seq > exported:
        raise BundleError(f"本站没有导出过第 {header.seq} 号离线包，此回执包不属于本站，未导入。")
    content = opened.content
    results = [r for r in content.get("results") or [] if isinstance(r, dict)]
    changes = [c for c in content.get("changes") or [] if isinstance(c, dict)]
    summary = SyncSummary()
    with db.atomic("IMMEDIATE"):
        rows = {e.event_id: e for e in OutboxEvent.select(
            OutboxEvent.id, OutboxEvent.event_id, OutboxEvent.case_id, OutboxEvent.seq, OutboxEvent.state)
            .where(OutboxEvent.event_id.in_([str(r.get("event_id")) for r in results]))}
        answered = [QueuedEvent(row.id, row.event_id, row.case_id, row.seq, "", "", "", None, 0)
                    for row in rows.values() if row.state == "queued"]  # an ack by network already stands
        record_results(answered, results, summary)
        apply_page(hooks, changes, content.get("next_cursor", 0), summary)
        state.set_value(USB_RETURN_SEQ, str(header.seq))
    return ReturnSummary(header.seq, summary.acknowledged, summary.rejected + summary.conflicts, summary.pulled)


def last_export() -> dict[str, Any] | None:
    """What the last export held (for the page), or None."""
    raw = state.get_value(USB_LAST_EXPORT)
    return json.loads(raw) if raw else None
