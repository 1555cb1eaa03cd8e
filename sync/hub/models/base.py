"""The base model and time helpers shared by every hub model."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from peewee import JSONField, Model, TextField

from sync.hub import prepared
from sync.hub.extensions import db, key_ring
from sync.protocol import json_text


def utcnow() -> dt.datetime:
    """Naive UTC now: one convention for every stored timestamp, on SQLite and PostgreSQL alike."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _table_name(model: type) -> str:
    """``HubCase`` → ``hub_case``, ``CatalogVersion`` → ``hub_catalog_version``."""
    name = model.__name__.removeprefix("Hub")
    return "hub_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class BaseModel(Model):
    """Hub tables are prefixed ``hub_`` so a hub and a station never mistake each other's tables."""

    class Meta:
        database = db
        table_function = _table_name
        legacy_table_names = False

    @classmethod
    def first_raw(cls, sql: str, *params: object, prepare: bool = False) -> Model | None:
        """The first row of SQL written out, as an instance, or None.

        For the few reads every signed request or batch makes, where peewee rendering the query
        cost more than the database running it (issue 17, CPU per event). ``{param}`` in ``sql``
        becomes the driver's placeholder; ``prepare``: see :meth:`from_sql`.
        """
        rows = cls.from_sql(sql.format(param=cls._meta.database.param), params, prepare=prepare)
        return rows[0] if rows else None

    @classmethod
    def from_sql(cls, sql: str, params: Sequence[object] = (), *, prepare: bool = False) -> list[Any]:
        """Instances of the rows ``sql`` selects (its placeholders already the driver's), converted as peewee would.

        peewee's ``raw()`` resolves the cursor's columns against the model afresh on every query,
        which for the one or few rows of a request's reads (the station, the cases a batch moves)
        cost more than the query. The columns' conversions are worked out once per model and
        column list here. A column that is no field of the model becomes a plain attribute.

        ``prepare``: plan the statement once per connection (:mod:`sync.hub.prepared`) — only for
        tables whose size does not change the right plan (the stations): a plan kept from when a
        growing table was small scans it whole once it is large.
        """
        cursor = prepared.execute(sql, params) if prepare else cls._meta.database.execute_sql(sql, params)
        names = tuple(item[0] for item in cursor.description)
        plan = _ROW_PLANS.get((cls, names))
        if plan is None:
            plan = _ROW_PLANS[(cls, names)] = tuple(
                (field.name, field.python_value) if field is not None else (name, None)
                for name, field in ((name, cls._meta.columns.get(name)) for name in names))
        rows = []
        for values in cursor.fetchall():
            row = cls(__no_default__=1)
            data = row.__data__
            for (name, convert), value in zip(plan, values, strict=True):
                if convert is None:
                    setattr(row, name, value)
                else:
                    data[name] = convert(value)
            rows.append(row)
        return rows


_ROW_PLANS: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, Any], ...]] = {}


class JSONText(JSONField):
    """peewee's JSONField written with orjson: a hub stores every event body and case snapshot.

    The column type is unchanged (``JSON``), so no migration is involved; reading stays with
    ``json`` (orjson would turn an integer beyond 64 bits into a float).
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(dumps=json_text, **kwargs)


class SealedJSON(TextField):
    """JSON kept as plain text: a case's snapshot and an event's body (sealed in parts, or whole).

    Nothing ever queries inside them, yet PostgreSQL's ``json`` type parsed every 1.4–1.8 KB value
    on the way in (issue 17: about 15 µs of the database's CPU a case and 5 µs an event). So the
    column is ``text`` (migration 0022 on PostgreSQL; peewee already made JSON ``TEXT`` on SQLite).
    Written with orjson, read with ``json`` (see :class:`JSONText`).
    """

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json_text(value)

    def python_value(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class SealedText(TextField):
    """Text sealed with the hub's key ring at rest and opened on read (a result's certificate number: a
    残疾人证's is its holder's ID number and two digits). A value stored before sealing reads as it is.

    Nothing filters on such a column: each seal has its own nonce.
    """

    def db_value(self, value: Any) -> Any:
        if not isinstance(value, str) or not value or key_ring.is_sealed(value):
            return value
        return key_ring.obj.seal(value)

    def python_value(self, value: Any) -> Any:
        if isinstance(value, str) and key_ring.is_sealed(value):
            return key_ring.obj.unseal(value)
        return value
