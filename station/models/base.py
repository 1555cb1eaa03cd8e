"""The base model bound to the deferred station database, and the field types every model shares."""

from __future__ import annotations

import json
from typing import Any

from peewee import CharField, Model, TextField

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


class SealedTextField(OpenedTextField):
    """Free text sealed by the field itself: every write seals, every read opens (migration 0028).

    For text that may name a relative or carry a number (the county's reasons and result text, a
    material's 不适用 reason, a timeline line, a booking's or a handover's note): writers and readers
    use plain strings, only the stored column holds ``enc1:…``. The empty value stays empty, so
    ``!= ""`` still filters in SQL; nothing else about the text can be asked of SQL (a nonce each time).
    A value stored before sealing reads as it is, until the start-up walk seals it (services/protection.py).
    """

    def db_value(self, value: str | None) -> str | None:
        return None if value is None else seal_text(value)


class SealedCharField(CharField):
    """:class:`SealedTextField` on a column declared VARCHAR (a booking's note): SQLite keeps text of any length
    there, so the longer ciphertext fits and no migration need rebuild the table."""

    db_value = SealedTextField.db_value
    python_value = SealedTextField.python_value


__all__ = ["BaseModel", "JSONField", "OpenedTextField", "SealedCharField", "SealedJSONField", "SealedTextField", "now"]
