"""Records cleared after retention must not linger in the database file's free pages.

Shared by the station's and the county's retention (station/services/retention.py,
sync/hub/services/retention.py): both clear residents' data from SQLite, where a page freed by
an UPDATE keeps the old bytes until reused, and the write-ahead log keeps a copy until it is
checkpointed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from peewee import Database, SqliteDatabase

T = TypeVar("T")


def zeroing_what_it_frees(database: Database, work: Callable[[], T]) -> T:
    """Run ``work`` on SQLite with ``secure_delete`` on, then truncate the WAL; anywhere else just run it.

    PostgreSQL keeps old row versions until (auto)vacuum reclaims them (docs/security.md).
    """
    engine = getattr(database, "obj", database)  # a peewee proxy or the database itself
    if not isinstance(engine, SqliteDatabase):
        return work()
    database.execute_sql("PRAGMA secure_delete = ON")
    try:
        result = work()
    finally:
        database.execute_sql("PRAGMA secure_delete = OFF")
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return result
