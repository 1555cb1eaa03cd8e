"""The base model and time helpers shared by every hub model."""

from __future__ import annotations

import datetime as dt
import re

from peewee import Model

from sync.hub.extensions import db


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
