"""The changes feed: what flows back to stations, in cursor order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import PostgresqlDatabase

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Change, Station


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


def page_for(station: Station, cursor: int, limit: int, *, max_bytes: int) -> ChangePage:
    """Return the station's own changes and broadcasts after ``cursor``.

    A page also stops at ``max_bytes`` of payload (full catalogs are large) but always carries
    at least one change, so the station always makes progress.
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
    for row in rows:
        item = {"change_id": row.id, "kind": row.kind, "case_id": row.case_id, "payload": row.payload}
        size += len(protocol.json_text(item).encode("utf-8"))
        if out and size > max_bytes:
            has_more = True
            break
        out.append(item)
    next_cursor = out[-1]["change_id"] if out else cursor
    return ChangePage(out, next_cursor, has_more)
