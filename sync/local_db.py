"""The station half of sync keeps its tables in the station's database, through its own proxy.

The station binds this proxy to the very same peewee ``Database`` object as its own (in
``create_app``), so an outbox row is written on the caller's connection and inside the
caller's transaction, while nothing here needs to know what a station is.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import DatabaseProxy, Model, TextField

db = DatabaseProxy()


class JSONField(TextField):
    """JSON kept as UTF-8 text so SQLite stays readable with any tool at a village PC."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value: str | None) -> Any:
        if value is None:
            return None
        return json.loads(value)


def now() -> dt.datetime:
    """Local wall-clock time of the station, second precision (what is printed on paper)."""
    return dt.datetime.now().replace(microsecond=0)


class SyncModel(Model):
    """Base of the tables sync owns in the station database."""

    class Meta:
        database = db
        legacy_table_names = False
