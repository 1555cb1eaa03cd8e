"""The versioned holiday table: official holidays and make-up workdays that differ from Monday–Friday."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField

from station.models.base import BaseModel, now


class HolidayOverride(BaseModel):
    day = DateField(primary_key=True)
    is_workday = BooleanField()
    name = CharField(max_length=40, default="")
    source = CharField(max_length=20, default="seed")  # seed / admin / hub
    updated_at = DateTimeField(default=now)


class HolidayYear(BaseModel):
    """A year whose holiday data is known; deadlines in other years are provisional."""

    year = IntegerField(primary_key=True)
    source = CharField(max_length=20, default="seed")
    version = CharField(max_length=40, default="")
    updated_at = DateTimeField(default=now)
