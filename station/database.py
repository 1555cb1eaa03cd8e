"""Opening the station's SQLite database the one way every entry point uses."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from peewee import SqliteDatabase
from playhouse.pool import PooledSqliteDatabase

PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,  # two clerks saving at once wait for each other instead of failing
    "synchronous": "normal",  # safe with WAL; a power cut loses at most the last commit, never corrupts
    "cache_size": -6000,  # KiB per connection: each waitress thread and the sync job has one; 16 MB bought nothing measurable
}


def create_owner_only(path: str) -> None:
    """Create an empty database file with mode 0600 if there is none (SQLite gives its -wal and
    -shm files the database file's mode): residents' data is never readable by others, even for
    a moment, even when the database lives outside the owner-only instance folder."""
    if path == ":memory:" or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def open_database(path: str) -> SqliteDatabase:
    """Return a SQLite database configured for a station: WAL, foreign keys, busy timeout.

    Pooled: a request "closes" its connection back into the pool, so the page cache stays warm
    and SQLite does not checkpoint the WAL every time the last connection closes.
    """
    create_owner_only(path)
    return PooledSqliteDatabase(path, pragmas=PRAGMAS, check_same_thread=False, timeout=10,
                                max_connections=16, stale_timeout=600)


def copy_database(source: str, target: Path) -> None:
    """A consistent owner-only copy through SQLite's backup API (WAL included), as one self-contained file.

    The copy before an upgrade and every backup are made this way.
    """
    if target.exists():
        target.unlink()  # a leftover from an interrupted backup
    create_owner_only(str(target))
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
            # one self-contained file (the copy inherits WAL mode from the source's header): no
            # -wal/-shm beside it on the USB drive, and a read-only check leaves none behind
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
