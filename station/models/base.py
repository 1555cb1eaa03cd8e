"""The base model bound to the deferred station database, and the field types every model shares."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import Model, TextField

from station.extensions import db


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


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
