"""The backlog: queued outbox rows in sending order, cut into batches, and the hub's answers stored.

Plain SQL where it pays: a month offline is tens of thousands of rows on an old station PC,
and rendering long IN lists through peewee cost more than SQLite's own work.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sync import protocol
from sync.local_db import db, open_payload
from sync.outbox import OutboxEvent

IDS_PER_STATEMENT = 500  # ids per IN (...): under the 999 parameters of older SQLite builds


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
    payload_bytes: int  # about the payload's UTF-8 size, never less (what a batch's size is cut by)
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
        "SELECT id, event_id, case_id, seq, kind, occurred_at, catalog_version, deadline, "
        # a sealed payload is bytes (its length is the UTF-8 size and the seal's 40-odd bytes); a
        # plain one from before sealing counts 2 bytes a character, a cheap upper bound for CJK
        "CASE WHEN typeof(payload) = 'blob' THEN length(payload) ELSE 2 * length(payload) END "
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
    """The same events with their payload text (unsealed), read in one query per 500."""
    payloads: dict[int, str] = {}
    ids = [e.id for e in events]
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        chunk = ids[start:start + IDS_PER_STATEMENT]
        payloads.update(db.execute_sql(
            f"SELECT id, payload FROM outbox_event WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    # built directly: dataclasses.replace cost more than opening the seal
    return [QueuedEvent(e.id, e.event_id, e.case_id, e.seq, e.kind, e.occurred_at, e.catalog_version, e.deadline,
                        e.payload_bytes, open_payload(payloads[e.id])) for e in events]


def take_batch(events: list[QueuedEvent], start: int, max_events: int, max_bytes: int) -> list[QueuedEvent]:
    """The next batch from `start`: at most `max_events` events and about `max_bytes` of JSON.

    It ends where a case ends when it can (a case's events are together in the backlog), so
    the next batch shares no case with it and both may be at the hub at once.
    """
    batch: list[QueuedEvent] = []
    size = 0
    for event in events[start : start + max_events]:
        event_bytes = event.payload_bytes + 200
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


def update_outbox(tried: list[int], answers: dict[tuple[str, str, str, str], list[int]],
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
        statements.append((  # the reason sealed as its field seals it (the county's words may echo a number)
            "UPDATE outbox_event SET attempts = attempts + 1, last_attempt_at = ?, state = ?, result = ?, "
            "result_code = ?, reason = ?, acked_at = ?",
            [stamp_text, state, status, code, OutboxEvent.reason.db_value(reason),
             stamp_text if state == "acked" else None], ids))
    with db.atomic("IMMEDIATE"):
        for sql, params, ids in statements:
            for start in range(0, len(ids), IDS_PER_STATEMENT):
                chunk = ids[start:start + IDS_PER_STATEMENT]
                db.execute_sql(f"{sql} WHERE id IN ({','.join('?' * len(chunk))})", [*params, *chunk])


def attachments_of(events: list[QueuedEvent]) -> dict[str, dict[str, Any]]:
    """The files these events refer to, by SHA-256 (the hub must hold them before the events)."""
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        if '"sha256"' not in event.payload_json:
            continue
        payload = event.payload()
        for entry in list(payload.get("attachments") or []) + list(payload.get("attachments_added") or []):
            found[entry["sha256"]] = entry
    return found
