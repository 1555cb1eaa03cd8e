"""The base model and time helpers shared by every hub model."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from peewee import JSONField, Model, TextField

from sync.hub.extensions import db
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
    def first_raw(cls, sql: str, *params: object) -> Model | None:
        """The first row of SQL written out, as an instance, or None.

        For the few reads every signed request or batch makes, where peewee rendering the query
        cost more than the database running it (issue 17, CPU per event). ``{param}`` in ``sql``
        becomes the driver's placeholder.
        """
        return next(iter(cls.raw(sql.format(param=cls._meta.database.param), *params)), None)


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
