"""The base model bound to the deferred station database, and the field types every model shares."""

from __future__ import annotations

import json
from typing import Any

from peewee import Model, TextField

from station.extensions import db
from sync.local_db import JSONField, now, open_text, seal_text


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SealedJSONField(JSONField):
    """JSON sealed as text with the station's key ring (a case's form values may hold addresses).

    Text (``enc1:…``), like the other sealed columns of a case, so one walk reseals them all
    (services/protection.py); a value stored before sealing reads as it is.
    """

    def db_value(self, value: Any) -> str | None:
        text = super().db_value(value)
        return seal_text(text) if text is not None else None

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(open_text(value))


class OpenedTextField(TextField):
    """Text that a writer may have sealed (a staff note can hold a phone number): read back opened.

    Only free text is sealed, by its writer; the rest of the column stays searchable text.
    """

    def python_value(self, value: str | None) -> str | None:
        return None if value is None else open_text(value)


__all__ = ["BaseModel", "JSONField", "OpenedTextField", "SealedJSONField", "now"]
