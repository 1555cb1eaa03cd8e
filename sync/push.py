"""Pushing the backlog: batches of queued events, up to three at the hub at once, never two of one case.

POSTs are retried freely because the hub de-duplicates by event id; an event counts as
delivered only on the hub's verified answer.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sync import protocol
from sync.attachment_upload import AttachmentUploader
from sync.backlog import QueuedEvent, attachments_of, pending_events, take_batch, update_outbox, with_payloads
from sync.hooks import StationHooks
from sync.local_db import db, now
from sync.status import queue_summary
from sync.summary import SyncSummary
from sync.transport import JSON_GZIP, HubClient, refuse_unless_ok


def heartbeat(clock_offset_s: float, hooks: StationHooks) -> dict[str, Any]:
    """What every sync tells the county about this station: versions, queue, clock, free disk."""
    summary = queue_summary()
    try:
        free = shutil.disk_usage(hooks.data_dir if hooks.data_dir.exists() else ".").free
    except OSError:
        free = -1
    return {
        "app_version": hooks.app_version,
        "schema_version": hooks.schema_version(),
        "protocol": protocol.PROTOCOL_VERSION,
        "queue_length": summary["queue_length"],
        "oldest_queued_age_s": summary["oldest_queued_age_s"],
        "set_aside_count": summary["set_aside_count"],
        "clock_offset_s": clock_offset_s,
        "free_disk_bytes": free,
        "station_time": dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
    }


def send_heartbeat(client: HubClient, hooks: StationHooks) -> None:
    """One signed heartbeat alone (a round with nothing queued; `python -m station link` trying a
    link before it stores it): raises the LinkProblem the hub's answer names."""
    body = protocol.encode_body({"heartbeat": heartbeat(client.clock_offset, hooks)})
    status, payload = client.call("POST", "/api/v1/heartbeat", body, headers=JSON_GZIP)
    refuse_unless_ok(status, payload, "心跳")


@dataclass
class _InFlight:
    """A batch handed to a push thread: its events, the pending answer, how far the round got, its cases."""

    batch: list[QueuedEvent]
    future: Future
    sent_upto: int
    cases: set[str]


