"""The base model bound to the deferred station database, and the field types every model shares.

The sealed and opened text fields are sync's (sync/local_db.py), so the outbox seals its free text the same way.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import CharField, Model

from station.extensions import db
from sync.local_db import JSONField, OpenedTextField, SealedTextField, now, open_text, seal_text


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


class SealedCharField(CharField):
    """:class:`SealedTextField` on a column declared VARCHAR (a booking's note): SQLite keeps text of any length
    there, so the longer ciphertext fits and no migration need rebuild the table."""

    db_value = SealedTextField.db_value
    python_value = SealedTextField.python_value


__all__ = ["BaseModel", "JSONField", "OpenedTextField", "SealedCharField", "SealedJSONField", "SealedTextField", "now"]
