"""Opening and migrating the hub database: SQLite for a demo, PostgreSQL for a real county.

Several WSGI worker processes share the database; nothing here keeps state in the process that
matters between requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import psycopg2.extensions
from peewee import Database, ImproperlyConfigured, PostgresqlDatabase
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 15000,  # several workers writing wait for each other instead of failing
    "synchronous": "normal",
}
POOL_SIZE = 32  # per worker process: more than its threads, fewer than PostgreSQL's default 100 / workers
#: A pooled PostgreSQL connection given back less than this many seconds ago is handed out again
#: without a round trip to prove it alive (pgbouncer's ``server_check_delay`` does the same).
CHECK_IDLE_AFTER_S = 1.0
# An arbitrary constant: the PostgreSQL advisory lock that serialises concurrent migrations.
_MIGRATION_LOCK_KEY = 724_018_331


class DatabaseUnavailable(Exception):
    """The hub's database did not open at start (server down, no such database, wrong password, an
    unsupported ``DATABASE_URL``): ``url`` is the configured address (may hold a password; None: the
    instance folder's SQLite file), ``cause`` the driver's error. ``python -m sync.hub`` says it in Chinese."""

    def __init__(self, url: str | None, cause: Exception) -> None:
        super().__init__(str(cause))
        self.url = url
        self.cause = cause


def open_database(url: str | None, sqlite_path: str) -> Database:
    """Return an (unconnected) database for ``url``, or the SQLite file at ``sqlite_path``.

    SQLite transactions begin IMMEDIATE: every hub transaction writes, and taking the write lock
    up front lets the busy timeout queue workers instead of failing with SQLITE_BUSY_SNAPSHOT.
    """
    if url and not urlparse(url).scheme.startswith("sqlite"):
        scheme = urlparse(url).scheme
        if scheme in ("postgres", "postgresql"):
            # pooled: a new PostgreSQL connection per request cost more than most requests
            return HubPostgresPool(**parse_url(url), max_connections=POOL_SIZE, stale_timeout=300)
        try:
            return connect_url(url)
        except RuntimeError as exc:  # "notaurl", "foo://": playhouse's RuntimeError was a traceback at start
            raise ImproperlyConfigured(f"不支持的数据库地址类型“{scheme}”" if scheme else "地址缺少 postgresql:// 开头") from exc
    path = urlparse(url).path if url else sqlite_path
    if url and path.startswith("/") and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = path[1:]  # sqlite:///relative.db
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Pooled: closing the last connection to a WAL database checkpoints it, ~7 ms on every
    # request; a pooled connection goes back to the pool instead.
    return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False,
                                timeout=15, max_connections=POOL_SIZE, stale_timeout=300)


class HubPostgresPool(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, proving a connection alive only when it sat idle a while.

    peewee checks every connection it hands out with a ``SELECT 1``, holding the pool's lock for
    the round trip: a small batch paid ~70 µs of hub and database CPU for it, and every thread
    taking a connection waited on every other one's. A connection that was in use less than
    :data:`CHECK_IDLE_AFTER_S` ago cannot have missed a database restart (one takes longer), so
    only its local state is read; one idle longer is still checked, so a restarted database
    costs no batch.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._returned_at: dict[int, float] = {}
        super().__init__(*args, **kwargs)

    def _is_closed(self, conn: object) -> bool:
        returned = self._returned_at.pop(self.conn_key(conn), None)
        if (returned is not None and time.monotonic() - returned < CHECK_IDLE_AFTER_S
                and not conn.closed and self._adapter.txn_status(conn) == self._adapter.txn_idle):
            return False
        return super()._is_closed(conn)

    def _close(self, conn: object, close_conn: bool = False) -> None:
        super()._close(conn, close_conn)
        if not close_conn and self.conn_key(conn) not in self._in_use and not conn.closed:
            self._returned_at[self.conn_key(conn)] = time.monotonic()

    def _close_raw(self, conn: object) -> None:
        self._returned_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

    # A transaction's BEGIN goes with its first statement ("BEGIN; …", one round trip): peewee sent
    # it on its own, a round trip of ~35 µs of the database's and ~70 µs of the hub's CPU on every
    # batch. A driver call of our own (COPY) begins first; a transaction that ran nothing sends nothing.

    def _begin_pending(self) -> bool:
        pending = getattr(self._state, "begin_pending", None)
        return pending is not None and pending is self._state.conn  # never a flag left from another connection

    def begin(self, isolation_level: object = None) -> None:
        if isolation_level is None and not self._isolation_level:
            self._state.begin_pending = self._state.conn if not self.is_closed() else None
            if self._state.begin_pending is not None:
                return
        super().begin(isolation_level)

    def execute_sql(self, sql: str, params: object = None) -> object:
        if not self._begin_pending():
            return super().execute_sql(sql, params)
        conn = self._state.conn
        self._state.begin_pending = None
        try:
            return super().execute_sql("BEGIN; " + sql, params)
        except Exception:
            # Refused before anything ran (a value the driver cannot quote, a syntax error: the
            # server parses the whole text first): the transaction has still to begin, or a caller
            # that catches this inside atomic() would write the rest in autocommit.
            if not conn.closed and conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                self._state.begin_pending = conn
            raise

    # And a transaction's COMMIT may ride with its last statement ("…; COMMIT"): a batch's
    # heartbeat update is the last thing its transaction writes, and its commit was a round trip
    # of its own (each costs the database far more in place than its work: docs/benchmarks.md,
    # "Session 11").

    def execute_then_commit(self, sql: str, params: object = None) -> object:
        """Run ``sql`` as the open transaction's last statement, its COMMIT in the same round trip.

        The ``commit()`` the transaction's end then calls sends nothing, and any statement sent in
        between is refused: it would run outside the transaction. If ``sql`` fails, nothing is
        committed and the transaction rolls back as usual. Outside a transaction it just runs.
        Only for the outermost transaction's own last statement: peewee keeps no count of the
        savepoints of an ``atomic()`` inside another, so the caller must know it owns the transaction.
        """
        if not self.in_transaction():
            return self.execute_sql(sql, params)
        conn = self._state.conn
        cursor = self.execute_sql(sql + "; COMMIT", params)
        self._state.committed = conn
        return cursor

    def _committed(self) -> bool:
        committed = getattr(self._state, "committed", None)
        return committed is not None and committed is self._state.conn

    def _refuse_after_commit(self) -> None:
        if self._committed():
            raise RuntimeError("hub: a statement after its transaction's COMMIT was sent would run outside it")

    def cursor(self, *args: object, **kwargs: object) -> object:
        self._refuse_after_commit()  # every statement, COPY included, takes a cursor here
        if self._begin_pending():
            self._state.begin_pending = None
            super().cursor().execute("BEGIN")
        return super().cursor(*args, **kwargs)

    def commit(self) -> None:
        if self._committed():
            self._state.committed = None
            return
        if self._begin_pending():
            self._state.begin_pending = None
            return
        super().commit()

    def rollback(self) -> None:
        self._state.committed = None  # the statement carrying it failed (or, wrongly, Python after it)
        if self._begin_pending():
            self._state.begin_pending = None
            return
        super().rollback()


def runner(database: Database) -> Runner:
    """The migration runner for the hub schema (history table ``hub_schema_migration``)."""
    return Runner(database, directory=str(MIGRATIONS_DIR), table_name="hub_schema_migration")


def migrate(database: Database, after: Callable[[list[str]], None] | None = None) -> list[str]:
    """Apply pending migrations; safe when several workers start at once.

    The whole run happens in one transaction holding a lock (an advisory lock on PostgreSQL,
    the write lock BEGIN IMMEDIATE takes on SQLite), so the second worker sees the first one's history and skips.
    ``after`` is called with the names applied, inside that transaction: work a migration needs
    but cannot do itself (sealing the rows 0003 finds needs the key ring) is then part of it.
    """
    with database.connection_context():
        with database.atomic():
            if isinstance(database, PostgresqlDatabase):
                database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
            applied = runner(database).up()
            if after is not None:
                after(applied)
    for name in applied:
        log.info("hub: applied migration %s", name)
    return applied


def schema_version(database: Database) -> str:
    """Name of the newest applied hub migration."""
    with database.connection_context():
        applied = [m.name for m in runner(database).status() if m.applied]
    return applied[-1] if applied else ""
