"""The base model and time helpers shared by every hub model."""

from __future__ import annotations

import datetime as dt
import re

from peewee import JSONField, Model

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
