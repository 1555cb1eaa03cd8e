"""Home visits (上门服务) as the stations report them: who went, where, when, for whom, what, how it ended."""

from __future__ import annotations

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from sync.hub.models.base import BaseModel, utcnow
from sync.hub.models.stations import Station


class HubHomeVisit(BaseModel):
    """One visit, filed from its ``visit.recorded`` event; each ``visit.case_taken`` adds a case number.

    The resident's name, phone and address are sealed like a booking's. ``last_seq`` plays the part
    a case's does: the visit's stream is taken in order, exactly once (services/home_visits.py).
    """

    visit_id = CharField(max_length=36, unique=True)  # the station's ULID
    station = ForeignKeyField(Station, index=True, on_delete="CASCADE")
    last_seq = IntegerField(default=0)
    visited_on = DateField(index=True)
    started_at = CharField(max_length=5)
    ended_at = CharField(max_length=5, default="")
    staff = CharField(max_length=200)
    village_code = CharField(max_length=12, default="")
    resident_name_stored = TextField()
    resident_phone_stored = TextField(default="")
    address_stored = TextField(default="")
    purpose = TextField(default="")
    outcome = CharField(max_length=16)
    outcome_note = TextField(default="")
    case_numbers = TextField(default="")  # 、-joined, in the order they were taken
    cases_taken = IntegerField(default=0)
    received_at = DateTimeField(default=utcnow)
    personal_purged_at = DateTimeField(null=True)  # the resident cleared after retention (migration 0025)
