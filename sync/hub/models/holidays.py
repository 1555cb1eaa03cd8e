"""The county's holiday table: one row per year it published (DOMAIN.md "Working days")."""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField

from sync.hub.models.base import BaseModel, JSONText, utcnow


class HolidayTable(BaseModel):
    """A year's holidays and make-up workdays as the county published them; ``days`` [{day, is_workday, name}]."""

    year = IntegerField(primary_key=True)
    version = CharField(max_length=40)
    days = JSONText()
    published_by = CharField(max_length=100, default="")
    published_at = DateTimeField(default=utcnow)
