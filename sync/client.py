"""The station's side of the wire: push queued events, upload attachments, pull the changes feed.

One `requests.Session`, a timeout on every call, and an event counts as delivered only on a
hub answer whose signature verifies — a captive portal's 200 is never an ack. POSTs are
retried freely because the hub de-duplicates by event id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from station.extensions import db
from station.models import Setting
from station.models.base import now
from sync import protocol
from sync.outbox import OutboxEvent
from sync.status import (
    KEY_LAST_ERROR,
    KEY_LAST_ERROR_AT,
    KEY_LAST_SUCCESS,
    KEY_LINK_STATE,
    queue_summary,
    record_pull_problem,
)

log = logging.getLogger(__name__)

KEY_HUB_URL = "sync.hub_url"
KEY_STATION_CODE = "sync.station_code"
KEY_SECRET = "sync.secret"
KEY_CURSOR = "sync.cursor"
KEY_CLOCK_OFFSET = "sync.clock_offset_s"
APP_VERSION = "0.1.0"
CHUNK_BYTES = 256 * 1024


class LinkDown(Exception):
    """The hub could not be reached, or something that is not the hub answered."""


class CaseProblem(Exception):
    """Something wrong with one case's own data (a scan lost from disk, a file the hub refuses).

    It sets that case's event aside for a person; it never stops the other cases.
    """


@dataclass
class SyncSummary:
    pushed: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    retry_later: int = 0
    pulled: int = 0
    attachments_uploaded: int = 0
    batches: int = 0
    queue_left: int = 0
    error: str = ""
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HubLink:
    url: str
    station_code: str
    secret: str

    def save(self) -> None:
        """Store the link as the station's settings (`python -m station link`, the demo)."""
        Setting.set_value(KEY_HUB_URL, self.url.rstrip("/"))
        Setting.set_value(KEY_STATION_CODE, self.station_code)
        Setting.set_value(KEY_SECRET, self.secret)

    @classmethod
    def from_settings(cls) -> HubLink | None:
        url = Setting.get_value(KEY_HUB_URL)
        code = Setting.get_value(KEY_STATION_CODE)
        secret = Setting.get_value(KEY_SECRET)
        return cls(url, code, secret) if url and code and secret else None


