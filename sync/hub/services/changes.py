"""The changes feed: what flows back to stations, in cursor order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import PostgresqlDatabase

from sync import protocol
from sync.hub.extensions import db, key_ring
from sync.hub.models import Appointment, Change, HubCase, Station
from sync.hub.services import personal, workdays


def emit(kind: str, payload: dict[str, Any], *, station: Station | None = None,
         case_id: str | None = None) -> Change:
    """Append a change inside the caller's transaction.

    On PostgreSQL ids come from a sequence before commit, so two concurrent transactions could
    commit ids out of order and a station reading in between would move its cursor past the
    later-committing one forever. An EXCLUSIVE table lock (readers still proceed) serialises
    writers so commit order equals id order. SQLite writers are serialised already. Changes are
    rare (clerk decisions, catalog publications), so the lock costs nothing that matters.
    """
    if isinstance(db.obj, PostgresqlDatabase):
        db.execute_sql(f'LOCK TABLE "{Change._meta.table_name}" IN EXCLUSIVE MODE')
    return Change.create(kind=kind, payload=payload, station=station, case_id=case_id)


@dataclass(frozen=True)
class ChangePage:
    """One page of the feed for a station."""

    changes: list[dict[str, Any]]
    next_cursor: int
    has_more: bool


def page_for(station: Station, cursor: int, limit: int, *, max_bytes: int, device: int = 0) -> ChangePage:
    """Return the station's own changes and broadcasts after ``cursor``, as ``device`` sees them.

    A page also stops at ``max_bytes`` of payload (full catalogs are large) but always carries
    at least one change, so the station always makes progress. A ``case.shared`` change is left
    out for the device the case came from (it has the case) — the cursor still moves past it —
    and served to the others with the county's current view of the case attached.
    """
    cursor = max(0, int(cursor))
    limit = max(1, int(limit))
    query = (Change.select()
             .where((Change.id > cursor) & ((Change.station == station) | Change.station.is_null()))
             .order_by(Change.id)
             .limit(limit + 1))
    rows = list(query)
    has_more = len(rows) > limit
    rows = rows[:limit]
    out: list[dict[str, Any]] = []
    size = 0
    next_cursor = cursor
    for row in rows:
        payload = row.payload
        if row.kind in _SERVED:
            payload = _SERVED[row.kind](row, device)
            if payload is None:
                next_cursor = row.id
                continue
        item = {"change_id": row.id, "kind": row.kind, "case_id": row.case_id, "payload": payload}
        size += len(protocol.json_bytes(item))
        if out and size > max_bytes:
            has_more = True
            break
        out.append(item)
        next_cursor = row.id
    return ChangePage(out, next_cursor, has_more)


def _shared_case(row: Change, device: int) -> dict[str, Any] | None:
    """What a ``case.shared`` change carries to ``device``; None for the device the case came from."""
    origin = int((row.payload or {}).get("origin_device") or 0)
    if origin == device:
        return None
    case = HubCase.get_or_none(HubCase.case_id == row.case_id)
    if case is None:
        return None
    return {"case_id": case.case_id, "origin_device": origin, "snapshot": personal.open_snapshot(case.snapshot),
            "status": case.status, "hub_case_no": case.hub_case_no, "case_no": case.case_no,
            "query_code": case.query_code, "item_name": case.item_name, "applicant_name": case.applicant_name,
            "received_at": case.received_at}


def _appointment(row: Change, device: int) -> dict[str, Any] | None:
    """What an ``appointment.changed`` change carries: the booking, personal data opened for the signed link.

    None (left out) for the device that sent the booking itself.
    """
    origin = (row.payload or {}).get("origin_device")
    if origin is not None and int(origin) == device:
        return None
    booking = Appointment.get_or_none(Appointment.appointment_id == (row.payload or {}).get("appointment_id"))
    if booking is None:
        return None
    return {"appointment_id": booking.appointment_id, "code": booking.code, "slot_date": booking.slot_date.isoformat(),
            "slot_start": booking.slot_start, "slot_end": booking.slot_end, "item_code": booking.item_code,
            "item_name": booking.item_name, "name": key_ring.unseal(booking.name_stored),
            "phone": key_ring.unseal(booking.phone_stored), "address": key_ring.unseal(booking.address_stored),
            "home_visit": booking.home_visit, "status": booking.status, "source": booking.source,
            "note": booking.note, "case_id": booking.case_id, "case_no": booking.case_no,
            "case_query_code": booking.case_query_code}


def _status(row: Change, device: int) -> dict[str, Any]:
    """A ``case.status`` change: its certificate number opened (sealed at rest, personal.seal_change)."""
    return personal.open_change(row.payload)


def _dues(row: Change, device: int) -> dict[str, Any] | None:
    """A ``case.dues`` change: the case's 法定/承诺 dates at the county as they are now, 暂定 or not.

    Served from the case, not stored: a later move of the dates (a station recount taken meanwhile)
    is what the station gets, even from an earlier change it pulls late.
    """
    case = HubCase.get_or_none(HubCase.case_id == row.case_id)
    if case is None:
        return None
    out: dict[str, Any] = {"reason": (row.payload or {}).get("reason") or ""}
    for name in ("statutory", "committed"):
        due = case.statutory_due if name == "statutory" else case.committed_due
        out[f"{name}_due"] = due.isoformat() if due else None
        out[f"{name}_provisional"] = bool(workdays.provisional_warning(case.received_time, due,
                                                                       counted_on=case.dues_counted_on))
    return out


#: Changes stored as a reference (or in part sealed) and served with what they refer to, as it is now.
_SERVED = {protocol.CHANGE_CASE_SHARED: _shared_case, protocol.CHANGE_APPOINTMENT: _appointment,
           protocol.CHANGE_CASE_STATUS: _status, protocol.CHANGE_CASE_DUES: _dues}
