"""After the hub's database is restored from a backup: tell every station, past any cursor it holds.

A backup (pg_dump, or a base backup replayed to a point) is older than what the stations saw:
events they sent after it are acknowledged at the station and gone at the hub, and the changes
written after it are gone too, while the stations' cursors point past them. ``mark_restored``
(``python -m sync.hub restored``, run once after the restore and before the hub serves again)
appends one broadcast ``hub.restored`` change whose id jumps ``GAP`` past the last one the
restored database holds, and moves the id sequence after it. So:

- every new change gets an id above any cursor a station can hold (one it took from the lost
  database is at most ``GAP`` ids further than the restored one), and none is skipped;
- every station pulls ``hub.restored`` and then checks what the hub still holds of it and
  sends again the events the restore lost (sync/hub_restore.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from peewee import PostgresqlDatabase, fn

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Change, utcnow

#: How far the change ids jump: more changes than the hub writes between a backup and its loss.
GAP = 1_000_000


def mark_restored(gap: int = GAP) -> dict[str, Any]:
    """Append the ``hub.restored`` broadcast past every id a station may hold; return its payload."""
    with db.atomic():
        if isinstance(db.obj, PostgresqlDatabase):
            db.execute_sql(f'LOCK TABLE "{Change._meta.table_name}" IN EXCLUSIVE MODE')
        last = Change.select(fn.MAX(Change.id)).scalar() or 0
        payload = {"epoch": uuid.uuid4().hex, "last_change_before": last,
                   "restored_at": utcnow().replace(microsecond=0).isoformat() + "Z"}
        Change.insert(id=last + gap, kind=protocol.CHANGE_HUB_RESTORED, payload=payload, station=None,
                      case_id=None).execute()
        if isinstance(db.obj, PostgresqlDatabase):  # SQLite's next rowid follows the largest by itself
            db.execute_sql("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                           (Change._meta.table_name, last + gap))
    return payload