class HubClient:
    """Signed requests to one hub, with the learned clock offset applied."""

    def __init__(self, link: HubLink, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (5.0, 60.0), clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self.clock = clock  # the station PC's own clock, however wrong it is
        self.session = session or requests.Session()
        self.timeout = timeout
        self.clock_offset = float(Setting.get_value(KEY_CLOCK_OFFSET, "0") or 0)

    def call(self, method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None,
             _retry_clock: bool = True) -> tuple[int, dict[str, Any]]:
        """Send one signed request; return (status, json) only if the answer verifies as the hub's."""
        url = self.link.url + path
        # a bare prepared request carries no session defaults: ask for compressed answers here
        prepared = requests.Request(method, url, data=body or None,
                                    headers={"Accept-Encoding": "gzip", **(headers or {})}).prepare()
        signed = protocol.sign_request(self.link.secret, method, prepared.path_url, body,
                                       station=self.link.station_code,
                                       timestamp=int(self.clock() + self.clock_offset))
        prepared.headers.update(signed)
        started = self.clock()
        try:
            response = self.session.send(prepared, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LinkDown(f"无法连接县级平台：{type(exc).__name__}") from exc
        content = response.content
        if response.status_code == 401:
            payload = _json_or_none(content)
            if payload and payload.get("error") == protocol.ERR_CLOCK_SKEW and _retry_clock:
                self._learn_clock(payload, started)
                return self.call(method, path, body, headers=headers, _retry_clock=False)
            if payload and payload.get("error"):
                raise LinkDown(f"县级平台拒绝了本站的请求：{payload.get('message') or payload['error']}")
            raise LinkDown("收到的应答不是县级平台的（可能是上网认证页面或代理）。")
        if not protocol.verify_response(self.link.secret, signed[protocol.H_NONCE], response.status_code,
                                        response.headers, content):
            raise LinkDown("收到的应答未通过县级平台签名验证（可能是上网认证页面或代理），本次不计为已送达。")
        payload = _json_or_none(content) or {}
        self._learn_clock(payload, started)
        return response.status_code, payload

    def _learn_clock(self, payload: dict[str, Any], started: float) -> None:
        server_time = payload.get("server_time")
        if not isinstance(server_time, (int, float)):
            return
        midpoint = (started + self.clock()) / 2
        offset = round(float(server_time) - midpoint, 3)
        # stored only when it moved: a write per request would contend with the clerks' saves
        if abs(offset - self.clock_offset) >= 1.0:
            Setting.set_value(KEY_CLOCK_OFFSET, str(offset))
        self.clock_offset = offset


def _json_or_none(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class QueuedEvent:
    """A queued outbox row as the pusher needs it: the payload stays the JSON text it was stored as.

    Decoding every payload only to encode it again for the wire was a third of the push. The
    payload is read batch by batch (:func:`with_payloads`), not with the backlog: a month
    offline is tens of megabytes of payloads that an old station PC need not hold at once.
    """

    id: int
    event_id: str
    case_id: str
    seq: int
    kind: str
    occurred_at: str
    catalog_version: str
    deadline: str | None
    payload_chars: int
    payload_json: str = ""

    def envelope_json(self) -> str:
        """The wire envelope (same fields as `OutboxEvent.envelope()`), the payload spliced in as stored."""
        head = protocol.json_text({
            "event_id": self.event_id, "case_id": self.case_id, "seq": self.seq, "kind": self.kind,
            "occurred_at": self.occurred_at, "catalog_version": self.catalog_version, "deadline": self.deadline,
        })
        return head[:-1] + ',"payload":' + self.payload_json + "}"

    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json)


def pending_events() -> list[QueuedEvent]:
    """The backlog in sending order, without payloads: most urgent deadline first, each case's events in seq order.

    A case with a set-aside event is held back (its later events would arrive out of order),
    and only that case: every other case goes on.
    """
    blocked = {
        case_id for (case_id,) in db.execute_sql(
            "SELECT DISTINCT case_id FROM outbox_event WHERE state = 'set_aside'").fetchall()
    }
    by_case: dict[str, list[QueuedEvent]] = {}
    cursor = db.execute_sql(
        "SELECT id, event_id, case_id, seq, kind, occurred_at, catalog_version, deadline, length(payload) "
        "FROM outbox_event WHERE state = 'queued' ORDER BY id")
    for row in cursor.fetchall():
        if row[2] not in blocked:
            deadline = row[7].isoformat() if isinstance(row[7], dt.date) else row[7]
            by_case.setdefault(row[2], []).append(QueuedEvent(*row[:7], deadline, row[8]))

    def urgency(events: list[QueuedEvent]) -> tuple[str, int]:
        deadlines = [e.deadline for e in events if e.deadline]
        return (min(deadlines) if deadlines else "9999-12-31", events[0].id)

    ordered: list[QueuedEvent] = []
    for events in sorted(by_case.values(), key=urgency):
        ordered.extend(sorted(events, key=lambda e: e.seq))
    return ordered


def with_payloads(events: list[QueuedEvent]) -> list[QueuedEvent]:
    """The same events with their payload text, read in one query per 500."""
    payloads: dict[int, str] = {}
    ids = [e.id for e in events]
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start:start + _IDS_PER_STATEMENT]
        payloads.update(db.execute_sql(
            f"SELECT id, payload FROM outbox_event WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return [replace(e, payload_json=payloads[e.id]) for e in events]


def take_batch(events: list[QueuedEvent], start: int, max_events: int, max_bytes: int) -> list[QueuedEvent]:
    """The next batch from `start`: at most `max_events` events and about `max_bytes` of JSON.

    It ends where a case ends when it can (a case's events are together in the backlog), so
    the next batch shares no case with it and both may be at the hub at once.
    """
    batch: list[QueuedEvent] = []
    size = 0
    for event in events[start : start + max_events]:
        event_bytes = event.payload_chars * 2 + 200  # CJK is 3 bytes in UTF-8: a cheap upper bound
        if batch and size + event_bytes > max_bytes:
            break
        batch.append(event)
        size += event_bytes
    following = start + len(batch)
    if following < len(events) and batch[-1].case_id == events[following].case_id:
        cut = len(batch)
        while cut > 0 and batch[cut - 1].case_id == events[following].case_id:
            cut -= 1
        if cut > 0:  # a case longer than a whole batch is sent in pieces, one piece at a time
            batch = batch[:cut]
    return batch


def pending_batches(max_events: int, max_bytes: int) -> list[list[QueuedEvent]]:
    """The whole backlog cut into batches of a fixed size (what a round sends when the link is good)."""
    events = pending_events()
    batches, start = [], 0
    while start < len(events):
        batch = take_batch(events, start, max_events, max_bytes)
        batches.append(with_payloads(batch))
        start += len(batch)
    return batches


@dataclass
class _InFlight:
    """A batch handed to a push thread: its events, the pending answer, how far the round got, its cases."""

    batch: list[QueuedEvent]
    future: Future
    sent_upto: int
    cases: set[str]


_IDS_PER_STATEMENT = 500  # ids per IN (...): under the 999 parameters of older SQLite builds


def _update_outbox(tried: list[int], answers: dict[tuple[str, str, str, str], list[int]],
                   stamp: dt.datetime) -> None:
    """Count one more attempt on every event of a batch and store the hub's answers, in one transaction.

    One UPDATE per kind of answer rather than per event, in plain SQL: rendering an IN list of
    500 ids through peewee cost more than SQLite's own work, and rewriting each wide row twice
    (attempt, then answer) doubled that. ``tried`` are the events without a verdict (no answer,
    or "retry later"): they only count the attempt and stay queued.
    """
    stamp_text = OutboxEvent.last_attempt_at.db_value(stamp)
    statements: list[tuple[str, list[Any], list[int]]] = []
    if tried:
        statements.append(("UPDATE outbox_event SET attempts = attempts + 1, last_attempt_at = ?", [stamp_text], tried))
    for (state, status, code, reason), ids in answers.items():
        statements.append((
            "UPDATE outbox_event SET attempts = attempts + 1, last_attempt_at = ?, state = ?, result = ?, "
            "result_code = ?, reason = ?, acked_at = ?",
            [stamp_text, state, status, code, reason, stamp_text if state == "acked" else None], ids))
    with db.atomic("IMMEDIATE"):
        for sql, params, ids in statements:
            for start in range(0, len(ids), _IDS_PER_STATEMENT):
                chunk = ids[start:start + _IDS_PER_STATEMENT]
                db.execute_sql(f"{sql} WHERE id IN ({','.join('?' * len(chunk))})", [*params, *chunk])


def _attachments_of(events: list[QueuedEvent]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        if '"sha256"' not in event.payload_json:
            continue
        payload = event.payload()
        for entry in list(payload.get("attachments") or []) + list(payload.get("attachments_added") or []):
            found[entry["sha256"]] = entry
    return found


class Syncer:
    """One sync round: heartbeat + push + pull, each step recorded for the sync page."""

    FIRST_BATCH = 100  # a weak link gets a small first batch; a fast one earns bigger ones
    FAST_S, SLOW_S = 2.0, 10.0

    def __init__(self, client: HubClient, attachment_dir: str, *, max_events: int = 500,
                 max_bytes: int = 1024 * 1024, in_flight: int = 3,
                 progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.client = client
        self.in_flight = max(1, in_flight)
        self.attachment_dir = attachment_dir
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

    # --- heartbeat ---------------------------------------------------------------------------
    def heartbeat(self) -> dict[str, Any]:
        from station.migrate import schema_version

        summary = queue_summary()
        try:
            free = shutil.disk_usage(self.attachment_dir if Path(self.attachment_dir).exists() else ".").free
        except OSError:
            free = -1
        return {
            "app_version": APP_VERSION,
            "schema_version": schema_version(db.obj),
            "protocol": protocol.PROTOCOL_VERSION,
            "queue_length": summary["queue_length"],
            "oldest_queued_age_s": summary["oldest_queued_age_s"],
            "set_aside_count": summary["set_aside_count"],
            "clock_offset_s": self.client.clock_offset,
            "free_disk_bytes": free,
            "station_time": dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
        }

    # --- push ---------------------------------------------------------------------------------
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
            body = protocol.encode_body({"heartbeat": self.heartbeat()})
            self.client.call("POST", "/api/v1/heartbeat", body, headers={"Content-Encoding": "gzip",
                                                                          "Content-Type": "application/json"})
            return
        # Counted once per round: re-counting a long backlog before every batch cost more than
        # sending it. The queue length still goes down batch by batch.
        beat = self.heartbeat()
        in_flight: deque[_InFlight] = deque()
        with ThreadPoolExecutor(max_workers=self.in_flight, thread_name_prefix="sync-push") as wire:
            try:
                start = 0
                while start < total:
                    batch = take_batch(events, start, self.batch_size, self.max_bytes)
                    start += len(batch)
                    batch = with_payloads(batch)
                    if _attachments_of(batch):  # files go first, over the same link: nothing else in flight
                        while in_flight:
                            self._settle(in_flight.popleft(), summary, total)
                        batch = self._upload_attachments(batch, summary)
                        if not batch:
                            continue
                    body = self._batch_body(batch, dict(beat, queue_length=max(0, beat["queue_length"] - start)))
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
                    _update_outbox([e.id for e in sent.batch], {}, now())
                raise

    def _batch_body(self, batch: list[QueuedEvent], heartbeat: dict[str, Any]) -> bytes:
        head = protocol.json_text({
            "protocol": protocol.PROTOCOL_VERSION,
            "station": self.client.link.station_code,
            "batch_id": protocol.new_id(),
            "heartbeat": heartbeat,
        })
        raw = head[:-1] + ',"events":[' + ",".join(e.envelope_json() for e in batch) + "]}"
        return protocol.compress_body(raw.encode("utf-8"))

    def _post(self, body: bytes) -> tuple[int, dict[str, Any], float]:
        """The network part of sending a batch (runs on the push thread); returns status, answer, seconds."""
        started = time.monotonic()
        try:
            status, payload = self.client.call("POST", "/api/v1/events", body,
                                               headers={"Content-Encoding": "gzip",
                                                        "Content-Type": "application/json"})
        finally:
            if not db.is_closed():  # a clock correction may have opened this thread's connection
                db.close()
        return status, payload, time.monotonic() - started

    def _wait(self, sent: _InFlight | None) -> tuple[dict[str, Any], float] | None:
        """The hub's answer to a sent batch, checked before anything else is sent.

        No answer, or a refusal of the whole batch: the attempt is counted and the round stops.
        """
        if sent is None:
            return None
        try:
            status, payload, elapsed = sent.future.result()
        except BaseException:
            _update_outbox([e.id for e in sent.batch], {}, now())  # sent, or maybe sent
            raise
        if status != 200:
            _update_outbox([e.id for e in sent.batch], {}, now())
        if status == 413:
            self.batch_size = max(10, self.batch_size // 4)
            raise LinkDown("县级平台认为批次过大：" + str(payload.get("message", "")))
        if status >= 500:
            raise LinkDown(f"县级平台暂时故障（{status}）：{payload.get('message', '')}")
        if status != 200:
            raise LinkDown(f"县级平台拒绝了本批次（{status}）：{payload.get('message', '')}")
        return payload, elapsed

    def _record(self, sent: _InFlight | None, answer: tuple[dict[str, Any], float] | None,
                summary: SyncSummary, total: int) -> None:
        if sent is None or answer is None:
            return
        payload, elapsed = answer
        summary.pushed += len(sent.batch)
        self._record_results(sent.batch, payload.get("results") or [], summary)
        self._adapt(elapsed)
        summary.batches += 1
        self.progress({"running": True, "stage": "push", "sent": sent.sent_upto, "total": total,
                       "message": f"已上传 {sent.sent_upto} / {total} 条"})

    def _settle(self, sent: _InFlight | None, summary: SyncSummary, total: int) -> None:
        """Wait for a sent batch's answer and record it (nothing else is in flight afterwards)."""
        self._record(sent, self._wait(sent), summary, total)

    def _record_results(self, batch: list[QueuedEvent], results: list[dict[str, Any]],
                        summary: SyncSummary) -> None:
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
        _update_outbox([e.id for e in batch if e.id not in answered], updates, now())

    def _upload_attachments(self, batch: list[QueuedEvent], summary: SyncSummary) -> list[QueuedEvent]:
        """Upload the files the batch refers to; return the batch without the cases whose files failed."""
        wanted = _attachments_of(batch)
        if not wanted:
            return batch
        _status, payload = self.client.call(
            "POST", "/api/v1/attachments/check", protocol.encode_body({"sha256": sorted(wanted)}, compress=False),
            headers={"Content-Type": "application/json"})
        failed: dict[str, str] = {}
        for sha256 in payload.get("missing") or []:
            if sha256 not in wanted:
                continue
            try:
                self._upload_one(sha256, wanted[sha256])
            except CaseProblem as exc:
                failed[sha256] = str(exc)
                continue
            summary.attachments_uploaded += 1
        if not failed:
            return batch
        return self._set_aside_for_files(batch, failed, summary)

    def _set_aside_for_files(self, batch: list[QueuedEvent], failed: dict[str, str],
                             summary: SyncSummary) -> list[QueuedEvent]:
        """Set aside each event that refers to a failed file; its case's later events wait behind it."""
        blocked_from: dict[str, int] = {}  # case → first seq that may not go
        with db.atomic("IMMEDIATE"):
            for event in sorted(batch, key=lambda e: (e.case_id, e.seq)):
                reasons = [failed[sha] for sha in _attachments_of([event]) if sha in failed]
                if reasons and event.case_id not in blocked_from:
                    reason = "；".join(reasons)
                    OutboxEvent.update(state="set_aside", result="rejected", result_code="attachment",
                                       reason=reason).where(OutboxEvent.id == event.id).execute()
                    blocked_from[event.case_id] = event.seq
                    summary.rejected += 1
                    summary.details.append(f"{event.case_id} #{event.seq}: {reason}")
        # the case's earlier events still go; the failed one and those after it wait for a person
        return [e for e in batch if e.seq < blocked_from.get(e.case_id, e.seq + 1)]

    def _upload_one(self, sha256: str, entry: dict[str, Any]) -> None:
        """Upload a file in chunks, resuming from what the hub already holds."""
        from station.services.attachments import blob_path

        path = blob_path(self.attachment_dir, sha256)
        if not path.exists():
            raise CaseProblem(f"本地扫描件丢失：{entry.get('filename', sha256)}，请重新扫描上传后再重新发送")
        total = path.stat().st_size
        _s, state = self.client.call("GET", f"/api/v1/attachments/{sha256}/status")
        offset = int(state.get("received") or 0)
        if state.get("complete"):
            return
        with path.open("rb") as fh:
            fh.seek(offset)
            while offset < total:
                chunk = fh.read(CHUNK_BYTES)
                end = offset + len(chunk) - 1
                status, result = self.client.call(
                    "PUT", f"/api/v1/attachments/{sha256}", chunk,
                    headers={"Content-Range": f"bytes {offset}-{end}/{total}",
                             "Content-Type": entry.get("content_type") or "application/octet-stream"})
                if status >= 500:
                    raise LinkDown(f"附件上传时县级平台故障（{status}）")
                if status >= 400:
                    raise CaseProblem(f"县级平台拒收扫描件“{entry.get('filename', sha256)}”：{result.get('message', status)}")
                offset = end + 1

    # --- pull ---------------------------------------------------------------------------------
    def pull(self, summary: SyncSummary) -> None:
        while True:
            cursor = int(Setting.get_value(KEY_CURSOR, "0") or 0)
            _status, page = self.client.call("GET", f"/api/v1/changes?cursor={cursor}&limit=200")
            changes = page.get("changes") or []
            with db.atomic("IMMEDIATE"):
                for change in changes:
                    self._apply_change(change)
                    summary.pulled += 1
                # the cursor moves only together with the changes it covers
                Setting.set_value(KEY_CURSOR, str(page.get("next_cursor", cursor)))
            self.progress({"running": True, "stage": "pull", "message": f"已接收县级更新 {summary.pulled} 条"})
            if not page.get("has_more") or not changes:
                break

    def _apply_change(self, change: dict[str, Any]) -> None:
        """Apply one change in its own savepoint; one the station cannot apply is kept for a person.

        The cursor must still move past it: otherwise one bad catalog would stop every later
        受理/补正/办结 from ever reaching this station.
        """
        from station.services.cases import apply_county_status
        from station.services.catalog import import_catalog
        from station.services.station_info import apply_hub_settings

        kind = change.get("kind")
        payload = change.get("payload") or {}
        try:
            with db.atomic():
                if kind == protocol.CHANGE_CASE_STATUS:
                    apply_county_status(change.get("case_id") or "", payload)
                elif kind == protocol.CHANGE_CATALOG_PUBLISHED:
                    import_catalog(payload, source="hub")
                elif kind == protocol.CHANGE_STATION_SETTINGS:
                    apply_hub_settings(payload.get("settings") or {})
        except Exception as exc:  # noqa: BLE001 - recorded for a person, never silently dropped
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("change %s (%s) could not be applied: %s", change.get("change_id"), kind, message)
            record_pull_problem(change, message)


    # --- one round ----------------------------------------------------------------------------
    def run(self) -> SyncSummary:
        summary = SyncSummary()
        try:
            self.push(summary)
            self.pull(summary)
        except LinkDown as exc:
            summary.error = str(exc)
            Setting.set_value(KEY_LINK_STATE, "down")
            Setting.set_value(KEY_LAST_ERROR, summary.error)
            Setting.set_value(KEY_LAST_ERROR_AT, now().isoformat(sep=" "))
            log.warning("sync failed: %s", summary.error)
        except Exception as exc:  # noqa: BLE001 - a bug must still end the round visibly
            log.exception("sync round failed")
            summary.error = f"同步出错：{type(exc).__name__}（已记录日志，请联系技术支持）"
            Setting.set_value(KEY_LAST_ERROR, summary.error)
            Setting.set_value(KEY_LAST_ERROR_AT, now().isoformat(sep=" "))
        else:
            Setting.set_value(KEY_LINK_STATE, "up")
            Setting.set_value(KEY_LAST_SUCCESS, now().isoformat(sep=" "))
        summary.queue_left = queue_summary()["queue_length"]
        self.progress({"running": False, "message": _final_message(summary), "sent": summary.pushed,
                       "total": summary.pushed})
        return summary


def _final_message(summary: SyncSummary) -> str:
    if summary.error:
        return f"同步未完成：{summary.error}（待同步 {summary.queue_left} 条，链路恢复后自动补传）"
    return (f"同步完成：上传 {summary.pushed} 条，县级确认 {summary.acknowledged} 条，"
            f"接收更新 {summary.pulled} 条，待同步 {summary.queue_left} 条")
