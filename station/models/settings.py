"""Station settings and sync bookkeeping as key/value rows, so a new setting needs no migration."""

from __future__ import annotations

from peewee import CharField, DateTimeField, TextField

from station.models.base import BaseModel, now


class Setting(BaseModel):
    key = CharField(max_length=80, primary_key=True)
    value = TextField(default="")
    updated_at = DateTimeField(default=now)

    @classmethod
    def get_value(cls, key: str, default: str = "") -> str:
        row = cls.get_or_none(cls.key == key)
        return row.value if row is not None else default

    @classmethod
    def set_value(cls, key: str, value: str) -> None:
        (
            cls.insert(key=key, value=value, updated_at=now())
            .on_conflict(conflict_target=[cls.key], update={cls.value: value, cls.updated_at: now()})
            .execute()
        )
