"""The hub's access log (its own users, hash-chained) and the stations' logs as they arrive.

The hub's own entries go through ``websec.audit.append``; a station's entries are kept as the
station chained them, apart, one row per ``(station, seq)``, so the county can check each
station's chain too.
"""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from sync.hub.models.base import BaseModel, utcnow
from sync.hub.models.stations import Station


class _Entry(BaseModel):
    seq = BigIntegerField()
    at = DateTimeField(index=True)
    actor_id = IntegerField(null=True)
    actor_name = CharField(max_length=100, default="")
    role = CharField(max_length=16, default="")
    address = CharField(max_length=64, default="")
    action = CharField(max_length=32, index=True)
    case_id = CharField(max_length=40, default="", index=True)
    object = CharField(max_length=200, default="")
    detail = TextField(default="")
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)


class HubAccessLog(_Entry):
    """Who at the county saw, revealed, downloaded or changed what (naive UTC times)."""

    seq = BigIntegerField(unique=True)


class HubAccessLogHead(BaseModel):
    id = IntegerField(primary_key=True)
    seq = BigIntegerField(default=0)
    hash = CharField(max_length=64)
    mac = CharField(max_length=64, default="")


class StationAccessLog(_Entry):
    """A station's entry as it arrived (``at`` is the station's wall clock)."""

    station = ForeignKeyField(Station, on_delete="CASCADE")
    # Each device of a station keeps its own chain from seq 1 (0: the station PC; migration 0015).
    device = IntegerField(default=0)
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "device", "seq"), True),)
