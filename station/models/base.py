"""The base model bound to the deferred station database, and the field types every model shares."""

from __future__ import annotations

from peewee import Model

from station.extensions import db
from sync.local_db import JSONField, SealedJSONField, now


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


__all__ = ["BaseModel", "JSONField", "SealedJSONField", "now"]
