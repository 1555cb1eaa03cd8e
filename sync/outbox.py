"""The transactional outbox: every case change writes its event in the caller's transaction.

Ordering is by an AUTOINCREMENT id (never reused, unlike a plain rowid — see huey's storage) and
by a gapless per-case `seq`, which the hub checks, so a case's events arrive in the order they
happened even when the backlog is sent most-urgent-case first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import CharField, DateField, DateTimeField, IntegerField, fn
from playhouse.sqlite_ext import AutoIncrementField
from ulid import ULID

from sync.local_db import SealedJSONField, SealedTextField, SyncModel, db, now
from sync.state import SEQ_FLOOR_PREFIX, SyncState


class OutboxError(RuntimeError):
    """Raised when an event is written outside a transaction: it could then outlive its change."""


class OutboxEvent(SyncModel):
    id = AutoIncrementField()
    event_id = CharField(max_length=26, unique=True)
    case_id = CharField(max_length=26, index=True)
    seq = IntegerField()
    kind = CharField(max_length=40)
    payload = SealedJSONField()  # sealed: ID numbers, phones, addresses (kept after sending)
    occurred_at = CharField(max_length=32)  # ISO 8601 with offset, as sent on the wire
    catalog_version = CharField(max_length=40, default="")
    deadline = DateField(null=True, index=True)
    state = CharField(max_length=12, default="queued", index=True)
    attempts = IntegerField(default=0)
    last_attempt_at = DateTimeField(null=True)
    result = CharField(max_length=12, default="")  # accepted / duplicate / conflict / rejected
    result_code = CharField(max_length=40, default="")
    reason = SealedTextField(default="")  # the county's words (may echo a name or number): sealed (station 0029)
    acked_at = DateTimeField(null=True)
    created_at = DateTimeField(default=now)

    class Meta:
        table_name = "outbox_event"
        indexes = ((("case_id", "seq"), True),)

    def envelope(self) -> dict[str, Any]:
        """The event as the wire protocol carries it."""
        return {
            "event_id": self.event_id,
            "case_id": self.case_id,
            "seq": self.seq,
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "catalog_version": self.catalog_version,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "payload": self.payload,
        }


def enqueue(
    case_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    catalog_version: str = "",
    deadline: dt.date | None = None,
) -> OutboxEvent:
    """Write one event for a case; must run inside the transaction that makes the change."""
    if not db.in_transaction():
        raise OutboxError("outbox events must be written in the same transaction as the change")
    last = (
        OutboxEvent.select(fn.MAX(OutboxEvent.seq)).where(OutboxEvent.case_id == case_id).scalar() or 0
    )
    # after a restore the hub may hold later events of this case than the backup did (sync/restore.py)
    last = max(last, seq_floor(case_id))
    return OutboxEvent.create(
        event_id=str(ULID()),
        case_id=case_id,
        seq=last + 1,
        kind=kind,
        payload=payload,
        occurred_at=dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
        catalog_version=catalog_version,
        deadline=deadline,
    )


def seq_floor(case_id: str) -> int:
    """The last seq the hub holds of `case_id` beyond this database's events (0: none recorded)."""
    row = SyncState.get_or_none(SyncState.key == SEQ_FLOOR_PREFIX + case_id)
    return int(row.value) if row is not None and row.value.isdigit() else 0


def case_sync_state(case_id: str) -> dict[str, Any]:
    """Summarise a case's own sync state for its page: queued / sent / acknowledged / set aside."""
    return _sync_state(list(OutboxEvent.select().where(OutboxEvent.case_id == case_id).order_by(OutboxEvent.seq)))


def case_sync_states(case_ids: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`case_sync_state` for many cases (a day's ledger) in one query per 500 cases."""
    events: dict[str, list[OutboxEvent]] = {case_id: [] for case_id in case_ids}
    for start in range(0, len(case_ids), 500):
        for event in (OutboxEvent.select().where(OutboxEvent.case_id.in_(case_ids[start:start + 500]))
                      .order_by(OutboxEvent.case_id, OutboxEvent.seq)):
            events[event.case_id].append(event)
    return {case_id: _sync_state(case_events) for case_id, case_events in events.items()}


def _sync_state(events: list[OutboxEvent]) -> dict[str, Any]:
    if not events:
        return {"state": "none", "label": "无需同步", "events": []}
    set_aside = [e for e in events if e.state == "set_aside"]
    queued = [e for e in events if e.state == "queued"]
    if set_aside:
        return {"state": "set_aside", "label": "被退回，需人工处理", "reason": set_aside[0].reason, "events": events}
    if queued:
        sent = any(e.attempts for e in queued)
        return {
            "state": "sent" if sent else "queued",
            "label": "已发送，等待县级确认" if sent else "待同步",
            "events": events,
        }
    return {"state": "acked", "label": "县级已确认接收", "events": events}


__all__ = ["OutboxError", "OutboxEvent", "case_sync_state", "case_sync_states", "enqueue"]
