"""Bulk SQL for taking a batch: chunked ``IN`` reads and multi-row inserts handed to the driver whole.

peewee renders SQL value by value (tens of µs each); for the hundreds of rows of one batch that
cost more than the database's own work. These helpers build the same statements once and pass
the parameters to the driver in one call, checking the first row against peewee's own rendering
so that what is stored is exactly what peewee would store. They know nothing of events or
cases: the rules that decide what to write live in ``classify`` and ``ingest``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

from peewee import (
    AutoField,
    CharField,
    Field,
    ForeignKeyField,
    IntegerField,
    JSONField,
    PostgresqlDatabase,
    SqliteDatabase,
    TextField,
)
from psycopg2.extras import Json, execute_values

from sync.hub import prepared
from sync.hub.extensions import db

IN_CLAUSE = 500  # ids per IN (...) list: well under SQLite's and psycopg2's parameter limits


def where_in(model: type, columns: tuple[str, ...] | None, key: str,
              keys: list[str]) -> Iterator[tuple[str, list[str]]]:
    """``SELECT columns FROM table WHERE key IN (...)`` in chunks, as plain SQL and parameters.

    peewee renders an IN list parameter by parameter; for the 500 ids of a batch that cost more
    than the database's own work.
    """
    names = columns or tuple(field.column_name for field in model._meta.sorted_fields)
    quoted = ", ".join('"' + name + '"' for name in names)
    head = f'SELECT {quoted} FROM "{model._meta.table_name}" WHERE "{key}" IN '
    for start in range(0, len(keys), IN_CLAUSE):
        chunk = keys[start:start + IN_CLAUSE]
        yield head + "(" + ", ".join([db.param] * len(chunk)) + ")", chunk


def prepared_insert(model: type, rows: list[dict[str, Any]]) -> Callable[[], None]:
    """An insert of rows that all have the same keys, ready to run: SQLite ``executemany``, PostgreSQL ``execute_values``.

    peewee renders SQL value by value (tens of µs each), which made rendering the INSERT the
    larger part of taking a batch. Here each row's parameters are converted as peewee converts
    them and handed to the driver in one call; the first row is checked against peewee's own
    rendering of it (parameters on SQLite, the finished SQL on PostgreSQL) and if they differ
    peewee does it all. The conversion happens now, the writing when the returned function is
    called (inside the transaction).
    """
    if not rows:
        return lambda: None
    fields = [f for f in model._meta.sorted_fields if f.name in rows[0]]
    # column by column: a column of plain text or ints is taken as it is, checked in one pass
    columns = [db_column(field, [row[field.name] for row in rows]) for field in fields]
    params = list(zip(*columns, strict=True))
    # The check against peewee's rendering costs more than the insert's own conversion; it is made
    # once per table, columns and Python types of the first row's parameters, in each process.
    shape = (model, type(db.obj), tuple(f.name for f in fields), tuple(type(v) for v in params[0]))
    statement = _CHECKED.get(shape)
    if statement is None:
        statement = _checked_statement(model, fields, rows[0], params[0])
        _CHECKED[shape] = statement
    if statement and isinstance(db.obj, SqliteDatabase):
        return lambda: db.cursor().executemany(statement, params)
    if statement:
        copy = _copy_text(params)
        if copy is not None:
            names = ", ".join('"' + f.column_name + '"' for f in fields)
            command = f'COPY "{model._meta.table_name}" ({names}) FROM STDIN'
            return lambda: db.cursor().copy_expert(command, io.StringIO(copy))
        values = "(" + ", ".join(["%s"] * len(fields)) + ")"
        return lambda: execute_values(db.cursor(), statement, params, template=values, page_size=len(rows))

    def by_peewee() -> None:
        for start in range(0, len(rows), 100):
            model.insert_many(rows[start:start + 100]).execute()

    return by_peewee


_CHECKED: dict[tuple[Any, ...], str] = {}  # shape -> the statement for the driver, "" when peewee must do it


def prepared_update(model: type, changes: dict[str, Any], where: dict[str, Any], *,
                    plan_once: bool = False, durable: bool = True) -> Callable[..., int]:
    """``UPDATE … SET changes WHERE`` each of ``where`` equal, ready to run; the function returns the rows changed.

    A station syncing every few minutes sends a few events at a time, and each moved case was an
    UPDATE peewee rendered afresh (with the lock read of :func:`tally.current`, about a fifth of
    the hub's CPU for a one-event batch). peewee renders it once per table, columns and value
    types in each process, and the statement is kept only when the parameters converted here are
    exactly those peewee passed; after that only the parameters are converted. ``plan_once``: the
    database plans it once per connection (:mod:`sync.hub.prepared`), for a table whose size does
    not change the right plan (the stations; not the cases, which grow). ``durable=False``: telemetry,
    see :func:`sync.hub.prepared.execute`. Called with ``commit=True`` as the open transaction's last
    statement, a statement planned once carries its COMMIT (:func:`sync.hub.prepared.execute`; the
    count returned is then not the rows changed); any other commits at the transaction's end as usual.
    """
    fields = [f for f in model._meta.sorted_fields if f.name in changes]
    keys = [model._meta.fields[name] for name in where]
    params = [db_column(f, [changes[f.name]])[0] for f in fields] + [db_column(f, [where[f.name]])[0] for f in keys]
    shape = ("update", model, type(db.obj), tuple(f.name for f in fields), tuple(where), tuple(map(type, params)))

    def by_peewee(commit: bool = False) -> int:  # noqa: ARG001 - the transaction's end commits
        return model.update(**changes).where(*[field == where[field.name] for field in keys]).execute()

    statement = _CHECKED.get(shape)
    if statement is None:
        if len(fields) == len(changes):
            sql, expected = model.update(**changes).where(*[field == where[field.name] for field in keys]).sql()
            statement = sql if list(map(_comparable, params)) == list(map(_comparable, expected)) else ""
        _CHECKED[shape] = statement or ""
    if statement and plan_once:
        return lambda commit=False: prepared.execute(statement, params, durable=durable, commit=commit).rowcount
    if statement:
        return lambda commit=False: db.execute_sql(statement, params).rowcount  # noqa: ARG005 - as by_peewee
    return by_peewee


def _comparable(value: Any) -> Any:
    """A parameter as it will be sent: psycopg2's ``Json`` wrappers (a JSON column on PostgreSQL,
    e.g. a station's heartbeat) compare by identity, so by the text they send."""
    return ("json", value.dumps(value.adapted)) if isinstance(value, Json) else value


def _checked_statement(model: type, fields: list[Field], row: dict[str, Any], params: tuple[Any, ...]) -> str:
    """The driver's INSERT if ``params`` is what peewee itself would pass for ``row``, else ""."""
    sql, expected = model.insert(row).sql()
    if isinstance(db.obj, SqliteDatabase):
        return sql if list(params) == list(expected) else ""
    if isinstance(db.obj, PostgresqlDatabase):
        values = "(" + ", ".join(["%s"] * len(fields)) + ")"
        cursor = db.cursor()
        if b"VALUES " + cursor.mogrify(values, params) in cursor.mogrify(sql, expected):
            names = ", ".join('"' + f.column_name + '"' for f in fields)
            return f'INSERT INTO "{model._meta.table_name}" ({names}) VALUES %s'
    return ""


def _copy_text(params: list[tuple[Any, ...]]) -> str | None:
    """The rows in ``COPY … FROM STDIN``'s text format, or None when a value is of a type not written here.

    On PostgreSQL an INSERT of a batch's rows cost the hub quoting every value into the SQL and the
    database parsing it back; COPY costs both sides about half (bench ``ingest_cpu``). The values
    are those the driver would have been given (already checked against peewee's rendering); each
    becomes the text PostgreSQL reads for it: ``\\N`` for NULL, and backslash, tab, newline and
    carriage return escaped in text.
    """
    lines = []
    # Every row of a batch carries the same "now" (received, created, updated): its text, by
    # identity, is written once (``isoformat`` goes through C's printf, ~5 k instructions a call).
    times: dict[int, str] = {}
    for row in params:
        cells = []
        for value in row:
            kind = type(value)
            if kind is str:
                cells.append(_escape(value))
            elif value is None:
                cells.append("\\N")
            elif kind is int:
                cells.append(str(value))
            elif kind is bool:
                cells.append("t" if value else "f")
            elif kind is dt.datetime and value.tzinfo is None:
                text = times.get(id(value))
                if text is None:
                    text = times[id(value)] = value.isoformat(" ")
                cells.append(text)
            elif kind is dt.date:
                cells.append(value.isoformat())
            elif isinstance(value, Json):
                cells.append(_escape(value.dumps(value.adapted)))
            else:
                return None  # anything else (a float, an aware time): the driver quotes it
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Text as COPY's text format reads it back unchanged."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


_AS_IS = {CharField: {str}, TextField: {str}, IntegerField: {int}}


def db_column(field: Field, values: list[Any]) -> list[Any]:
    """One column's values as peewee would pass them to the driver.

    Text in a text column and ints in an integer column go as they are (peewee's ``adapt``
    returns them unchanged), so such a column is only checked; on SQLite a JSONField's
    ``db_value`` is the SQL function ``json(?)``, whose parameter is the serialised text; every
    row of a batch carries the same "now", converted once.
    """
    kind = ForeignKeyField if isinstance(field, ForeignKeyField) else type(field)
    as_is = _AS_IS.get(kind) or ({int} if kind is ForeignKeyField and type(field.rel_field) is AutoField else None)
    if as_is is not None and set(map(type, values)) - {type(None)} <= as_is:
        return values
    if isinstance(field, JSONField):
        convert = field._dumps if isinstance(db.obj, SqliteDatabase) else field.db_value
        return [None if value is None else convert(value) for value in values]
    converted: dict[int, Any] = {}  # by identity: the same datetime object in every row
    return [None if value is None else converted[id(value)] if id(value) in converted
            else converted.setdefault(id(value), field.db_value(value)) for value in values]