class Pusher:
    """Sends the backlog batch by batch, the station's own work overlapping the hub's."""

    FIRST_BATCH = 100  # a weak link gets a small first batch; a fast one earns bigger ones
    FAST_S, SLOW_S = 2.0, 10.0

    def __init__(self, client: HubClient, hooks: StationHooks, *, max_events: int = 500,
                 max_bytes: int = 1024 * 1024, in_flight: int = 3,
                 progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.client = client
        self.hooks = hooks
        self.uploader = AttachmentUploader(client, hooks.open_blob)
        self.in_flight = max(1, in_flight)
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.batch_size = min(self.FIRST_BATCH, max_events)
        self.progress = progress or (lambda _p: None)

    def _adapt(self, elapsed_s: float) -> None:
        """Grow batches while answers come fast, shrink them on a slow link (less to resend)."""
        if elapsed_s < self.FAST_S:
            self.batch_size = min(self.max_events, self.batch_size * 2)
        elif elapsed_s > self.SLOW_S:
            self.batch_size = max(10, self.batch_size // 2)

    def push(self, summary: SyncSummary) -> None:
        """Send the backlog batch by batch, the station's own work overlapping the hub's.

        Up to ``in_flight`` batches are at the hub at once, but never two that share a case
        (batches end at case boundaries, and one that would share a case waits), so each
        case's events still arrive in order. While the hub works, the station builds the next
        batch and records the answers to the previous ones. A county hub runs several workers;
        a second batch keeps a second one busy.
        """
        events = pending_events()
        total = len(events)
        self.progress({"running": True, "stage": "push", "sent": 0, "total": total, "message": "正在上传办件"})
        if not events:
            send_heartbeat(self.client, self.hooks)
            return
        # Counted once per round: re-counting a long backlog before every batch cost more than
        # sending it. The queue length still goes down batch by batch.
        beat = heartbeat(self.client.clock_offset, self.hooks)
        in_flight: deque[_InFlight] = deque()
        with ThreadPoolExecutor(max_workers=self.in_flight, thread_name_prefix="sync-push") as wire:
            try:
                start = 0
                while start < total:
                    batch = take_batch(events, start, self.batch_size, self.max_bytes)
                    start += len(batch)
                    batch = with_payloads(batch)
                    if attachments_of(batch):  # files go first, over the same link: nothing else in flight
                        while in_flight:
                            self._settle(in_flight.popleft(), summary, total)
                        batch = self.uploader.upload_for(batch, summary)
                        if not batch:
                            continue
                    body = batch_body(self.client.link.station_code, batch,
                                      dict(beat, queue_length=max(0, beat["queue_length"] - start)))
                    cases = {e.case_id for e in batch}
                    answered = []
                    while in_flight and (len(in_flight) >= self.in_flight or any(
                            not cases.isdisjoint(sent.cases) for sent in in_flight)):
                        sent = in_flight.popleft()
                        answered.append((sent, self._wait(sent)))  # refusals stop the round here …
                    in_flight.append(_InFlight(batch, wire.submit(self._post, body), start, cases))  # … else it goes
                    for sent, answer in answered:
                        self._record(sent, answer, summary, total)  # recorded while the hub works
                while in_flight:
                    self._settle(in_flight.popleft(), summary, total)
            except BaseException:
                for sent in in_flight:  # sent, or maybe sent: never leave them looking untried
                    try:
                        sent.future.result()
                    except BaseException:  # noqa: BLE001 - the first error is the one to report
                        pass
                    update_outbox([e.id for e in sent.batch], {}, now())
                raise

    def _post(self, body: bytes) -> tuple[int, dict[str, Any], float]:
        """The network part of sending a batch (runs on the push thread); returns status, answer, seconds."""
        started = time.monotonic()
        try:
            status, payload = self.client.call("POST", "/api/v1/events", body, headers=JSON_GZIP)
        finally:
            if not db.is_closed():  # a clock correction may have opened this thread's connection
                db.close()
        return status, payload, time.monotonic() - started

    def _wait(self, sent: _InFlight) -> tuple[dict[str, Any], float]:
        """The hub's answer to a sent batch, checked before anything else is sent.

        No answer, or a refusal of the whole batch: the attempt is counted and the round stops.
        """
        try:
            status, payload, elapsed = sent.future.result()
        except BaseException:
            update_outbox([e.id for e in sent.batch], {}, now())  # sent, or maybe sent
            raise
        if status != 200:
            update_outbox([e.id for e in sent.batch], {}, now())
        if status == 413:
            self.batch_size = max(10, self.batch_size // 4)
        refuse_unless_ok(status, payload, "本批次")
        return payload, elapsed

    def _record(self, sent: _InFlight, answer: tuple[dict[str, Any], float], summary: SyncSummary,
                total: int) -> None:
        payload, elapsed = answer
        summary.pushed += len(sent.batch)
        self._record_results(sent.batch, payload.get("results") or [], summary)
        self._adapt(elapsed)
        summary.batches += 1
        self.progress({"running": True, "stage": "push", "sent": sent.sent_upto, "total": total,
                       "message": f"已上传 {sent.sent_upto} / {total} 条"})

    def _settle(self, sent: _InFlight, summary: SyncSummary, total: int) -> None:
        """Wait for a sent batch's answer and record it (nothing else is in flight afterwards)."""
        self._record(sent, self._wait(sent), summary, total)

    def _record_results(self, batch: list[QueuedEvent], results: list[dict[str, Any]],
                        summary: SyncSummary) -> None:
        record_results(batch, results, summary)


def batch_body(station_code: str, batch: list[QueuedEvent], heartbeat: dict[str, Any]) -> bytes:
    """The gzip body of ``POST /api/v1/events`` for ``batch`` (a USB bundle carries the very same bytes)."""
    head = protocol.json_text({
        "protocol": protocol.PROTOCOL_VERSION,
        "station": station_code,
        "batch_id": protocol.new_id(),
        "heartbeat": heartbeat,
    })
    raw = head[:-1] + ',"events":[' + ",".join(e.envelope_json() for e in batch) + "]}"
    return protocol.compress_body(raw.encode("utf-8"))


def record_results(batch: list[QueuedEvent], results: list[dict[str, Any]], summary: SyncSummary) -> None:
    """Store the hub's per-event answers to ``batch`` (by network, or brought back in a return bundle)."""
    by_id = {e.event_id: e for e in batch}
    # (state, result, code, reason) -> outbox ids: one UPDATE per kind of answer, not per event
    updates: dict[tuple[str, str, str, str], list[int]] = {}
    for result in results:
        event = by_id.get(result.get("event_id"))
        if event is None:
            continue
        status = result.get("status") or ""
        reason = result.get("reason") or ""
        code = result.get("code") or ""
        if status in (protocol.STATUS_ACCEPTED, protocol.STATUS_DUPLICATE):
            state = "acked"
            summary.acknowledged += 1
            if status == protocol.STATUS_DUPLICATE:
                summary.duplicates += 1
        elif status == protocol.STATUS_CONFLICT:
            state = "set_aside"  # the hub kept the copy for a person; so do we
            reason = reason or "县级平台已有同一编号但内容不同的事件"
            summary.conflicts += 1
        elif status == protocol.STATUS_REJECTED and result.get("retryable"):
            summary.retry_later += 1
            continue  # stays queued; the reason is not a verdict
        elif status == protocol.STATUS_REJECTED:
            state = "set_aside"
            summary.rejected += 1
            summary.details.append(f"{event.case_id} #{event.seq}: {reason}")
        else:
            continue
        updates.setdefault((state, status, code, reason), []).append(event.id)
    answered = {i for ids in updates.values() for i in ids}
    update_outbox([e.id for e in batch if e.id not in answered], updates, now())
