"""The statements every signed request and batch runs, planned once per PostgreSQL connection.

PostgreSQL parses and plans each statement it receives as text. For the small statements every
signed request makes (the station's read, the nonce, the heartbeat's update) planning cost the
database more than running them: the station's read was planned in ~0.36 ms and ran in 0.07
(docs/benchmarks.md, "Session 10"). A statement run here is sent once as ``PREPARE`` on each
connection and afterwards as ``EXECUTE name(values)``, which reuses the plan. psycopg2 still
quotes the values into the text, so nothing changes in what is stored or read.

Only for tables whose size does not change the right plan. A prepared statement's plan is kept
from when it was made: one on the events or cases, made while a new county's tables were nearly
empty, scanned them whole once they held thousands of rows (a one-event batch's reads went from
~0.1 to ~0.8 ms of the database's CPU in the bench), so those statements are planned each time.

Prepared statements belong to one database session; they outlive a transaction's rollback and
die with the connection, so the names prepared are remembered per connection object. Behind a
PgBouncer in transaction mode a later transaction may land on another server session: set
``PREPARED_STATEMENTS = False`` (HUB_PREPARED_STATEMENTS=0) there. SQLite caches statements
itself; there this runs the statement as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from peewee import DatabaseError, PostgresqlDatabase
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from sync.hub.database import HubPostgresPool
from sync.hub.extensions import db

_PLACEHOLDER = re.compile(r"%s")
_NAMES: WeakKeyDictionary[Any, dict[str, str]] = WeakKeyDictionary()  # connection -> {sql: name}
_SETTINGS = {"enabled": True}
_PLAN_CHANGED, _NOT_PREPARED = "0A000", "26000"  # SQLSTATEs of a prepared statement gone stale
_STALE = (_PLAN_CHANGED, _NOT_PREPARED)
_NOT_WAITING = "SET LOCAL synchronous_commit TO off; "


def configure(enabled: bool) -> None:
    """Turn planning once per connection on or off (the hub's ``PREPARED_STATEMENTS`` setting)."""
    _SETTINGS["enabled"] = bool(enabled)


def in_use() -> bool:
    """Whether statements run here are prepared: on PostgreSQL, unless turned off."""
    return _SETTINGS["enabled"] and isinstance(db.obj, PostgresqlDatabase)


def execute(sql: str, params: Sequence[Any] = (), *, durable: bool = True, commit: bool = False) -> Any:
    """Run ``sql`` (placeholders ``db.param``, no other ``%``) with ``params``; return the cursor.

    On PostgreSQL the statement is prepared on this connection the first time it meets it; its
    parameters' types are those PostgreSQL infers from where they stand (a column compared or
    assigned).

    ``durable=False``: a write of telemetry (a station's last contact, its heartbeat) that the next
    request writes again. Run on its own, its commit does not wait for the log to reach the disk
    (``SET LOCAL synchronous_commit`` in the same round trip: one implicit transaction) — every pull
    of every station made that wait. A database crash may lose the last fraction of a second of
    such writes, never an event. Inside a transaction it changes nothing: the batch's commit stays durable.

    ``commit=True``: the last statement of the open transaction; its COMMIT goes with it
    (:meth:`sync.hub.database.HubPostgresPool.execute_then_commit`; elsewhere the transaction's
    end commits as usual). The cursor's row count is then the COMMIT's, not the statement's.
    """
    prefix = _NOT_WAITING if not durable and isinstance(db.obj, PostgresqlDatabase) and not db.in_transaction() else ""
    run = db.obj.execute_then_commit if commit and isinstance(db.obj, HubPostgresPool) else db.execute_sql
    if not in_use():
        return run(prefix + sql, params)
    connection = db.connection()
    names = _NAMES.get(connection)
    if names is None:
        names = _NAMES[connection] = {}
    name = names.get(sql)
    if name is None:
        name = f"hub_prepared_{len(names)}"
        _prepare(name, sql, len(params))
        names[sql] = name
    statement = prefix + (f"EXECUTE {name}(" + ", ".join(["%s"] * len(params)) + ")" if params else f"EXECUTE {name}")
    try:
        return run(statement, params)
    except DatabaseError as exc:
        # The session lost the statement (26000: a pooler gave another session) or its plan no
        # longer fits (0A000: a column's type changed under a running hub). Outside a transaction
        # it is prepared again and run once more; inside one the transaction is lost anyway.
        code = getattr(getattr(exc, "orig", None), "pgcode", None)  # peewee keeps the driver's error as .orig
        if code not in _STALE or connection.get_transaction_status() != TRANSACTION_STATUS_IDLE:
            raise
    if code == _PLAN_CHANGED:
        db.execute_sql(f"DEALLOCATE {name}")
    _prepare(name, sql, len(params))
    return db.execute_sql(statement, params)


def _prepare(name: str, sql: str, count: int) -> None:
    numbers = iter(range(1, count + 1))
    db.execute_sql(f"PREPARE {name} AS " + _PLACEHOLDER.sub(lambda _m: f"${next(numbers)}", sql))

